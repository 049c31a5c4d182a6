"""The codec's settings, in one place: :class:`EncodeSettings`."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..channels import ChannelLayout
from ..containers import FORMATS, MAX_TILE_SIDES
from ..exceptions import ParameterError
from ..header import MAX_TILE_PIXELS, MAX_TILE_SAMPLES, SAMPLE_RATE_RANGE
from ..profile import GGDProfile, check_rate_served, default_profile, load_profile, profile_for_rate

__all__ = ["CODEC_ROUNDING", "Decoder", "EncodeSettings", "ImageFormat", "QTable", "StereoMode"]

ImageFormat = Literal["jpeg", "png", "webp", "avif"]
StereoMode = Literal["mid-side", "left-right", "mono"]
QTable = Literal["flat", "standard"]
Decoder = Literal["table", "mmse"]

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
    format : {"jpeg", "png", "webp", "avif"}
        Image format; PNG is lossless (8-bit transform only).
    quality : int
        Lossy image quality 1..100 (about 22 kbit/s for mono music with JPEG at 25).
    tilt : float
        Compander scale tilt ``c`` used for coding (0.01..1000). Coding favours a larger tilt
        than the 8-bit transform's default: the image codec's errors then stay small near the
        code range's tails.
    stereo : {"mid-side", "left-right", "mono"}
        How two or more channels are stored (``"mono"`` downmixes any number).
    tile_frames : int
        Frames per tile (image width, a multiple of 16); longer audio is split into tiles.
    bandwidth : float or None
        Highest frequency stored (Hz, at least 100); bands above decode as silence and
        are not stored (fewer image rows, fewer bits). ``None``: all bands.
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
        Target in kbit/s: the highest quality whose first tile stays at or under it is
        used for the whole file (overrides ``quality``; lossy formats only).

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

    format: ImageFormat = "jpeg"
    quality: int = 25
    tilt: float = 8.0
    stereo: StereoMode = "mid-side"
    tile_frames: int = 4096
    bandwidth: float | None = None
    profile: GGDProfile | str | os.PathLike | None = field(default=None, repr=False)
    resample_quality: str = "HQ"
    qtable: QTable = "flat"
    bitrate: float | None = None

    def __post_init__(self) -> None:
        fmt = str(self.format).lower().replace("jpg", "jpeg")
        if fmt not in FORMATS:
            raise ParameterError(f"format={self.format!r} must be one of {sorted(FORMATS)}")
        object.__setattr__(self, "format", fmt)
        if (
            isinstance(self.quality, bool)
            or not isinstance(self.quality, int)
            or not 1 <= self.quality <= 100
        ):
            raise ParameterError(f"quality={self.quality!r} must be an integer in 1..100")
        ChannelLayout(self.stereo)  # checks the mode
        if isinstance(self.tile_frames, bool) or not isinstance(self.tile_frames, int):
            raise ParameterError(f"tile_frames={self.tile_frames!r} must be an integer")
        if self.tile_frames < 16 or self.tile_frames % 16:
            raise ParameterError(f"tile_frames={self.tile_frames} must be a multiple of 16, >= 16")
        widest = MAX_TILE_SIDES[fmt] // 16 * 16
        if self.tile_frames > widest:
            raise ParameterError(
                f"tile_frames={self.tile_frames}: {fmt} tiles are at most {widest} frames wide"
            )
        if self.bandwidth is not None and not MIN_BANDWIDTH <= self.bandwidth <= SAMPLE_RATE_RANGE[1]:
            raise ParameterError(
                f"bandwidth={self.bandwidth} must be between {MIN_BANDWIDTH:g} Hz and the Nyquist rate"
            )
        if not 1e-2 <= self.tilt <= 1e3:
            raise ParameterError(f"tilt={self.tilt} must be in [0.01, 1000]")
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
        if rows > MAX_TILE_SIDES[fmt]:
            raise ParameterError(f"{rows} image rows (stereo) exceed {fmt}'s limit of {MAX_TILE_SIDES[fmt]}")
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
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def for_rate(self, sample_rate: int) -> EncodeSettings:
        """These settings for input at ``sample_rate``: the profile chosen if none is set, the rate checked.

        ``profile=None`` becomes :func:`~mdctcompand.profile_for_rate` of the rate; a set
        profile must serve the rate (:func:`~mdctcompand.profile.check_rate_served`).

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
            return dataclasses.replace(self, profile=profile_for_rate(sample_rate))
        check_rate_served(self.resolved_profile, sample_rate)
        return self

    @property
    def resolved_profile(self) -> GGDProfile:
        """The profile (the paper's 24 kHz one when ``profile`` is ``None`` and no rate is known)."""
        return self.profile or default_profile()  # type: ignore[return-value]

    @property
    def stored_bands(self) -> int:
        """Bands stored per channel: all, or those up to ``bandwidth`` in whole 8-row blocks.

        Examples
        --------
        >>> EncodeSettings(bandwidth=6000).stored_bands
        256
        """
        p = self.resolved_profile
        if self.bandwidth is None:
            return p.n_bands
        above = int(np.searchsorted(p.band_frequencies(), self.bandwidth, side="right"))
        return int(min(p.n_bands, max(MIN_STORED_BANDS, -(-above // 8) * 8)))

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

    @property
    def multi_tile(self) -> bool:
        """Whether the format holds several tiles (AVIF holds one)."""
        return FORMATS[self.format][3]
