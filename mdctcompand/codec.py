"""wav2jpeg: a lossy audio codec = companded MDCT codes stored in a standard image.

Encoding resamples to the profile's rate (24 kHz by default, soxr), optionally turns
stereo into mid/side, transforms with :class:`~mdctcompand.AudioImageConverter`'s MDCT and
8-bit compander (per tile and channel level gains), and writes the codes as grayscale
image tiles: bands x frames, low frequencies at the bottom, the channels stacked
vertically. Everything decoding needs travels in the file's metadata (see
:mod:`mdctcompand.containers`): geometry, compander settings, the profile (by id for
the shipped one, by value otherwise), gains, the source's sample rate, channel count and
length, and the format version. Decoding returns exactly the source's length at its
sample rate.

Long inputs are cut into tiles of ``tile_frames`` frames (87 s at the defaults) and
processed as a stream: memory is bounded by one tile plus the compressed output.

Decoding can limit the damage that lossy image coding does near the code range's
tails: with ``decoder="mmse"`` each decoded pixel value
``p`` maps to ``E[x | p]``, the coefficient's conditional mean given the code's prior
(the fitted GGD) and the image codec's error (its RMS, measured by the encoder per
band group and stored in the metadata). It is a 256-entry table per band, like the
plain decoder.
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .compand import N_LEVELS, Compander
from .containers import FORMATS, assemble, encode_tile, format_from_path, open_image_file
from .exceptions import AudioReadError, FormatError, ParameterError, UnsupportedVersionError
from .profile import GGDProfile, default_profile, shipped_profile
from .transform import MDCT

__all__ = [
    "CODEC_FORMAT",
    "CODEC_VERSION",
    "CodecInfo",
    "DecodedAudio",
    "EncodeSettings",
    "decode",
    "decode_file",
    "encode",
    "encode_file",
    "read_info",
]

CODEC_FORMAT = "mdctcompand-audio"
#: Version of the metadata written now; files of this or an earlier version decode.
CODEC_VERSION = 1
_STEREO_MODES = ("mid-side", "left-right", "mono")
_DECODERS = ("table", "mmse")
_NOISE_GROUPS = 16
#: The codec quantizes with the paper's round() convention: code 128 is exactly zero, so
#: digital silence decodes to silence (floor rounding has no zero level).
CODEC_ROUNDING = "round"


@dataclass(frozen=True)
class EncodeSettings:
    """Codec settings (all have defaults; see :func:`encode`).

    Attributes
    ----------
    format : {"jpeg", "png", "webp", "avif"}
        Image format; PNG is lossless (8-bit transform only).
    quality : int
        Lossy image quality 1..100.
    tilt : float
        Compander scale tilt ``c`` used for coding.
    stereo : {"mid-side", "left-right", "mono"}
        How two or more channels are stored (``"mono"`` downmixes).
    tile_frames : int
        Frames per tile (image width); longer audio is split into tiles.
    bandwidth : float or None
        Highest frequency stored (Hz); bands above decode as silence. ``None``: all bands.
    profile : GGDProfile or None
        Per-band profile; ``None`` uses the shipped default.
    resample_quality : str
        soxr quality recipe for resampling to the profile's rate and back.
    qtable : {"flat", "standard"}
        JPEG quantization table: one step for every spatial frequency (companded codes are
        nearly white, so this is the MSE-optimal shape) or libjpeg's standard luminance table.
    bitrate : float or None
        Target in kbit/s: the highest quality whose first tile stays at or under it is
        used for the whole file (overrides ``quality``; lossy formats only).

    Examples
    --------
    >>> s = EncodeSettings(format="webp", quality=40)
    >>> s.lossless, EncodeSettings(format="png").lossless
    (False, True)
    """

    format: str = "jpeg"
    quality: int = 25
    tilt: float = 8.0
    stereo: str = "mid-side"
    tile_frames: int = 4096
    bandwidth: float | None = None
    profile: GGDProfile | None = field(default=None, repr=False)
    resample_quality: str = "HQ"
    qtable: str = "flat"
    bitrate: float | None = None

    def __post_init__(self) -> None:
        fmt = self.format.lower().replace("jpg", "jpeg")
        if fmt not in FORMATS:
            raise ParameterError(f"format={self.format!r} must be one of {sorted(FORMATS)}")
        object.__setattr__(self, "format", fmt)
        if not 1 <= int(self.quality) <= 100:
            raise ParameterError(f"quality={self.quality} must be in 1..100")
        if self.stereo not in _STEREO_MODES:
            raise ParameterError(f"stereo={self.stereo!r} must be one of {_STEREO_MODES}")
        if int(self.tile_frames) < 16 or int(self.tile_frames) % 16:
            raise ParameterError(f"tile_frames={self.tile_frames} must be a multiple of 16, >= 16")
        if self.bandwidth is not None and not self.bandwidth > 0:
            raise ParameterError(f"bandwidth={self.bandwidth} must be > 0 Hz")
        if not self.tilt > 0:
            raise ParameterError(f"tilt={self.tilt} must be > 0")
        if self.qtable not in ("flat", "standard"):
            raise ParameterError(f"qtable={self.qtable!r} must be 'flat' or 'standard'")
        if self.bitrate is not None and not self.bitrate > 0:
            raise ParameterError(f"bitrate={self.bitrate} must be > 0 kbit/s")
        if self.bitrate is not None and self.lossless:
            raise ParameterError(f"bitrate targets need a lossy format; {self.format} is lossless")

    def tile_options(self, quality: int | None = None) -> dict[str, Any]:
        """Keyword arguments of :func:`~mdctcompand.containers.encode_tile` for these settings.

        Examples
        --------
        >>> EncodeSettings().tile_options()
        {'quality': 25, 'qtables': 'flat'}
        """
        options: dict[str, Any] = {"quality": int(self.quality if quality is None else quality)}
        if self.format == "jpeg" and self.qtable == "flat":
            options["qtables"] = "flat"
        return options

    @property
    def lossless(self) -> bool:
        """Whether the image format stores the codes exactly."""
        return FORMATS[self.format][2]


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded audio: ``audio`` is ``(n_samples,)`` for mono sources, ``(channels, n_samples)`` otherwise.

    Examples
    --------
    >>> out = decode(encode(np.zeros((2, 4410)), 44100))
    >>> out.audio.shape, out.sample_rate, out.duration
    ((2, 4410), 44100, 0.1)
    """

    audio: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.audio.shape[-1] / self.sample_rate


