"""The one header of every file the library writes: codec files, converter images, dataset PNGs.

:class:`AudioImageHeader` is a frozen, typed, versioned record of everything needed to turn
an image of 8-bit codes back into audio: the source (rate, channels, length, sample
format), the transform (rate, frame length, window, level, profile), the compander (tilt,
rounding, reconstruction, stored bands), the channel layout, the tiling and the per-tile
gains. It is validated whenever one is built, by the encoder before it writes and by
:meth:`AudioImageHeader.from_json` on untrusted text: types, ranges (rates, gains, sizes),
consistency (the declared length against what the tiles hold), JSON size and nesting.
Anything wrong is a :class:`~mdctcompand.FormatError` naming the field and its value.

Version history: 1 (codec files of mdctcompand 0.1; converter and dataset images then
carried a smaller schema, read here as well), 2 (one schema for all files, plus
``source_subtype`` and ``arrangement``), 3 (the codec's coding tools -- cell levels
as per-tile side information, time-adaptive cell gains, band weights, noise filling -- and the
JPEG step of rate control; fields at their defaults are left out of the JSON), 4 (this one:
band-group gains, ``band_gain_width`` and ``band_gains``, see :mod:`mdctcompand.band_gains`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np

from ._version import __version__
from .band_gains import BAND_GAIN_RANGE_DB, band_gain_edges
from .exceptions import FormatError, ParameterError, UnsupportedVersionError
from .profile import MAX_RESAMPLE_RATIO, GGDProfile, default_profile, shipped_profile  # noqa: F401 (default_profile: examples)

__all__ = [
    "HEADER_FORMAT",
    "HEADER_VERSION",
    "MAX_HEADER_BYTES",
    "MAX_TILE_PIXELS",
    "MAX_TILE_SAMPLES",
    "AudioImageHeader",
    "field_choice",
    "field_error",
    "field_float",
    "field_int",
    "field_text",
    "header_from_profile",
]

HEADER_FORMAT = "mdctcompand-audio"
#: Version written now; files of this or an earlier version are read.
HEADER_VERSION = 4
#: Largest header text accepted (bytes of JSON), and deepest JSON nesting. Version-3 codec
#: files carry their side information (about 0.3 kB per second and channel) in the header.
MAX_HEADER_BYTES = 1 << 24
MAX_JSON_DEPTH = 16
#: Sample rates accepted anywhere (Hz).
SAMPLE_RATE_RANGE = (1, 768_000)
#: Level gains accepted (a gain outside means the audio was near silent or absurdly loud).
GAIN_RANGE = (1e-6, 1e6)
#: Largest tile (image frame) in pixels and in audio samples (frames x hop x stored channels),
#: and the largest image side (JPEG's limit). They bound the decoder's memory per tile
#: (about 200 MB); the codec's default tiles (4096 frames) hold 4 Mi pixels and samples.
MAX_TILE_PIXELS = 1 << 23
MAX_TILE_SAMPLES = 1 << 23
MAX_SIDE = 65535
MAX_CHANNELS = 64
_LENGTH_MAX = 1 << 40

StereoMode = Literal["mid-side", "left-right", "mono", "none"]
Arrangement = Literal["rows", "planes"]
_STEREO = ("mid-side", "left-right", "mono", "none")
#: Fields that version 3 leaves out of the JSON: the profile's geometry, the stored channel
#: count (from ``stereo``) and the compander's fixed choices (``round``, ``midpoint``).
_DERIVED = ("sample_rate", "frame_length", "window", "level", "stored_channels", "rounding", "reconstruction")
_ARRANGEMENTS = ("rows", "planes")
_ROUNDINGS = ("floor", "round")
_RECONSTRUCTIONS = ("midpoint", "centroid")


def field_error(name: str, value: Any, expected: str) -> FormatError:
    """The :class:`~mdctcompand.FormatError` of header field ``name`` holding ``value`` (shortened) instead of ``expected``."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return FormatError(f"header field {name!r} is {text}; expected {expected}")


