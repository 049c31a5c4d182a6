"""Argument checks and constant tables for the tensor API (private).

Two policies live here:

- **Finite checks** (``check_finite``): ``True`` always checks, ``False`` never does, and
  ``None`` (the default everywhere) checks CPU tensors only and skips the check inside
  ``torch.compile`` and on accelerators, where ``bool(tensor)`` would be a device-to-host
  synchronization in the middle of a training step.
- **Constant tables** (windows, twiddles, quantizer tables) are registered as buffers holding
  the *bit patterns* of their float64 and float32 values (int64/int32 tensors). Module dtype
  casts (``.half()``, ``.to(torch.float32)``) only touch floating-point buffers, so the tables
  keep full precision whatever the module is cast to, while ``.to(device)`` moves them as
  usual. Reading one is a free reinterpretation (``Tensor.view(dtype)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..exceptions import ParameterError

# Integer PCM as in mdctcompand._validation: signed intN / 2**(N-1); uint8 centred at 128.
_PCM_SCALE = {torch.int8: 2.0**7, torch.int16: 2.0**15, torch.int32: 2.0**31, torch.int64: 2.0**63}
_HALF_TYPES = (torch.float16, torch.bfloat16)
FLOAT_TYPES = (torch.float32, torch.float64)


def is_compiling() -> bool:
    """True while torch.compile traces the caller (checks that need Python values are skipped)."""
    compiler = getattr(torch, "compiler", None)
    if compiler is not None and hasattr(compiler, "is_compiling"):
        return bool(compiler.is_compiling())
    return bool(torch._dynamo.is_compiling())  # torch < 2.3


def should_check(x: torch.Tensor, check_finite: bool | None) -> bool:
    """Resolve the ``check_finite`` policy (see the module docstring) for tensor ``x``."""
    if check_finite is None:
        return x.device.type == "cpu" and not is_compiling()
    return bool(check_finite)


def raise_if_not_finite(x: torch.Tensor, name: str) -> None:
    """Raise :class:`ParameterError` naming the count of NaN/inf values of ``x`` (synchronizes)."""
    # One summation pass (NaN and inf propagate through a sum); the exact count only on failure
    # (a bad value, or an overflow of huge finite values, checked exactly).
    if x.numel() and not bool(torch.isfinite(x.sum())) and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ParameterError(f"{name} contains {bad} NaN or infinite value(s)")


def require_tensor(x: Any, name: str) -> torch.Tensor:
    """``x`` itself if it is a tensor, else a :class:`ParameterError` naming its type."""
    if not isinstance(x, torch.Tensor):
        raise ParameterError(
            f"{name} must be a torch.Tensor; got {type(x).__name__} (use torch.as_tensor, or the numpy API "
            "mdctcompand.* for arrays)"
        )
    return x


def as_float_audio(
    x: Any, *, name: str = "audio", min_length: int = 1, check_finite: bool | None = None
) -> torch.Tensor:
    """``x`` as a float32/float64 tensor ``(..., n_samples)``, mirroring the numpy API's conversion.

    float32/float64 keep their dtype, float16/bfloat16 become float32, integer PCM becomes
    float32 in [-1, 1). Complex, boolean and other dtypes, 0-d tensors and too-short inputs raise.
    """
    x = require_tensor(x, name)
    dt = x.dtype
    if dt in _PCM_SCALE:
        x = x.to(torch.float32) / _PCM_SCALE[dt]
    elif dt == torch.uint8:
        x = (x.to(torch.float32) - 128.0) / 128.0
    elif dt in _HALF_TYPES:
        x = x.to(torch.float32)
    elif dt not in FLOAT_TYPES:
        raise ParameterError(f"{name} has dtype {dt}; expected float32, float64, a half type or integer PCM")
    if x.ndim == 0:
        raise ParameterError(f"{name} must have at least one dimension (..., n_samples); got a scalar")
    if x.shape[-1] < min_length:
        raise ParameterError(
            f"{name} has {x.shape[-1]} samples along the last axis; at least {min_length} needed"
        )
    if should_check(x, check_finite):
        raise_if_not_finite(x, name)
    return x


def as_float_values(x: Any, name: str, *, check_finite: bool | None = None) -> torch.Tensor:
    """A real floating tensor (coefficients, probabilities, code values); half types become float32."""
    x = require_tensor(x, name)
    if x.dtype in _HALF_TYPES:
        x = x.to(torch.float32)
    elif x.dtype not in FLOAT_TYPES:
        raise ParameterError(
            f"{name} have dtype {x.dtype}; expected a real floating type (float32 or float64)"
        )
    if should_check(x, check_finite):
        raise_if_not_finite(x, name)
    return x


def check_bands(
    x: torch.Tensor, name: str, n_bands: int, *, min_frames: int = 0, axis: str = "n_bands"
) -> None:
    """``x`` must be ``(..., n_bands, n_frames)`` with at least ``min_frames`` frames (``axis`` names the rows)."""
    if x.ndim < 2 or x.shape[-2] != n_bands:
        raise ParameterError(f"{name} of shape {tuple(x.shape)} must be (..., {axis}={n_bands}, n_frames)")
    if x.shape[-1] < min_frames:
        raise ParameterError(f"{name} have {x.shape[-1]} frame(s); at least {min_frames} are needed")


def check_same_device(x: torch.Tensor, reference: torch.Tensor, owner: str) -> None:
    """Tables and data must share a device: the module is moved with ``.to(device)``, never per call."""
    if x.device != reference.device:
        raise ParameterError(
            f"input is on {x.device} but the {owner} is on {reference.device}; move it with .to({str(x.device)!r})"
        )


class TableView:
    """A :class:`ConstantTables`' buffers as plain tensors, with its ``get``/``prepared``/``device``.

    What a compiled graph holds when no module exists yet (the functional API traced from a cold
    start): the buffers are built once, eagerly, and enter the graph as constants.

    Examples
    --------
    >>> t = TableView(dict(ConstantTables({"w": np.array([0.1, 0.2])}).named_buffers()))
    >>> t.get("w", torch.float64)
    tensor([0.1000, 0.2000], dtype=torch.float64)
    """

    def __init__(self, buffers: dict[str, torch.Tensor]) -> None:
        self.buffers = buffers
        self.window_64 = buffers.get("window_64")

    def get(self, key: str, dtype: torch.dtype) -> torch.Tensor:
        """Table ``key`` in float64 (exact) or float32 (its float32 version)."""
        if dtype == torch.float64:
            return self.buffers[f"{key}_64"].view(torch.float64)
        return self.buffers[f"{key}_32"].view(torch.float32)

    def prepared(self, dtype: torch.dtype, build) -> dict[str, torch.Tensor]:
        """``build(self, dtype)``: derived constants, built in the graph."""
        return build(self, dtype)

    @property
    def device(self) -> torch.device:
        """Device the tables are on."""
        return next(iter(self.buffers.values())).device


class ConstantTables(torch.nn.Module):
    """Float constants kept at full precision through module dtype casts (see the module docstring).

    Examples
    --------
    >>> t = ConstantTables({"w": np.array([0.1, 0.2])})
    >>> t.half().get("w", torch.float64)
    tensor([0.1000, 0.2000], dtype=torch.float64)
    """

    def __init__(self, tables: dict[str, np.ndarray]) -> None:
        super().__init__()
        for key, value in tables.items():
            self.add(key, value)

    def add(self, key: str, value: np.ndarray) -> None:
        """Register ``value`` (float64 array) as the bit patterns of its float64 and float32 roundings."""
        v64 = np.ascontiguousarray(value, dtype=np.float64)
        self.register_buffer(f"{key}_64", torch.from_numpy(v64.view(np.int64).copy()), persistent=False)
        self.register_buffer(
            f"{key}_32", torch.from_numpy(v64.astype(np.float32).view(np.int32).copy()), persistent=False
        )

    def add_float32(self, key: str, value64: np.ndarray, value32: np.ndarray) -> None:
        """Register a table whose float32 version is not the plain rounding (e.g. rounded-up thresholds)."""
        self.add(key, value64)
        v32 = np.ascontiguousarray(value32, dtype=np.float32)
        setattr(self, f"{key}_32", torch.from_numpy(v32.view(np.int32).copy()).to(self.device))

    def prepared(self, dtype: torch.dtype, build) -> dict[str, torch.Tensor]:
        """``build(self, dtype)`` (derived constants, e.g. complex twiddles), memoized per dtype and device.

        Eager calls reuse the result; traced calls (torch.compile) build it in the graph.
        """
        if is_compiling():
            return build(self, dtype)
        key = (dtype, self.device)
        cache = self.__dict__.setdefault("_prepared_cache", {})
        if key not in cache:
            cache[key] = build(self, dtype)
        return cache[key]

    @property
    def device(self) -> torch.device:
        """Device the tables are on."""
        return next(self.buffers()).device

    def get(self, key: str, dtype: torch.dtype) -> torch.Tensor:
        """Table ``key`` in float64 (exact) or float32 (its float32 version)."""
        if dtype == torch.float64:
            return getattr(self, f"{key}_64").view(torch.float64)
        return getattr(self, f"{key}_32").view(torch.float32)


def check_float_dtype(dtype: Any) -> torch.dtype:
    """``dtype`` if it is torch.float32 or torch.float64, else a ParameterError."""
    if dtype not in (torch.float32, torch.float64):
        raise ParameterError(f"dtype={dtype} must be torch.float32 or torch.float64")
    return dtype
