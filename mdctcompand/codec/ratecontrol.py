"""Rate control: how a tile is coded (a quality or a JPEG step) and the setting that meets a size.

:class:`TileCoder` turns one tile and the :class:`~mdctcompand.codec.EncodeSettings` into
image bytes at a quality (every format) or a rate-control step (JPEG: the mean step of a
flat or libjpeg-shaped table in 1/:data:`STEP_RESOLUTION`, :func:`~mdctcompand.codec.jpeg.jpeg_qtable`),
with the dead zone applied (:class:`~mdctcompand.codec.jpeg.JpegDeadZone`, one DCT of the
tile for every setting tried). :func:`encode_to_size` searches the setting whose size lands
closest to a target (:func:`search_parameter`); :func:`pick_quality` is version 2's rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..containers import encode_tile
from ..exceptions import ParameterError
from .jpeg import JpegDeadZone, flat_qstep, jpeg_qtable, libjpeg_luma_table

if TYPE_CHECKING:
    from .settings import EncodeSettings

__all__ = ["STEP_RESOLUTION", "TileCoder", "encode_to_size", "pick_quality", "search_parameter"]

#: Rate control's JPEG step resolution: steps in 1/8 (the mean of a dithered flat table).
STEP_RESOLUTION = 8
#: Image quality of the quality mode when none is given (formats without rate control).
DEFAULT_QUALITY = 25
_FLAT = np.ones((8, 8))
_STANDARD_LUMA = np.asarray(libjpeg_luma_table(50), dtype=np.float64).reshape(8, 8) / 16.0


class TileCoder:
    """One tile's image coding under ``settings``, at a quality or (JPEG) a rate-control step.

    JPEG tables: a quality gives the flat table's step at that quality
    (:func:`~mdctcompand.codec.jpeg.flat_qstep`) or libjpeg's standard table; a step gives
    :func:`~mdctcompand.codec.jpeg.jpeg_qtable` of it. With ``settings.jpeg_deadzone`` the
    pixels are dead-zone quantized for the table first; the container writes them as they
    are. Encodings are remembered by setting (rate control tries several).

    Examples
    --------
    >>> from mdctcompand.codec import EncodeSettings
    >>> tile = np.random.default_rng(0).integers(0, 256, (16, 32)).astype(np.uint8)
    >>> coder = TileCoder(EncodeSettings(), tile)
    >>> len(coder.encode(step=80)) > len(coder.encode(step=240))  # a finer step costs more
    True
    >>> coder.table(quality=50)[:3], coder.table(step=100)[:3]
    ([16, 16, 16], [12, 13, 12])
    """

    def __init__(self, settings: EncodeSettings, tile: np.ndarray) -> None:
        self.settings = settings
        self.tile = tile
        self.is_jpeg = settings.format in ("jpeg", "jxl")
        self._dead_zone: JpegDeadZone | None = None
        self._pixels: dict[tuple[int, ...], np.ndarray] = {}
        self.encoded: dict[tuple[int | None, int | None], bytes] = {}

    def table(self, *, quality: int | None = None, step: int | None = None) -> list[int] | None:
        """The JPEG table of a quality or a step (``None`` for other formats)."""
        if not self.is_jpeg:
            return None
        if step is not None:
            weights = _FLAT if self.settings.qtable == "flat" else _STANDARD_LUMA
            return jpeg_qtable(weights, step / STEP_RESOLUTION)
        assert quality is not None
        return [flat_qstep(quality)] * 64 if self.settings.qtable == "flat" else libjpeg_luma_table(quality)

    def pixels(self, table: list[int] | None) -> np.ndarray:
        """The tile as the container writes it for ``table``: dead-zone quantized when the settings ask."""
        if table is None or not self.settings.jpeg_deadzone:
            return self.tile
        key = tuple(table)
        if key not in self._pixels:  # the final encode (with the header) reuses the search's pixels
            if self._dead_zone is None:
                self._dead_zone = JpegDeadZone(self.tile, deadzone=float(self.settings.jpeg_deadzone))
            self._pixels = {key: self._dead_zone.pixels(table)}  # the last table only: one tile's memory
        return self._pixels[key]

    def encode(
        self, *, quality: int | None = None, step: int | None = None, metadata: str | None = None
    ) -> bytes:
        """Image bytes at ``quality`` (default: the settings' or :data:`DEFAULT_QUALITY`) or JPEG ``step``."""
        if step is not None and not self.is_jpeg:
            raise ParameterError(
                f"step={step}: only JPEG tiles are coded by a step, not {self.settings.format}"
            )
        if step is None and quality is None:
            quality = DEFAULT_QUALITY if self.settings.quality is None else self.settings.quality
        key = (quality, step)
        if metadata is None and key in self.encoded:
            return self.encoded[key]
        table = self.table(quality=quality, step=step)
        standard = step is None and self.settings.qtable == "standard"  # libjpeg scales its own table
        data = encode_tile(
            self.pixels(table), self.settings.format, quality=int(quality or 50), metadata=metadata,
            qtables=None if table is None or standard else [table],
        )  # fmt: skip
        if metadata is None:
            self.encoded[key] = data
        return data

    def encode_setting(self, setting: int, *, metadata: str | None = None) -> bytes:
        """Image bytes at rate control's ``setting``: a JPEG step, or the quality of other formats."""
        if self.is_jpeg:
            return self.encode(step=setting, metadata=metadata)
        return self.encode(quality=setting, metadata=metadata)


def pick_quality(coder: TileCoder, target_bytes: float) -> int:
    """Highest quality (1..100) whose encoding of the tile stays at or under ``target_bytes`` (version 2's rule)."""
    lo, hi = 1, 100
    if len(coder.encode(quality=lo)) > target_bytes:
        return lo
    while lo < hi:  # invariant: quality lo fits
        mid = (lo + hi + 1) // 2
        if len(coder.encode(quality=mid)) <= target_bytes:
            lo = mid
        else:
            hi = mid - 1
    return lo


def encode_to_size(coder: TileCoder, target_bytes: float, guess: int | None) -> tuple[bytes, int]:
    """The tile at the rate-control setting whose size lands closest to ``target_bytes``: ``(data, setting)``.

    JPEG: a step in 1/:data:`STEP_RESOLUTION` (coarser steps, fewer bytes; first guess 24);
    other formats: a quality 1..100.
    """
    if coder.is_jpeg:
        low, high, increasing = STEP_RESOLUTION, 255 * STEP_RESOLUTION, False
        guess = 24 * STEP_RESOLUTION if guess is None else guess
    else:
        low, high, increasing = 1, 100, True
    p, _ = search_parameter(
        lambda s: len(coder.encode_setting(s)), max(target_bytes, 1.0), low=low, high=high,
        increasing=increasing, guess=guess, exponent=1.2,
    )  # fmt: skip
    return coder.encode_setting(p), p


def search_parameter(
    size_of: Callable[[int], int],
    target: float,
    *,
    low: int,
    high: int,
    increasing: bool = True,
    tolerance: float = 0.0,
    guess: int | None = None,
    exponent: float = 1.0,
) -> tuple[int, int]:
    """The integer setting in ``low..high`` whose size lands closest to ``target``.

    ``size_of(p)`` must be monotone in ``p``: non-decreasing when ``increasing`` (a
    quality), non-increasing otherwise (a quantization step). The search keeps the closest
    settings known on either side of the target and probes between them by interpolating
    ``log size`` against ``log p`` (sizes of image codecs follow a power law of the step),
    bisecting whenever that fails to halve the interval; before both sides are known it
    extrapolates from the last probe with ``size ~ p**exponent``. From a good ``guess``
    that takes 2-4 calls; it never takes more than about ``2 log2(high - low) + 3``.

    Parameters
    ----------
    size_of : callable
        Setting -> size (e.g. bytes of the encoded image). Each setting is evaluated once.
    target : float
        Wanted size.
    low, high : int
        Range of settings.
    increasing : bool, default True
        Whether the size grows with the setting.
    tolerance : float, default 0
        Stop at the first probe within ``tolerance * target`` of the target (0: find the
        closest setting exactly; ties go to the smaller size).
    guess : int, optional
        First probe (default: the middle of the range).
    exponent : float, default 1
        Assumed magnitude of ``d log size / d log p`` for the first extrapolation.

    Returns
    -------
    (setting, size)
        With nothing fitting, the stingiest setting.

    Examples
    --------
    >>> search_parameter(lambda q: 100 * q, 1234, low=1, high=100)
    (12, 1200)
    >>> search_parameter(lambda s: 6000 // s, 1000, low=1, high=255, increasing=False)
    (6, 1000)
    >>> calls = []
    >>> def size(step):
    ...     calls.append(step)
    ...     return int(3e6 / step**1.2)
    >>> search_parameter(size, 25000, low=8, high=2040, increasing=False, tolerance=0.02, guess=256), len(calls)
    ((54, 25017), 3)
    """
    if low > high:
        raise ParameterError(f"low={low} must be <= high={high}")
    if not tolerance >= 0:
        raise ParameterError(f"tolerance={tolerance} must be >= 0")
    sizes: dict[int, int] = {}

    def size(p: int) -> int:
        if p not in sizes:
            sizes[p] = int(size_of(p))
        return sizes[p]

    sign = 1 if increasing else -1  # sizes are non-decreasing in u = sign * p
    u_min, u_max = sorted((sign * low, sign * high))
    under: int | None = None  # largest u known to fit
    over: int | None = None  # smallest u known not to fit
    p = (low + high) // 2 if guess is None else min(max(int(guess), low), high)
    widths: list[int] = []
    while True:
        s = size(p)
        u = sign * p
        if s <= target:
            under = u if under is None else max(under, u)
        else:
            over = u if over is None else min(over, u)
        if tolerance and abs(s - target) <= tolerance * target:
            return p, s
        a = under if under is not None else u_min - 1  # next probe strictly between a and b
        b = over if over is not None else u_max + 1
        if b - a <= 1:
            break
        u_next = None
        if under is not None and over is not None:
            widths.append(b - a)  # bracketed: interpolate while that halves the interval
        if len(widths) < 3 or widths[-1] * 2 <= widths[-3]:
            if under is not None and over is not None:
                pa, pb = sign * under, sign * over
                sa, sb = size(pa), size(pb)
                if min(pa, pb, sa) > 0 and target > 0 and sb != sa:
                    t = (np.log(target) - np.log(sa)) / (np.log(sb) - np.log(sa))
                    u_next = int(round(sign * np.exp(np.log(pa) + t * (np.log(pb) - np.log(pa)))))
            elif p > 0 and s > 0 and target > 0:
                ratio = (target / s) ** (1.0 / exponent)
                u_next = int(round(sign * p * (ratio if increasing else 1.0 / ratio)))
        if u_next is None:
            u_next = (a + b) // 2
        p = sign * min(max(u_next, a + 1), b - 1)
    if under is None:  # nothing fits
        return sign * u_min, size(sign * u_min)
    if over is None:  # everything fits
        return sign * under, size(sign * under)
    su, so = size(sign * under), size(sign * over)
    return (sign * under, su) if target - su <= so - target else (sign * over, so)