def field_int(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` if it is an integer in ``lo..hi`` (a JSON integer, not a bool), else :func:`field_error`."""
    if type(value) is not int or not lo <= value <= hi:
        raise field_error(name, value, f"an integer in {lo}..{hi}")
    return value


def field_float(name: str, value: Any, lo: float, hi: float) -> float:
    """``value`` as a float if it is a number in ``[lo, hi]`` (NaN is not), else :func:`field_error`."""
    if type(value) not in (int, float) or not lo <= value <= hi:  # NaN fails both comparisons
        raise field_error(name, value, f"a number in [{lo:g}, {hi:g}]")
    return float(value)


def field_choice(name: str, value: Any, choices: tuple, optional: bool = False) -> Any:
    """``value`` if it is one of the strings ``choices`` (or ``None`` when ``optional``), else :func:`field_error`."""
    if value is None and optional:
        return None
    if value not in choices or type(value) is not str:
        raise field_error(name, value, f"one of {choices}" + (" or null" if optional else ""))
    return value


def field_text(name: str, value: Any, max_len: int = 200) -> str:
    """``value`` if it is a string of at most ``max_len`` characters, else :func:`field_error`."""
    if type(value) is not str or len(value) > max_len:
        raise field_error(name, value, f"a string of at most {max_len} characters")
    return value


@dataclass(frozen=True)
class AudioImageHeader:
    """Everything needed to decode an image (or a file of image tiles) of 8-bit codes.

    Attributes
    ----------
    source_sample_rate, source_channels, source_length : int
        The audio that went in (decoding gives back this rate, channel count and length).
    sample_rate, length : int
        Rate of the transform (the profile's) and the number of samples at that rate.
    frame_length : int
        MDCT frame length (hop and band count are half of it).
    window, level : str
        MDCT window and level normalization (the profile's).
    stereo : {"mid-side", "left-right", "mono", "none"}
        Channel layout: how two source channels became the stored ones (``"mono"``: a
        downmix, ``"none"``: a single-channel source).
    stored_channels, stored_bands : int
        Channels and (lowest) bands in the image.
    tile_frames, n_tiles : int
        Frames per tile (the largest tile width) and the number of tiles.
    tilt : float
    rounding : {"floor", "round"}
    reconstruction : {"midpoint", "centroid"}
        Compander settings.
    gains : tuple of tuple of float
        ``(n_tiles, stored_channels)`` level gains; decoding divides by them.
    profile_id, profile_name : str
        The GGD profile (content hash and name).
    profile : GGDProfile or None
        The profile itself where it is not shipped with the library (codec files embed it).
    arrangement : {"rows", "planes"}
        Stored channels as stacked image rows (channel 0 on top) or as image planes.
    coding : dict or None
        The codec's section (its keys sit flat beside these in the JSON): how the image was coded
        and the coding tools' side information. The header keeps it as data;
        :class:`mdctcompand.codec.section.CodingSection` reads and validates it.
    band_gain_width : float or None
        Version 4: relative width of the band groups that have gains (``None``: no band gains,
        the profile's level); see :class:`~mdctcompand.band_gains.BandGains`.
    band_gains : tuple or None
        ``(n_tiles, stored_channels, n_groups)`` gains in dB that multiplied each band group
        before companding; decoding divides by them.
    encoder : str
        Library that wrote the file.
    version : int
        Header version the data was read from (:data:`HEADER_VERSION` when written now).

    Examples
    --------
    >>> h = header_from_profile(default_profile(), length=24000, gains=[[1.0]], tile_frames=64)
    >>> h.n_frames, h.tile_pixels, h.duration
    (48, 32768, 1.0)
    >>> AudioImageHeader.from_json(h.to_json()) == h
    True
    """

    source_sample_rate: int
    source_channels: int
    source_length: int
    sample_rate: int
    length: int
    frame_length: int
    window: str
    level: str
    stereo: str
    stored_channels: int
    stored_bands: int
    tile_frames: int
    n_tiles: int
    tilt: float
    rounding: str
    reconstruction: str
    gains: tuple[tuple[float, ...], ...] = field(repr=False)
    profile_id: str
    profile_name: str
    profile: GGDProfile | None = field(default=None, repr=False, compare=False)
    arrangement: str = "rows"
    coding: dict[str, Any] | None = field(default=None, repr=False)
    band_gain_width: float | None = None
    band_gains: tuple[tuple[tuple[float, ...], ...], ...] | None = field(default=None, repr=False)
    encoder: str = f"mdctcompand {__version__}"
    version: int = HEADER_VERSION

    def __post_init__(self) -> None:
        lo, hi = SAMPLE_RATE_RANGE
        field_int("version", self.version, 1, HEADER_VERSION)
        field_int("source_sample_rate", self.source_sample_rate, lo, hi)
        field_int("sample_rate", self.sample_rate, lo, hi)
        ratio = max(self.source_sample_rate / self.sample_rate, self.sample_rate / self.source_sample_rate)
        if ratio > MAX_RESAMPLE_RATIO:  # no encoder resamples that far (and the resampler would take seconds)
            raise field_error(
                "source_sample_rate", self.source_sample_rate,
                f"within {MAX_RESAMPLE_RATIO}x of sample_rate={self.sample_rate}",
            )  # fmt: skip
        field_int("source_channels", self.source_channels, 1, MAX_CHANNELS)
        field_int("source_length", self.source_length, 1, _LENGTH_MAX)
        field_int("length", self.length, 1, _LENGTH_MAX)
        field_int("frame_length", self.frame_length, 2, 1 << 16)
        if self.frame_length % 2:
            raise field_error("frame_length", self.frame_length, "an even number")
        field_text("window", self.window, 40)
        field_text("level", self.level, 40)
        field_choice("stereo", self.stereo, _STEREO)
        field_choice("arrangement", self.arrangement, _ARRANGEMENTS)
        field_int("stored_channels", self.stored_channels, 1, 2)
        expected_stored = 2 if self.stereo in ("mid-side", "left-right") else 1
        if self.stored_channels != expected_stored:
            raise field_error(
                "stored_channels", self.stored_channels, f"{expected_stored} for stereo={self.stereo!r}"
            )
        if self.stereo == "none" and self.source_channels != 1:
            raise field_error("source_channels", self.source_channels, "1 for stereo='none'")
        if expected_stored == 2 and self.source_channels != 2:
            raise field_error("source_channels", self.source_channels, f"2 for stereo={self.stereo!r}")
        field_int("stored_bands", self.stored_bands, 1, self.frame_length // 2)
        field_int("tile_frames", self.tile_frames, 2, MAX_SIDE)
        field_int("n_tiles", self.n_tiles, 1, 1 << 20)
        if self.arrangement == "rows" and self.rows > MAX_SIDE:
            raise field_error("stored_bands", self.stored_bands, f"at most {MAX_SIDE} image rows in all")
        if self.tile_pixels > MAX_TILE_PIXELS:
            raise FormatError(
                f"tiles of {self.rows} x {self.tile_frames} = {self.tile_pixels} pixels exceed the limit of "
                f"{MAX_TILE_PIXELS}"
            )
        tile_samples = self.tile_frames * self.hop_length * self.stored_channels
        if tile_samples > MAX_TILE_SAMPLES:
            raise FormatError(
                f"tiles of {self.tile_frames} frames x {self.hop_length} hop x {self.stored_channels} channel(s) = "
                f"{tile_samples} samples exceed the limit of {MAX_TILE_SAMPLES}"
            )
        field_float("tilt", self.tilt, 1e-3, 1e3)
        field_choice("rounding", self.rounding, _ROUNDINGS)
        field_choice("reconstruction", self.reconstruction, _RECONSTRUCTIONS)
        self._check_gains()
        if type(self.profile_id) is not str or not re.fullmatch(r"[0-9a-f]{16}", self.profile_id):
            raise field_error("profile_id", self.profile_id, "16 hexadecimal digits")
        field_text("profile_name", self.profile_name)
        if self.profile is not None and not self.profile.matches_id(self.profile_id):
            raise FormatError(
                f"the embedded profile's id {self.profile.id} differs from profile_id {self.profile_id}"
            )
        if self.coding is not None and (
            type(self.coding) is not dict or len(self.coding) > 64 or not all(type(k) is str for k in self.coding)
        ):
            raise field_error("coding", self.coding, "at most 64 named values")
        field_text("encoder", self.encoder)
        self._check_lengths()
        self._check_band_gains()

    def _check_band_gains(self) -> None:
        if self.band_gain_width is None:
            if self.band_gains is not None:
                raise field_error("band_gains", self.band_gains, "null without band_gain_width")
            return
        if self.version < 4:
            raise field_error("band_gain_width", self.band_gain_width, f"null in a version-{self.version} header")
        field_float("band_gain_width", self.band_gain_width, 0.05, 2.0)
        n_groups = self.band_gain_edges().size - 1
        g = self.band_gains
        if (
            type(g) is not tuple
            or len(g) != self.n_tiles
            or any(type(tile) is not tuple or len(tile) != self.stored_channels for tile in g)
            or any(type(row) is not tuple or len(row) != n_groups for tile in g for row in tile)
        ):
            raise field_error("band_gains", g, f"{self.n_tiles} x {self.stored_channels} x {n_groups} numbers")
        for tile in g:
            for row in tile:
                for v in row:
                    field_float("band_gains", v, -BAND_GAIN_RANGE_DB, BAND_GAIN_RANGE_DB)

    def band_gain_edges(self) -> np.ndarray:
        """Edges of the stored band groups that carry gains (empty without band gains).

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=10, gains=[[1.0]], tile_frames=16,
        ...                         band_gain_width=1.0, band_gains=[[[0.0] * 7]])
        >>> h.band_gain_edges().tolist()
        [0, 8, 16, 32, 64, 128, 256, 512]
        """
        if self.band_gain_width is None:
            return np.zeros(0, dtype=np.int64)
        return band_gain_edges(
            self.frame_length // 2, sample_rate=self.sample_rate, relative_width=self.band_gain_width,
            stored_bands=self.stored_bands,
        )  # fmt: skip

    def _check_gains(self) -> None:
        g = self.gains
        if (
            type(g) is not tuple
            or len(g) != self.n_tiles
            or any(type(row) is not tuple or len(row) != self.stored_channels for row in g)
        ):
            raise field_error("gains", g, f"{self.n_tiles} x {self.stored_channels} numbers")
        for row in g:
            for v in row:
                field_float("gains", v, *GAIN_RANGE)

    def _check_lengths(self) -> None:
        frames = self.n_frames
        if frames > self.n_tiles * self.tile_frames:
            raise FormatError(
                f"length={self.length} needs {frames} frames; {self.n_tiles} tile(s) of {self.tile_frames} hold "
                f"{self.n_tiles * self.tile_frames}"
            )
        if frames <= (self.n_tiles - 1) * self.tile_frames:
            raise FormatError(f"length={self.length} ({frames} frames) leaves tile {self.n_tiles} empty")
        expected = self.length * self.source_sample_rate / self.sample_rate
        if abs(self.source_length - expected) > 64 + 1e-3 * expected:
            raise FormatError(
                f"source_length={self.source_length} at {self.source_sample_rate} Hz does not match length="
                f"{self.length} at {self.sample_rate} Hz"
            )

    # ------------------------------------------------------------------ derived sizes
    @property
    def hop_length(self) -> int:
        """Samples per frame (image column) at :attr:`sample_rate`."""
        return self.frame_length // 2

    @property
    def n_frames(self) -> int:
        """MDCT frames of the audio: ``ceil(length / hop) + 1``."""
        return -(-self.length // self.hop_length) + 1

    @property
    def rows(self) -> int:
        """Image rows of a tile (``stored_bands`` per stored channel when stacked as rows)."""
        return self.stored_bands * (self.stored_channels if self.arrangement == "rows" else 1)

    @property
    def tile_pixels(self) -> int:
        """Pixels (all planes) of the largest tile."""
        return self.stored_bands * self.stored_channels * self.tile_frames

    @property
    def total_pixels(self) -> int:
        """Pixels of all tiles together (at most)."""
        return self.tile_pixels * self.n_tiles

    @property
    def duration(self) -> float:
        """Duration of the source in seconds."""
        return self.source_length / self.source_sample_rate

    def tile_span(self, index: int) -> tuple[int, int]:
        """First frame and frame count of tile ``index``.

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=100_000, gains=[[1.0]] * 2, tile_frames=128)
        >>> h.tile_span(0), h.tile_span(1)
        ((0, 128), (128, 69))
        """
        first = index * self.tile_frames
        return first, min(self.tile_frames, self.n_frames - first)

    # ------------------------------------------------------------------ checks
    def check_pixel_budget(self, max_pixels: int) -> None:
        """Raise :class:`~mdctcompand.FormatError` if all tiles together exceed ``max_pixels``.

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=24000, gains=[[1.0]], tile_frames=64)
        >>> h.check_pixel_budget(10_000)
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.FormatError: the file declares 32768 pixels; the limit is 10000 (max_pixels)
        """
        if self.total_pixels > max_pixels:
            raise FormatError(
                f"the file declares {self.total_pixels} pixels; the limit is {max_pixels} (max_pixels)"
            )

    def resolve_profile(self) -> GGDProfile:
        """The header's GGD profile: embedded, shipped with the library, or a :class:`FormatError`.

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=10, gains=[[1.0]], tile_frames=16)
        >>> h.resolve_profile() is default_profile()
        True
        """
        profile = self.profile or shipped_profile(self.profile_id)
        if profile is None:
            raise FormatError(
                f"the file needs profile {self.profile_name!r} (id {self.profile_id}), which is not available"
            )
        if (profile.sample_rate, profile.frame_length, profile.window) != (
            self.sample_rate,
            self.frame_length,
            self.window,
        ):
            raise FormatError(
                f"profile {profile.name!r} is for {profile.sample_rate} Hz, frame {profile.frame_length}, "
                f"{profile.window}; the header says {self.sample_rate} Hz, frame {self.frame_length}, {self.window}"
            )
        return profile

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dictionary (what :meth:`to_json` writes).

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=10, gains=[[2.0]], tile_frames=16)
        >>> d = h.to_dict()
        >>> d["format"], d["version"], d["gains"], d["profile"]["name"]
        ('mdctcompand-audio', 4, [[2.0]], 'multigenre-24k')
        """
        out: dict[str, Any] = {"format": HEADER_FORMAT}
        derived = _derived_fields(
            {"stereo": self.stereo, "sample_rate": self.sample_rate},
            {"profile": self.profile, "profile_id": self.profile_id}
            if self.profile
            else {"profile_id": self.profile_id},
        )
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("profile", "profile_id", "profile_name"):
                continue
            if f.name == "version":
                value = HEADER_VERSION
            elif f.name in _DERIVED and derived.get(f.name) == value:
                continue  # version 3: read back from the profile and the stereo mode
            elif f.name not in ("encoder",) and f.default is not dataclasses.MISSING and value == f.default:
                continue  # version 3: fields at their defaults are left out
            elif f.name == "gains":
                value = [list(row) for row in value]
            elif f.name == "coding" and value:
                out.update(value)  # the codec's keys, flat, where version 3 wrote them
                continue
            elif f.name == "band_gains" and value is not None:
                value = [[list(row) for row in tile] for tile in value]
            out[f.name] = value
        profile: dict[str, Any] = {"id": self.profile_id, "name": self.profile_name}
        if self.profile is not None:
            profile["data"] = self.profile.to_dict()
        out["profile"] = profile
        return out

    def to_json(self) -> str:
        """Compact JSON text (checked to be at most :data:`MAX_HEADER_BYTES`).

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=10, gains=[[1.0]], tile_frames=16)
        >>> h.to_json()[:40]
        '{"format":"mdctcompand-audio","source_sa'
        """
        text = json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)
        if len(text.encode()) > MAX_HEADER_BYTES:
            raise ParameterError(
                f"the header takes {len(text.encode())} bytes; at most {MAX_HEADER_BYTES} fit"
            )
        return text

    @classmethod
    def from_json(cls, text: str | bytes, *, image_width: int | None = None) -> AudioImageHeader:
        """Parse and validate untrusted header text; any defect is a :class:`~mdctcompand.FormatError`.

        ``image_width`` is needed only for the small schema of converter images written by
        mdctcompand 0.1 (which did not record the image width).

        Examples
        --------
        >>> AudioImageHeader.from_json('{"format": "mdctcompand-audio", "version": 1}')
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.FormatError: header field 'source_sample_rate' is missing
        >>> AudioImageHeader.from_json("[" * 5000)
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.FormatError: header JSON is nested 5000 deep; at most 16 is allowed
        """
        return cls.from_dict(parse_json(text), image_width=image_width)

    @classmethod
    def from_dict(cls, data: Any, *, image_width: int | None = None) -> AudioImageHeader:
        """Validate a parsed header (see :meth:`from_json`).

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=10, gains=[[1.0]], tile_frames=16)
        >>> AudioImageHeader.from_dict(h.to_dict()).length
        10
        """
        if not isinstance(data, dict):
            raise FormatError("header is not a JSON object")
        if "format" not in data and "profile_id" in data and "gain" in data:
            return cls._from_converter_v1(data, image_width)
        if data.get("format") != HEADER_FORMAT:
            raise FormatError("not an mdctcompand audio file (unknown metadata format)")
        version = data.get("version")
        if type(version) is not int or version < 1:
            raise field_error("version", version, "a positive integer")
        if version > HEADER_VERSION:
            raise UnsupportedVersionError(
                f"the file was written by format version {version}; this mdctcompand ({__version__}) reads up to "
                f"{HEADER_VERSION}: upgrade mdctcompand"
            )
        kwargs: dict[str, Any] = {}
        optional = {f.name for f in fields(cls) if f.default is not dataclasses.MISSING}
        profile_info = _profile_fields(data.get("profile")) if version >= 3 else None
        if profile_info is not None:
            kwargs.update(_derived_fields(data, profile_info))
        for f in fields(cls):
            if f.name in ("profile", "profile_id", "profile_name"):
                continue
            if f.name in data:
                kwargs[f.name] = data[f.name]
            elif f.name == "rounding" and version == 1:
                kwargs[f.name] = "floor"  # version 1 files without it predate the round() default
            elif f.name not in optional and f.name not in kwargs:
                raise FormatError(f"header field {f.name!r} is missing")
        kwargs["version"] = version
        kwargs["gains"] = _tuple_rows(data.get("gains"), "gains")
        names = {f.name for f in fields(cls)} | {"format", "profile"}
        kwargs["coding"] = {k: v for k, v in data.items() if k not in names} or None  # the codec's section
        band = data.get("band_gains")
        if band is not None:
            if not isinstance(band, list) or len(band) > 1 << 20:
                raise field_error("band_gains", band, "a list of lists of lists of numbers")
            kwargs["band_gains"] = tuple(_tuple_rows(tile, "band_gains") for tile in band)
        kwargs.update(profile_info if profile_info is not None else _profile_fields(data.get("profile")))
        try:
            return cls(**kwargs)
        except TypeError as exc:  # an unknown combination of fields
            raise FormatError(f"invalid header ({exc})") from exc

    @classmethod
    def _from_converter_v1(cls, data: dict[str, Any], image_width: int | None) -> AudioImageHeader:
        """The schema of converter and dataset images written by mdctcompand 0.1 (mono, one image)."""
        if image_width is None:
            raise FormatError("this image's header predates version 2; its width is needed to read it")
        pid = data.get("profile_id")
        profile = shipped_profile(pid) if isinstance(pid, str) else None
        gain = data.get("gain")
        gains = _tuple_rows([[gain] if not isinstance(gain, list) else gain], "gain")
        length: Any = data.get("length")  # the constructor checks every value
        rate: Any = data.get("sample_rate")
        pid_text: Any = pid
        tilt: Any = data.get("tilt")
        frame_length = profile.frame_length if profile is not None else data.get("frame_length", 1024)
        return cls(
            source_sample_rate=rate, source_channels=1, source_length=length, sample_rate=rate, length=length,
            frame_length=frame_length, window=profile.window if profile is not None else "sine",
            level=data.get("level", "rms:-20"), stereo="none", stored_channels=1,
            stored_bands=frame_length // 2 if type(frame_length) is int else 0, tile_frames=image_width, n_tiles=1,
            tilt=tilt, rounding=data.get("rounding", "floor"),
            reconstruction=data.get("reconstruction", "midpoint"), gains=gains, profile_id=pid_text,
            profile_name=str(data.get("profile_name", "?"))[:200], version=1, encoder="mdctcompand 0.1",
        )  # fmt: skip

    def replace(self, **changes: Any) -> AudioImageHeader:
        """A copy with some fields changed (validated again).

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=10, gains=[[1.0]], tile_frames=16)
        >>> h.replace(tilt=5.0).tilt
        5.0
        """
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dictionary (profile by value or ``None``).

        Examples
        --------
        >>> h = header_from_profile(default_profile(), length=10, gains=[[1.0]], tile_frames=16)
        >>> h.as_dict()["length"]
        10
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _tuple_row(value: Any, name: str) -> tuple:
    if not isinstance(value, list) or len(value) > 1 << 16:
        raise field_error(name, value, "a list of numbers")
    return tuple(value)


def _tuple_rows(value: Any, name: str) -> tuple:
    if not isinstance(value, list) or len(value) > 1 << 20:
        raise field_error(name, value, "a list of lists of numbers")
    return tuple(_tuple_row(row, name) for row in value)


def _profile_fields(info: Any) -> dict[str, Any]:
    if not isinstance(info, dict) or "id" not in info:
        raise FormatError("header field 'profile' is missing or not an object with an 'id'")
    out: dict[str, Any] = {"profile_id": info["id"], "profile_name": info.get("name", "?")}
    pid = out["profile_id"]
    if type(pid) is not str or not re.fullmatch(r"[0-9a-f]{16}", pid) or shipped_profile(pid) is not None:
        return out  # invalid ids are reported by the header; shipped profiles are never read from the file
    if "data" in info:
        try:
            out["profile"] = GGDProfile.from_dict(info["data"])
        except (ParameterError, TypeError, ValueError, OverflowError, KeyError, AttributeError) as exc:
            raise FormatError(f"the embedded profile is invalid ({exc})") from exc
        _check_profile_values(out["profile"])
    return out


def _derived_fields(data: dict, profile_info: dict[str, Any]) -> dict[str, Any]:
    """The fields a version-3 header leaves out (see ``_DERIVED``), from its profile and stereo mode."""
    profile = profile_info.get("profile")
    if profile is None and isinstance(profile_info.get("profile_id"), str):
        profile = shipped_profile(profile_info["profile_id"])
    out: dict[str, Any] = {"rounding": "round", "reconstruction": "midpoint"}
    if profile is not None:
        out.update(
            sample_rate=profile.sample_rate, frame_length=profile.frame_length, window=profile.window,
            level=str(profile.level),
        )  # fmt: skip
    elif "sample_rate" not in data:
        pid = profile_info.get("profile_id")
        if type(pid) is not str or not re.fullmatch(r"[0-9a-f]{16}", pid):
            raise field_error("profile", pid, "an object whose id is 16 hexadecimal digits")
        raise FormatError(
            f"the file needs profile {str(profile_info.get('profile_name'))[:60]!r} (id "
            f"{profile_info['profile_id'][:16]}), which is not available"
        )
    stereo = data.get("stereo")
    out["stored_channels"] = 2 if stereo in ("mid-side", "left-right") else 1
    return out


def _check_profile_values(p: GGDProfile) -> None:
    if p.frame_length > 1 << 16:
        raise FormatError(f"the embedded profile has frame_length={p.frame_length}; at most {1 << 16}")
    if not (np.all((p.shape >= 0.01) & (p.shape <= 100)) and np.all((p.scale > 1e-30) & (p.scale < 1e30))):
        raise FormatError(
            "the embedded profile has shapes outside [0.01, 100] or scales outside (1e-30, 1e30)"
        )
    lo, hi = SAMPLE_RATE_RANGE
    if not lo <= p.sample_rate <= hi:
        raise FormatError(f"the embedded profile has sample_rate={p.sample_rate}")


def json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` in JSON text (brackets inside strings do not count).

    A backslash escapes the next character wherever it stands (valid JSON has them only in
    strings). Memory stays a few megabytes whatever the length of the text.

    Examples
    --------
    >>> json_depth('{"a": [1, [2]], "b": "[[["}')
    3
    """
    # A vectorized scan a megabyte at a time (memory: a few arrays of the chunk, whatever the
    # text): a character is escaped when an odd run of backslashes precedes it, an unescaped
    # quote opens or closes a string, and unescaped brackets count outside strings only. (A regular expression over whole strings kept about
    # 120 bytes of backtracking state per character.)
    depth = deepest = 0
    in_string = 0  # parity of the unescaped quotes so far
    backslashes = 0  # length of the run of backslashes that ends the previous chunk
    for start in range(0, len(text), _DEPTH_CHUNK):
        codes = np.frombuffer(text[start : start + _DEPTH_CHUNK].encode("utf-8", "replace"), dtype=np.uint8)
        index = np.arange(codes.size)
        slash = codes == 0x5C
        # the run of backslashes right before each position (the previous chunk's run carried)
        last_other = np.maximum.accumulate(np.where(slash, -1, index))
        before = np.empty(codes.size, dtype=np.int64)
        before[0] = backslashes
        before[1:] = index[:-1] - last_other[:-1]
        carried = last_other[:-1] < 0  # a run that started in the previous chunk
        before[1:][carried] += backslashes
        plain = before % 2 == 0  # not escaped
        quote = (codes == 0x22) & plain
        outside = ((np.cumsum(quote) + in_string) % 2 == 0) & plain
        step = ((codes == 0x5B) | (codes == 0x7B)).astype(np.int64) - ((codes == 0x5D) | (codes == 0x7D))
        run = np.cumsum(step * outside) + depth
        deepest = max(deepest, int(run.max()))
        depth, in_string = int(run[-1]), int(in_string + quote.sum()) % 2
        backslashes = int(codes.size - 1 - last_other[-1]) + (backslashes if last_other[-1] < 0 else 0)
    return deepest


_DEPTH_CHUNK = 1 << 20


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` for untrusted text: bounded size and depth, errors as :class:`FormatError`.

    Examples
    --------
    >>> parse_json(b'{"a": 1}')
    {'a': 1}
    >>> parse_json("{")
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.FormatError: header is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))
    """
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_HEADER_BYTES:
            raise FormatError(
                f"a header of {len(text)} bytes; at most {MAX_HEADER_BYTES >> 20} MiB are read (about 1 KB per second of "
                "stereo audio: this one is corrupt or hostile)"
            )
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        raise FormatError(f"header is a {type(text).__name__}, not text")
    if len(text) > MAX_HEADER_BYTES:
        raise FormatError(
            f"a header of {len(text)} characters; at most {MAX_HEADER_BYTES >> 20} MiB are read (about 1 KB per second of "
            "stereo audio: this one is corrupt or hostile)"
        )
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise FormatError(f"header JSON is nested {depth} deep; at most {MAX_JSON_DEPTH} is allowed")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"header is not valid JSON ({exc})") from exc


