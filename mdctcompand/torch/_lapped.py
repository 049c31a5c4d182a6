"""Lapped-transform kernels on tensors: windowing + TDAC fold + DCT-IV, and back (private).

Conventions as in :mod:`mdctcompand._kernels.lapped`: rows ``(B, n)`` are padded with ``M``
zeros on the left (and zeros on the right), frame ``t`` covers padded samples
``t*M .. t*M + 2M``, frames are ``(B, F, M)``; the synthesis returns the overlap-added
samples ``0 .. (F-1)*M`` of the original signal.

Fast path (``M % 4 == 0``): the orthonormal DCT-IV
``C[k] = sqrt(2/M) sum_n v[n] cos(pi/M (n+1/2)(k+1/2))`` is ``C[2k] = Re Y[k]``,
``C[M-1-2k] = -Im Y[k]`` with ``Y = post * FFT_{M/2}(pre * (v[2m] + i v[M-1-2m]))``,
``pre[m] = sqrt(2/M) e^{-i pi m / M}`` and ``post[k] = e^{-i pi (k + 1/4) / M}``. For ``M % 4 == 0``
the samples ``v[2m]`` and ``v[M-1-2m]`` of the windowed, folded frame are sums of two
*contiguous* runs of the even samples and of the block-reversed odd samples of the signal,
so the fold is a handful of contiguous multiply-adds (strided element access is several
times slower in PyTorch's CPU kernels). The analysis is computed conjugated
(``conj(Y) = conj(post) * sum(conj(pre u) e^{+2 pi i m k / (M/2)})``) so that the real and
imaginary parts of the result are ``C[2k]`` and ``C[M-1-2k]`` directly.

The lapped transform is orthogonal and the synthesis is its transpose, so each direction's
gradient is the other direction (:class:`_Analysis`, :class:`_Synthesis`): their forward
passes run without autograd and may write in place.

Other even hops use a generic path (``2M``-point FFT per frame, plain autograd); it is
correct and slower.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._checks import is_compiling

__all__ = ["analysis", "synthesis", "tables"]


def tables(window: np.ndarray) -> dict[str, np.ndarray]:
    """Window, twiddles and fold weights (float64) of the MDCT with this window.

    Fast path: ``pre``/``post`` (as ``*_re``/``*_im``) and the weights ``f_*`` (fold: even samples
    ``_s`` and reversed odd samples ``_t`` of the two blocks of a frame into the real ``re*`` and
    conjugated imaginary ``im*`` parts, first ``1`` and second ``2`` half) and ``i_*`` (unfold: even
    ``e`` and odd ``o`` output samples of the first and second half of a block, from the current
    frame and the previous one).

    Generic path: ``X[k] = Re(post[k] FFT_{2M}(pre * z)[k])`` for the windowed frame ``z``,
    ``pre[n] = e^{-i pi n / (2M)}``, ``post[k] = sqrt(2/M) e^{-i pi n0 (k + 1/2) / M}``,
    ``n0 = 1/2 + M/2``; inverse ``y[n] = w[n] Re(ipost[n] sum_k ipre[k] X[k] e^{i pi n k / M})``.
    """
    m = window.size // 2
    out = {"window": window}

    def add(name: str, values: np.ndarray) -> None:
        out[f"{name}_re"], out[f"{name}_im"] = values.real.copy(), values.imag.copy()

    if m % 4 == 0:
        h, q = m // 2, m // 4
        j = np.arange(h)
        pre = math.sqrt(2.0 / m) * np.exp(-1j * np.pi * j / m)
        post = np.exp(-1j * np.pi * (j + 0.25) / m)
        rotate = np.where(j < q, 1.0, 1j)  # quarter rotation of u (see _analysis_block)
        add("a_pre", np.roll(pre.conj(), -q) * rotate)
        add("a_post", post.conj() * (-1.0) ** j)
        add("s_pre", pre * (-1.0) ** j)
        add("s_post", np.roll(post, -q) * np.where(j < q, 1.0, -1j))
        wa, wb, wc, wd = window[:h], window[h:m], window[m : m + h], window[m + h :]
        r = window[::-1]
        wa_r, wb_r, wc_r, wd_r = r[m + h :], r[m : m + h], r[h:m], r[:h]  # reversed quarters
        # Fold weights of block t (-> real plane) and t+1 (-> imaginary plane) of a frame, for the
        # even samples (_s) and the block-reversed odd samples (_t); see _analysis_block.
        out["fold_s1"] = np.concatenate([wa[0::2], wb[0::2]])
        out["fold_t1"] = np.concatenate([-wb_r[0::2], -wa_r[0::2]])
        out["fold_s2"] = np.concatenate([wc[0::2], wd[0::2]])
        out["fold_t2"] = np.concatenate([wd_r[0::2], wc_r[0::2]])
        return out
    n0 = 0.5 + m / 2.0
    n = np.arange(2 * m)
    k = np.arange(m)
    add("pre", np.exp(-1j * np.pi * n / (2 * m)))
    add("post", math.sqrt(2.0 / m) * np.exp(-1j * np.pi * n0 * (k + 0.5) / m))
    add("ipre", np.exp(1j * np.pi * n0 * k / m))
    add("ipost", math.sqrt(2.0 / m) * np.exp(1j * np.pi * (n + n0) / (2 * m)))
    return out


def analysis(rows: torch.Tensor, n_frames: int, tab) -> torch.Tensor:
    """Frames ``(B, n_frames, M)`` of the MDCT of ``rows (B, n)``; ``tab``: ConstantTables of :func:`tables`."""
    m = tab.window_64.shape[0] // 2
    if m % 4:
        return _analysis_generic(rows, n_frames, tab)
    return _Analysis.apply(rows, n_frames, tab)


def synthesis(frames: torch.Tensor, tab) -> torch.Tensor:
    """Overlap-added inverse ``(B, (F - 1) M)`` of ``frames (B, F, M)`` (original samples from 0)."""
    m = tab.window_64.shape[0] // 2
    if m % 4:
        return _synthesis_generic(frames, tab)
    return _Synthesis.apply(frames, tab)


# --------------------------------------------------------------------------- fast path
def _cplx(tab, key: str, dtype: torch.dtype) -> torch.Tensor:
    return torch.complex(tab.get(f"{key}_re", dtype), tab.get(f"{key}_im", dtype))


def _fast_constants(tab, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Complex twiddles and fold weights of the fast path, in ``dtype``."""
    out = {key: _cplx(tab, key, dtype) for key in ("a_pre", "a_post", "s_pre", "s_post")}
    for key in ("fold_s1", "fold_t1", "fold_s2", "fold_t2"):
        out[key] = tab.get(key, dtype)
    return out


