"""JPEG quantization for the codec: tables (flat, libjpeg's, rate control's fractional steps) and the dead zone.

=====================================  ===================================================
:func:`flat_qstep`                     the step of the flat table at a quality
:func:`libjpeg_luma_table`             libjpeg's standard table at a quality
:func:`jpeg_qtable`                    a table from 8x8 weights and a fractional step
:class:`JpegDeadZone`                  dead-zone quantization of one tile, for any table
:func:`prequantize_jpeg`               the same for one table
=====================================  ===================================================

The container (:func:`mdctcompand.containers.encode_tile`) writes the finished pixels with
the table it is given; everything that decides them is here.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..exceptions import ParameterError

__all__ = ["JpegDeadZone", "flat_qstep", "jpeg_qtable", "libjpeg_luma_table", "prequantize_jpeg"]


def flat_qstep(quality: int) -> int:
    """JPEG quantization step of the flat table at ``quality`` (libjpeg's scaling of a base step of 16).

    Examples
    --------
    >>> flat_qstep(50), flat_qstep(75), flat_qstep(25)
    (16, 8, 32)
    """
    return _libjpeg_scaled(16, quality)


def _libjpeg_scaled(step: int, quality: int) -> int:
    """A base-table step scaled to ``quality`` as libjpeg's ``jpeg_quality_scaling`` does, in 1..255."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return int(min(max((step * scale + 50) // 100, 1), 255))


def libjpeg_luma_table(quality: int) -> list[int]:
    """libjpeg's standard luminance table scaled to ``quality`` (what Pillow writes for it), natural order.

    Examples
    --------
    >>> libjpeg_luma_table(50)[:4], libjpeg_luma_table(100)[:4]
    ([16, 11, 10, 16], [1, 1, 1, 1])
    """
    return [_libjpeg_scaled(v, quality) for v in _STD_LUMA]


#: libjpeg's standard luminance quantization table (JPEG Annex K), natural order.
_STD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


_BAYER8 = np.array(
    [
        [0, 32, 8, 40, 2, 34, 10, 42],
        [48, 16, 56, 24, 50, 18, 58, 26],
        [12, 44, 4, 36, 14, 46, 6, 38],
        [60, 28, 52, 20, 62, 30, 54, 22],
        [3, 35, 11, 43, 1, 33, 9, 41],
        [51, 19, 59, 27, 49, 17, 57, 25],
        [15, 47, 7, 39, 13, 45, 5, 37],
        [63, 31, 55, 23, 61, 29, 53, 21],
    ]
)


def jpeg_qtable(weights: Any, step: float) -> list[int]:
    """A JPEG quantization table: 64 entries in natural (row-major) order, ``step * weights`` in 1..255.

    ``weights[v, u]`` scales the step of vertical frequency ``v`` (across bands, in the
    image) and horizontal frequency ``u`` (across frames). A fractional ``step * weights``
    is rounded up or down following an 8x8 ordered-dither pattern, so that the table's mean
    step follows ``step`` in 1/64 increments: rate control can then land much closer to a
    target than integer steps allow. Pass the table to Pillow as ``qtables=[table]`` or to
    :func:`mdctcompand.containers.encode_tile`.

    Examples
    --------
    >>> w = np.ones((8, 8)); w[:, 4:] = 2.0  # coarser at high temporal frequencies
    >>> t = jpeg_qtable(w, 20)
    >>> t[:8], len(t)
    ([20, 20, 20, 20, 40, 40, 40, 40], 64)
    >>> sorted(set(jpeg_qtable(np.ones((8, 8)), 6.25))), float(np.mean(jpeg_qtable(np.ones((8, 8)), 6.25)))
    ([6, 7], 6.25)
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (8, 8) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ParameterError(f"weights must be an (8, 8) array of positive numbers; got shape {w.shape}")
    if not step > 0:
        raise ParameterError(f"step={step} must be > 0")
    table = np.floor(step * w + (_BAYER8 + 0.5) / 64)
    return [int(v) for v in np.clip(table, 1, 255).ravel()]


@functools.lru_cache(maxsize=1)
def _jpeg_dct() -> np.ndarray:
    """JPEG's 8-point DCT matrix (T.81 A.3.3): ``C[u, x] = c(u) / 2 cos((2x + 1) u pi / 16)``."""
    u, x = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    c = np.where(u == 0, np.sqrt(0.5), 1.0) / 2 * np.cos((2 * x + 1) * u * np.pi / 16)
    c.setflags(write=False)
    return c


@functools.lru_cache(maxsize=2)
def _jpeg_dct2(dtype: str = "float64") -> np.ndarray:
    """The 2-D DCT of row-major 8x8 blocks as one 64x64 matrix: ``coef = block @ K.T``, ``block = coef @ K``."""
    k = np.kron(_jpeg_dct(), _jpeg_dct()).astype(dtype)
    k.setflags(write=False)
    return k


#: Coefficients (v * 8 + u) of JPEG's 2-D DCT whose basis is +-1/8: v and u in {0, 4}.
_RATIONAL = np.array([0, 4, 32, 36])


class JpegDeadZone:
    """Dead-zone quantization of one image's JPEG coefficients, for any number of tables.

    libjpeg rounds every DCT coefficient ``F`` of an 8x8 block to the nearest multiple of its
    step ``q`` (rounding offset 1/2). For the peaked (Laplacian-like) coefficients of
    companded codes, an offset a little below 1/2 spends fewer bits for the same error:
    :meth:`pixels` makes each coefficient ``sign(F) floor(|F| / q + 1/2 - deadzone) q``
    (the DC coefficient rounds to nearest; exact halves away from zero, as in libjpeg),
    transforms the blocks back and rounds them to 8-bit pixels. Given the same table,
    libjpeg finds these multiples again: each sits in the middle of its quantization
    interval, and the pixel rounding moves it by about 0.3 (RMS) where a step is 6 or more
    (the tests check that libjpeg keeps at least 99.9 % of the levels). Decoders need
    nothing: the file is an ordinary JPEG. The blocks' DCT is computed once, so that rate
    control can try many tables.

    Parameters
    ----------
    pixels : array_like of uint8, shape (height, width)
    deadzone : float, default 0.05
        How far below 1/2 the rounding offset is, in [0, 0.5); 0 rounds to nearest (the
        pixels libjpeg would reconstruct from its own quantization). On held-out music at
        24 kHz, 0.05 lowered the codec's median log-spectral distance at equal rate by
        0.04-0.07 dB at 16-48 kbit/s and raised its SNR by 0.3-0.4 dB; 0.2 and more cost
        quality.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.clip(128 + 20 * rng.laplace(size=(16, 24)), 0, 255).astype(np.uint8)
    >>> y = JpegDeadZone(x, deadzone=0.1).pixels([12] * 64)
    >>> y.shape, y.dtype, bool(np.abs(y.astype(int) - x).mean() < 12)
    ((16, 24), dtype('uint8'), True)
    """

    def __init__(self, pixels: Any, *, deadzone: float = 0.05):
        p = np.asarray(pixels)
        if p.ndim != 2 or p.dtype != np.uint8 or p.size == 0:
            raise ParameterError(f"pixels must be a non-empty 2-D uint8 array; got {p.dtype} {p.shape}")
        if isinstance(deadzone, bool) or not isinstance(deadzone, (int, float)) or not 0 <= deadzone < 0.5:
            raise ParameterError(f"deadzone={deadzone!r} must be a number in [0, 0.5)")
        self.shape = p.shape
        h, w = p.shape
        rows, cols = -(-h // 8) * 8, -(-w // 8) * 8
        # libjpeg pads partial blocks by repeating the last row and column
        padded = np.pad(p, ((0, rows - h), (0, cols - w)), mode="edge")
        self._grid = n_r, n_c = (rows // 8, cols // 8)
        dct, rational = _jpeg_dct2().T, np.rint(8 * _jpeg_dct2()[_RATIONAL]).T
        # rows of 64 coefficients (v, u) of the row-major blocks: one matrix product for the blocks
        # of _CHUNK_BLOCKS at a time (each block's coefficients are its own row's products)
        self._coef = np.empty((n_r * n_c, 64), np.float32)
        for r0, r1 in _block_rows(n_r, n_c):
            blocks = (padded[8 * r0 : 8 * r1].astype(np.float64) - 128.0).reshape(r1 - r0, 8, n_c, 8)
            blocks = blocks.swapaxes(1, 2).reshape(-1, 64)
            coef = blocks @ dct
            # Frequencies 0 and 4 have basis values +-1/8 in both directions: these four
            # coefficients are sums of integers / 8, and can be exact halves of a step: computed
            # exactly, halves stay halves (and round away from zero, as in libjpeg)
            coef[:, _RATIONAL] = blocks @ rational / 8
            # Levels are decided in float32 (fast: rate control tries several tables): a
            # coefficient within about 1e-6 of a decision may go either way; the exact ones above
            # stay exact (sums of integers / 8, up to 2**13, divided by integer steps)
            self._coef[r0 * n_c : r1 * n_c] = coef
        self._offset = np.full(64, 0.5 - float(deadzone), dtype=np.float32)
        self._offset[0] = 0.5

    def pixels(self, qtable: Any) -> np.ndarray:
        """The image whose coefficients are the dead-zone multiples of ``qtable`` (64 steps
        1..255, natural order, e.g. :func:`jpeg_qtable`): uint8, the input's shape."""
        q = np.asarray(qtable, dtype=np.float64)
        if q.shape != (64,) or not np.all(np.isfinite(q)) or np.any(q < 1) or np.any(q > 255):
            raise ParameterError(f"qtable must hold 64 steps in 1..255; got shape {q.shape}")
        q = q.astype(np.float32)
        n_r, n_c = self._grid
        h, w = self.shape
        out = np.empty((h, w), np.uint8)
        for r0, r1 in _block_rows(n_r, n_c):
            coef = self._coef[r0 * n_c : r1 * n_c]
            level = np.abs(coef)
            level /= q
            level += self._offset
            np.floor(level, out=level)
            np.copysign(level, coef, out=level)
            level *= q
            back = level @ _jpeg_dct2("float32")  # pixel errors about 1e-4
            block_rows = back.reshape(r1 - r0, n_c, 8, 8).swapaxes(1, 2).reshape((r1 - r0) * 8, n_c * 8)
            part = block_rows[: min(h, 8 * r1) - 8 * r0, :w]
            part += 128.0
            np.rint(part, out=part)
            np.clip(part, 0, 255, out=part)
            out[8 * r0 : 8 * r0 + part.shape[0]] = part
        return out


#: Blocks :class:`JpegDeadZone` transforms at a time (whole rows of blocks; about 1 MB of float32).
_CHUNK_BLOCKS = 4096


def _block_rows(n_rows: int, n_cols: int) -> list[tuple[int, int]]:
    """Ranges of block rows of about :data:`_CHUNK_BLOCKS` blocks (at least one row each)."""
    step = max(1, _CHUNK_BLOCKS // max(n_cols, 1))
    return [(r, min(r + step, n_rows)) for r in range(0, n_rows, step)]


def prequantize_jpeg(pixels: Any, qtable: Any, *, deadzone: float = 0.05) -> np.ndarray:
    """Pixels whose JPEG coefficients are quantized with a dead zone (what libjpeg then codes):
    ``JpegDeadZone(pixels, deadzone=deadzone).pixels(qtable)``, see :class:`JpegDeadZone`.

    Examples
    --------
    >>> x = np.full((8, 8), 150, np.uint8)  # DC 8 * 22 = 176 = 7.33 steps of 24 -> 7 steps
    >>> int(prequantize_jpeg(x, [24] * 64)[0, 0])  # 128 + 7 * 24 / 8
    149
    """
    return JpegDeadZone(pixels, deadzone=deadzone).pixels(qtable)
