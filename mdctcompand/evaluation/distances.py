"""Distances between two sets of embeddings: Fréchet distance and kernel distance (KID).

Fréchet distance between Gaussians fitted to the two sets (Heusel et al. 2017; FAD,
Kilgour et al. 2019):

.. math::  \\|\\mu_1 - \\mu_2\\|^2 + \\mathrm{tr}\\big(\\Sigma_1 + \\Sigma_2 - 2 (\\Sigma_1 \\Sigma_2)^{1/2}\\big)

with ``scipy.linalg.sqrtm`` and the usual numerical treatment (pytorch-fid): if the
square root is not finite, ``eps * I`` is added to both covariances; a complex result
with a negligible imaginary part is taken as real. It is biased on small sets (the
covariance estimates are noisy): compare figures only at equal set sizes.

Kernel distance (KID, Binkowski et al. 2018): the unbiased estimator of the squared
maximum mean discrepancy with the polynomial kernel ``k(x, y) = (gamma x.y + coef0)^degree``
(``gamma = 1 / dim``, ``coef0 = 1``, ``degree = 3``), averaged over ``subsets`` random
subsets of ``subset_size`` rows of each set (without replacement, seeded):

.. math::  \\frac{1}{m(m-1)} \\sum_{i \\ne j} k(x_i, x_j) + \\frac{1}{m(m-1)} \\sum_{i \\ne j} k(y_i, y_j)
           - \\frac{2}{m^2} \\sum_{i, j} k(x_i, y_j)

Its expectation is 0 when both sets come from one distribution, at any size: it behaves
on small sets (it can be slightly negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from ..exceptions import ParameterError

__all__ = ["GaussianStatistics", "KernelDistance", "frechet_distance", "kernel_distance"]


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
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        scale = max(1.0, float(np.abs(covmean.real).max()))
        if np.abs(covmean.imag).max() > 1e-3 * scale:
            raise ParameterError(
                f"sqrtm of the covariance product has a large imaginary part ({np.abs(covmean.imag).max():.3g}): "
                "too few embeddings for their dimension?"
            )
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

    Subsets hold ``min(subset_size, m, n)`` rows of each set.

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
