"""The whole transform T: audio <-> 8-bit image (bands x frames, low frequencies at the bottom).

``T(x) = flipud(Q(F(MDCT(g x))))`` with ``g`` the level-normalizing gain, ``F`` the per-band
GGD compander and ``Q`` the 8-bit quantizer; its inverse decodes the codes, inverts the
MDCT and undoes the gain. :class:`AudioImageConverter` holds the settings (profile, tilt,
rounding, reconstruction, level, stored bands, channel layout) and converts in both
directions, to numpy codes or to PIL images, for any audio length and sample rate (audio
at another rate is resampled with soxr, and decoded back to it). Images from diffusion
models (float values, RGB) are accepted on the way back.

This is the one audio <-> image path of the library: the codec (:mod:`mdctcompand.codec`)
streams tiles through :meth:`AudioImageConverter.codes_from_coefficients` and
:meth:`AudioImageConverter.coefficients_from_codes`, and the dataset builder writes
:meth:`AudioImageConverter.image_from_audio`'s images. Every image carries an
:class:`~mdctcompand.header.AudioImageHeader` (``image.info[METADATA_KEY]``, JSON).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import as_float_audio, check_int
from .band_gains import (
    TILT_WITH_BAND_GAINS,
    TILT_WITHOUT_BAND_GAINS,
    BandGainMode,
    BandGains,
    band_gain_factors,
)
from .channels import ChannelLayout
from .compand import DEFAULT_ROUNDING, N_LEVELS, Compander
from .exceptions import ParameterError
from .header import AudioImageHeader, header_from_profile
from .profile import GGDProfile, LevelSpec, check_rate_served, default_profile, load_profile, profile_for_rate
from .transform import MDCT

__all__ = ["METADATA_KEY", "TILT_WITH_BAND_GAINS", "TILT_WITHOUT_BAND_GAINS", "AudioImageConverter", "ChannelLayout", "CodeImage", "ConverterGeometry"]

#: Key of the JSON settings attached to PIL images (``image.info[METADATA_KEY]``).
METADATA_KEY = "mdctcompand"


@dataclass(frozen=True)
class CodeImage:
    """8-bit codes of a clip and what is needed to invert them.

    Attributes
    ----------
    codes : np.ndarray of uint8, shape (..., n_bands, n_frames)
        Image orientation: row 0 is the highest band, time runs left to right.
    gain : np.ndarray of float64, shape (...)
        Gain applied to each clip (channel) before the transform; decoding divides by it.
    band_gains : np.ndarray of float64, shape (..., n_groups), or None
        Band-group gains in dB applied on top of ``gain`` (``None``: none, the profile's level).
    length : int
        Number of audio samples represented (the frames may hold padding beyond it).
    sample_rate : int
        Sample rate of the codes (the converter's) in Hz.
    source_sample_rate : int or None
        Rate of the audio that went in (``None``: the converter's); decoding returns it.
    source_length : int or None
        Samples of the audio that went in, at its rate (``None``: ``length``).

    Examples
    --------
    >>> import numpy as np
    >>> enc = AudioImageConverter().codes_from_audio(np.zeros((2, 5000), np.float32))
    >>> enc.codes.shape, enc.gain.shape, enc.n_frames
    ((2, 512, 11), (2,), 11)
    """

    codes: np.ndarray
    gain: np.ndarray
    length: int
    sample_rate: int
    source_sample_rate: int | None = None
    source_length: int | None = None
    band_gains: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames (image width)."""
        return int(self.codes.shape[-1])


def _load_profile(profile: GGDProfile | str | os.PathLike | None) -> GGDProfile:
    if profile is None:
        return default_profile()
    if isinstance(profile, (GGDProfile, str, os.PathLike)):
        return load_profile(profile)
    raise ParameterError(f"profile={profile!r} must be a GGDProfile, a shipped profile's name, a path to one or None")


class ConverterGeometry:
    """The geometry every audio <-> 8-bit image converter shares (the numpy one and its torch
    twin), read from its ``profile``, ``mdct`` and ``compander``.

    Examples
    --------
    >>> c = AudioImageConverter()
    >>> c.sample_rate, c.n_bands, c.hop_length
    (24000, 512, 512)
    """

    if TYPE_CHECKING:  # what a converter provides (not class attributes: the docs would list them)
        profile: Any
        mdct: Any
        compander: Any

    @property
    def sample_rate(self) -> int:
        """Sample rate the converter works at (the profile's)."""
        return int(self.profile.sample_rate)

    @property
    def n_bands(self) -> int:
        """Image height per channel: the stored bands (the profile's, or the lowest ``bands``)."""
        return int(self.compander.n_bands)  # a plain int (torch.compile traces no numpy)

    @property
    def hop_length(self) -> int:
        """Samples per image column."""
        return int(self.mdct.hop_length)

    def n_frames(self, n_samples: int) -> int:
        """Image width for ``n_samples`` samples (at :attr:`sample_rate`).

        Examples
        --------
        >>> AudioImageConverter().n_frames(240000)
        470
        """
        return int(self.mdct.n_frames(n_samples))

    def max_samples(self, n_frames: int) -> int:
        """Most samples an image of ``n_frames`` columns holds (``(n_frames - 1) * hop``).

        Examples
        --------
        >>> AudioImageConverter().max_samples(512) / 24000  # seconds in a 512 x 512 image
        10.901333333333334
        """
        return int(self.mdct.max_samples(n_frames))


class AudioImageConverter(ConverterGeometry):
    """Convert audio to companded-MDCT 8-bit images and back.

    Parameters
    ----------
    profile : GGDProfile, str, path or None
        Per-band GGD profile: a profile, a shipped name (``"paper"``, ``"44k"``, ``"48k"``, see
        :func:`~mdctcompand.load_profile`) or a profile file. ``None`` uses the paper's
        profile (24 kHz, frame 1024, 512 bands covering 0-12 kHz), whatever the audio's rate:
        for full band at the audio's rate use :meth:`for_sample_rate`.
    tilt : float, optional
        Scale tilt ``c`` of the compander (1 reproduces the paper). Default:
        :data:`TILT_WITH_BAND_GAINS` (3) with band gains, :data:`TILT_WITHOUT_BAND_GAINS` (4)
        without.
    rounding : {"round", "floor"}, default "round"
        Quantizer convention (round: silence stays silent), see :class:`~mdctcompand.compand.Compander`.
    reconstruction : {"midpoint", "centroid"}
        Decoded value of each code.
    level : str or LevelSpec, optional
        Level normalization (``"rms:-20"``, ``"peak:-1"``, ``"none"``); defaults to the
        profile's, which is what its scales assume.
    workers : int, default 1
        Threads for the MDCT and the quantizer.
    bands : int, optional
        Store only the lowest ``bands`` bands (image height per channel); the others decode
        as silence. Default: all of the profile's.
    channels : ChannelLayout or {"mid-side", "left-right", "mono"}, default "mid-side"
        How multichannel audio becomes an image (:mod:`mdctcompand.channels`): the default
        stores stereo as mid and side, stacked as rows (mid on top).
    resample_quality : str, default "VHQ"
        soxr recipe for audio at another sample rate.
    band_gains : {"clip", "none"} or BandGains, default "clip"
        Band-group gains (:mod:`mdctcompand.band_gains`): ``"clip"`` measures one gain per
        group of bands (11-12 groups), clip and stored channel, and stores them in the header,
        so that no band overloads whatever the music's balance; ``"none"`` compands every clip
        at the profile's level (no side information: images that a model generates decode on
        their own).

    Notes
    -----
    Audio enters with its rate (``sample_rate=`` of :meth:`codes_from_audio` and
    :meth:`image_from_audio`); audio at another rate than the profile's is resampled with
    soxr, and rates more than :data:`~mdctcompand.profile.MAX_RESAMPLE_RATIO` times away
    from it are refused with an error naming both. ``sample_rate=None`` states that the
    audio is at the converter's rate (:attr:`sample_rate`).

    Examples
    --------
    >>> import numpy as np
    >>> conv = AudioImageConverter()
    >>> t = np.arange(24000) / 24000
    >>> x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    >>> enc = conv.codes_from_audio(x, sample_rate=24000)
    >>> enc.codes.shape, enc.codes.dtype
    ((512, 48), dtype('uint8'))
    >>> y = conv.audio_from_codes(enc)
    >>> bool(10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2)) > 30)
    True
    """

    def __init__(
        self,
        profile: GGDProfile | str | os.PathLike | None = None,
        *,
        tilt: float | None = None,
        rounding: str = DEFAULT_ROUNDING,
        reconstruction: str = "midpoint",
        level: str | LevelSpec | None = None,
        workers: int | None = 1,
        bands: int | None = None,
        channels: ChannelLayout | str | None = None,
        resample_quality: str = "VHQ",
        band_gains: BandGains | BandGainMode = "clip",
    ) -> None:
        self._band_gains = BandGains.parse(band_gains)
        if tilt is None:
            tilt = TILT_WITH_BAND_GAINS if self._band_gains is not None else TILT_WITHOUT_BAND_GAINS
        self._profile = _load_profile(profile)
        self._mdct = MDCT(self._profile.frame_length, window=self._profile.window, workers=workers)
        self._compander = Compander(
            self._profile, tilt=tilt, rounding=rounding, reconstruction=reconstruction, workers=workers,
            bands=bands,
        )  # fmt: skip
        self._level = self._profile.level if level is None else LevelSpec.parse(level)
        self._layout = ChannelLayout.parse(channels)
        self._resample_quality = resample_quality

    @classmethod
    def for_sample_rate(cls, sample_rate: int, **kwargs: Any) -> AudioImageConverter:
        """A converter with the shipped profile for audio at ``sample_rate`` (full band at 44.1/48 kHz).

        The profile is :func:`~mdctcompand.profile_for_rate` of the rate (8-24 kHz: the paper's
        24 kHz one; 44.1 kHz: ``"44k"``; 48 kHz: ``"48k"``; see there for the others); the
        keywords are those of the constructor, ``profile`` excepted.

        Examples
        --------
        >>> conv = AudioImageConverter.for_sample_rate(44100)
        >>> conv.sample_rate, conv.n_bands
        (44100, 1024)
        >>> img = conv.image_from_audio(np.zeros((2, 44100), np.float32), sample_rate=44100)
        >>> img.size  # mid over side, 1024 bands each
        (45, 2048)
        """
        if "profile" in kwargs:
            raise ParameterError("for_sample_rate() chooses the profile; pass profile= to the constructor instead")
        return cls(profile_for_rate(sample_rate), **kwargs)

    # ------------------------------------------------------------------ properties
    @property
    def profile(self) -> GGDProfile:
        """The GGD profile."""
        return self._profile

    @property
    def mdct(self) -> MDCT:
        """The MDCT."""
        return self._mdct

    @property
    def compander(self) -> Compander:
        """The compander and quantizer (over the stored bands)."""
        return self._compander

    @property
    def level(self) -> LevelSpec:
        """Level normalization."""
        return self._level

    @property
    def band_gains(self) -> BandGains | None:
        """How band-group gains are measured (``None``: no band gains)."""
        return self._band_gains

    def _gain_groups(self) -> BandGains:
        """The band groups of gains given to this converter: its own, else the default ones."""
        return self._band_gains if self._band_gains is not None else BandGains()

    def band_group_edges(self) -> np.ndarray:
        """Edges of the stored band groups that get gains (empty without band gains).

        Examples
        --------
        >>> AudioImageConverter().band_group_edges().tolist()
        [0, 8, 16, 24, 40, 56, 88, 136, 200, 296, 440, 512]
        """
        if self._band_gains is None:
            return np.zeros(0, dtype=np.int64)
        return self._band_gains.group_edges(
            self._profile.n_bands, sample_rate=self.sample_rate, stored_bands=self.n_bands
        )

    def measure_band_gains(self, coefficients: Any, *, gain: Any = 1.0) -> np.ndarray | None:
        """Band-group gains in dB ``(..., n_groups)`` of coefficients ``(..., n_bins, n_frames)`` times ``gain``.

        ``gain`` (per leading index) is the level gain that :meth:`codes_from_coefficients` will
        apply with the band gains (the coefficients are not scaled here). ``None`` without band
        gains. Streaming clients (the codec) measure each tile with it and pass the result to
        :meth:`codes_from_coefficients`.

        Examples
        --------
        >>> conv = AudioImageConverter()
        >>> X = conv.mdct.forward(np.zeros(4800, np.float32))
        >>> conv.measure_band_gains(X).tolist()  # silence: every group at the largest boost
        [12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0]
        """
        if self._band_gains is None:
            return None
        X = np.asarray(coefficients)
        g = np.asarray(gain, dtype=np.float64)
        reference = self._profile.std[: self.n_bands] / g[..., None]  # the coefficients' scale, not yet gained
        return self._band_gains.measure(
            X[..., : self.n_bands, :], reference, sample_rate=self.sample_rate, n_bands=self._profile.n_bands
        )

    @property
    def channels(self) -> ChannelLayout:
        """How multichannel audio is stored."""
        return self._layout

    def settings(self) -> dict[str, Any]:
        """Everything needed to rebuild this converter, JSON-compatible (profile by value).

        Examples
        --------
        >>> s = AudioImageConverter(tilt=3.5).settings()
        >>> s["tilt"], s["level"], s["profile"]["n_bands"], s["channels"], s["band_gains"]["relative_width"]
        (3.5, 'rms:-20', 512, 'mid-side', 0.5)
        """
        return {
            "profile": self._profile.to_dict(),
            **self._compander.settings(),
            "level": str(self._level),
            "channels": self._layout.mode,
            "arrangement": self._layout.arrangement,
            "band_gains": None if self._band_gains is None else self._band_gains.to_dict(),
        }

    @classmethod
    def from_settings(cls, settings: dict[str, Any], *, workers: int | None = 1) -> AudioImageConverter:
        """Inverse of :meth:`settings`.

        Examples
        --------
        >>> c = AudioImageConverter(tilt=2.0, rounding="round", bands=128)
        >>> AudioImageConverter.from_settings(c.settings()).n_bands
        128

        Settings written before band gains existed (no ``"band_gains"`` key) have none.
        """
        band = settings.get("band_gains")
        try:
            return cls(
                GGDProfile.from_dict(settings["profile"]),
                tilt=settings["tilt"],
                rounding=settings["rounding"],
                reconstruction=settings["reconstruction"],
                level=settings["level"],
                workers=workers,
                bands=settings.get("bands"),
                channels=ChannelLayout(
                    settings.get("channels", "mid-side"), settings.get("arrangement", "rows")
                ),
                band_gains="none" if band is None else BandGains.from_dict(band),
            )
        except KeyError as exc:
            raise ParameterError(f"converter settings lack {exc.args[0]!r}") from exc

    # ------------------------------------------------------------------ rates
    def _at_my_rate(self, x: np.ndarray, sample_rate: Any) -> np.ndarray:
        if sample_rate is None:
            return x
        sample_rate = check_rate_served(self._profile, sample_rate)
        if sample_rate == self.sample_rate:
            return x
        from .io import resample

        return resample(x, sample_rate, self.sample_rate, quality=self._resample_quality)

    def _to_rate(self, y: np.ndarray, sample_rate: int, length: int) -> np.ndarray:
        """``y`` at the converter's rate -> ``length`` samples at ``sample_rate``."""
        if sample_rate != self.sample_rate:
            from .io import resample

            y = resample(y, self.sample_rate, sample_rate, quality=self._resample_quality)
        if y.shape[-1] < length:
            y = np.concatenate([y, np.zeros(y.shape[:-1] + (length - y.shape[-1],), y.dtype)], axis=-1)
        return y[..., :length]

    # ------------------------------------------------------------------ coefficients <-> codes
    def codes_from_coefficients(
        self, coefficients: Any, *, gain: Any = 1.0, band_gains: Any = None, overwrite: bool = False
    ) -> np.ndarray:
        """8-bit codes of MDCT coefficients ``(..., n_bins, n_frames)`` scaled by ``gain`` (per leading index).

        ``band_gains`` (dB, ``(..., n_groups)``, from :meth:`measure_band_gains` of the scaled
        coefficients) multiply the band groups as well. Returns the stored bands in image
        orientation, ``(..., n_bands, n_frames)`` uint8 (row 0 the highest stored band).
        Streaming clients (the codec) use this with the frames of
        :meth:`~mdctcompand.MDCT.stream_analyzer`; ``overwrite=True`` lets the scaling happen in
        ``coefficients`` (an array of the caller's that is not needed afterwards) instead of a copy.

        Examples
        --------
        >>> conv = AudioImageConverter(bands=64)
        >>> conv.codes_from_coefficients(np.zeros((512, 3), np.float32)).shape
        (64, 3)
        """
        X = np.asarray(coefficients)
        if X.ndim < 2 or X.shape[-2] != self._mdct.n_bins:
            raise ParameterError(
                f"coefficients of shape {X.shape} must be (..., {self._mdct.n_bins}, n_frames)"
            )
        if self.n_bands < X.shape[-2]:
            X = X[..., : self.n_bands, :]
        scale = self._band_scale(gain, band_gains, X.shape[:-2])
        if scale is not None and overwrite and isinstance(coefficients, np.ndarray) and X.dtype.kind == "f":
            X *= scale.astype(X.dtype)[..., None]
        elif scale is not None:
            X = X * scale.astype(X.dtype)[..., None]  # a fresh array: the caller's stays
        return self._compander.encode_image(X, check_finite=False)

    def _band_scale(self, gain: Any, band_gains: Any, lead: tuple[int, ...]) -> np.ndarray | None:
        """Per-band factors ``(..., n_bands)`` of a level gain and band gains; ``None`` if all are 1."""
        g = np.asarray(gain, dtype=np.float64)
        if band_gains is None:
            return None if np.all(g == 1.0) else np.broadcast_to(g[..., None], g.shape + (self.n_bands,))
        edges = self._gain_groups().group_edges(
            self._profile.n_bands, sample_rate=self.sample_rate, stored_bands=self.n_bands
        )
        factors = band_gain_factors(band_gains, edges)
        try:
            return g[..., None] * factors
        except ValueError as exc:
            raise ParameterError(
                f"gain of shape {g.shape} and band gains of shape {np.shape(band_gains)} do not match codes "
                f"with leading shape {lead}"
            ) from exc

    def coefficients_from_codes(
        self,
        codes: Any,
        *,
        gain: Any = 1.0,
        band_gains: Any = None,
        table: Any = None,
        dtype: Any = np.float32,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Coefficients ``(..., n_bins, n_frames)`` of image-oriented codes ``(..., n_bands, n_frames)``.

        uint8 codes decode by table look-up (``table``: another ``(n_bands, 256)`` table, e.g.
        :meth:`~mdctcompand.compand.Compander.posterior_mean_table`); real values (model outputs,
        code units 0..255) with the continuous inverse compander. Bands above the stored ones
        are zero; the result is divided by ``gain`` (per leading index) and by the band-group
        gains ``band_gains`` (dB, ``(..., n_groups)``). ``out`` (``dtype``, the result's shape,
        at most 3-D, rows contiguous) receives the result without another array: a buffer
        reused for many tiles, or one whose rows are padded off a power-of-two stride.

        Examples
        --------
        >>> conv = AudioImageConverter(bands=64)
        >>> X = conv.coefficients_from_codes(np.full((64, 3), 128, np.uint8))
        >>> X.shape, float(np.abs(X).max())
        ((512, 3), 0.0)
        >>> buffer = np.ones((512, 3), np.float32)
        >>> conv.coefficients_from_codes(np.full((64, 3), 128, np.uint8), out=buffer) is buffer
        True
        """
        arr = np.asarray(codes)
        if arr.ndim < 2 or arr.shape[-2] != self.n_bands:
            raise ParameterError(
                f"codes of shape {arr.shape} must be (..., n_bands={self.n_bands}, n_frames)"
            )
        shape = arr.shape[:-2] + (self._mdct.n_bins, arr.shape[-1])
        if out is not None and (
            not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != np.dtype(dtype)
            or out.ndim > 3 or out.strides[-1] != out.itemsize
        ):  # fmt: skip
            raise ParameterError(f"out must be a {np.dtype(dtype)} array of shape {shape} (at most 3-D, rows contiguous)")
        full = out
        if arr.dtype == np.uint8:
            if full is None and self.n_bands < self._mdct.n_bins and arr.ndim <= 3 and dtype in (np.float32, np.float64):
                full = np.empty(shape, dtype=dtype)  # decoded straight into the stored rows of the full array
            X = self._compander.decode_image(
                arr, dtype=dtype, table=table, out=None if full is None else full[..., : self.n_bands, :]
            )
        else:
            X = self._compander.decode_continuous(arr[..., ::-1, :], dtype=dtype)
            if full is not None:
                full[..., : self.n_bands, :] = X
                X = full[..., : self.n_bands, :]
        g = _check_gain(gain, arr.shape[:-2])
        scale = self._band_scale(1.0 if g is None else g, band_gains, arr.shape[:-2])
        if scale is not None:
            X /= scale.astype(X.dtype)[..., None]  # in place: the decoder returned a fresh array
        if full is not None:
            full[..., self.n_bands :, :] = 0.0
            return full
        if self.n_bands < self._mdct.n_bins:
            full = np.zeros(X.shape[:-2] + (self._mdct.n_bins, X.shape[-1]), dtype=X.dtype)
            full[..., : self.n_bands, :] = X
            X = full
        return X

    # ------------------------------------------------------------------ audio -> codes
    def codes_from_audio(
        self, audio: Any, *, sample_rate: int | None = None, n_frames: int | None = None
    ) -> CodeImage:
        """Transform audio into 8-bit codes, every leading index (channel, batch item) on its own.

        Parameters
        ----------
        audio : array_like, shape (..., n_samples)
            Float audio or integer PCM; leading axes are transformed independently, each
            with its own gain (see :meth:`image_from_audio` for stereo images).
        sample_rate : int, optional
            Rate of ``audio``. Another rate than :attr:`sample_rate` is resampled (soxr);
            ``None`` means the audio is at :attr:`sample_rate` already.
        n_frames : int, optional
            Pad with silence to exactly this many frames (a fixed image width); the audio
            (at the converter's rate) must fit (``n_samples <= (n_frames - 1) * hop``).

        Returns
        -------
        CodeImage

        Examples
        --------
        >>> import numpy as np
        >>> from mdctcompand.testing import make_signal
        >>> conv = AudioImageConverter()
        >>> enc = conv.codes_from_audio(make_signal("mixture", 100000).astype(np.float32), n_frames=512)
        >>> enc.codes.shape, enc.length, round(float(enc.gain), 3) > 0
        ((512, 512), 100000, True)
        >>> conv.codes_from_audio(np.zeros(44100, np.float32), sample_rate=44100).length  # resampled
        24000
        """
        x = as_float_audio(audio, finite=False)  # MDCT.forward checks (and names) NaN/inf
        source_length = x.shape[-1]
        x = self._at_my_rate(x, sample_rate)
        length = x.shape[-1]
        if n_frames is not None:
            n_frames = check_int(n_frames, "n_frames", minimum=2)
            capacity = self.max_samples(n_frames)
            if length > capacity:
                raise ParameterError(
                    f"audio of {length} samples does not fit in {n_frames} frames (at most {capacity} samples)"
                )
            if capacity > length:
                x = np.concatenate([x, np.zeros(x.shape[:-1] + (capacity - length,), dtype=x.dtype)], axis=-1)
        gain = np.asarray(self._level.gain(x[..., :length]), dtype=np.float64)
        coefficients = self._mdct.forward(x)
        band_gains = self._scale_in_place(coefficients, gain)
        codes = self.codes_from_coefficients(coefficients)
        rate = None if sample_rate is None else int(sample_rate)
        return CodeImage(codes, gain, length, self.sample_rate, rate, source_length if rate else None, band_gains)

    def _scale_in_place(self, coefficients: np.ndarray, gain: np.ndarray) -> np.ndarray | None:
        """Measure the band gains of ``coefficients * gain`` and apply both to our own array in one
        pass (the MDCT is linear: no copy), exactly as :meth:`codes_from_coefficients` scales."""
        band_gains = self.measure_band_gains(coefficients, gain=gain)
        scale = self._band_scale(gain, band_gains, coefficients.shape[:-2])
        if scale is not None:
            coefficients[..., : self.n_bands, :] *= scale.astype(coefficients.dtype)[..., None]
        return band_gains

    # ------------------------------------------------------------------ codes -> audio
    def audio_from_codes(
        self,
        codes: CodeImage | Any,
        *,
        length: int | None = None,
        gain: Any = None,
        band_gains: Any = None,
        sample_rate: int | None = None,
        dtype: Any = np.float32,
    ) -> np.ndarray:
        """Invert :meth:`codes_from_audio`.

        Parameters
        ----------
        codes : CodeImage or array_like, shape (..., n_bands, n_frames)
            uint8 codes in image orientation; or real values (model outputs) in code units
            [0, 255], decoded with the continuous inverse compander.
        length : int, optional
            Samples at the converter's rate; default: the CodeImage's length, or everything
            the frames hold.
        gain : float or array_like, optional
            Gain to undo; default: the CodeImage's gain, or 1 for plain arrays.
        band_gains : array_like, optional
            Band-group gains (dB, ``(..., n_groups)``) to undo; default: the CodeImage's, or
            none for plain arrays (the profile's level: what a model's images decode with).
        sample_rate : int, optional
            Rate of the result (resampled with soxr). Default: the rate the CodeImage's
            audio came in at (with its exact length), else the converter's.
        dtype : float32 or float64

        Returns
        -------
        audio : np.ndarray, shape (..., n_samples)

        Examples
        --------
        >>> import numpy as np
        >>> from mdctcompand.testing import make_signal
        >>> conv = AudioImageConverter()
        >>> x = make_signal("noise", 30000).astype(np.float32)
        >>> y = conv.audio_from_codes(conv.codes_from_audio(x))
        >>> y.shape, bool(np.corrcoef(x, y)[0, 1] > 0.99)
        ((30000,), True)
        >>> conv.audio_from_codes(conv.codes_from_audio(x, sample_rate=16000)).shape  # back at 16 kHz
        (30000,)
        """
        out_rate, out_length = self.sample_rate, None
        if isinstance(codes, CodeImage):
            length = codes.length if length is None else length
            gain = codes.gain if gain is None else gain
            band_gains = codes.band_gains if band_gains is None else band_gains
            if codes.source_sample_rate is not None:
                out_rate, out_length = codes.source_sample_rate, codes.source_length
            codes = codes.codes
        arr = np.asarray(codes)
        if arr.ndim < 2 or arr.shape[-2] != self.n_bands:
            raise ParameterError(
                f"codes of shape {arr.shape} must be (..., n_bands={self.n_bands}, n_frames)"
            )
        if arr.shape[-1] < 2:
            raise ParameterError(f"codes have {arr.shape[-1]} frame(s); at least 2 are needed")
        n_frames = arr.shape[-1]
        if length is None:
            length = self.max_samples(n_frames)
        length = check_int(length, "length", minimum=1)
        if self.n_frames(length) > n_frames:
            raise ParameterError(
                f"length={length} needs {self.n_frames(length)} frames; the codes have {n_frames}"
            )
        g = _check_gain(gain, arr.shape[:-2])
        coefficients = self.coefficients_from_codes(
            arr[..., : self.n_frames(length)], band_gains=band_gains, dtype=dtype
        )
        # Decoded from 8-bit codes (finite tables) or checked by decode_continuous: finite.
        audio = self._mdct.inverse(coefficients, length=length, check_finite=False)
        if g is not None:
            audio /= g[..., None].astype(audio.dtype)  # in place: the inverse returned a fresh array
        if sample_rate is not None:
            out_rate = check_int(sample_rate, "sample_rate", minimum=1)
            out_length = None
        if out_rate != self.sample_rate:
            if out_length is None:
                out_length = max(1, round(length * out_rate / self.sample_rate))
            audio = self._to_rate(audio, out_rate, out_length)
        return audio.astype(dtype, copy=False)

    # ------------------------------------------------------------------ PIL images
    def image_from_audio(self, audio: Any, *, sample_rate: int | None = None, n_frames: int | None = None):
        """Transform audio ``(n_samples,)`` or ``(channels, n_samples)`` into a PIL image with its header.

        Stereo goes through the channel layout (:attr:`channels`; mid/side stacked as rows by
        default, one gain for both channels). The image's ``info[METADATA_KEY]`` holds the
        :class:`~mdctcompand.header.AudioImageHeader` as JSON (PNG files keep it, see
        :meth:`save_image`), so :meth:`audio_from_image` inverts it without extra arguments,
        back to the source's rate, channels and length.

        Parameters
        ----------
        audio : array_like, shape (n_samples,) or (channels, n_samples)
            Float audio in [-1, 1] or integer PCM (soundfile's ``(n_samples, channels)`` arrays
            must be transposed: ``data.T``).
        sample_rate : int, optional
            The audio's rate; it is resampled to :attr:`sample_rate` when they differ. **None
            means the audio is already at the converter's rate** (:attr:`sample_rate`, 24 kHz
            for the paper's profile): nothing can tell a 48 kHz array from a 24 kHz one, so pass
            the rate whenever it may differ (48 kHz audio passed without it becomes an image of
            half speed, twice as long).
        n_frames : int, optional
            Image width in MDCT frames (default: just enough for the audio).

        Examples
        --------
        >>> conv = AudioImageConverter()
        >>> img = conv.image_from_audio(np.zeros(10000, dtype=np.float32), n_frames=64)
        >>> img.size, img.mode
        ((64, 512), 'L')
        >>> conv.image_from_audio(np.zeros((2, 44100), np.float32), sample_rate=44100).size
        (48, 1024)
        """
        from PIL import Image

        x = as_float_audio(audio)
        if x.ndim > 2:
            raise ParameterError(
                f"image_from_audio takes (n_samples,) or (channels, n_samples); got shape {x.shape}"
            )
        source = x.reshape(1, -1) if x.ndim == 1 else x
        stored = self._layout.forward(source)
        resampled = self._at_my_rate(stored, sample_rate)
        length = resampled.shape[-1]
        width = self.n_frames(length) if n_frames is None else check_int(n_frames, "n_frames", minimum=2)
        if length > self.max_samples(width):
            raise ParameterError(
                f"audio of {length} samples does not fit in {width} frames (at most {self.max_samples(width)} samples)"
            )
        joint = float(self._level.gain(resampled.reshape(-1)))
        padded = np.zeros((resampled.shape[0], self.max_samples(width)), dtype=resampled.dtype)
        padded[:, :length] = resampled
        coefficients = self._mdct.forward(padded)
        band_gains = self._scale_in_place(coefficients, np.full(padded.shape[:1], joint))
        codes = self.codes_from_coefficients(coefficients)
        header = self.image_header(
            length=length, gains=[[joint] * stored.shape[0]], n_frames=width, source_channels=source.shape[0],
            source_sample_rate=int(sample_rate or self.sample_rate), source_length=source.shape[-1],
            band_gains=None if band_gains is None else band_gains[None],
        )  # fmt: skip
        pixels = self._layout.arrange(codes)
        image = Image.fromarray(pixels, mode="LA" if pixels.ndim == 3 else "L")
        image.info[METADATA_KEY] = header.to_json()
        _keep_header_on_save(image)
        return image

    def image_header(
        self,
        *,
        length: int,
        gains: Any,
        n_frames: int,
        source_channels: int = 1,
        source_sample_rate: int | None = None,
        source_length: int | None = None,
        n_tiles: int = 1,
        band_gains: Any = None,
    ) -> AudioImageHeader:
        """The header of an image (or ``n_tiles`` tiles of ``n_frames``) made by this converter.

        ``band_gains``: ``(n_tiles, stored_channels, n_groups)`` gains in dB where the converter
        has band gains (:meth:`measure_band_gains` of each tile).

        Examples
        --------
        >>> h = AudioImageConverter(tilt=3.0).image_header(length=1000, gains=[[2.0]], n_frames=16)
        >>> h.tilt, h.stored_bands, h.n_frames
        (3.0, 512, 3)
        """
        c = self._compander
        stereo = self._layout.header_mode(source_channels)
        if len(np.asarray(gains).reshape(-1)) != n_tiles * (2 if stereo in ("mid-side", "left-right") else 1):
            raise ParameterError(
                f"gains={gains!r} do not match {n_tiles} tile(s) of {source_channels} channel(s)"
            )
        return header_from_profile(
            self._profile, length=length, gains=gains, tile_frames=n_frames, tilt=c.tilt, rounding=c.rounding,
            reconstruction=c.reconstruction, stereo=stereo, source_channels=source_channels,
            source_sample_rate=source_sample_rate, source_length=source_length, stored_bands=self.n_bands,
            arrangement=self._layout.arrangement, embed_profile=False,
            band_gain_width=None if band_gains is None else self._gain_groups().relative_width,
            band_gains=band_gains,
        )  # fmt: skip

    def save_image(self, image: Any, path: str | os.PathLike, *, compress_level: int = 6) -> None:
        """Write an image of :meth:`image_from_audio` as PNG with its header (atomically); planes stay planes.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> conv = AudioImageConverter()
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "clip.png"
        >>> conv.save_image(conv.image_from_audio(np.zeros(5000, np.float32)), path)
        >>> conv.audio_from_image(Image.open(path)).shape
        (5000,)
        """
        from .containers import encode_tile
        from .io import atomic_output

        text = getattr(image, "info", {}).get(METADATA_KEY)
        if text is None:
            raise ParameterError("the image has no mdctcompand header (make it with image_from_audio)")
        pixels = np.asarray(image)
        if pixels.ndim == 2:
            data = encode_tile(pixels, "png", metadata=text, effort=compress_level)
        else:  # channels as planes ("LA"), or the dataset builder's RGB
            import io

            from PIL import Image
            from PIL.PngImagePlugin import PngInfo

            info, buf = PngInfo(), io.BytesIO()
            info.add_itxt(METADATA_KEY, text, zip=True)
            Image.fromarray(pixels).save(buf, "PNG", pnginfo=info, compress_level=compress_level)
            data = buf.getvalue()
        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_bytes(data)

    def read_header(self, image: Any) -> AudioImageHeader | None:
        """The header of an image (``None`` if it has none), checked against this converter.

        Raises :class:`~mdctcompand.ParameterError` if the image was made with other
        settings (profile, tilt, rounding, stored bands) and :class:`~mdctcompand.FormatError`
        if the header is corrupt.

        Examples
        --------
        >>> conv = AudioImageConverter()
        >>> conv.read_header(conv.image_from_audio(np.zeros(5000, np.float32))).length
        5000
        >>> AudioImageConverter(tilt=2.0).read_header(conv.image_from_audio(np.zeros(5000, np.float32)))
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.ParameterError: the image was made with tilt=3.0; this converter uses 2.0
        """
        info = getattr(image, "info", None)
        if not isinstance(info, dict) or METADATA_KEY not in info:
            return None
        width = getattr(image, "width", None)
        header = AudioImageHeader.from_json(info[METADATA_KEY], image_width=width)
        self._check_header(header)
        return header

    def _check_header(self, h: AudioImageHeader) -> None:
        if not self._profile.matches_id(h.profile_id):
            raise ParameterError(
                f"the image was made with profile {h.profile_name!r} (id {h.profile_id}); this converter uses "
                f"{self._profile.name!r} (id {self._profile.id})"
            )
        c = self._compander
        for key, theirs, mine in (
            ("tilt", h.tilt, c.tilt),
            ("rounding", h.rounding, c.rounding),
            ("stored_bands", h.stored_bands, self.n_bands),
        ):
            if theirs != mine:
                raise ParameterError(
                    f"the image was made with {key}={theirs!r}; this converter uses {mine!r}"
                )
        width = self._gain_groups().relative_width
        if h.band_gain_width is not None and h.band_gain_width != width:
            raise ParameterError(
                f"the image was made with band groups of relative width {h.band_gain_width!r}; this converter's "
                f"are {width!r}"
            )

    def audio_from_image(
        self,
        image: Any,
        *,
        length: int | None = None,
        gain: Any = None,
        band_gains: Any = None,
        value_range: str = "auto",
        sample_rate: int | None = None,
        dtype: Any = np.float32,
    ) -> np.ndarray:
        """Invert :meth:`image_from_audio`; also takes arrays and model outputs.

        Parameters
        ----------
        image : PIL.Image.Image or array_like
            An image with a header (decoded to the source's rate, channels and length), a
            grayscale image (``L``), an RGB(A) image (channels averaged), or an array
            ``(..., n_bands, n_frames)`` / ``(n_bands, n_frames, 3)``: uint8 codes, or floats in
            [0, 1] or [0, 255].
        length, gain, band_gains : optional
            Override the values stored in the image's header (if any); ``length`` at the
            converter's rate, ``band_gains`` in dB per band group (see
            :meth:`measure_band_gains`). Without a header and ``band_gains``, an array
            decodes at the profile's level (what a model's images need); an image without a
            header is refused by a converter with band gains (its gains are lost).
        value_range : {"auto", "unit", "byte"}
            For float input: ``"unit"`` means [0, 1] (code = 255 v), ``"byte"`` means [0, 255];
            ``"auto"`` picks ``"unit"`` when every value is <= 1.
        sample_rate : int, optional
            Rate of the result; default: the header's source rate, else the converter's.
        dtype : float32 or float64

        Returns
        -------
        audio : np.ndarray, ``(n_samples,)`` or ``(channels, n_samples)``

        Examples
        --------
        >>> import numpy as np
        >>> conv = AudioImageConverter()
        >>> image = conv.image_from_audio(np.sin(np.arange(20000) / 10.0).astype(np.float32))
        >>> conv.audio_from_image(image).shape  # length and gain read from the header
        (20000,)
        >>> model_output = np.full((512, 64), 0.5)  # floats in [0, 1], e.g. from a diffusion model
        >>> conv.audio_from_image(model_output, length=20000).shape
        (20000,)
        """
        header = self.read_header(image)
        lost = header is None and hasattr(image, "getbands") and gain is None and band_gains is None
        if lost and self.band_gains is not None:
            _image_values(image, value_range)  # a mode it cannot read says so first
            raise ParameterError(
                "this image has no mdctcompand header (saved by a tool or to a format that drops it?): its level "
                "and band-group gains are unknown, and decoding without them costs tens of dB. Keep the header "
                "(conv.save_image, or image.save to .png), pass gain= and band_gains=, or, for a model's images, "
                'decode with AudioImageConverter(band_gains="none")'
            )
        if header is None:
            values = _image_values(image, value_range)
            return self.audio_from_codes(
                values, length=length, gain=gain, band_gains=band_gains, sample_rate=sample_rate, dtype=dtype
            )
        layout = ChannelLayout.from_header_mode(header.stereo, header.arrangement)
        if header.stored_channels == 1:
            stored = _image_values(image, value_range)[None]
        else:
            stored = layout.split(np.asarray(image), header.stored_channels)
        n = header.length if length is None else length
        g = np.broadcast_to(
            np.asarray(header.gains[0] if gain is None else gain, np.float64), stored.shape[:1]
        )
        band = band_gains if band_gains is not None or header.band_gains is None else header.band_gains[0]
        y = self.audio_from_codes(stored, length=n, gain=g, band_gains=band, dtype=dtype)
        y = layout.inverse(y, header.source_channels)
        rate = (
            header.source_sample_rate
            if sample_rate is None
            else check_int(sample_rate, "sample_rate", minimum=1)
        )
        if rate == header.source_sample_rate and length is None:
            n_out = header.source_length
        else:
            n_out = max(1, round(n * rate / self.sample_rate))
        if rate != self.sample_rate or n_out != y.shape[-1]:
            y = self._to_rate(y, rate, n_out)
        return y[0] if header.source_channels == 1 else y

    def __repr__(self) -> str:
        c = self._compander
        return (
            f"AudioImageConverter(profile={self._profile.name!r}, tilt={c.tilt:g}, rounding={c.rounding!r}, "
            f"reconstruction={c.reconstruction!r}, level='{self._level}', bands={self.n_bands}, "
            f"channels={self._layout.mode!r}, band_gains={'none' if self._band_gains is None else 'clip'!r})"
        )


def _keep_header_on_save(image: Any) -> None:
    """Make a plain ``image.save("x.png")`` keep the header (Pillow writes no text chunks of its
    own accord: the saved file would decode at gain 1 and the image's full length, 6.7 against
    35.6 dB on the README's example). Other formats than PNG are saved as Pillow saves them."""
    plain_save = image.save

    def save(fp: Any, format: str | None = None, **params: Any) -> None:  # Pillow's signature
        text = image.info.get(METADATA_KEY)
        suffix = os.path.splitext(os.fspath(fp))[1] if isinstance(fp, (str, os.PathLike)) else ""
        kind = (format or suffix.lstrip(".")).lower()
        if text is not None and kind in ("png", "apng") and "pnginfo" not in params:
            from PIL.PngImagePlugin import PngInfo

            info = PngInfo()
            info.add_itxt(METADATA_KEY, text, zip=True)
            params["pnginfo"] = info
        plain_save(fp, format, **params)

    image.save = save


def _check_gain(gain: Any, lead: tuple[int, ...]) -> np.ndarray | None:
    if gain is None:
        return None
    g = np.asarray(gain, dtype=np.float64)
    if not (np.all(np.isfinite(g)) and np.all(g > 0)):
        raise ParameterError("gain must be finite and > 0")
    try:
        return np.broadcast_to(g, lead)
    except ValueError as exc:
        raise ParameterError(
            f"gain of shape {g.shape} does not match codes with leading shape {lead}"
        ) from exc


def _image_values(image: Any, value_range: str) -> np.ndarray:
    """uint8 codes or float code values (0..255) from a PIL image or an array."""
    if value_range not in ("auto", "unit", "byte"):
        raise ParameterError(f"value_range={value_range!r} must be 'auto', 'unit' or 'byte'")
    from PIL import Image

    if isinstance(image, Image.Image):
        if image.mode == "L":
            return np.asarray(image)
        if image.mode in ("RGB", "RGBA", "LA"):
            arr = np.asarray(image.convert("RGB")).astype(np.float64).mean(axis=-1)
            return _exact_codes(arr)
        if image.mode in ("I", "F", "I;16"):
            arr = np.asarray(image).astype(np.float64)
        else:
            raise ParameterError(f"unsupported image mode {image.mode!r}; expected L, RGB, RGBA, I or F")
    else:
        arr = np.asarray(image)
        if arr.dtype == np.uint8:
            if arr.ndim == 3 and arr.shape[-1] in (3, 4):
                return _exact_codes(arr[..., :3].astype(np.float64).mean(axis=-1))
            return arr
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise ParameterError(f"image array has dtype {arr.dtype}; expected uint8 or real values")
        arr = arr.astype(np.float64)
        if arr.ndim == 3 and arr.shape[-1] in (3, 4):
            arr = arr[..., :3].mean(axis=-1)
    if arr.size and not np.all(np.isfinite(arr)):
        raise ParameterError("image values contain NaN or infinite values")
    if value_range == "unit" or (value_range == "auto" and arr.size and arr.max() <= 1.0):
        arr = arr * (N_LEVELS - 1)
    return _exact_codes(arr)


def _exact_codes(values: np.ndarray) -> np.ndarray:
    """Integer-valued floats in 0..255 become uint8 codes (exact decode); others stay float."""
    if values.size and np.all(values == np.round(values)) and values.min() >= 0 and values.max() <= 255:
        return values.astype(np.uint8)
    return values