@dataclass(frozen=True)
class CodecInfo:
    """What an encoded file holds (see :func:`read_info`).

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> info = read_info(encode(make_signal("mixture", 24000), 24000))
    >>> info.format, info.duration, info.source_channels
    ('jpeg', 1.0, 1)
    """

    format: str
    version: int
    duration: float
    source_sample_rate: int
    source_channels: int
    source_length: int
    sample_rate: int
    stereo: str
    n_tiles: int
    quality: int | None
    tilt: float
    bandwidth: float | None
    profile_name: str
    profile_id: str
    size_bytes: int
    metadata: dict[str, Any] = field(repr=False)

    @property
    def bitrate_kbps(self) -> float:
        """Average bit rate of the whole file in kbit/s."""
        return self.size_bytes * 8 / max(self.duration, 1e-9) / 1000

    def summary(self) -> str:
        """Multi-line human-readable description.

        Examples
        --------
        >>> from mdctcompand.testing import make_signal
        >>> print(read_info(encode(make_signal("mixture", 24000), 24000)).summary().splitlines()[0])
        format:       JPEG (quality 25), 1 tile(s), codec version 1
        """
        q = "lossless" if self.quality is None else f"quality {self.quality}"
        bw = "full band" if self.bandwidth is None else f"bandwidth {self.bandwidth:g} Hz"
        return "\n".join(
            [
                f"format:       {self.format.upper()} ({q}), {self.n_tiles} tile(s), codec version {self.version}",
                f"audio:        {self.duration:.2f} s, {self.source_channels} channel(s) at {self.source_sample_rate} Hz "
                f"({self.source_length} samples)",
                f"transform:    {self.sample_rate} Hz, {self.stereo}, tilt c={self.tilt:g}, {bw}",
                f"profile:      {self.profile_name} (id {self.profile_id})",
                f"size:         {self.size_bytes} bytes, {self.bitrate_kbps:.1f} kbit/s",
            ]
        )


# ---------------------------------------------------------------------- helpers
def _resolve_profile(meta: dict[str, Any]) -> GGDProfile:
    info = meta.get("profile")
    if not isinstance(info, dict) or "id" not in info:
        raise FormatError("metadata lacks the profile")
    if not isinstance(info["id"], str) or not info["id"].isalnum():
        raise FormatError("metadata holds an invalid profile id")
    shipped = shipped_profile(info["id"])
    if shipped is not None:
        return shipped
    if "data" in info:
        try:
            profile = GGDProfile.from_dict(info["data"])
        except ParameterError as exc:
            raise FormatError(f"embedded profile is invalid ({exc})") from exc
        if profile.id != info["id"]:
            raise FormatError("embedded profile does not match its id (corrupt metadata)")
        return profile
    raise FormatError(
        f"the file needs profile {info.get('name', '?')!r} (id {info['id']}), which is not available"
    )


def _channel_forward(audio: np.ndarray, stereo: str) -> np.ndarray:
    """``(channels, n)`` source -> ``(1 or 2, n)`` stored channels."""
    if audio.shape[0] == 1:
        return audio
    if stereo == "mono":
        return audio.mean(axis=0, keepdims=True)
    if audio.shape[0] != 2:
        raise ParameterError(
            f"{audio.shape[0]} channels: only mono and stereo are stored (use stereo='mono')"
        )
    left, right = audio
    if stereo == "mid-side":
        return np.stack([(left + right) * 0.5, (left - right) * 0.5])
    return audio