#: Values (frames x bins) per block of work on the CPU: every intermediate of a block stays in
#: cache; PyTorch's CPU kernels make one pass per operation, which is memory-bound on whole signals.
_CPU_BLOCK_VALUES = 1 << 18


def _blocks(x: torch.Tensor, n_rows: int, n_frames: int, m: int) -> list[tuple[slice, int, int]]:
    """Work blocks ``(rows, first_frame, stop_frame)``: cache-sized on the CPU, one block elsewhere."""
    if x.device.type != "cpu" or is_compiling():
        return [(slice(0, n_rows), 0, n_frames)]
    per_block = max(1, _CPU_BLOCK_VALUES // m)
    if n_frames <= per_block:
        step = max(1, per_block // n_frames)
        return [(slice(r, min(r + step, n_rows)), 0, n_frames) for r in range(0, n_rows, step)]
    return [
        (slice(r, r + 1), f, min(f + per_block, n_frames))
        for r in range(n_rows)
        for f in range(0, n_frames, per_block)
    ]


class _Scratch:
    """Work buffers reused by the blocks of one call (same addresses: they stay in cache)."""

    def __init__(self, like: torch.Tensor) -> None:
        self._device = like.device
        self._buffers: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = torch.empty(shape, dtype=dtype, device=self._device)
        return buf


def _complex_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _analysis_fast(rows: torch.Tensor, n_frames: int, tab) -> torch.Tensor:
    n_rows = rows.shape[0]
    m = tab.window_64.shape[0] // 2
    out = torch.empty((n_rows, n_frames, m // 2), dtype=_complex_dtype(rows.dtype), device=rows.device)
    consts = tab.prepared(rows.dtype, _fast_constants)
    scratch = _Scratch(rows)
    for rs, f0, f1 in _blocks(rows, n_rows, n_frames, m):
        _analysis_block(rows[rs], f0, f1, consts, out[rs, f0:f1], scratch)
    return torch.view_as_real(out).reshape(n_rows, n_frames, m)


def _analysis_block(
    rows: torch.Tensor, f0: int, f1: int, c: dict, out: torch.Tensor, scratch: _Scratch
) -> None:
    """Frames ``f0 .. f1`` of the MDCT of ``rows (b, n)``, written to ``out (b, f1 - f0, M/2)`` (complex view)."""
    n_rows, n = rows.shape
    h = c["a_pre"].shape[0]
    m = 2 * h
    f = f1 - f0
    dtype = rows.dtype
    # Even and odd samples of the padded signal (the left padding M is even) from original
    # sample lo = (f0 - 1) M on, as blocks of h = M/2 values: frame t covers blocks t and t+1.
    lo = (f0 - 1) * m
    if lo >= 0 and lo + (f + 1) * m <= n:  # inside the signal: no padding
        even = scratch("even", (n_rows, f + 1, h), dtype)
        even.view(n_rows, -1).copy_(rows[:, lo : lo + (f + 1) * m : 2])
        odd_rev = rows[:, lo + 1 : lo + (f + 1) * m : 2].view(n_rows, f + 1, h).flip(-1)
    else:
        streams = scratch("streams", (2, n_rows, (f + 1) * h), dtype)
        for parity in (0, 1):
            first = max(lo + parity, parity)  # first original sample of this parity in the block
            stop = min(lo + (f + 1) * m, n)
            dst = streams[parity]
            j0 = (first - lo) // 2
            count = max(0, (stop - first + 1) // 2)
            if j0:
                dst[:, :j0].zero_()
            if j0 + count < dst.shape[-1]:
                dst[:, j0 + count :].zero_()
            if count:
                dst[:, j0 : j0 + count].copy_(rows[:, first : first + 2 * count - 1 : 2])
        even = streams[0].view(n_rows, f + 1, h)
        odd_rev = streams[1].view(n_rows, f + 1, h).flip(-1)
    # The DCT-IV input u[m] = v[2m] + i v[M-1-2m] of frame t (v: the windowed TDAC fold of
    # blocks t and t+1) is evaluated conjugated (the imaginary part negated), rotated by a
    # quarter and with its first half multiplied by -i; those are free changes of the
    # twiddles and make its real plane depend on block t only and its imaginary plane on block
    # t+1 only, each a contiguous multiply-add of the even and block-reversed odd samples.
    planes = scratch("planes", (2, n_rows, f, h), dtype)
    torch.mul(even[:, :-1], c["fold_s1"], out=planes[0]).addcmul_(odd_rev[:, :-1], c["fold_t1"])
    torch.mul(even[:, 1:], c["fold_s2"], out=planes[1]).addcmul_(odd_rev[:, 1:], c["fold_t2"])
    cdtype = _complex_dtype(dtype)
    z = torch.complex(planes[0], planes[1], out=scratch("z", (n_rows, f, h), cdtype)).mul_(c["a_pre"])
    y = torch.fft.ifft(z, dim=-1, norm="forward", out=scratch("y", (n_rows, f, h), cdtype)).mul_(c["a_post"])
    # y.real[k] = C[2k], y.imag[k] = C[M-1-2k]: interleave (C[2k], C[2k+1] = y.imag[h-1-k]).
    torch.complex(y.real, y.imag.flip(-1), out=out)


def _synthesis_fast(frames: torch.Tensor, tab) -> torch.Tensor:
    n_rows, f, m = frames.shape
    out = torch.empty((n_rows, f - 1, m // 2), dtype=_complex_dtype(frames.dtype), device=frames.device)
    consts = tab.prepared(frames.dtype, _fast_constants)
    scratch = _Scratch(frames)
    for rs, t0, t1 in _blocks(frames, n_rows, f - 1, m):
        # Output blocks t0+1 .. t1 (samples t0 M .. t1 M) need frames t0 .. t1.
        _synthesis_block(frames[rs, t0 : t1 + 1], consts, out[rs, t0:t1], scratch)
    return torch.view_as_real(out).reshape(n_rows, (f - 1) * m)


def _synthesis_block(frames: torch.Tensor, c: dict, out: torch.Tensor, scratch: _Scratch) -> None:
    """Output blocks 1 .. F-1 of ``frames (b, F, M)`` into ``out (b, F-1, M/2)`` (complex view: sample pairs)."""
    n_rows, f, m = frames.shape
    h = m // 2
    dtype = frames.dtype
    cdtype = _complex_dtype(dtype)
    u = torch.complex(frames[..., 0::2], frames[..., 1::2].flip(-1), out=scratch("u", (n_rows, f, h), cdtype))
    y = torch.fft.fft(u.mul_(c["s_pre"]), dim=-1, out=scratch("y", (n_rows, f, h), cdtype)).mul_(c["s_post"])
    # y holds g = DCT-IV(frames) in the analysis' planes (the synthesis is the transpose of the
    # analysis): output block t = real plane of frame t and imaginary plane of frame t-1, through
    # the fold weights, into even and block-reversed odd samples.
    planes = scratch("planes", (2, n_rows, f, h), dtype)
    planes[0].copy_(y.real)
    planes[1].copy_(y.imag)
    streams = scratch("streams", (2, n_rows, f - 1, h), dtype)
    torch.mul(planes[0, :, 1:], c["fold_s1"], out=streams[0]).addcmul_(planes[1, :, :-1], c["fold_s2"])
    torch.mul(planes[0, :, 1:], c["fold_t1"], out=streams[1]).addcmul_(planes[1, :, :-1], c["fold_t2"])
    torch.complex(streams[0], streams[1].flip(-1), out=out)


class _Analysis(torch.autograd.Function):
    """MDCT frames of rows; the gradient is the synthesis (the transform is orthogonal)."""

    @staticmethod
    def forward(ctx, rows: torch.Tensor, n_frames: int, tab) -> torch.Tensor:
        ctx.tab = tab
        ctx.length = rows.shape[-1]
        return _analysis_fast(rows, n_frames, tab)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return _Synthesis.apply(grad, ctx.tab)[:, : ctx.length], None, None


class _Synthesis(torch.autograd.Function):
    """Overlap-added inverse of frames; the gradient is the analysis (the transpose)."""

    @staticmethod
    def forward(ctx, frames: torch.Tensor, tab) -> torch.Tensor:
        ctx.tab = tab
        ctx.n_frames = frames.shape[1]
        return _synthesis_fast(frames, tab)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return _Analysis.apply(grad, ctx.n_frames, ctx.tab), None


# --------------------------------------------------------------------------- generic path
def _analysis_generic(rows: torch.Tensor, n_frames: int, tab) -> torch.Tensor:
    n = rows.shape[-1]
    m = tab.window_64.shape[0] // 2
    dtype = rows.dtype
    padded = torch.nn.functional.pad(rows, (m, (n_frames + 1) * m - m - n))
    z = padded.unfold(-1, 2 * m, m) * tab.get("window", dtype)
    y = torch.fft.fft(z * _cplx(tab, "pre", dtype), dim=-1)[..., :m]
    return (y * _cplx(tab, "post", dtype)).real


def _synthesis_generic(frames: torch.Tensor, tab) -> torch.Tensor:
    n_rows, f, m = frames.shape
    dtype = frames.dtype
    spectrum = frames * _cplx(tab, "ipre", dtype)
    y = torch.fft.ifft(spectrum, n=2 * m, dim=-1, norm="forward") * _cplx(tab, "ipost", dtype)
    z = y.real * tab.get("window", dtype)
    return (z[:, 1:, :m] + z[:, :-1, m:]).reshape(n_rows, (f - 1) * m)
