"""Windowing + folding (TDAC) and unfolding + overlap-add for an even hop ``M``.

Conventions shared by both kernels: frame ``t`` of a row ``x`` (length ``n``) covers the
samples ``x[start + t*M : start + t*M + 2*M]``, zero outside ``[0, n)``. The folded frame
``v`` (length ``M``) satisfies ``MDCT(frame) = DCT-IV(v)`` with the orthonormal DCT-IV; for
the quarters ``(a, b, c, d)`` of the windowed frame it is ``(-c_r - d, a - b_r)``.

Each function runs the Numba build (:mod:`._lapped_numba`) or the numpy build below, as
:func:`mdctcompand._kernels.use_jit` decides; both do the same floating-point operations in
the same order, so their outputs are bit-identical.
"""

from __future__ import annotations

import numpy as np

from .._validation import all_finite as all_finite_numpy
from . import jit_module, use_jit


def fold(x: np.ndarray, start: int, window: np.ndarray, out: np.ndarray) -> None:
    """Window and fold every frame of every row: ``x (B, n)`` -> ``out (B, F, M)``."""
    if use_jit(out.size, "fold"):
        jit_module("lapped").fold(x, start, window, out)
    else:
        fold_numpy(x, start, window, out)


def overlap_add(
    g: np.ndarray, start: int, window: np.ndarray, out: np.ndarray, first_block: int, stop_block: int
) -> None:
    """Unfold, window and overlap-add ``g (B, F, M)`` into ``out (B, n)``; writes blocks ``first_block .. stop_block - 1``.

    Output block ``t`` (samples ``start + t*M .. + M``) is frame t's first half plus frame
    t-1's second half; a missing frame counts as zero, samples outside ``out`` are skipped.
    """
    if use_jit(out.shape[0] * max(0, stop_block - first_block) * g.shape[2], "overlap_add"):
        jit_module("lapped").overlap_add(g, start, window, out, first_block, stop_block)
    else:
        overlap_add_numpy(g, start, window, out, first_block, stop_block)


def all_finite(a: np.ndarray) -> bool:
    """Whether every value of the C-contiguous float array ``a`` is finite: the transform's check of each block."""
    if use_jit(a.size, "finite"):
        return bool(jit_module("lapped").all_finite(a.reshape(-1)))
    return all_finite_numpy(a)


def fold_numpy(x: np.ndarray, start: int, window: np.ndarray, out: np.ndarray) -> None:
    """Numpy build of :func:`fold` (same arithmetic as the Numba kernel, vectorized over frames)."""
    n_rows, n_frames, m = out.shape
    h = m // 2
    n = x.shape[-1]
    span = (n_frames + 1) * m
    z = np.zeros((n_rows, span), dtype=out.dtype)  # the samples all frames cover, zero-padded
    lo, hi = max(0, -start), min(span, n - start)
    if hi > lo:
        z[:, lo:hi] = x[:, start + lo : start + hi]
    blocks = z.reshape(n_rows, n_frames + 1, m)
    first, second = blocks[:, :-1], blocks[:, 1:]  # halves (a b) and (c d) of every frame
    w = window
    np.subtract(
        np.negative(w[m : m + h][::-1]) * second[..., :h][..., ::-1],
        w[m + h :] * second[..., h:],
        out=out[..., :h],
    )
    np.subtract(w[:h] * first[..., :h], w[h:m][::-1] * first[..., h:][..., ::-1], out=out[..., h:])


def overlap_add_numpy(
    g: np.ndarray, start: int, window: np.ndarray, out: np.ndarray, first_block: int, stop_block: int
) -> None:
    """Numpy build of :func:`overlap_add` (same arithmetic as the Numba kernel, vectorized over blocks)."""
    n_rows, n_frames, m = g.shape
    h = m // 2
    n = out.shape[-1]
    count = stop_block - first_block
    if count <= 0:
        return
    if first_block >= 1 and stop_block <= n_frames:  # every frame exists: views, no copy
        prev, cur = g[:, first_block - 1 : stop_block - 1], g[:, first_block:stop_block]
    else:  # frames first_block - 1 .. stop_block - 1, zero where they do not exist
        frames = np.zeros((n_rows, count + 1, m), dtype=g.dtype)
        f0, f1 = max(first_block - 1, 0), min(stop_block, n_frames)
        if f1 > f0:
            frames[:, f0 - (first_block - 1) : f1 - (first_block - 1)] = g[:, f0:f1]
        prev, cur = frames[:, :-1], frames[:, 1:]
    s0 = start + first_block * m
    lo, hi = max(0, -s0), min(count * m, n - s0)
    inside = lo == 0 and hi == count * m and out.strides[-1] == out.itemsize
    # The blocks go straight into ``out`` when they all fall inside it (a view of its rows).
    blocks = (
        np.lib.stride_tricks.as_strided(
            out[:, s0:], (n_rows, count, m), (out.strides[0], m * out.itemsize, out.itemsize)
        )
        if inside
        else np.empty((n_rows, count, m), dtype=out.dtype)
    )
    w = window
    product = np.empty((n_rows, count, h), dtype=np.result_type(w, g))
    np.multiply(w[:h], cur[..., h:], out=blocks[..., :h])
    np.multiply(w[m : m + h], prev[..., :h][..., ::-1], out=product)
    np.subtract(blocks[..., :h], product, out=blocks[..., :h])
    np.multiply(np.negative(w[h:m]), cur[..., h:][..., ::-1], out=blocks[..., h:])
    np.multiply(w[m + h :], prev[..., :h], out=product)
    np.subtract(blocks[..., h:], product, out=blocks[..., h:])
    if not inside and hi > lo:
        out[:, s0 + lo : s0 + hi] = blocks.reshape(n_rows, count * m)[:, lo:hi]
