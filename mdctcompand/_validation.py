"""Argument checks shared by the public modules (private)."""

from __future__ import annotations

import numbers

import numpy as np

from .exceptions import ParameterError

# Integer PCM is converted to float32 in [-1, 1): signed types are divided by 2**(bits-1),
# unsigned types are centred first (uint8 WAV convention: 128 is silence).
_PCM_SCALE = {
    np.dtype(t): float(2 ** (8 * np.dtype(t).itemsize - 1)) for t in (np.int8, np.int16, np.int32, np.int64)
}
_UNSIGNED_SCALE = {
    np.dtype(t): float(2 ** (8 * np.dtype(t).itemsize - 1)) for t in (np.uint8, np.uint16, np.uint32)
}


def all_finite(arr: np.ndarray) -> bool:
    """True if every value of the float array ``arr`` is finite.

    One summation pass (NaN and inf propagate through a sum); only when the sum is not
    finite (a bad value, or an overflow of huge finite values) is the exact check run.
    """
    if arr.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(arr, axis=None)):
            return True
    return bool(np.isfinite(arr).all())


def as_float_audio(x, *, name: str = "audio", min_length: int = 1, finite: bool = True) -> np.ndarray:
    """Return ``x`` as a float32/float64 array ``(..., n_samples)``.

    Floats keep their dtype (float16 becomes float32). Integer PCM becomes float32:
    signed ``intN`` divided by ``2**(N-1)``; unsigned ``uintN`` centred at ``2**(N-1)``
    then divided by it. Raises :class:`ParameterError` for other dtypes, 0-d input,
    fewer than ``min_length`` samples, or (``finite=True``) NaN/inf values.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ParameterError(f"{name} could not be converted to an array: {exc}") from exc
    dt = arr.dtype
    if dt in _PCM_SCALE:
        arr = (arr.astype(np.float32) / np.float32(_PCM_SCALE[dt])).astype(np.float32)
    elif dt in _UNSIGNED_SCALE:
        scale = _UNSIGNED_SCALE[dt]
        arr = ((arr.astype(np.float64) - scale) / scale).astype(np.float32)
    elif dt == np.float16:
        arr = arr.astype(np.float32)
    elif dt not in (np.float32, np.float64):
        raise ParameterError(f"{name} has dtype {dt}; expected float32, float64 or integer PCM")
    if arr.ndim == 0:
        raise ParameterError(f"{name} must have at least one dimension (..., n_samples); got a scalar")
    if arr.shape[-1] < min_length:
        raise ParameterError(
            f"{name} has {arr.shape[-1]} samples along the last axis; at least {min_length} needed"
        )
    if finite and not all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ParameterError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, rejecting bools, floats with fractions and values below ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name}={value!r} must be an integer")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ParameterError(f"{name}={value} must be >= {minimum}")
    return value


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a finite float > 0."""
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name}={value!r} must be a number") from exc
    if not np.isfinite(out) or out <= 0:
        raise ParameterError(f"{name}={value!r} must be a finite number > 0")
    return out


def check_workers(workers) -> int:
    """Resolve ``workers`` (``None`` = 1, ``-1`` = all cores, ``-k`` = all but k-1) to a count."""
    import os

    if workers is None:
        return 1
    w = check_int(workers, "workers")
    n_cpu = os.cpu_count() or 1
    if w == 0:
        raise ParameterError("workers=0 is not allowed; use 1 for one thread or -1 for all cores")
    if w < 0:
        w = max(1, n_cpu + 1 + w)
    return w