def _channel_inverse(stored: np.ndarray, stereo: str, n_source_channels: int) -> np.ndarray:
    if stored.shape[0] == 1:
        return np.repeat(stored, n_source_channels, axis=0) if n_source_channels > 1 else stored
    if stereo == "mid-side":
        mid, side = stored
        return np.stack([mid + side, mid - side])
    return stored


class _Resampler:
    """Streaming soxr resampler for ``(channels, n)`` blocks (identity when the rates agree)."""

    def __init__(self, in_rate: float, out_rate: float, channels: int, quality: str) -> None:
        self.identity = float(in_rate) == float(out_rate)
        if not self.identity:
            import soxr

            self.stream = soxr.ResampleStream(
                float(in_rate), float(out_rate), channels, dtype="float32", quality=quality
            )

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self.identity:
            return block
        out = self.stream.resample_chunk(np.ascontiguousarray(block.T, dtype=np.float32), last=last)
        return np.ascontiguousarray(np.asarray(out, dtype=np.float32).T).reshape(block.shape[0], -1)


class _Layout:
    """Tile geometry shared by encoder and decoder."""

    def __init__(
        self,
        profile: GGDProfile,
        tilt: float,
        tile_frames: int,
        n_channels: int,
        bandwidth: float | None,
        rounding: str,
    ):
        self.profile = profile
        self.tilt = tilt
        self.rounding = rounding
        self.mdct = MDCT(profile.frame_length, window=profile.window)
        self.tile_frames = tile_frames
        self.n_channels = n_channels
        self.hop = self.mdct.hop_length
        n_bands = profile.n_bands
        if bandwidth is None:
            self.stored_bands = n_bands
        else:
            above = np.searchsorted(profile.band_frequencies(), bandwidth, side="right")
            self.stored_bands = int(min(n_bands, max(8, -(-above // 8) * 8)))  # whole JPEG blocks

    @property
    def height(self) -> int:
        return self.stored_bands * self.n_channels

    @property
    def compander(self) -> Compander:
        """Compander of the stored bands."""
        return _stored_compander(self.profile, self.tilt, self.stored_bands, self.rounding)


# ---------------------------------------------------------------------- encoding
class _TileEncoder:
    """Streaming encoder: push ``(channels, n)`` blocks at the codec rate, collect tile codes."""

    def __init__(self, layout: _Layout, level: Any) -> None:
        self.layout = layout
        self.level = level
        m = layout.hop
        self.buf = np.zeros((layout.n_channels, m), dtype=np.float32)  # one hop of left padding
        self.buf_start = -m  # sample index of buf[:, 0]
        self.n = 0  # samples pushed
        self.next_frame = 0
        self.gains: list[list[float]] = []

    def push(self, block: np.ndarray) -> Iterator[np.ndarray]:
        self.buf = np.concatenate([self.buf, block.astype(np.float32, copy=False)], axis=1)
        self.n += block.shape[1]
        T, m = self.layout.tile_frames, self.layout.hop
        # Tile frames [f, f + T) need samples up to (f + T) * m.
        while self.buf_start + self.buf.shape[1] >= (self.next_frame + T) * m:
            yield self._tile(T)

    def finish(self) -> Iterator[np.ndarray]:
        if self.n == 0:
            raise ParameterError("no audio samples to encode")
        m = self.layout.hop
        total = self.layout.mdct.n_frames(self.n)
        while self.next_frame < total:
            count = min(self.layout.tile_frames, total - self.next_frame)
            need = (self.next_frame + count) * m - (self.buf_start + self.buf.shape[1])
            if need > 0:
                self.buf = np.concatenate([self.buf, np.zeros((self.buf.shape[0], need), np.float32)], axis=1)
            yield self._tile(count)

    def _tile(self, count: int) -> np.ndarray:
        lay, m = self.layout, self.layout.hop
        f0 = self.next_frame
        seg_start = (f0 - 1) * m  # sample index where frame f0 starts
        first = seg_start - self.buf_start
        segment = np.ascontiguousarray(self.buf[:, first : first + (count + 1) * m])
        # One level gain for all channels of the tile (from the samples that belong to the
        # signal): a quiet side channel then keeps small codes, which cost few bits.
        lo, hi = max(0, -seg_start), min(segment.shape[1], self.n - seg_start)
        joint = float(self.level.gain(segment[:, lo:hi].reshape(-1))) if hi > lo else 1.0
        gain = np.full(lay.n_channels, joint)
        frames, finite = lay.mdct._analyze(segment, 0, count)
        if not finite:
            raise ParameterError("audio contains NaN or infinite values")
        frames *= gain[:, None, None].astype(np.float32)
        coeffs = np.swapaxes(frames, -1, -2)[:, : lay.stored_bands]  # (channels, stored bands, count)
        # A file of one tile is as wide as its audio (whole 16-frame blocks); in longer files
        # every tile, the last one too, is a full tile (containers need equal frame sizes).
        width = -(-count // 16) * 16 if f0 == 0 else lay.tile_frames
        tile = np.full((lay.n_channels, lay.stored_bands, width), _zero_code(lay.compander), dtype=np.uint8)
        tile[:, :, :count] = lay.compander.encode(coeffs)
        self.gains.append([float(g) for g in gain])
        self.next_frame += count
        keep_from = (self.next_frame - 1) * m - self.buf_start
        self.buf = self.buf[:, keep_from:]
        self.buf_start += keep_from
        return tile[:, ::-1, :].reshape(lay.height, width)  # low frequencies at the bottom of each channel


@functools.lru_cache(maxsize=8)
def _stored_compander(
    profile: GGDProfile, tilt: float, n_bands: int, rounding: str, reconstruction: str = "midpoint"
) -> Compander:
    """Compander over the lowest ``n_bands`` bands of ``profile``."""
    if n_bands < profile.n_bands:
        profile = GGDProfile(
            profile.shape[:n_bands],
            profile.scale[:n_bands],
            sample_rate=profile.sample_rate,
            frame_length=2 * n_bands,
        )
    return Compander(profile, tilt=tilt, rounding=rounding, reconstruction=reconstruction)


def _zero_code(compander: Compander) -> int:
    """Code of a zero coefficient (what silent padding frames hold)."""
    return int(np.searchsorted(compander.cell_bounds, 0.5, side="right") - 1)


def encode(
    audio: Any,
    sample_rate: int,
    *,
    format: str = "jpeg",
    quality: int = 25,
    tilt: float = 8.0,
    stereo: str = "mid-side",
    tile_frames: int = 4096,
    bandwidth: float | None = None,
    profile: GGDProfile | None = None,
    qtable: str = "flat",
    bitrate: float | None = None,
) -> bytes:
    """Encode audio to image bytes.

    Parameters
    ----------
    audio : array_like, shape (n_samples,) or (channels, n_samples)
        Float audio in [-1, 1] or integer PCM, any sample rate.
    sample_rate : int
        Sample rate of ``audio`` in Hz.
    format : {"jpeg", "png", "webp", "avif"}, default "jpeg"
    quality : int, default 25
        Image quality 1..100 (lossy formats); about 22 kbit/s for mono music with JPEG.
    tilt : float, default 8
        Compander scale tilt ``c``. Coding favours a larger tilt than the 8-bit transform's
        default (5): the image codec's errors then stay small near the code range's tails.
    stereo : {"mid-side", "left-right", "mono"}, default "mid-side"
    tile_frames : int, default 4096
        Frames per image tile (87 s at 24 kHz).
    bandwidth : float, optional
        Highest frequency stored, in Hz (``None``: everything up to half the profile's rate).
    profile : GGDProfile, optional
        Default: the shipped profile.
    qtable : {"flat", "standard"}, default "flat"
        JPEG quantization table shape.
    bitrate : float, optional
        Target kbit/s; picks the quality (see :class:`EncodeSettings`).

    Returns
    -------
    bytes
        The image file.

    Examples
    --------
    >>> import numpy as np
    >>> from mdctcompand.testing import make_signal
    >>> x = make_signal("mixture", 44100, sample_rate=44100)
    >>> data = encode(x, 44100, quality=60)
    >>> data[:2] == b"\\xff\\xd8"  # a JPEG
    True
    >>> y = decode(data)
    >>> y.sample_rate, y.audio.shape
    (44100, (44100,))
    """
    from ._validation import as_float_audio, check_int

    settings = EncodeSettings(
        format=format, quality=quality, tilt=tilt, stereo=stereo, tile_frames=tile_frames,
        bandwidth=bandwidth, profile=profile, qtable=qtable, bitrate=bitrate,
    )  # fmt: skip
    x = as_float_audio(audio)
    if x.ndim > 2:
        raise ParameterError(f"audio of shape {x.shape} must be (n_samples,) or (channels, n_samples)")
    sample_rate = check_int(sample_rate, "sample_rate", minimum=1)
    source = x.reshape(1, -1) if x.ndim == 1 else x
    buf = io.BytesIO()
    _encode_stream(iter([source]), sample_rate, source.shape[0], settings, buf)
    return buf.getvalue()


def _pick_quality(settings: EncodeSettings, tile: np.ndarray, seconds: float) -> int:
    """Highest quality (1..100) whose encoding of ``tile`` stays at or under ``settings.bitrate``."""
    target_bytes = settings.bitrate * 1000 / 8 * seconds
    lo, hi = 1, 100
    if len(encode_tile(tile, settings.format, **settings.tile_options(lo))) > target_bytes:
        return lo
    while lo < hi:  # invariant: quality lo fits
        mid = (lo + hi + 1) // 2
        if len(encode_tile(tile, settings.format, **settings.tile_options(mid))) <= target_bytes:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _encode_stream(
    blocks: Iterator[np.ndarray], sample_rate: int, n_channels: int, settings: EncodeSettings, out
) -> dict:
    """Encode ``(channels, n)`` blocks at ``sample_rate``; write the file to ``out``; return the metadata."""
    profile = settings.profile or default_profile()
    stored_channels = 1 if (n_channels == 1 or settings.stereo == "mono") else 2
    if stored_channels == 2 and n_channels != 2:
        raise ParameterError(f"{n_channels} channels: only mono and stereo are stored (use stereo='mono')")
    if settings.format == "avif" and settings.tile_frames > 4096:
        raise ParameterError("AVIF tiles are limited to 4096 frames")
    layout = _Layout(
        profile, settings.tilt, settings.tile_frames, stored_channels, settings.bandwidth, CODEC_ROUNDING
    )
    resampler = _Resampler(sample_rate, profile.sample_rate, stored_channels, settings.resample_quality)
    encoder = _TileEncoder(layout, profile.level)
    state: dict[str, Any] = {"first": None, "quality": int(settings.quality), "n_source": 0}
    encoded: list[bytes] = []
    noise: list[np.ndarray] = []

    def consume(tile_codes: Iterator[np.ndarray]) -> None:
        for t in tile_codes:
            if state["first"] is None:  # kept: encoded last, with the metadata
                state["first"] = t
                if settings.bitrate is not None:
                    seconds = min(encoder.n, layout.mdct.max_samples(t.shape[1])) / profile.sample_rate
                    state["quality"] = _pick_quality(settings, t, max(seconds, 1e-3))
                continue
            data = encode_tile(t, settings.format, **settings.tile_options(state["quality"]))
            encoded.append(data)
            if not settings.lossless:
                noise.append(_coding_noise(layout, t, data))

    tail = np.zeros((stored_channels, 0), np.float32)
    for block in blocks:
        state["n_source"] += block.shape[1]
        if block.shape[1]:
            consume(encoder.push(resampler(_channel_forward(block, settings.stereo))))
    if state["n_source"] == 0:
        raise ParameterError("no audio samples to encode")
    consume(encoder.push(resampler(tail, last=True)))
    consume(encoder.finish())
    n_tiles = 1 + len(encoded)
    if n_tiles > 1 and not FORMATS[settings.format][3]:
        raise ParameterError(
            f"{settings.format.upper()} holds one tile ({settings.tile_frames} frames, "
            f"{layout.mdct.max_samples(settings.tile_frames) / profile.sample_rate:.0f} s); use jpeg, png or webp"
        )
    options = settings.tile_options(state["quality"])
    if not settings.lossless:
        noise.insert(
            0, _coding_noise(layout, state["first"], encode_tile(state["first"], settings.format, **options))
        )
    meta = {
        "format": CODEC_FORMAT,
        "version": CODEC_VERSION,
        "encoder": f"mdctcompand {__version__}",
        "source_sample_rate": int(sample_rate),
        "source_channels": int(n_channels),
        "source_length": int(state["n_source"]),
        "sample_rate": profile.sample_rate,
        "length": int(encoder.n),
        "stereo": settings.stereo if stored_channels == 2 else ("mono" if n_channels > 1 else "none"),
        "stored_channels": stored_channels,
        "frame_length": profile.frame_length,
        "window": profile.window,
        "stored_bands": layout.stored_bands,
        "bandwidth": settings.bandwidth,
        "tile_frames": settings.tile_frames,
        "n_tiles": n_tiles,
        "image_format": settings.format,
        "quality": None if settings.lossless else int(state["quality"]),
        "qtable": settings.qtable if settings.format == "jpeg" else None,
        "tilt": float(settings.tilt),
        "rounding": layout.compander.rounding,
        "reconstruction": layout.compander.reconstruction,
        "level": str(profile.level),
        "gains": encoder.gains,
        "coding_noise": None if settings.lossless else np.round(np.mean(noise, axis=0), 3).tolist(),
        "profile": {"id": profile.id, "name": profile.name}
        | ({} if profile.id == default_profile().id else {"data": profile.to_dict()}),
    }
    text = json.dumps(meta, separators=(",", ":"))
    first = encode_tile(state["first"], settings.format, metadata=text, **options)
    out.write(assemble(settings.format, [first, *encoded]))
    return meta


def _coding_noise(layout: _Layout, codes: np.ndarray, data: bytes) -> np.ndarray:
    """RMS code error of the (lossy) image codec per band group: what the MMSE decoder assumes."""
    from .containers import decode_tile

    err = decode_tile(data).astype(np.float32) - codes.astype(np.float32)
    per_band = err.reshape(layout.n_channels, layout.stored_bands, -1)[:, ::-1]  # rows back to band order
    groups = np.array_split(np.arange(layout.stored_bands), _NOISE_GROUPS)
    return np.array([np.sqrt(np.mean(per_band[:, g] ** 2)) for g in groups])


# ---------------------------------------------------------------------- decoding
@dataclass(frozen=True)
class _Header:
    """Validated, typed metadata of an encoded file."""

    version: int
    source_sample_rate: int
    source_channels: int
    source_length: int
    length: int
    stored_channels: int
    stored_bands: int
    tile_frames: int
    n_tiles: int
    tilt: float
    rounding: str
    stereo: str
    gains: list[list[float]]
    coding_noise: tuple[float, ...] | None
    raw: dict[str, Any]


def _parse_metadata(meta: Any) -> _Header:
    """Check every field decoding relies on; anything malformed is a :class:`FormatError`."""
    if not isinstance(meta, dict) or meta.get("format") != CODEC_FORMAT:
        raise FormatError("not an mdctcompand audio file (unknown metadata format)")
    version = meta.get("version")
    if type(version) is not int or version < 1:
        raise FormatError(f"invalid codec version {version!r}")
    if version > CODEC_VERSION:
        raise UnsupportedVersionError(
            f"the file was written by codec version {version}; this mdctcompand ({__version__}) reads up to "
            f"{CODEC_VERSION}: upgrade mdctcompand"
        )

    def integer(key: str, lo: int, hi: int = 2**62) -> int:
        v = meta.get(key)
        if type(v) is not int or not lo <= v <= hi:
            raise FormatError(f"metadata field {key!r} is missing or invalid ({v!r})")
        return v

    stored = integer("stored_channels", 1, 2)
    n_tiles = integer("n_tiles", 1)
    tilt = meta.get("tilt")
    if type(tilt) not in (int, float) or not (0 < tilt < 1e6):
        raise FormatError(f"metadata field 'tilt' is missing or invalid ({tilt!r})")
    rounding = meta.get("rounding", "floor")
    if rounding not in ("floor", "round"):
        raise FormatError(f"metadata field 'rounding' is invalid ({rounding!r})")
    stereo = meta.get("stereo")
    if stereo not in (*_STEREO_MODES, "none"):
        raise FormatError(f"metadata field 'stereo' is invalid ({stereo!r})")
    gains = meta.get("gains")
    try:
        g = np.asarray(gains, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FormatError("metadata field 'gains' is invalid") from exc
    if g.shape != (n_tiles, stored) or not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise FormatError(f"metadata field 'gains' must hold {n_tiles} x {stored} positive numbers")
    noise = meta.get("coding_noise")
    if noise is not None:
        try:
            noise_arr = np.asarray(noise, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise FormatError("metadata field 'coding_noise' is invalid") from exc
        if (
            noise_arr.ndim != 1
            or noise_arr.size == 0
            or not np.all(np.isfinite(noise_arr))
            or np.any(noise_arr < 0)
        ):
            raise FormatError("metadata field 'coding_noise' is invalid")
        noise = tuple(float(v) for v in noise_arr)
    if not isinstance(meta.get("profile"), dict):
        raise FormatError("metadata lacks the profile")
    return _Header(
        version=version,
        source_sample_rate=integer("source_sample_rate", 1, 10**7),
        source_channels=integer("source_channels", 1, 2 if stereo in ("mid-side", "left-right") else 64),
        source_length=integer("source_length", 1),
        length=integer("length", 1),
        stored_channels=stored,
        stored_bands=integer("stored_bands", 1, 1 << 16),
        tile_frames=integer("tile_frames", 16, 1 << 20),
        n_tiles=n_tiles,
        tilt=float(tilt),
        rounding=rounding,
        stereo=stereo,
        gains=g.tolist(),
        coding_noise=noise,
        raw=meta,
    )


@functools.lru_cache(maxsize=8)
def _mmse_table(
    profile: GGDProfile, tilt: float, n_bands: int, rounding: str, sigma: tuple[float, ...]
) -> np.ndarray:
    """``(n_bands, 256)`` table of ``E[x | decoded pixel p]``.

    Codes have the prior of the fitted GGD (mixed with 0.1 % of a uniform prior for robustness
    to clips louder than the profile); the image codec adds Gaussian noise of RMS
    ``sigma[group]`` to the code; each code stands for its cell's centroid. The posterior
    mean is one matrix product per band group: ``like @ (prior * centroid) / like @ prior``.
    """
    from . import ggd

    comp = _stored_compander(profile, tilt, n_bands, rounding, "centroid")
    p = comp.profile
    lower = comp.thresholds
    upper = np.concatenate([lower[:, 1:], np.full((n_bands, 1), np.inf)], axis=1)
    g, a = p.shape[:, None], p.scale[:, None]
    prior = np.maximum(ggd.cdf(upper, g, a) - ggd.cdf(lower, g, a), 0.0)
    prior = 0.999 * prior / prior.sum(axis=1, keepdims=True) + 0.001 / N_LEVELS
    centroid = comp.reconstruction_table
    levels = np.arange(N_LEVELS, dtype=np.float64)
    out = np.empty((n_bands, N_LEVELS))
    for group, idx in enumerate(np.array_split(np.arange(n_bands), len(sigma))):
        s = max(float(sigma[group]), 0.25)
        like = np.exp(-0.5 * ((levels[:, None] - levels[None, :]) / s) ** 2)  # (pixel, code)
        out[idx] = ((like @ (prior[idx] * centroid[idx]).T) / (like @ prior[idx].T)).T
    return out


class _TileDecoder:
    """Streaming decoder: tiles of codes in, ``(stored channels, n)`` blocks at the codec rate out."""

    def __init__(self, layout: _Layout, header: _Header, decoder: str) -> None:
        self.layout = layout
        self.n = header.length
        self.produced = 0
        self.context: np.ndarray | None = None
        self.frame = 0
        if decoder == "mmse" and header.coding_noise:
            table = _mmse_table(
                layout.profile, layout.tilt, layout.stored_bands, layout.rounding, header.coding_noise
            )
        else:
            table = layout.compander.reconstruction_table
        self.table = np.ascontiguousarray(table, dtype=np.float32)

    def push(self, pixels: np.ndarray, gains: list[float]) -> np.ndarray:
        from ._kernels import quantize

        lay, m = self.layout, self.layout.hop
        count = min(pixels.shape[1], lay.mdct.n_frames(self.n) - self.frame)
        if pixels.shape[0] != lay.height or count <= 0:
            raise FormatError(f"tile of shape {pixels.shape} does not match the metadata ({lay.height} rows)")
        g = np.asarray(gains, dtype=np.float64)
        k = lay.stored_bands
        frames = np.zeros((lay.n_channels, count, lay.profile.n_bands), dtype=np.float32)
        values = np.empty((k, count), dtype=np.float32)
        for c in range(lay.n_channels):
            codes = np.ascontiguousarray(pixels[c * k : (c + 1) * k, :count][::-1])  # band order
            quantize.decode_band_major(codes, self.table, values)
            frames[c, :, :k] = values.T / np.float32(g[c])
        if self.context is not None:
            frames = np.concatenate([self.context, frames], axis=1)
        self.context = frames[:, -1:].copy()
        self.frame += count
        out = np.empty((lay.n_channels, (frames.shape[1] - 1) * m), dtype=np.float32)
        lay.mdct._synthesize(frames, -m, out)
        take = min(out.shape[1], self.n - self.produced)
        self.produced += take
        return out[:, :take]


def _open(source: str | os.PathLike | bytes):
    """Open an encoded file and parse its metadata; returns ``(ImageFile, _Header)``."""
    if isinstance(source, (str, os.PathLike)) and not Path(source).exists():
        raise FileNotFoundError(f"{os.fspath(source)}: no such file")
    f = open_image_file(source if isinstance(source, (bytes, bytearray)) else Path(source))
    try:
        header = _parse_metadata(f.metadata)
    except Exception:
        f.close()
        raise
    return f, header


def _decode_blocks(source: str | os.PathLike | bytes, decoder: str) -> tuple[_Header, Iterator[np.ndarray]]:
    """Header and a generator of decoded ``(source channels, n)`` blocks at the source rate."""
    if decoder not in _DECODERS:
        raise ParameterError(f"decoder={decoder!r} must be one of {_DECODERS}")
    f, h = _open(source)
    try:
        profile = _resolve_profile(h.raw)
        if h.stored_bands > profile.n_bands:
            raise FormatError(f"stored_bands={h.stored_bands} exceeds the profile's {profile.n_bands} bands")
        layout = _Layout(profile, h.tilt, h.tile_frames, h.stored_channels, None, h.rounding)
        layout.stored_bands = h.stored_bands
        if f.n_tiles != h.n_tiles:
            raise FormatError(
                f"the file holds {f.n_tiles} tile(s) but its metadata promises {h.n_tiles} (truncated?)"
            )
        if layout.mdct.n_frames(h.length) > h.n_tiles * h.tile_frames:
            raise FormatError("metadata length does not fit the tiles")
        tile_decoder = _TileDecoder(layout, h, decoder)
    except Exception:
        f.close()
        raise
    resampler = _Resampler(profile.sample_rate, h.source_sample_rate, layout.n_channels, "HQ")

    def blocks() -> Iterator[np.ndarray]:
        written = 0
        with f:
            for pixels, gains in zip(f.tiles(), h.gains):
                part = tile_decoder.push(pixels, gains)
                y = resampler(part, last=tile_decoder.produced >= tile_decoder.n)
                y = _channel_inverse(y, h.stereo, h.source_channels)[:, : h.source_length - written]
                written += y.shape[1]
                yield y
            if tile_decoder.produced < tile_decoder.n:
                raise FormatError("the file ends before its audio does (truncated?)")
            if written < h.source_length:  # resampler rounding: pad the last few samples
                yield np.zeros((h.source_channels, h.source_length - written), np.float32)

    return h, blocks()


def decode(source: str | os.PathLike | bytes, *, decoder: str = "table") -> DecodedAudio:
    """Decode an encoded file (path or bytes) to audio at the source's sample rate and length.

    Parameters
    ----------
    source : path or bytes
    decoder : {"table", "mmse"}, default "table"
        ``"table"``: each code decodes to its reconstruction value. ``"mmse"``: the
        conditional mean given the image codec's measured noise (lossy files; lossless
        ones decode as ``"table"``): about 1 dB more SNR, slightly lower ViSQOL.

    Returns
    -------
    DecodedAudio

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> x = make_signal("mixture", 32000, 16000)
    >>> y = decode(encode(x, 16000, format="png"))
    >>> y.sample_rate, y.audio.shape
    (16000, (32000,))
    """
    header, blocks = _decode_blocks(source, decoder)
    audio = np.concatenate(list(blocks), axis=1)
    if header.source_channels == 1:
        audio = audio[0]
    return DecodedAudio(audio, header.source_sample_rate)


# ---------------------------------------------------------------------- files
def _read_blocks(path: Path, block: int) -> tuple[int, int, Iterator[np.ndarray]]:
    import soundfile as sf

    try:
        f = sf.SoundFile(os.fspath(path))
    except Exception as exc:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file") from exc
        raise AudioReadError(f"{path}: cannot read audio ({exc})") from exc

    def gen() -> Iterator[np.ndarray]:
        with f:
            while True:
                try:
                    data = f.read(block, dtype="float32", always_2d=True)
                except Exception as exc:
                    raise AudioReadError(f"{path}: corrupt audio data ({exc})") from exc
                if data.shape[0] == 0:
                    return
                if not np.isfinite(data).all():
                    raise AudioReadError(f"{path}: the file contains NaN or infinite samples")
                yield np.ascontiguousarray(data.T)

    return int(f.samplerate), int(f.channels), gen()


def encode_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    overwrite: bool = False,
    settings: EncodeSettings | None = None,
    **kwargs: Any,
) -> CodecInfo:
    """Encode an audio file to an image file (streaming; the output is written atomically).

    ``settings`` or keyword arguments as for :func:`encode`; the format defaults to the
    output's extension. Returns the :class:`CodecInfo` of the written file.

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> info = encode_file(tmp / "song.wav", tmp / "song.webp", quality=40)
    >>> info.format, info.source_sample_rate, info.duration
    ('webp', 48000, 1.0)
    """
    from .io import atomic_output

    output_path = Path(output_path)
    if settings is None:
        kwargs.setdefault("format", format_from_path(output_path))
        settings = EncodeSettings(**kwargs)
    rate, channels, blocks = _read_blocks(Path(input_path), 1 << 18)
    with atomic_output(output_path, overwrite=overwrite) as tmp, open(tmp, "wb") as out:
        _encode_stream(blocks, rate, channels, settings, out)
    return read_info(output_path)


def decode_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    overwrite: bool = False,
    subtype: str | None = None,
    decoder: str = "table",
) -> CodecInfo:
    """Decode an image file to an audio file (format from the extension; written atomically, streaming).

    PCM outputs are clipped to [-1, 1]; ``subtype`` (e.g. ``"PCM_16"``, ``"FLOAT"``) defaults to
    the format's default.

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> _ = encode_file(tmp / "song.wav", tmp / "song.jpg")
    >>> info = decode_file(tmp / "song.jpg", tmp / "back.flac", subtype="PCM_24")
    >>> sf.info(tmp / "back.flac").frames, sf.info(tmp / "back.flac").samplerate
    (48000, 48000)
    """
    import soundfile as sf

    from .io import atomic_output

    output_path = Path(output_path)
    fmt = output_path.suffix.lstrip(".").upper()
    fmt = {"OGA": "OGG", "AIF": "AIFF"}.get(fmt, fmt)
    if fmt not in sf.available_formats():
        raise ParameterError(f"{output_path}: unknown audio extension; use .wav, .flac, .ogg, ...")
    header, blocks = _decode_blocks(Path(input_path), decoder)
    clip = subtype is None or not subtype.upper().startswith(("FLOAT", "DOUBLE"))
    with atomic_output(output_path, overwrite=overwrite) as tmp:
        with sf.SoundFile(
            os.fspath(tmp),
            "w",
            header.source_sample_rate,
            header.source_channels,
            subtype=subtype,
            format=fmt,
        ) as out:
            for block in blocks:
                out.write(np.clip(block, -1.0, 1.0).T if clip else block.T)
    return read_info(input_path)


def read_info(source: str | os.PathLike | bytes) -> CodecInfo:
    """Describe an encoded file without decoding its audio.

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> info = read_info(encode(make_signal("mixture", 240000), 24000, quality=50))
    >>> info.quality, info.n_tiles, 20 < info.bitrate_kbps < 60
    (50, 1, True)
    """
    f, h = _open(source)
    f.close()
    m = h.raw
    size = len(source) if isinstance(source, (bytes, bytearray)) else Path(source).stat().st_size
    profile = m["profile"]
    return CodecInfo(
        format=str(m.get("image_format", f.format)),
        version=h.version,
        duration=h.source_length / h.source_sample_rate,
        source_sample_rate=h.source_sample_rate,
        source_channels=h.source_channels,
        source_length=h.source_length,
        sample_rate=int(m.get("sample_rate", 0) or 0),
        stereo=h.stereo,
        n_tiles=h.n_tiles,
        quality=m.get("quality") if isinstance(m.get("quality"), int) else None,
        tilt=h.tilt,
        bandwidth=m.get("bandwidth") if isinstance(m.get("bandwidth"), (int, float)) else None,
        profile_name=str(profile.get("name", "?")),
        profile_id=str(profile.get("id", "?")),
        size_bytes=size,
        metadata=m,
    )
