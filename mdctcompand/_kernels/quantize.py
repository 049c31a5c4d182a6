"""8-bit per-band quantization: threshold search (encode) and table look-up (decode).

``thresholds[k]`` holds 256 increasing values with ``thresholds[k, 0] = -inf``; the code of
``x`` in band ``k`` is the largest ``j`` with ``x >= thresholds[k, j]`` (0 for NaN).
``table[k, q]`` is the reconstruction of code ``q``. Two memory layouts, both 2-D:
*frame-major* ``(n_frames, n_bands)`` and *band-major* ``(n_bands, n_frames)``.

Each function runs the Numba build (:mod:`._quantize_numba`, which documents the kernels)
or the numpy build below, as :func:`mdctcompand._kernels.use_jit` decides; both give
identical results.
"""

from __future__ import annotations

import numpy as np

from . import jit_module, use_jit


def encode_frame_major(x: np.ndarray, thresholds: np.ndarray, out: np.ndarray, to_image: bool) -> None:
    """Codes of frame-major ``x (n_frames, n_bands)``: ``out[f, k]``, or ``out[n_bands - 1 - k, f]`` if ``to_image``."""
    if use_jit(x.size, "encode"):
        jit_module("quantize").encode_frame_major(x, thresholds, out, to_image)
    else:
        codes = codes_numpy(x.T, thresholds)  # (n_bands, n_frames)
        out[...] = codes[::-1] if to_image else codes.T


def encode_band_major(x: np.ndarray, thresholds: np.ndarray, out: np.ndarray) -> None:
    """``out[k, f] = code of x[k, f]`` in band k; ``x``, ``out``: (n_bands, n_frames)."""
    if use_jit(x.size, "encode"):
        jit_module("quantize").encode_band_major(x, thresholds, out)
    else:
        out[...] = codes_numpy(x, thresholds)


def encode_bucketed(x, xb, padded, table, base, shift, nk, out, to_image: bool) -> None:
    """Bucketed float32 encode of frame-major ``x`` (see :mod:`._quantize_numba`); same codes as :func:`encode_frame_major`.

    The numpy build searches the thresholds (``padded`` without its appended ``+inf``) directly.
    """
    if use_jit(x.size, "encode"):
        jit_module("quantize").encode_bucketed(x, xb, padded, table, base, shift, nk, out, to_image)
    else:
        codes = codes_numpy(x.T, padded[:, : padded.shape[1] - 1])
        out[...] = codes[::-1] if to_image else codes.T


def decode_frame_major(codes: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    """``out[f, k] = table[k, codes[f, k]]``; (n_frames, n_bands)."""
    if use_jit(codes.size, "decode"):
        jit_module("quantize").decode_frame_major(codes, table, out)
    else:
        flat = np.ascontiguousarray(table).reshape(-1)
        offsets = np.arange(table.shape[0], dtype=np.intp) * table.shape[1]  # row k of the flat table
        for a in range(0, codes.shape[0], _TAKE_ROWS):
            _take(flat, codes[a : a + _TAKE_ROWS], offsets[None, :], out[a : a + _TAKE_ROWS])


def decode_band_major(codes: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    """``out[k, f] = table[k, codes[k, f]]``; (n_bands, n_frames)."""
    if use_jit(codes.size, "decode"):
        jit_module("quantize").decode_band_major(codes, table, out)
    else:
        flat = np.ascontiguousarray(table).reshape(-1)
        offsets = (np.arange(table.shape[0], dtype=np.intp) * table.shape[1])[:, None]
        for a in range(0, codes.shape[0], _TAKE_ROWS):
            _take(flat, codes[a : a + _TAKE_ROWS], offsets[a : a + _TAKE_ROWS], out[a : a + _TAKE_ROWS])


#: Rows of codes looked up at a time by the numpy decoders (their index array stays small).
_TAKE_ROWS = 64


def _take(flat: np.ndarray, codes: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """``out = flat[codes + offsets]``: a look-up in the flattened table (twice as fast as 2-D fancy indexing)."""
    index = codes.astype(np.intp)
    index += offsets
    np.take(flat, index, out=out, mode="clip")  # codes < 256: never clipped


def codes_numpy(x: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Codes ``(n_bands, n_frames)`` uint8 of band-major ``x``: per band, a sorted search of its 255 inner thresholds."""
    n_bands, n_frames = x.shape
    out = np.empty((n_bands, n_frames), dtype=np.uint8)
    inner = thresholds[:, 1:]
    for k in range(n_bands):
        out[k] = np.searchsorted(inner[k], x[k], side="right")
    nan = np.isnan(x)
    if nan.any():  # every comparison with NaN is false: the binary search ends at code 0
        out[nan] = 0
    return out
