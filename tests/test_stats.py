import numpy as np
import pytest
from scipy.stats import gennorm

from mdctcompand import ParameterError, ggd
from mdctcompand.stats import BandStatistics


def _bands(seed, n=40_000, shapes=(0.4, 0.8, 1.5, 2.5)):
    return np.stack(
        [
            gennorm.rvs(g, scale=0.05 * (k + 1), size=n, random_state=seed * 10 + k)
            for k, g in enumerate(shapes)
        ]
    )


def test_merge_equals_single_pass():
    parts = [_bands(s, n=5000 + 1000 * s) for s in range(4)]
    accs = []
    for p in parts:
        a = BandStatistics(4)
        a.update(p)
        accs.append(a)
    merged = accs[3] + accs[0] + accs[2] + accs[1]
    whole = BandStatistics(4)
    whole.update(np.concatenate(parts, axis=1))
    np.testing.assert_array_equal(merged.count, whole.count)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-12)
    np.testing.assert_allclose(merged.power_sums, whole.power_sums, rtol=1e-12)
    np.testing.assert_allclose(merged.variance, np.concatenate(parts, axis=1).var(axis=1), rtol=1e-12)
    assert merged.n_clips == 4


def test_update_takes_mdct_layout():
    """Band axis is -2, like MDCT coefficients (..., n_bands, n_frames)."""
    x = _bands(1, n=600)  # (4 bands, 600 values)
    clips = np.moveaxis(x.reshape(4, 20, 30), 0, -2)  # (20 clips, 4 bands, 30 frames)
    a, b = BandStatistics(4), BandStatistics(4)
    a.update(clips)
    b.update(x)
    np.testing.assert_allclose(a.sum_sq, b.sum_sq, rtol=1e-12)
    np.testing.assert_allclose(a.sum_abs, b.sum_abs, rtol=1e-12)
    with pytest.raises(ParameterError, match="n_bands=4"):
        a.update(np.ones((20, 30, 5)))


@pytest.mark.parametrize("method", ["moments", "mle"])
def test_fits_match_direct_fits(method):
    data = _bands(3)
    acc = BandStatistics(4)
    for chunk in np.array_split(data, 7, axis=1):
        acc.update(chunk)
    fit = acc.fit(method=method)
    for k in range(4):
        direct = ggd.fit(data[k], method=method)
        # spline interpolation of log power sums + optimizer tolerance: within 5e-4
        assert fit.shape[k] == pytest.approx(direct.shape, rel=5e-4)
        assert fit.scale[k] == pytest.approx(direct.scale, rel=5e-4)


def test_json_round_trip(tmp_path):
    acc = BandStatistics(4)
    acc.update(_bands(2, n=1000))
    acc.save(tmp_path / "s.json")
    back = BandStatistics.load(tmp_path / "s.json")
    np.testing.assert_array_equal(back.power_sums, acc.power_sums)
    np.testing.assert_array_equal(back.m2, acc.m2)
    assert back.n_clips == 1


def test_errors():
    with pytest.raises(ParameterError):
        BandStatistics(0)
    acc = BandStatistics(2)
    with pytest.raises(ParameterError, match="fewer than 2"):
        acc.fit()
    with pytest.raises(ParameterError, match="NaN"):
        acc.update(np.array([[1.0, np.nan], [1.0, 2.0]]))
    acc.update(np.zeros((2, 5)))
    with pytest.raises(ParameterError, match="all zeros"):
        acc.fit()
    with pytest.raises(ParameterError, match="cannot merge"):
        acc.merge(BandStatistics(3))
