"""The coding tools of format version 3, per tile: cell gains, band weights, noise filling, side information.

A tile's coefficients ``(stored channels, n_bins, n_frames)`` are measured on a grid of
*cells* (band groups about a fifth of an octave wide, 8-band aligned, by ``cell_frames``
frames; :func:`~mdctcompand.band_gains.band_group_edges`), relative to the level the
profile expects (the band's fitted GGD standard deviation at the tile's level gain). The
quantized cell levels are the tile's side information; from them, on both sides:

- time-adaptive gains ``level ** -gain_strength`` per cell (quiet passages keep their codes;
  :func:`~mdctcompand.codec.cells.normalizing_gains`, floored ``gain_range_db`` below the
  loudest cell of the tile, jointly over the channels);
- static band weights, ``band_slope_db`` dB per octave above 500 Hz
  (:func:`~mdctcompand.codec.cells.band_weights`);
- noise filling at decode: every cell that lost at least ``noise_fill`` of its signalled power
  gets level-matched noise (:func:`~mdctcompand.codec.cells.noise_fill`), shaped within
  its group by a coarse spectrum of the tile (8-band levels over all its frames, also side
  information); bands above the stored bandwidth are all noise.

Side information of a tile, in bytes: ``u24 n`` (big-endian), ``n`` bytes of
:func:`~mdctcompand.codec.cells.pack_levels` of the cell levels ``(channels * groups,
cells)``, then (noise filling) :func:`~mdctcompand.codec.cells.pack_levels` of the
band-shape levels ``(channels * n_bins / 8, 1)``. The header carries it as Base85 text
(:func:`side_info_text`), one string per tile: every image format's metadata slot holds
text, and Base85 costs 25 % over the bytes (Base64: 33 %).
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import numpy as np

from ..band_gains import band_group_edges
from ..exceptions import FormatError, ParameterError
from ..profile import GGDProfile
from . import cells as sc

__all__ = ["CodingTools", "TileSideInfo", "max_side_info_chars", "shape_bands", "side_info_bytes", "side_info_text"]

_SHAPE_BANDS = 8
_LEVEL_FLOOR_DB = -140.0


@functools.lru_cache(maxsize=16)
def _shape_edges(n_bands: int) -> np.ndarray:
    """Edges of the 8-band groups of the noise's band shape (the last one may be narrower)."""
    edges = np.r_[np.arange(0, n_bands, _SHAPE_BANDS), n_bands]
    edges.setflags(write=False)
    return edges


