"""The MDCT and its inverse on tensors: any device, differentiable, torch.compile-compatible.

Same definition and conventions as :mod:`mdctcompand.transform` (orthonormal TDAC; ``hop``
zeros of left padding and enough on the right, ``n_frames = ceil(n_samples / hop) + 1``;
coefficients ``(..., n_bins, n_frames)``; the inverse takes the original length), and the
window values come from :func:`mdctcompand.windows.get_window`, so results agree with the
numpy core to float rounding. The kernels (an FFT-based DCT-IV of size ``hop / 2`` between
contiguous fold and unfold steps) are in :mod:`mdctcompand.torch._lapped`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._validation import check_int
from ..exceptions import ParameterError
from ..transform import MDCT as NumpyMDCT
from ..transform import FrameGeometry
from ..windows import WindowSpec, get_window
from . import _lapped
from ._checks import (
    ConstantTables,
    TableView,
    as_float_audio,
    as_float_values,
    check_bands,
    check_same_device,
    is_compiling,
    raise_if_not_finite,
    should_check,
)

__all__ = ["MDCT", "imdct", "mdct"]


class MDCT(torch.nn.Module, FrameGeometry):
    """A lapped MDCT as an ``nn.Module``: ``forward`` analyses, :meth:`inverse` synthesizes.

    Parameters
    ----------
    frame_length : int, default 1024
        Even frame (window) length ``N``; the hop and the number of bins are ``N / 2``.
    window : str, tuple or np.ndarray, default "sine"
        Any window of :func:`mdctcompand.windows.get_window` (``"sine"``, ``"vorbis"``,
        ``"kbd"``, ``"kbd:ALPHA"``, ``("kbd", alpha)`` or an array), checked against the
        Princen-Bradley condition; the values are the numpy core's.

    Notes
    -----
    Audio is ``(..., n_samples)``: float32 or float64 (kept), float16/bfloat16 (computed and
    returned in float32) or integer PCM (float32, as in the numpy API). Coefficients are
    ``(..., n_bins, n_frames)``, a transposed view of frame-major memory, like the numpy core's.
    The constant tables are buffers: move the module with ``.to(device)``; dtype casts of the
    module do not round them. ``check_finite=None`` checks for NaN/inf on the CPU only (no
    device synchronization on accelerators or under ``torch.compile``).

    Examples
    --------
    >>> import torch
    >>> t = MDCT(1024)
    >>> x = torch.randn(2, 24000, generator=torch.Generator().manual_seed(0))
    >>> X = t(x)
    >>> X.shape, X.dtype
    (torch.Size([2, 512, 48]), torch.float32)
    >>> y = t.inverse(X, length=24000)
    >>> bool((y - x).abs().max() < 1e-5)
    True
    """

    def __init__(self, frame_length: int = 1024, *, window: WindowSpec = "sine") -> None:
        torch.nn.Module.__init__(self)
        FrameGeometry.__init__(self, frame_length, window)
        w = get_window(window, self.frame_length)
        self._tables = ConstantTables(_lapped.tables(w))

    @classmethod
    def from_numpy(cls, transform: Any) -> MDCT:
        """The tensor twin of a numpy :class:`mdctcompand.MDCT` (same frame length and window).

        Examples
        --------
        >>> import mdctcompand
        >>> MDCT.from_numpy(mdctcompand.MDCT(256, window="kbd:5"))
        MDCT(frame_length=256, window='kbd:5')
        """
        if not isinstance(transform, NumpyMDCT):
            raise ParameterError(f"transform must be a mdctcompand.MDCT; got {type(transform).__name__}")
        return cls(transform.frame_length, window=transform.window_name or np.array(transform.window))

    # ----------------------------------------------------------------- properties
    @property
    def window(self) -> torch.Tensor:
        """The analysis and synthesis window (float64, or float32 on MPS), on the module's device."""
        tables = self._tables
        dtype = torch.float32 if tables.device.type == "mps" else torch.float64
        return tables.get("window", dtype).clone()

    # ----------------------------------------------------------------- transforms
    def forward(self, x: torch.Tensor, *, check_finite: bool | None = None) -> torch.Tensor:
        """MDCT of ``x``.

        Parameters
        ----------
        x : torch.Tensor, shape (..., n_samples)
            Audio; at least one sample.
        check_finite : bool, optional
            Raise on NaN/inf input; default: on CPU tensors only (see the class notes).

        Returns
        -------
        coefficients : torch.Tensor, shape (..., n_bins, n_frames)
            ``n_frames = ceil(n_samples / hop) + 1``; float32 or float64.

        Examples
        --------
        >>> MDCT(8)(torch.ones(10)).shape
        torch.Size([4, 4])
        """
        x = as_float_audio(x, check_finite=check_finite)
        check_same_device(x, self._tables.get("window", torch.float64), "MDCT")
        return _forward(x, self._tables, self.hop_length)

    def inverse(
        self, coefficients: torch.Tensor, *, length: int, check_finite: bool | None = None
    ) -> torch.Tensor:
        """Inverse MDCT: windowed overlap-add of the frames, trimmed to ``length`` samples.

        Parameters
        ----------
        coefficients : torch.Tensor, shape (..., n_bins, n_frames)
            Float coefficients (any memory layout); ``n_frames`` must equal ``ceil(length / hop) + 1``.
        length : int
            Length of the original signal.
        check_finite : bool, optional
            Raise on NaN/inf coefficients; default: on CPU tensors only.

        Returns
        -------
        audio : torch.Tensor, shape (..., length)

        Examples
        --------
        >>> t = MDCT(8)
        >>> x = torch.arange(10.0, dtype=torch.float64)
        >>> torch.allclose(t.inverse(t(x), length=10), x)
        True
        """
        X = as_float_values(coefficients, "coefficients", check_finite=False)
        check_bands(X, "coefficients", self.n_bins, min_frames=2, axis="n_bins")
        length = check_int(length, "length", minimum=1)
        n_frames = X.shape[-1]
        if n_frames != self.n_frames(length):
            raise ParameterError(
                f"coefficients have {n_frames} frames but length={length} needs "
                f"{self.n_frames(length)} (ceil(length / {self.hop_length}) + 1)"
            )
        check_same_device(X, self._tables.get("window", torch.float64), "MDCT")
        return _inverse(X, self._tables, self.hop_length, length, check_finite)

    def __repr__(self) -> str:
        return f"MDCT({self.extra_repr()})"

    def extra_repr(self) -> str:
        return f"frame_length={self._frame_length}, window={self._window_name or 'custom'!r}"


