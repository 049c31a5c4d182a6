"""Mergeable per-band statistics of MDCT coefficients over a corpus.

:class:`BandStatistics` is filled clip by clip (:meth:`~BandStatistics.update`), merged
across processes or machines (:meth:`~BandStatistics.merge`, ``+``), saved as plain JSON,
and turned into per-band GGD fits (:meth:`~BandStatistics.fit`). Per band it keeps:

- the count, mean and sum of squared deviations (Chan et al.'s pairwise update, stable
  under merging), for the mean and variance about the mean;
- the sums of ``x**2`` and ``|x|`` about zero (the location of MDCT coefficients), for the
  Sharifi & Leon-Garcia moment-ratio estimate;
- the power sums ``sum |x|**p`` for a grid of exponents ``p``: the profile likelihood of a
  zero-location GGD depends on the data only through ``sum |x|**g``, so these make the
  maximum-likelihood fit mergeable too (``log sum |x|**p`` is smooth and convex in ``p`` and
  is interpolated between grid points).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import ParameterError
from .ggd import SHAPE_BRACKET, GGDFit, scale_from_std, shape_from_moment_ratio

__all__ = ["DEFAULT_EXPONENTS", "BandStatistics"]

#: Exponents of the stored power sums (the shapes the likelihood fit can reach).
DEFAULT_EXPONENTS = np.round(np.geomspace(0.08, 4.0, 48), 6)

_FORMAT = "mdctcompand.BandStatistics"
_VERSION = 1


class BandStatistics:
    """Per-band accumulators of MDCT coefficients; see the module docstring.

    Parameters
    ----------
    n_bands : int
        Number of bands (MDCT bins).
    exponents : array_like, optional
        Exponents of the power sums used by the likelihood fit.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = BandStatistics(4), BandStatistics(4)
    >>> a.update(rng.laplace(size=(4, 5000)))
    >>> b.update(rng.laplace(size=(4, 5000)))
    >>> both = a + b
    >>> int(both.count[0])
    10000
    >>> fit = both.fit()
    >>> bool(np.all(np.abs(fit.shape - 1.0) < 0.1))
    True
    """

    def __init__(self, n_bands: int, *, exponents: Any = None) -> None:
        if isinstance(n_bands, bool) or not isinstance(n_bands, (int, np.integer)) or n_bands < 1:
            raise ParameterError(f"n_bands={n_bands!r} must be a positive integer")
        self.n_bands = int(n_bands)
        exps = DEFAULT_EXPONENTS if exponents is None else np.asarray(exponents, dtype=np.float64)
        if exps.ndim != 1 or exps.size < 4 or np.any(np.diff(exps) <= 0) or exps[0] <= 0:
            raise ParameterError("exponents must be an increasing 1-D array of at least 4 positive values")
        self.exponents = exps
        self.count = np.zeros(self.n_bands, dtype=np.int64)
        self.mean = np.zeros(self.n_bands)
        self.m2 = np.zeros(self.n_bands)
        self.sum_sq = np.zeros(self.n_bands)
        self.sum_abs = np.zeros(self.n_bands)
        self.power_sums = np.zeros((exps.size, self.n_bands))
        self.max_abs = np.zeros(self.n_bands)
        self.n_clips = 0

    # ------------------------------------------------------------------ filling
    def update(self, coefficients: Any) -> None:
        """Add the coefficients of one clip (or a batch): shape ``(..., n_bands, n_frames)``.

        Examples
        --------
        >>> import numpy as np
        >>> s = BandStatistics(3)
        >>> s.update(np.ones((3, 10)))  # (..., n_bands, n_frames)
        >>> s.count.tolist(), s.n_clips
        ([10, 10, 10], 1)
        """
        X = np.asarray(coefficients)
        if X.ndim < 2 or X.shape[-2] != self.n_bands:
            raise ParameterError(
                f"coefficients of shape {X.shape} must be (..., n_bands={self.n_bands}, n_frames)"
            )
        if not np.all(np.isfinite(X)):
            raise ParameterError("coefficients contain NaN or infinite values")
        # (n_bands, n_values) in float64
        values = np.moveaxis(X.astype(np.float64, copy=False), -2, 0).reshape(self.n_bands, -1)
        n = values.shape[1]
        if n == 0:
            return
        other = BandStatistics(self.n_bands, exponents=self.exponents)
        other.count[:] = n
        other.mean = values.mean(axis=1)
        other.m2 = ((values - other.mean[:, None]) ** 2).sum(axis=1)
        other.sum_sq = (values**2).sum(axis=1)
        absval = np.abs(values)
        other.sum_abs = absval.sum(axis=1)
        other.max_abs = absval.max(axis=1)
        with np.errstate(divide="ignore"):
            log_abs = np.log(absval)  # -inf for exact zeros: exp(p * -inf) = 0
        for i, p in enumerate(self.exponents):
            other.power_sums[i] = np.exp(p * log_abs).sum(axis=1)
        other.n_clips = 1
        self._merge_in_place(other)

    def _merge_in_place(self, other: BandStatistics) -> None:
        if other.n_bands != self.n_bands or not np.array_equal(other.exponents, self.exponents):
            raise ParameterError(
                f"cannot merge statistics of {other.n_bands} bands / {other.exponents.size} exponents into "
                f"{self.n_bands} bands / {self.exponents.size} exponents"
            )
        n_a, n_b = self.count.astype(np.float64), other.count.astype(np.float64)
        total = n_a + n_b
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = other.mean - self.mean
            new_mean = np.where(total > 0, self.mean + delta * n_b / total, 0.0)
            new_m2 = np.where(total > 0, self.m2 + other.m2 + delta**2 * n_a * n_b / total, 0.0)
        self.mean, self.m2 = new_mean, new_m2
        self.count = self.count + other.count
        self.sum_sq = self.sum_sq + other.sum_sq
        self.sum_abs = self.sum_abs + other.sum_abs
        self.power_sums = self.power_sums + other.power_sums
        self.max_abs = np.maximum(self.max_abs, other.max_abs)
        self.n_clips += other.n_clips

    def merge(self, *others: BandStatistics) -> BandStatistics:
        """A new accumulator holding this one and ``others`` (order does not matter).

        Examples
        --------
        >>> import numpy as np
        >>> a, b = BandStatistics(2), BandStatistics(2)
        >>> a.update(np.ones((2, 4))); b.update(np.zeros((2, 6)))
        >>> m = a.merge(b)
        >>> m.count.tolist(), m.mean.tolist()
        ([10, 10], [0.4, 0.4])
        """
        out = self.copy()
        for other in others:
            out._merge_in_place(other)
        return out

    def __add__(self, other: BandStatistics) -> BandStatistics:
        if not isinstance(other, BandStatistics):
            return NotImplemented
        return self.merge(other)

    def copy(self) -> BandStatistics:
        """Deep copy.

        Examples
        --------
        >>> s = BandStatistics(2)
        >>> s.copy().n_bands
        2
        """
        return BandStatistics.from_dict(self.to_dict())

    # ------------------------------------------------------------------ results
    @property
    def variance(self) -> np.ndarray:
        """Variance about the mean, per band."""
        return self.m2 / np.maximum(self.count, 1)

    def fit(self, *, method: str = "moments", bracket: tuple[float, float] = SHAPE_BRACKET) -> GGDFit:
        """Per-band zero-location GGD fits.

        Parameters
        ----------
        method : {"moments", "mle"}
            Moment ratio ``E[x^2] / E[|x|]^2`` (Sharifi & Leon-Garcia), or maximum likelihood from
            the power sums (shapes limited to the exponent grid).
        bracket : (float, float)
            Allowed shape interval.

        Returns
        -------
        GGDFit
            ``shape`` and ``scale`` arrays of length ``n_bands``, ``loc`` 0.

        Examples
        --------
        >>> import numpy as np
        >>> s = BandStatistics(2)
        >>> s.update(np.random.default_rng(0).standard_normal((2, 100000)))
        >>> fit = s.fit(method="mle")
        >>> np.round(fit.shape, 1).tolist()  # Gaussian bands: shape 2
        [2.0, 2.0]
        """
        if np.any(self.count < 2):
            empty = np.flatnonzero(self.count < 2)
            raise ParameterError(f"{empty.size} band(s) have fewer than 2 values (first: band {empty[0]})")
        n = self.count.astype(np.float64)
        second = self.sum_sq / n
        first = self.sum_abs / n
        if np.any(first <= 0):
            raise ParameterError(f"band(s) {np.flatnonzero(first <= 0)[:5].tolist()} are all zeros")
        shape = shape_from_moment_ratio(second / first**2, bracket=bracket)
        if method == "moments":
            return GGDFit(shape, scale_from_std(np.sqrt(second), shape), np.zeros(self.n_bands), "moments")
        if method != "mle":
            raise ParameterError(f"method={method!r} must be 'moments' or 'mle'")
        lo = max(bracket[0], float(self.exponents[0]))
        hi = min(bracket[1], float(self.exponents[-1]))
        shape = np.array(
            [self._mle_shape(k, float(np.clip(shape[k], lo, hi)), lo, hi) for k in range(self.n_bands)]
        )
        log_s = np.array([self._log_power_sum(k, g) for k, g in enumerate(shape)])
        scale = np.exp((np.log(shape) - np.log(n) + log_s) / shape)
        return GGDFit(shape, scale, np.zeros(self.n_bands), "mle")

    def _log_power_sum(self, band: int, g: float) -> float:
        from scipy.interpolate import CubicSpline

        cache = getattr(self, "_spline_cache", None)
        if cache is None or cache[0] is not self.power_sums:
            with np.errstate(divide="ignore"):
                logs = np.log(self.power_sums)
            cache = (
                self.power_sums,
                [CubicSpline(np.log(self.exponents), logs[:, k]) for k in range(self.n_bands)],
            )
            self._spline_cache = cache
        return float(cache[1][band](np.log(g)))

    def _mle_shape(self, band: int, start: float, lo: float, hi: float) -> float:
        from scipy.optimize import minimize_scalar
        from scipy.special import gammaln

        n = float(self.count[band])

        def neg_loglik(log_g: float) -> float:
            g = np.exp(log_g)
            log_a = (np.log(g) - np.log(n) + self._log_power_sum(band, g)) / g
            return -(np.log(g) - np.log(2.0) - log_a - gammaln(1.0 / g) - 1.0 / g)

        res = minimize_scalar(
            neg_loglik, bounds=(np.log(lo), np.log(hi)), method="bounded", options={"xatol": 1e-8}
        )
        return float(np.exp(res.x))

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dictionary (exact: floats as repr strings are not needed, JSON keeps doubles).

        Examples
        --------
        >>> BandStatistics(4).to_dict()["n_bands"]
        4
        """
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "n_bands": self.n_bands,
            "n_clips": self.n_clips,
            "exponents": self.exponents.tolist(),
            "count": self.count.tolist(),
            "mean": self.mean.tolist(),
            "m2": self.m2.tolist(),
            "sum_sq": self.sum_sq.tolist(),
            "sum_abs": self.sum_abs.tolist(),
            "max_abs": self.max_abs.tolist(),
            "power_sums": self.power_sums.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BandStatistics:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> s = BandStatistics(4)
        >>> BandStatistics.from_dict(s.to_dict()).n_bands
        4
        """
        if data.get("format") != _FORMAT:
            raise ParameterError("not a BandStatistics dictionary")
        if int(data.get("version", 0)) > _VERSION:
            raise ParameterError(f"BandStatistics version {data['version']} is newer than this library reads")
        out = cls(int(data["n_bands"]), exponents=data["exponents"])
        out.n_clips = int(data["n_clips"])
        out.count = np.asarray(data["count"], dtype=np.int64)
        for name in ("mean", "m2", "sum_sq", "sum_abs", "max_abs"):
            setattr(out, name, np.asarray(data[name], dtype=np.float64))
        out.power_sums = np.asarray(data["power_sums"], dtype=np.float64)
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write as JSON (atomically).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "stats.json"
        >>> BandStatistics(8).save(path)
        >>> BandStatistics.load(path).n_bands
        8
        """
        from .io import atomic_output

        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | os.PathLike) -> BandStatistics:
        """Read a file written by :meth:`save`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "stats.json"
        >>> BandStatistics(8).save(path)
        >>> BandStatistics.load(path)
        BandStatistics(n_bands=8, n_clips=0, values_per_band=0)
        """
        return cls.from_dict(json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        return f"BandStatistics(n_bands={self.n_bands}, n_clips={self.n_clips}, values_per_band={int(self.count.max())})"
