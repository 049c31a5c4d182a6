"""Distances between two sets of embeddings: Fréchet distance and kernel distance (KID).

Fréchet distance between Gaussians fitted to the two sets (Heusel et al. 2017; FAD,
Kilgour et al. 2019):

.. math::  \\|\\mu_1 - \\mu_2\\|^2 + \\mathrm{tr}\\big(\\Sigma_1 + \\Sigma_2 - 2 (\\Sigma_1 \\Sigma_2)^{1/2}\\big)

with ``scipy.linalg.sqrtm`` and the usual numerical treatment (pytorch-fid): if the
square root is not finite, ``eps * I`` is added to both covariances; a complex result
with a negligible imaginary part is taken as real. Where the imaginary part is large (a
product too close to singular: fewer frames than dimensions), pytorch-fid raises an error;
here the exact form for symmetric positive semi-definite matrices takes over,
``tr (S1 S2)^1/2 = sum sqrt(eig(S1^1/2 S2 S1^1/2))``. scipy's warning about a singular
product is not repeated: :func:`~mdctcompand.evaluation.compare` warns about small sets
itself (:class:`~mdctcompand.evaluation.SmallSetWarning`). It is biased on small sets (the
covariance estimates are noisy): compare figures only at equal set sizes.

Kernel distance (KID, Binkowski et al. 2018): the unbiased estimator of the squared
maximum mean discrepancy with the polynomial kernel ``k(x, y) = (gamma x.y + coef0)^degree``
(``gamma = 1 / dim``, ``coef0 = 1``, ``degree = 3``), averaged over ``subsets`` random
subsets of ``subset_size`` rows of each set (without replacement, seeded):

.. math::  \\frac{1}{m(m-1)} \\sum_{i \\ne j} k(x_i, x_j) + \\frac{1}{m(m-1)} \\sum_{i \\ne j} k(y_i, y_j)
           - \\frac{2}{m^2} \\sum_{i, j} k(x_i, y_j)

Its expectation is 0 when both sets come from one distribution, at any size: it behaves
on small sets (it can be slightly negative).

Uncertainty (:func:`bootstrap_distances`): frames of one clip are not independent, so the
bootstrap resamples whole **clips** with replacement, on both sides, and recomputes both
distances per replicate (the Fréchet distance from per-clip sums, the kernel distance on one
random subset per replicate). The clip draws depend only on ``seed`` and the two clip
counts, so two calls with the same seed and counts resample the same clips: the difference
of their replicates is a *paired* bootstrap of the difference of two conditions. When the two
sets are versions of the same clips (``paired=True``; :func:`~mdctcompand.evaluation.compare`
decides it from the clip names), both sides are resampled with the same draws.

Size bias (:func:`frechet_distance_infinity`): the Fréchet distance grows as the sets
shrink (about linearly in ``1 / n``). Following Chong and Forsyth (2020, "Effectively
unbiased FID"), it is computed on random subsets of the generated frames at 10 sizes and
the line in ``1 / n`` is extrapolated to ``n -> infinity``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from ..exceptions import ParameterError

__all__ = [
    "BootstrapDistances",
    "GaussianStatistics",
    "KernelDistance",
    "bootstrap_distances",
    "frechet_distance",
    "frechet_distance_infinity",
    "kernel_distance",
]


@dataclass(frozen=True)
class GaussianStatistics:
    """Mean ``(dim,)`` and covariance ``(dim, dim)`` of a set of embeddings, and its size.

    Examples
    --------
    >>> s = GaussianStatistics.of(np.random.default_rng(0).standard_normal((500, 3)))
    >>> s.mean.shape, s.covariance.shape, s.count
    ((3,), (3, 3), 500)
    """

    mean: np.ndarray
    covariance: np.ndarray
    count: int

    @classmethod
    def of(cls, features: Any) -> GaussianStatistics:
        """Sample mean and (unbiased) covariance of ``features`` ``(n, dim)``.

        Examples
        --------
        >>> GaussianStatistics.of(np.ones((1, 2)))
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.ParameterError: need at least 2 embeddings for a covariance; got 1
        """
        x = _matrix(features, "features")
        if x.shape[0] < 2:
            raise ParameterError(f"need at least 2 embeddings for a covariance; got {x.shape[0]}")
        return cls(x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False)), int(x.shape[0]))


def frechet_distance(a: Any, b: Any, *, eps: float = 1e-6) -> float:
    """Fréchet distance between two sets of embeddings ``(n, dim)`` or their :class:`GaussianStatistics`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = GaussianStatistics(np.zeros(2), np.diag([1.0, 4.0]), 100)
    >>> b = GaussianStatistics(np.array([3.0, 0.0]), np.diag([4.0, 4.0]), 100)
    >>> round(frechet_distance(a, b), 9)  # |mu|^2 + sum (sqrt(s1) - sqrt(s2))^2 = 9 + 1
    10.0
    """
    sa = a if isinstance(a, GaussianStatistics) else GaussianStatistics.of(a)
    sb = b if isinstance(b, GaussianStatistics) else GaussianStatistics.of(b)
    if sa.mean.shape != sb.mean.shape:
        raise ParameterError(f"embeddings of {sa.mean.size} and {sb.mean.size} dimensions cannot be compared")
    diff = sa.mean - sb.mean
    s1, s2 = sa.covariance, sb.covariance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # singular: too few frames (see above)
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.all(np.isfinite(covmean)):
            offset = np.eye(s1.shape[0]) * eps
            covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        scale = max(1.0, float(np.abs(covmean.real).max()))
        if np.abs(covmean.imag).max() > 1e-3 * scale:  # sqrtm failed on a (near-)singular product
            return _frechet_from_moments(sa.mean, s1, sb.mean, s2)
        covmean = covmean.real
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)


@dataclass(frozen=True)
class KernelDistance:
    """KID: mean and standard deviation over subsets, the subset size and count.

    Examples
    --------
    >>> KernelDistance(0.01, 0.002, 100, 10).mean
    0.01
    """

    mean: float
    std: float
    subset_size: int
    subsets: int


def kernel_distance(
    x: Any,
    y: Any,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> KernelDistance:
    """Unbiased polynomial-kernel MMD^2 between embeddings ``x`` ``(m, dim)`` and ``y`` ``(n, dim)``.

    Subsets hold ``min(subset_size, m, n)`` rows of each set; where that is all rows of both,
    the one subset is the two whole sets (``subsets`` is then 1 in the result).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((400, 4)), rng.standard_normal((400, 4))
    >>> abs(kernel_distance(x, y, subsets=20, subset_size=200).mean) < 0.1  # one distribution: about 0
    True
    >>> kernel_distance(x, y + 1.0, subsets=20, subset_size=200).mean > 0.5  # shifted
    True
    """
    a, b = _matrix(x, "x"), _matrix(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ParameterError(f"embeddings of {a.shape[1]} and {b.shape[1]} dimensions cannot be compared")
    m = min(int(subset_size), a.shape[0], b.shape[0])
    if m < 2:
        raise ParameterError(
            f"kernel distance needs at least 2 embeddings per set; got {a.shape[0]} and {b.shape[0]}"
        )
    if subsets < 1:
        raise ParameterError(f"subsets={subsets} must be >= 1")
    if int(degree) != degree or degree < 1:
        raise ParameterError(f"degree={degree} must be a positive integer")
    degree = int(degree)
    g = 1.0 / a.shape[1] if gamma is None else float(gamma)
    if m == a.shape[0] == b.shape[0]:  # every subset would be both whole sets: one is enough
        return KernelDistance(_unbiased_mmd2(a, b, g, coef0, degree), 0.0, m, 1)
    rng = np.random.default_rng(seed)
    values = np.empty(int(subsets))
    for i in range(int(subsets)):
        xs = a[rng.choice(a.shape[0], m, replace=False)]
        ys = b[rng.choice(b.shape[0], m, replace=False)]
        values[i] = _unbiased_mmd2(xs, ys, g, coef0, degree)
    return KernelDistance(float(values.mean()), float(values.std()), m, int(subsets))


def _kernel(a: np.ndarray, b: np.ndarray, gamma: float, coef0: float, degree: int) -> np.ndarray:
    base = a @ b.T
    base *= gamma
    base += coef0
    out = base.copy()
    for _ in range(degree - 1):  # repeated products: much faster than a float power
        out *= base
    return out


def _unbiased_mmd2(x: np.ndarray, y: np.ndarray, gamma: float, coef0: float, degree: int) -> float:
    m = x.shape[0]
    kxx = _kernel(x, x, gamma, coef0, degree)
    kyy = _kernel(y, y, gamma, coef0, degree)
    kxy = _kernel(x, y, gamma, coef0, degree)
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2.0 * kxy.mean())


def _matrix(features: Any, name: str) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ParameterError(f"{name} of shape {x.shape} must be (n_embeddings, dim)")
    if not np.all(np.isfinite(x)):
        raise ParameterError(f"{name} holds NaN or infinite values")
    return x


def _frechet_from_moments(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """The Fréchet distance from means and symmetric covariances, by two symmetric eigensolves:
    ``tr (S1 S2)^1/2 = sum sqrt(eig(S1^1/2 S2 S1^1/2))`` (fast; equal to the sqrtm form to rounding)."""
    w, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = np.linalg.eigvalsh(root @ s2 @ root)
    diff = mu1 - mu2
    value = float(
        diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.sum(np.sqrt(np.clip(inner, 0.0, None)))
    )
    return max(value, 0.0)


def frechet_distance_infinity(
    generated: Any,
    reference: Any,
    *,
    sizes: int = 10,
    smallest: float = 0.25,
    repeats: int = 4,
    seed: int = 0,
) -> float | None:
    """Size-bias-corrected Fréchet distance ``FD_inf`` (Chong and Forsyth 2020).

    The distance of random subsets of the generated frames at ``sizes`` sizes (``smallest`` of
    the set up to all of it, evenly spaced in ``1 / n``; the mean of ``repeats`` draws per size)
    to the whole reference, a least-squares line in ``1 / n``, and its value at ``1 / n = 0``. None when the set is too small for the
    smallest subset to have a full-rank covariance (fewer than ``2 dim / smallest`` frames).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((4000, 4)), rng.standard_normal((4000, 4)) + 0.5
    >>> round(frechet_distance_infinity(x, y), 1)  # the mean shift 4 * 0.5^2, less the size bias
    1.0
    >>> frechet_distance_infinity(x[:20], y) is None
    True
    """
    g, r = _matrix(generated, "generated"), _matrix(reference, "reference")
    n, dim = g.shape
    low = int(n * smallest)
    if low < 2 * dim or sizes < 2:
        return None
    rng = np.random.default_rng(seed)
    ref = GaussianStatistics.of(r)
    counts = np.unique(np.round(1.0 / np.linspace(1.0 / low, 1.0 / n, sizes)).astype(int))
    values = []
    for count in counts:  # the mean of a few draws per size: a single draw's noise can exceed the bias
        draws = 1 if count == n else repeats
        subs = (GaussianStatistics.of(g[rng.choice(n, count, replace=False)]) for _ in range(draws))
        values.append(
            np.mean([_frechet_from_moments(s.mean, s.covariance, ref.mean, ref.covariance) for s in subs])
        )
    _slope, intercept = np.polyfit(1.0 / counts, values, 1)
    return float(intercept)


@dataclass(frozen=True)
class BootstrapDistances:
    """Clip-bootstrap replicates of both distances (``(replicates,)`` each) and their intervals.

    Examples
    --------
    >>> b = BootstrapDistances(np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.2, 0.3]), 0.95)
    >>> b.frechet_interval, b.kernel_interval
    ((1.05, 2.95), (0.10500000000000001, 0.295))
    """

    frechet_distance: np.ndarray
    kernel_distance: np.ndarray
    confidence: float

    def _interval(self, values: np.ndarray) -> tuple[float, float]:
        tail = (1.0 - self.confidence) / 2
        lo, hi = np.quantile(values, [tail, 1.0 - tail])
        return float(lo), float(hi)

    @property
    def frechet_interval(self) -> tuple[float, float]:
        """The percentile interval of the Fréchet distance at :attr:`confidence`."""
        return self._interval(self.frechet_distance)

    @property
    def kernel_interval(self) -> tuple[float, float]:
        """The percentile interval of the kernel distance at :attr:`confidence`."""
        return self._interval(self.kernel_distance)


def bootstrap_distances(
    generated: Any,
    generated_frames: Any,
    reference: Any,
    reference_frames: Any,
    *,
    replicates: int = 200,
    confidence: float = 0.95,
    subset_size: int = 1000,
    standardize: tuple[Any, Any] | None = None,
    paired: bool = False,
    seed: int = 0,
) -> BootstrapDistances:
    """Fréchet and kernel distances over clip-bootstrap replicates (see the module docstring).

    Parameters
    ----------
    generated, reference : array_like, shape (n_frames, dim)
        Frame embeddings, clip after clip.
    generated_frames, reference_frames : sequence of int
        Frames per clip (summing to each set's ``n_frames``).
    replicates : int
        Bootstrap replicates.
    confidence : float
        Coverage of the percentile intervals.
    subset_size : int
        Frames per side of the kernel distance's one subset per replicate.
    standardize : (mean, std), optional
        The kernel distance is computed on ``(features - mean) / std`` (the evaluation passes
        the reference set's).
    paired : bool
        Clip ``i`` of one set is a version of clip ``i`` of the other (a degraded or
        re-synthesized copy): both sides are resampled with the same clip draws. Otherwise
        (disjoint sets) each side is resampled on its own.
    seed : int
        The clip draws use ``seed`` only (paired across calls with equal clip counts).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((600, 3)), rng.standard_normal((600, 3)) + 1.0
    >>> b = bootstrap_distances(x, [100] * 6, y, [100] * 6, replicates=50)
    >>> lo, hi = b.frechet_interval
    >>> bool(lo < frechet_distance(x, y) < hi)
    True
    """
    g, r = _matrix(generated, "generated"), _matrix(reference, "reference")
    if g.shape[1] != r.shape[1]:
        raise ParameterError(f"embeddings of {g.shape[1]} and {r.shape[1]} dimensions cannot be compared")
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"confidence={confidence} must be in (0, 1)")
    if replicates < 2:
        raise ParameterError(f"replicates={replicates} must be >= 2")
    sides = [_ClipMoments(g, generated_frames, "generated"), _ClipMoments(r, reference_frames, "reference")]
    if paired and sides[0].clips != sides[1].clips:
        raise ParameterError(f"paired sets need equal clip counts; got {sides[0].clips} and {sides[1].clips}")
    mu, sd = (0.0, 1.0) if standardize is None else standardize
    mu, sd = np.asarray(mu, dtype=np.float64), np.asarray(sd, dtype=np.float64)
    draw_clips = np.random.default_rng([seed, 1])
    draw_frames = np.random.default_rng([seed, 2])
    fd, kid = np.empty(int(replicates)), np.empty(int(replicates))
    for i in range(int(replicates)):
        picks = [draw_clips.integers(0, s.clips, s.clips) for s in sides]
        if paired:
            picks[1] = picks[0]
        (m1, c1), (m2, c2) = (s.moments(p) for s, p in zip(sides, picks))
        fd[i] = _frechet_from_moments(m1, c1, m2, c2)
        rows = [s.frame_rows(p) for s, p in zip(sides, picks)]
        m = min(int(subset_size), rows[0].size, rows[1].size)
        a, b = (
            (s.features[draw_frames.choice(rw, m, replace=False)] - mu) / sd for s, rw in zip(sides, rows)
        )
        kid[i] = _unbiased_mmd2(a, b, 1.0 / g.shape[1], 1.0, 3)
    return BootstrapDistances(fd, kid, float(confidence))


class _ClipMoments:
    """Per-clip sums and outer-product sums, so a resampled set's moments cost ``O(clips dim^2)``."""

    def __init__(self, features: np.ndarray, frames: Any, name: str) -> None:
        counts = np.asarray(frames, dtype=np.int64)
        if counts.ndim != 1 or counts.sum() != features.shape[0] or np.any(counts < 1):
            raise ParameterError(
                f"{name} frames per clip {list(counts)} do not add up to {features.shape[0]} rows"
            )
        self.features, self.counts, self.clips = features, counts, counts.size
        self.starts = np.concatenate([[0], np.cumsum(counts)])
        centre = features.mean(axis=0)  # sums about a centre keep the covariance well conditioned
        self.centre = centre
        x = features - centre
        self.sums = np.add.reduceat(x, self.starts[:-1], axis=0)
        self.outer = np.stack([x[a:b].T @ x[a:b] for a, b in zip(self.starts[:-1], self.starts[1:])])

    def moments(self, picks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = np.bincount(picks, minlength=self.clips).astype(np.float64)
        n = float(w @ self.counts)
        mean = (w @ self.sums) / n
        cov = (np.tensordot(w, self.outer, axes=1) - n * np.outer(mean, mean)) / (n - 1.0)
        return mean + self.centre, cov

    def frame_rows(self, picks: np.ndarray) -> np.ndarray:
        return np.concatenate([np.arange(self.starts[p], self.starts[p + 1]) for p in picks])