def _forward(x: torch.Tensor, tables: Any, m: int) -> torch.Tensor:
    """The MDCT of checked audio ``x`` with ``tables`` (:class:`ConstantTables` or :class:`TableView`)."""
    n = x.shape[-1]
    n_frames = -(-n // m) + 1
    lead = x.shape[:-1]
    frames = _lapped.analysis(x.reshape(-1, n), n_frames, tables)
    return frames.reshape(lead + (n_frames, m)).transpose(-1, -2)


def _inverse(X: torch.Tensor, tables: Any, m: int, length: int, check_finite: bool | None) -> torch.Tensor:
    """The inverse of checked coefficients ``X`` (``ceil(length / m) + 1`` frames) with ``tables``."""
    n_frames = X.shape[-1]
    lead = X.shape[:-2]
    frames = X.transpose(-1, -2).reshape((-1, n_frames, m))
    if should_check(frames, check_finite):  # frame-major: the layout the forward returns
        raise_if_not_finite(frames, "coefficients")
    out = _lapped.synthesis(frames, tables)
    return out[:, :length].reshape(lead + (length,))


#: MDCT modules of the functional API, per (frame length, named window, device).
_MODULES: dict[tuple, MDCT] = {}


@torch.compiler.assume_constant_result
def _traced_tables(frame_length: int, window: str | tuple, device: str) -> dict[str, torch.Tensor]:
    """The tables of an MDCT, built eagerly while torch.compile traces a cold functional call;
    the graph holds them as constants (a module cannot be built inside a graph)."""
    return dict(MDCT(frame_length, window=window).to(device)._tables.named_buffers())


@torch.compiler.disable
def _build(frame_length: int, window: WindowSpec, device: torch.device, key: tuple | None) -> MDCT:
    module = MDCT(frame_length, window=window).to(device)
    if key is not None and len(_MODULES) < 64:
        _MODULES[key] = module
    return module


def _transform(frame_length: int, window: WindowSpec, device: torch.device) -> MDCT | TableView:
    """The functional API's module: looked up (traceable by torch.compile) or built (eagerly, once);
    traced from a cold start, the tables of a named window as graph constants (see :func:`_traced_tables`)."""
    key = None
    if isinstance(window, str) or (
        isinstance(window, tuple) and all(isinstance(v, (str, int, float)) for v in window)
    ):
        key = (frame_length, window, device)
        module = _MODULES.get(key)
        if module is not None:
            return module
        if is_compiling():  # (the tables are built by MDCT, which checks the frame length and window)
            return TableView(_traced_tables(frame_length, window, str(device)))
    return _build(frame_length, window, device, key)


def mdct(
    x: torch.Tensor,
    *,
    frame_length: int = 1024,
    window: WindowSpec = "sine",
    check_finite: bool | None = None,
) -> torch.Tensor:
    """MDCT of ``x`` (see :class:`MDCT` for the definition and conventions).

    Parameters
    ----------
    x : torch.Tensor, shape (..., n_samples)
        Audio on any device.
    frame_length : int, default 1024
        Even frame length; hop and bin count are half of it.
    window : str, tuple or np.ndarray, default "sine"
        Window specification, see :func:`mdctcompand.windows.get_window`.
    check_finite : bool, optional
        Raise on NaN/inf; default: on CPU tensors only.

    Returns
    -------
    coefficients : torch.Tensor, shape (..., frame_length // 2, n_frames)

    Examples
    --------
    >>> import torch
    >>> x = torch.sin(torch.linspace(0, 100, 4000, dtype=torch.float64))
    >>> X = mdct(x, frame_length=256)
    >>> X.shape
    torch.Size([128, 33])
    >>> torch.allclose(imdct(X, length=4000), x)
    True
    """
    x = as_float_audio(x, check_finite=check_finite)
    transform = _transform(frame_length, window, x.device)
    if isinstance(transform, TableView):
        return _forward(x, transform, frame_length // 2)
    return transform(x, check_finite=False)


def imdct(
    coefficients: torch.Tensor,
    *,
    length: int,
    frame_length: int | None = None,
    window: WindowSpec = "sine",
    check_finite: bool | None = None,
) -> torch.Tensor:
    """Inverse MDCT of ``coefficients`` trimmed to ``length`` samples.

    Parameters
    ----------
    coefficients : torch.Tensor, shape (..., n_bins, n_frames)
        MDCT coefficients on any device.
    length : int
        Length of the original signal.
    frame_length : int, optional
        Defaults to ``2 * n_bins``; given explicitly it must agree with the coefficients.
    window : str, tuple or np.ndarray, default "sine"
        The window used by the forward transform.
    check_finite : bool, optional
        Raise on NaN/inf; default: on CPU tensors only.

    Returns
    -------
    audio : torch.Tensor, shape (..., length)

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(2, 1000, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    >>> y = imdct(mdct(x, frame_length=64), length=1000)
    >>> bool((y - x).abs().max() < 1e-12)
    True
    """
    X = as_float_values(coefficients, "coefficients", check_finite=False)
    if X.ndim < 2:
        raise ParameterError(f"coefficients of shape {tuple(X.shape)} must be (..., n_bins, n_frames)")
    if frame_length is None:
        frame_length = 2 * X.shape[-2]
    transform = _transform(frame_length, window, X.device)
    if isinstance(transform, TableView):
        m = frame_length // 2
        check_bands(X, "coefficients", m, min_frames=2, axis="n_bins")
        return _inverse(X, transform, m, length, check_finite)
    return transform.inverse(X, length=length, check_finite=check_finite)