def header_from_profile(
    profile: GGDProfile,
    *,
    length: int,
    gains: Any,
    tile_frames: int,
    tilt: float = 8.0,
    rounding: str = "round",
    reconstruction: str = "midpoint",
    stereo: str = "none",
    source_channels: int = 1,
    source_sample_rate: int | None = None,
    source_length: int | None = None,
    stored_bands: int | None = None,
    arrangement: str = "rows",
    embed_profile: bool | None = None,
    band_gain_width: float | None = None,
    band_gains: Any = None,
    coding: dict[str, Any] | None = None,
) -> AudioImageHeader:
    """Build a header for audio transformed with ``profile`` (the geometry comes from the profile).

    ``embed_profile`` (default: when the profile is not shipped) stores the profile by value;
    the other keywords are the fields of :class:`AudioImageHeader` (``coding``: the codec's
    section, see :class:`mdctcompand.codec.section.CodingSection`).
    Invalid values raise :class:`~mdctcompand.ParameterError` (the settings would give a
    file that cannot be decoded).

    Examples
    --------
    >>> h = header_from_profile(default_profile(), length=48000, gains=[[0.5]], tile_frames=128)
    >>> h.sample_rate, h.stored_bands, h.n_frames
    (24000, 512, 95)
    """
    if embed_profile is None:
        embed_profile = shipped_profile(profile.id) is None
    rows = np.asarray(gains, dtype=np.float64)
    n_tiles = int(rows.shape[0]) if rows.ndim == 2 else 0
    try:
        return AudioImageHeader(
            source_sample_rate=int(profile.sample_rate if source_sample_rate is None else source_sample_rate),
            source_channels=int(source_channels),
            source_length=int(length if source_length is None else source_length),
            sample_rate=profile.sample_rate, length=int(length), frame_length=profile.frame_length,
            window=profile.window, level=str(profile.level), stereo=stereo,
            stored_channels=2 if stereo in ("mid-side", "left-right") else 1,
            stored_bands=int(profile.n_bands if stored_bands is None else stored_bands),
            tile_frames=int(tile_frames), n_tiles=n_tiles, tilt=float(tilt), rounding=rounding,
            reconstruction=reconstruction,
            gains=tuple(tuple(float(v) for v in row) for row in rows) if rows.ndim == 2 else (),
            profile_id=profile.id, profile_name=profile.name, profile=profile if embed_profile else None,
            arrangement=arrangement, coding=coding or None, band_gain_width=band_gain_width,
            band_gains=None if band_gains is None else tuple(
                tuple(tuple(float(v) for v in row) for row in tile) for tile in np.asarray(band_gains, np.float64)
            ),
        )  # fmt: skip
    except FormatError as exc:
        raise ParameterError(f"these settings would write a file that cannot be decoded: {exc}") from exc
