"""Numba build of :mod:`.quantize`: 8-bit per-band quantization: threshold search (encode) and table look-up (decode).

``thresholds[k]`` holds 256 increasing values with ``thresholds[k, 0] = -inf``; the code of
``x`` in band ``k`` is the largest ``j`` with ``x >= thresholds[k, j]``, found by an 8-step
branch-free binary search. ``table[k, q]`` is the reconstruction of code ``q``.

Float32 input also has a faster encoder: the top bits of ``|x|``'s bit pattern (monotone in
the magnitude, roughly logarithmic) index a per-band table holding the code of the
bucket's smallest value; one comparison against the same thresholds finishes the search
(the buckets are made fine enough that none spans more than one threshold: 32-64 per octave,
about 1.5 KB per band). Same result as the binary search, 2.4x faster.

Two memory layouts, both 2-D: *frame-major* ``(n_frames, n_bands)`` (bands contiguous,
how :class:`~mdctcompand.MDCT` stores coefficients) and *band-major* ``(n_bands, n_frames)``.
Indices are unsigned (see :mod:`._kernels.lapped`) so that the loops vectorize.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint32, uint64


@njit(cache=True, inline="always")
def _search(t, v):
    q = uint64(0)
    q += uint64(128) * uint64(v >= t[q + uint64(128)])
    q += uint64(64) * uint64(v >= t[q + uint64(64)])
    q += uint64(32) * uint64(v >= t[q + uint64(32)])
    q += uint64(16) * uint64(v >= t[q + uint64(16)])
    q += uint64(8) * uint64(v >= t[q + uint64(8)])
    q += uint64(4) * uint64(v >= t[q + uint64(4)])
    q += uint64(2) * uint64(v >= t[q + uint64(2)])
    q += uint64(1) * uint64(v >= t[q + uint64(1)])
    return q


@njit(cache=True, nogil=True)
def encode_frame_major(x, thresholds, out, to_image):
    """Codes of frame-major ``x (n_frames, n_bands)`` by binary search.

    ``to_image=False``: ``out[f, k]`` (same layout as ``x``); ``True``:
    ``out[n_bands - 1 - k, f]``, image rows with the highest band first.
    Works on tiles of 16 bands x 64 frames, band by band inside a tile: the tile stays in
    L1 and each band's table stays hot (170 M values/s against 130 for a plain frame loop).
    """
    n_frames, n_bands = x.shape
    top = n_bands - 1
    for k0 in range(0, n_bands, 16):
        k1 = min(k0 + 16, n_bands)
        for f0 in range(0, n_frames, 64):
            f1 = min(f0 + 64, n_frames)
            for k in range(k0, k1):
                k = uint64(k)
                t = thresholds[k]
                if to_image:
                    row = out[uint64(top - k)]
                    for f in range(f0, f1):
                        f = uint64(f)
                        row[f] = np.uint8(_search(t, x[f, k]))
                else:
                    for f in range(f0, f1):
                        f = uint64(f)
                        out[f, k] = np.uint8(_search(t, x[f, k]))


@njit(cache=True, nogil=True)
def encode_band_major(x, thresholds, out):
    """``out[k, f] = code of x[k, f]`` in band k; ``x``, ``out``: (n_bands, n_frames)."""
    n_bands, n_frames = x.shape
    for k in range(n_bands):
        t = thresholds[k]
        row = x[k]
        dst = out[k]
        for f in range(n_frames):
            f = uint64(f)
            dst[f] = np.uint8(_search(t, row[f]))


@njit(cache=True, nogil=True)
def decode_frame_major(codes, table, out):
    """``out[f, k] = table[k, codes[f, k]]``; (n_frames, n_bands)."""
    n_frames, n_bands = codes.shape
    for f in range(n_frames):
        src = codes[f]
        dst = out[f]
        for k in range(n_bands):
            k = uint64(k)
            dst[k] = table[k, uint64(src[k])]


@njit(cache=True, nogil=True)
def decode_band_major(codes, table, out):
    """``out[k, f] = table[k, codes[k, f]]``; (n_bands, n_frames)."""
    n_bands, n_frames = codes.shape
    for k in range(n_bands):
        t = table[k]
        src = codes[k]
        dst = out[k]
        for f in range(n_frames):
            f = uint64(f)
            dst[f] = t[uint64(src[f])]


@njit(cache=True, inline="always")
def _bucket_search(t, tab, b0, shift, nk, v, b):
    """Code of ``v`` (float32 with bit pattern ``b``) from bucket table ``tab`` and padded thresholds ``t``.

    One comparison finishes the search (tables are built so that no bucket spans more than one threshold).
    """
    key = (b & uint32(0x7FFFFFFF)) >> shift
    key = key - b0 if key > b0 else uint32(0)
    key = key if key < nk else nk - uint32(1)
    q = uint64(tab[uint64(key) + uint64(nk) * uint64(uint32(1) - (b >> uint32(31)))])
    q += uint64(v >= t[q + uint64(1)])
    return q


@njit(cache=True, nogil=True)
def encode_bucketed(x, xb, padded, table, base, shift, nk, out, to_image):
    """Bucketed encode of frame-major float32 ``x (n_frames, n_bands)`` (``xb``: its uint32 view).

    ``padded``: thresholds with +inf appended (n_bands, 256 + 1); ``table (n_bands, 2 nk)``:
    code of each bucket's smallest value (negative buckets first); ``base``: per-band first
    bucket key. ``to_image``: write ``out[n_bands - 1 - k, f]`` (image rows) instead of
    ``out[f, k]``. Tiles of 16 bands x 64 frames, as :func:`encode_frame_major`.
    """
    n_frames, n_bands = x.shape
    top = n_bands - 1
    for k0 in range(0, n_bands, 16):
        k1 = min(k0 + 16, n_bands)
        for f0 in range(0, n_frames, 64):
            f1 = min(f0 + 64, n_frames)
            for k in range(k0, k1):
                k = uint64(k)
                t = padded[k]
                tab = table[k]
                b0 = base[k]
                if to_image:
                    row = out[uint64(top - k)]
                    for f in range(f0, f1):
                        f = uint64(f)
                        row[f] = np.uint8(_bucket_search(t, tab, b0, shift, nk, x[f, k], xb[f, k]))
                else:
                    for f in range(f0, f1):
                        f = uint64(f)
                        out[f, k] = np.uint8(_bucket_search(t, tab, b0, shift, nk, x[f, k], xb[f, k]))