@dataclass(frozen=True)
class CodingTools:
    """Parameters of the version-3 coding tools; the header stores them under these names.

    Attributes
    ----------
    cell_frames : int
        Frames per cell of the signalled levels.
    group_width : float
        Band-group width relative to its frequency (``relative_width`` of
        :func:`~mdctcompand.band_gains.band_group_edges`).
    level_step_db : float
        Level quantization step (dB).
    gain_strength : float
        Exponent of the cell gains in [0, 1] (0: no time-adaptive gain).
    gain_range_db : float
        Cells further below the tile's loudest one get no more boost.
    band_slope_db : float
        Band weights in dB per octave above 500 Hz (0: none).
    noise_fill : float or None
        Noise filling: cells that lost at least this fraction of their power get noise;
        ``None``: no noise filling (and no band-shape side information).

    Examples
    --------
    >>> from mdctcompand import default_profile
    >>> t = CodingTools(gain_strength=0.75, band_slope_db=-1.5, noise_fill=0.5)
    >>> t.edges(default_profile()).size - 1  # band groups of the 24 kHz profile
    19
    """

    cell_frames: int = 2
    group_width: float = 0.2
    level_step_db: float = 3.0
    gain_strength: float = 0.75
    gain_range_db: float = 40.0
    band_slope_db: float = -1.5
    noise_fill: float | None = 0.5

    def __post_init__(self) -> None:
        checks = (
            ("cell_frames", self.cell_frames, 1, 64),
            ("group_width", self.group_width, 0.05, 2.0),
            ("level_step_db", self.level_step_db, 0.5, 12.0),
            ("gain_strength", self.gain_strength, 0.0, 1.0),
            ("gain_range_db", self.gain_range_db, 1.0, 140.0),
            ("band_slope_db", self.band_slope_db, -12.0, 12.0),
        )
        for name, value, lo, hi in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise ParameterError(f"{name}={value!r} must be a number in [{lo:g}, {hi:g}]")
        if isinstance(self.cell_frames, float) and not float(self.cell_frames).is_integer():
            raise ParameterError(f"cell_frames={self.cell_frames!r} must be an integer")
        object.__setattr__(self, "cell_frames", int(self.cell_frames))
        if self.noise_fill is not None and (
            isinstance(self.noise_fill, bool)
            or not isinstance(self.noise_fill, (int, float))
            or not 0 <= self.noise_fill <= 1
        ):
            raise ParameterError(f"noise_fill={self.noise_fill!r} must be a number in [0, 1] or None")

    @property
    def needs_levels(self) -> bool:
        """Whether tiles carry side information (cell gains or noise filling)."""
        return self.gain_strength > 0 or self.fills_noise

    @property
    def fills_noise(self) -> bool:
        """Whether decoding fills lost cells with noise."""
        return self.noise_fill is not None

    def edges(self, profile: GGDProfile) -> np.ndarray:
        """Band-group edges for ``profile``'s bands."""
        return _edges(profile.n_bands, profile.sample_rate, float(self.group_width))

    def group_count(self, n_bands: int, sample_rate: int) -> int:
        """Band groups over ``n_bands`` bands at ``sample_rate``."""
        return _edges(n_bands, sample_rate, float(self.group_width)).size - 1

    def n_cells(self, n_frames: int) -> int:
        """Cells along time of a tile of ``n_frames`` frames."""
        return -(-int(n_frames) // self.cell_frames)

    def n_levels(self, profile: GGDProfile, n_frames: int, channels: int) -> tuple[int, int]:
        """``(cell levels, band-shape levels)`` of a tile."""
        cells = channels * (self.edges(profile).size - 1) * self.n_cells(n_frames)
        shape = channels * (_shape_edges(profile.n_bands).size - 1) if self.fills_noise else 0
        return cells, shape


def max_side_info_chars(n_levels: int, n_shape: int) -> int:
    """Longest side-information text of a tile with these level counts (raw deflate's worst case, Base85).

    Examples
    --------
    >>> max_side_info_chars(4465, 64)
    5700
    """

    def deflated(n: int) -> int:
        return n + 5 * (n // 16383 + 1) + 8

    return -(-(3 + deflated(n_levels) + (deflated(n_shape) if n_shape else 0)) // 4) * 5


def shape_bands(n_bands: int) -> int:
    """Levels of the noise's band shape per channel (8-band groups, the last one may be narrower)."""
    return _shape_edges(n_bands).size - 1


@functools.lru_cache(maxsize=16)
def _edges(n_bands: int, sample_rate: int, width: float) -> np.ndarray:
    edges = band_group_edges(n_bands, sample_rate=sample_rate, relative_width=width)
    edges.setflags(write=False)
    return edges


@functools.lru_cache(maxsize=8)
def _scale(profile: GGDProfile) -> tuple[np.ndarray, np.ndarray]:
    """``1 / std`` and ``std`` per band (float32): coefficients -> levels relative to the profile."""
    std = np.asarray(profile.std, dtype=np.float64)
    std = np.where(std > 0, std, 1.0)
    return (1.0 / std).astype(np.float32), std.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _weights(profile: GGDProfile, slope_db: float) -> np.ndarray:
    return sc.band_weights(profile.band_frequencies(), slope_db_per_octave=slope_db).astype(np.float32)


@dataclass(frozen=True)
class TileSideInfo:
    """A tile's signalled levels: cell levels ``(channels, groups, cells)``, band shape ``(channels, n_bins)`` or None."""

    levels: np.ndarray
    shape: np.ndarray | None


def analyze(
    tools: CodingTools, profile: GGDProfile, frames: np.ndarray, gain: float
) -> tuple[TileSideInfo | None, bytes]:
    """Encoder side: ``(side info, side-info bytes)`` of a tile.

    ``frames`` are the tile's coefficients ``(channels, n_bins, n_frames)`` before the level
    gain ``gain``; the codes are made of ``frames * gain`` weighed by :func:`weigh`.
    """
    if not tools.needs_levels:
        return None, b""
    inv_std, _ = _scale(profile)
    scale = np.float32(gain) * inv_std[:, None]  # coefficients -> levels relative to the profile
    edges = tools.edges(profile)
    idx = sc.quantize_levels(
        sc.cell_rms(frames, edges, frames_per_group=tools.cell_frames, scale=scale),
        step_db=tools.level_step_db,
        floor_db=_LEVEL_FLOOR_DB,
    )
    data = sc.pack_levels(idx.reshape(-1, idx.shape[-1]))
    out = len(data).to_bytes(3, "big") + data
    shape_idx = None
    if tools.fills_noise:
        shape_idx = sc.quantize_levels(
            sc.cell_rms(frames, _shape_edges(profile.n_bands), frames_per_group=max(frames.shape[-1], 1), scale=scale),
            step_db=tools.level_step_db, floor_db=_LEVEL_FLOOR_DB,
        )  # fmt: skip
        out += sc.pack_levels(shape_idx.reshape(-1, 1))
    return _side_info(tools, profile, idx, shape_idx), out


def _side_info(
    tools: CodingTools, profile: GGDProfile, idx: np.ndarray, shape_idx: np.ndarray | None
) -> TileSideInfo:
    levels = sc.dequantize_levels(idx, step_db=tools.level_step_db, floor_db=_LEVEL_FLOOR_DB)
    shape = None
    if shape_idx is not None:
        s = sc.dequantize_levels(shape_idx, step_db=tools.level_step_db, floor_db=_LEVEL_FLOOR_DB)
        shape = np.repeat(s.reshape(idx.shape[0], -1), np.diff(_shape_edges(profile.n_bands)), axis=-1)
    return TileSideInfo(levels, shape)


def coding_weights(
    tools: CodingTools, profile: GGDProfile, info: TileSideInfo | None, channels: int, n_frames: int
) -> np.ndarray:
    """Per-coefficient weights ``(channels, n_bins, n_frames)`` float32 (cell gains x band weights):
    what :func:`weigh` multiplies by, as one array (a reference for it; the codec never builds it)."""
    w = np.ones((channels, profile.n_bands, n_frames), np.float32)
    return weigh(tools, profile, info, w)


def weigh(
    tools: CodingTools, profile: GGDProfile, info: TileSideInfo | None, coefficients: np.ndarray, *, divide: bool = False
) -> np.ndarray:
    """Multiply (``divide``: divide) ``coefficients (channels, n_bins, n_frames)`` in place by the
    coding weights, cell gains x band weights, a few hundred frames at a time; returns them.

    The weight of a coefficient is the float32 product of its cell's gain and its band's weight,
    so the result is that of one multiplication by :func:`coding_weights` (tested), without its
    tile-sized arrays.
    """
    gains = None  # (1, groups, n_cells): one gain per cell for all channels
    if tools.gain_strength > 0 and info is not None:
        # One gain per cell for all channels, from their joint level: a quiet side channel keeps
        # its small (cheap) codes instead of being boosted to the mid channel's precision.
        joint = np.sqrt(np.mean(info.levels**2, axis=0, keepdims=True))
        gains = sc.normalizing_gains(joint, strength=tools.gain_strength, range_db=tools.gain_range_db)
    band = _weights(profile, float(tools.band_slope_db))[:, None] if tools.band_slope_db else None
    operation = np.divide if divide else np.multiply
    # Work in the memory order of the coefficients (the encoder's tile is frame-major, the
    # decoder's band-major): weights and coefficients walk together, whatever the layout.
    swapped = np.swapaxes(coefficients, -1, -2)
    frame_major = sc.frame_major(coefficients)
    if gains is None:
        if band is not None:
            if frame_major:
                operation(swapped, band.T, out=swapped)
            else:
                operation(coefficients, band, out=coefficients)
        return coefficients
    fpg, widths = tools.cell_frames, np.diff(tools.edges(profile))
    n_frames = coefficients.shape[-1]
    step = fpg * max(1, 256 // fpg)  # whole cells per chunk
    for a in range(0, n_frames, step):
        b = min(a + step, n_frames)
        cells = np.repeat(gains[..., a // fpg : -(-b // fpg)], widths, axis=-2).astype(np.float32)
        if band is not None:
            cells *= band
        if frame_major:  # (1, frames, bins), C order like the tile's frames
            weights = np.repeat(np.swapaxes(cells, -1, -2), fpg, axis=-2)[..., : b - a, :]
            part = swapped[..., a:b, :]
        else:
            weights = np.repeat(cells, fpg, axis=-1)[..., : b - a]
            part = coefficients[..., a:b]
        operation(part, weights, out=part)
    return coefficients


def restore(
    tools: CodingTools,
    profile: GGDProfile,
    coefficients: np.ndarray,
    info: TileSideInfo | None,
    gain: np.ndarray,
    seed: int,
) -> np.ndarray:
    """Decoder side: coefficients ``(channels, n_bins, n_frames)`` decoded from ``codes * ...``, divided by
    the level gains ``gain`` (per channel): undo the coding weights, then noise filling. The
    coefficients are changed in place (and returned)."""
    x = weigh(tools, profile, info, coefficients, divide=True)
    if not tools.fills_noise or info is None:
        return x
    inv_std, std = _scale(profile)
    g = np.asarray(gain, dtype=np.float32).reshape(-1, 1, 1)
    x *= g * inv_std[:, None]  # relative to the profile
    edges = tools.edges(profile)
    for c in range(x.shape[0]):
        sc.noise_fill(
            x[c], info.levels[c], edges, frames_per_group=tools.cell_frames, seed=seed * 8 + c,
            min_loss=float(tools.noise_fill or 0.0), band_shape=info.shape[c] if info.shape is not None else None,
            out=x[c],
        )  # fmt: skip
    x *= std[:, None] / g
    return x


# ---------------------------------------------------------------------- text in the header
#: Base85's alphabet (RFC 1924, as :func:`base64.b85encode`), and each byte's digit (255: not one).
_B85 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~", np.uint8)
_B85_DIGITS = np.full(256, 255, np.uint8)
_B85_DIGITS[_B85] = np.arange(85, dtype=np.uint8)


def side_info_text(data: bytes) -> str:
    """Side-information bytes as header text (Base85, JSON- and XML-safe characters only).

    The text of :func:`base64.b85encode` (tested), a word of 4 bytes to 5 digits at a time
    in numpy (the standard library's loop took 8 ms per tile of a long file).

    Examples
    --------
    >>> side_info_text(b"\\x00\\x01\\x02"), side_info_bytes(side_info_text(b"\\x00\\x01\\x02"))
    ('009C', b'\\x00\\x01\\x02')
    """
    pad = -len(data) % 4
    words = np.frombuffer(bytes(data) + b"\0" * pad, dtype=">u4").astype(np.int64)
    digits = np.empty((words.size, 5), np.uint8)
    for i in range(4, -1, -1):
        words, digits[:, i] = np.divmod(words, 85)
    text = _B85[digits].tobytes()
    return text[: len(text) - pad].decode("ascii")


def side_info_bytes(text: str) -> bytes:
    """Inverse of :func:`side_info_text` (:func:`base64.b85decode`); corrupt text is a :class:`~mdctcompand.FormatError`."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise FormatError(f"corrupt side information ({exc})") from exc
    pad = -len(raw) % 5
    digits = _B85_DIGITS[np.frombuffer(raw + b"~" * pad, np.uint8)]
    bad = np.flatnonzero(digits == 255)
    words = np.zeros(digits.size // 5, np.int64)
    for column in np.where(digits == 255, 0, digits).reshape(-1, 5).T:
        words = words * 85 + column
    over = np.flatnonzero(words > 0xFFFFFFFF)
    # The first defective 5-character hunk is reported, as b85decode does.
    if over.size and (not bad.size or 5 * over[0] < bad[0] - bad[0] % 5):
        raise FormatError(f"corrupt side information (base85 overflow in hunk starting at byte {5 * over[0]})")
    if bad.size:
        raise FormatError(f"corrupt side information (bad base85 character at position {bad[0]})")
    out = words.astype(">u4").tobytes()
    return out[: len(out) - pad]


def _check_stream(data: bytes, n: int) -> None:
    """``data`` must be exactly one raw deflate stream of ``n`` bytes (nothing after it)."""
    d = zlib.decompressobj(-15)
    try:
        raw = d.decompress(data, n + 1)
    except zlib.error as exc:
        raise FormatError(f"corrupt side information ({exc})") from exc
    if len(raw) != n or not d.eof or d.unused_data or d.unconsumed_tail:
        raise FormatError(f"side information does not hold exactly {n} levels")


def parse_side_info(
    tools: CodingTools, profile: GGDProfile, text: str, n_frames: int, channels: int
) -> TileSideInfo:
    """Side-information text of a tile -> :class:`TileSideInfo`; any defect is a :class:`~mdctcompand.FormatError`."""
    data = side_info_bytes(text)
    n_groups = tools.edges(profile).size - 1
    cells = tools.n_cells(n_frames)
    if len(data) < 3:
        raise FormatError("side information is truncated")
    n = int.from_bytes(data[:3], "big")
    if 3 + n > len(data):
        raise FormatError(f"side information declares {n} bytes of levels; {len(data) - 3} are there")
    _check_stream(data[3 : 3 + n], channels * n_groups * cells)
    idx = sc.unpack_levels(data[3 : 3 + n], (channels * n_groups, cells)).reshape(channels, n_groups, cells)
    rest = data[3 + n :]
    shape_idx = None
    if tools.fills_noise:
        n_shape = channels * (_shape_edges(profile.n_bands).size - 1)
        _check_stream(rest, n_shape)
        shape_idx = sc.unpack_levels(rest, (n_shape, 1))
    elif rest:
        raise FormatError(f"side information has {len(rest)} bytes too many")
    return _side_info(tools, profile, idx, shape_idx)
