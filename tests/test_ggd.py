"""GGD math against scipy.stats.gennorm and numerical integration."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import gamma
from scipy.stats import gennorm

from mdctcompand import ParameterError, ggd

SHAPES = [0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0]


def test_moment_ratio_is_the_squared_formula():
    for g in SHAPES:
        expect = gamma(1 / g) * gamma(3 / g) / gamma(2 / g) ** 2
        assert ggd.moment_ratio(g) == pytest.approx(expect, rel=1e-12)
        # and it is what the distribution's moments give
        dist = gennorm(g)
        mean_abs = 2 * integrate.quad(lambda x, dist=dist: x * dist.pdf(x), 0, np.inf)[0]
        assert ggd.moment_ratio(g) == pytest.approx(dist.var() / mean_abs**2, rel=1e-7)


@given(st.floats(0.05, 20.0))
def test_shape_from_ratio_inverts_the_ratio(g):
    assert ggd.shape_from_moment_ratio(ggd.moment_ratio(g)) == pytest.approx(g, rel=1e-10)


def test_shape_from_ratio_clips_to_bracket():
    assert ggd.shape_from_moment_ratio(1.0) == pytest.approx(20.0)  # below r(20): near-uniform
    assert ggd.shape_from_moment_ratio(1e30) == pytest.approx(0.05)
    with pytest.raises(ParameterError):
        ggd.shape_from_moment_ratio(np.nan)


@pytest.mark.parametrize("g", SHAPES)
@pytest.mark.parametrize("method", ["moments", "mle"])
def test_shape_recovered_within_two_percent(g, method):
    x = gennorm.rvs(g, scale=0.37, size=1_000_000, random_state=int(g * 1000))
    fit = ggd.fit(x, method=method)
    assert abs(fit.shape / g - 1) < 0.02
    assert abs(fit.std / gennorm(g, scale=0.37).std() - 1) < 0.02
    if method == "mle":  # the moment scale inherits the shape's error, amplified at small g
        assert abs(fit.scale / 0.37 - 1) < 0.03
    assert fit.loc == 0.0


def test_location_estimate_agrees_with_scipy_fit():
    x = gennorm.rvs(0.8, loc=0.4, scale=1.3, size=100_000, random_state=7)
    beta, loc, scale = gennorm.fit(x)
    ours = ggd.fit(x, loc=None, method="mle")
    assert ours.shape == pytest.approx(beta, rel=5e-3)
    assert ours.loc == pytest.approx(loc, abs=5e-3)
    assert ours.scale == pytest.approx(scale, rel=5e-3)
    # never a worse likelihood than scipy's optimizer
    assert (
        ggd.log_likelihood(x, ours.shape, ours.scale, ours.loc)
        >= ggd.log_likelihood(x, beta, scale, loc) - 1e-6
    )
    moments = ggd.fit(x, loc=None)
    assert moments.loc == pytest.approx(np.mean(x))
    assert moments.shape == pytest.approx(0.8, rel=0.03)


def test_scale_is_not_the_standard_deviation():
    for g in SHAPES:
        a = ggd.scale_from_std(2.0, g)
        assert gennorm(g, scale=a).std() == pytest.approx(2.0, rel=1e-12)
        assert ggd.std_from_scale(a, g) == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("g", [0.1, 0.3, 0.7, 1.0, 2.0, 5.0])
def test_cdf_ppf_pdf_agree_with_gennorm(g):
    x = np.concatenate([-np.geomspace(1e-6, 50, 200), [0.0], np.geomspace(1e-6, 50, 200)])
    np.testing.assert_allclose(ggd.cdf(x, g, 1.7), gennorm.cdf(x, g, scale=1.7), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(ggd.pdf(x, g, 1.7), gennorm.pdf(x, g, scale=1.7), rtol=1e-10)
    u = np.concatenate([np.geomspace(1e-12, 0.5, 200), 1 - np.geomspace(1e-12, 0.5, 200)[::-1]])
    np.testing.assert_allclose(ggd.ppf(u, g, 1.7), gennorm.ppf(u, g, scale=1.7), rtol=1e-10)
    # round trip in the far tail keeps relative precision in u
    tail = ggd.ppf(1e-12, g, 1.7)
    assert ggd.cdf(tail, g, 1.7) == pytest.approx(1e-12, rel=1e-9)


def test_ppf_edges_and_errors():
    assert ggd.ppf(0.0, 0.5, 1.0) == -np.inf and ggd.ppf(1.0, 0.5, 1.0) == np.inf
    with pytest.raises(ParameterError):
        ggd.ppf(1.5, 0.5, 1.0)
    with pytest.raises(ParameterError):
        ggd.cdf(0.0, -1.0, 1.0)
    with pytest.raises(ParameterError):
        ggd.cdf(0.0, 1.0, 0.0)


@pytest.mark.parametrize("g", [0.4, 1.0, 2.5])
@pytest.mark.parametrize(
    "lo, hi", [(-np.inf, -3.0), (-0.5, 0.25), (0.1, 0.2), (2.0, 9.0), (4.0, np.inf), (-1.0, 0.0)]
)
def test_cell_centroid_matches_integration(g, lo, hi):
    dist = gennorm(g, scale=0.8)
    num = integrate.quad(lambda x: x * dist.pdf(x), lo, hi, epsabs=1e-300, epsrel=1e-12, limit=200)[0]
    den = dist.sf(lo) - dist.sf(hi) if lo > 0 else dist.cdf(hi) - dist.cdf(lo)
    assert ggd.cell_centroid(lo, hi, g, 0.8) == pytest.approx(num / den, rel=1e-7)


def test_fit_rejects_bad_samples():
    with pytest.raises(ParameterError, match="at least 2"):
        ggd.fit([1.0])
    with pytest.raises(ParameterError, match="NaN"):
        ggd.fit([1.0, np.nan, 2.0])
    with pytest.raises(ParameterError, match="spread"):
        ggd.fit(np.zeros(10))
    with pytest.raises(ParameterError, match="method"):
        ggd.fit([1.0, 2.0], method="bayes")
