"""The whole transform T: audio <-> 8-bit image (bands x frames, low frequencies at the bottom).

``T(x) = flipud(Q(F(MDCT(g x))))`` with ``g`` the level-normalizing gain, ``F`` the per-band
GGD compander and ``Q`` the 8-bit quantizer; its inverse decodes the codes, inverts the
MDCT and undoes the gain. :class:`AudioImageConverter` holds the settings (profile, tilt,
rounding, reconstruction, level) and converts in both directions, to numpy codes or
to PIL images, for any audio length. Images from diffusion models (float values, RGB)
are accepted on the way back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_float_audio, check_int
from .compand import DEFAULT_ROUNDING, DEFAULT_TILT, N_LEVELS, Compander
from .exceptions import ParameterError
from .profile import GGDProfile, LevelSpec, default_profile
from .transform import MDCT

__all__ = ["METADATA_KEY", "AudioImageConverter", "CodeImage"]

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
    length : int
        Number of audio samples represented (the frames may hold padding beyond it).
    sample_rate : int
        Sample rate in Hz.

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

    @property
    def n_frames(self) -> int:
        """Number of frames (image width)."""
        return int(self.codes.shape[-1])


def _load_profile(profile: GGDProfile | str | os.PathLike | None) -> GGDProfile:
    if profile is None:
        return default_profile()
    if isinstance(profile, GGDProfile):
        return profile
    if isinstance(profile, (str, os.PathLike)):
        if str(profile) == "default":
            return default_profile()
        return GGDProfile.load(profile)
    raise ParameterError(f"profile={profile!r} must be a GGDProfile, a path to one, 'default' or None")


class AudioImageConverter:
    """Convert audio to companded-MDCT 8-bit images and back.

    Parameters
    ----------
    profile : GGDProfile, path or None
        Per-band GGD profile; ``None`` or ``"default"`` uses the shipped one (24 kHz, frame 1024).
    tilt : float, default 5.5
        Scale tilt ``c`` of the compander (1 reproduces the paper).
    rounding : {"round", "floor"}, default "round"
        Quantizer convention (round: silence stays silent), see :class:`~mdctcompand.compand.Compander`.
    reconstruction : {"midpoint", "centroid"}
        Decoded value of each code.
    level : str or LevelSpec, optional
        Level normalization (``"rms:-20"``, ``"peak:-1"``, ``"none"``); defaults to the
        profile's, which is what its scales assume.
    workers : int, default 1
        Threads for the MDCT and the quantizer.

    Examples
    --------
    >>> import numpy as np
    >>> conv = AudioImageConverter()
    >>> t = np.arange(24000) / 24000
    >>> x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    >>> enc = conv.codes_from_audio(x)
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
        tilt: float = DEFAULT_TILT,
        rounding: str = DEFAULT_ROUNDING,
        reconstruction: str = "midpoint",
        level: str | LevelSpec | None = None,
        workers: int | None = 1,
    ) -> None:
        self._profile = _load_profile(profile)
        self._mdct = MDCT(self._profile.frame_length, window=self._profile.window, workers=workers)
        self._compander = Compander(
            self._profile, tilt=tilt, rounding=rounding, reconstruction=reconstruction, workers=workers
        )
        self._level = self._profile.level if level is None else LevelSpec.parse(level)

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
        """The compander and quantizer."""
        return self._compander

    @property
    def level(self) -> LevelSpec:
        """Level normalization."""
        return self._level

    @property
    def sample_rate(self) -> int:
        """Sample rate the converter works at (the profile's)."""
        return self._profile.sample_rate

    @property
    def n_bands(self) -> int:
        """Image height (bands per channel)."""
        return self._mdct.n_bins

    @property
    def hop_length(self) -> int:
        """Samples per image column."""
        return self._mdct.hop_length

    def n_frames(self, n_samples: int) -> int:
        """Image width for ``n_samples`` samples.

        Examples
        --------
        >>> AudioImageConverter().n_frames(240000)
        470
        """
        return self._mdct.n_frames(n_samples)

    def max_samples(self, n_frames: int) -> int:
        """Most samples an image of ``n_frames`` columns holds (``(n_frames - 1) * hop``).

        Examples
        --------
        >>> AudioImageConverter().max_samples(512) / 24000  # seconds in a 512 x 512 image
        10.901333333333334
        """
        return self._mdct.max_samples(n_frames)

    def settings(self) -> dict[str, Any]:
        """Everything needed to rebuild this converter, JSON-compatible (profile by value).

        Examples
        --------
        >>> s = AudioImageConverter(tilt=3).settings()
        >>> s["tilt"], s["level"], s["profile"]["n_bands"]
        (3.0, 'rms:-20', 512)
        """
        return {
            "profile": self._profile.to_dict(),
            **self._compander.settings(),
            "level": str(self._level),
        }

    @classmethod
    def from_settings(cls, settings: dict[str, Any], *, workers: int | None = 1) -> AudioImageConverter:
        """Inverse of :meth:`settings`.

        Examples
        --------
        >>> c = AudioImageConverter(tilt=2.0, rounding="round")
        >>> AudioImageConverter.from_settings(c.settings()).compander.rounding
        'round'
        """
        try:
            return cls(
                GGDProfile.from_dict(settings["profile"]),
                tilt=settings["tilt"],
                rounding=settings["rounding"],
                reconstruction=settings["reconstruction"],
                level=settings["level"],
                workers=workers,
            )
        except KeyError as exc:
            raise ParameterError(f"converter settings lack {exc.args[0]!r}") from exc

    # ------------------------------------------------------------------ audio -> codes
    def codes_from_audio(self, audio: Any, *, n_frames: int | None = None) -> CodeImage:
        """Transform audio into 8-bit codes.

        Parameters
        ----------
        audio : array_like, shape (..., n_samples)
            Audio at :attr:`sample_rate`, float or integer PCM; leading axes (channels,
            batch) are transformed independently, each with its own gain.
        n_frames : int, optional
            Pad with silence to exactly this many frames (a fixed image width); the audio
            must fit (``n_samples <= (n_frames - 1) * hop``).

        Returns
        -------
        CodeImage

        Examples
        --------
        >>> import numpy as np
        >>> from mdctcompand.testing import make_signal
        >>> enc = AudioImageConverter().codes_from_audio(make_signal("mixture", 100000).astype(np.float32), n_frames=512)
        >>> enc.codes.shape, enc.length, round(float(enc.gain), 3) > 0
        ((512, 512), 100000, True)
        """
        x = as_float_audio(audio, finite=False)  # MDCT.forward checks (and names) NaN/inf
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
        if self._level.mode != "none":  # the MDCT is linear: scale its output in place, no copy
            coefficients *= gain[..., None, None].astype(coefficients.dtype)
        codes = self._compander.encode_image(coefficients, check_finite=False)  # forward checked its input
        return CodeImage(codes, gain, length, self.sample_rate)

    # ------------------------------------------------------------------ codes -> audio
    def audio_from_codes(
        self,
        codes: CodeImage | Any,
        *,
        length: int | None = None,
        gain: Any = None,
        dtype: Any = np.float32,
    ) -> np.ndarray:
        """Invert :meth:`codes_from_audio`.

        Parameters
        ----------
        codes : CodeImage or array_like, shape (..., n_bands, n_frames)
            uint8 codes in image orientation; or real values (model outputs) in code units
            [0, 255], decoded with the continuous inverse compander.
        length : int, optional
            Samples to return; default: the CodeImage's length, or everything the frames hold.
        gain : float or array_like, optional
            Gain to undo; default: the CodeImage's gain, or 1 for plain arrays.
        dtype : float32 or float64

        Returns
        -------
        audio : np.ndarray, shape (..., length)

        Examples
        --------
        >>> import numpy as np
        >>> from mdctcompand.testing import make_signal
        >>> conv = AudioImageConverter()
        >>> x = make_signal("noise", 30000).astype(np.float32)
        >>> y = conv.audio_from_codes(conv.codes_from_audio(x))
        >>> y.shape, bool(np.corrcoef(x, y)[0, 1] > 0.99)
        ((30000,), True)
        """
        if isinstance(codes, CodeImage):
            length = codes.length if length is None else length
            gain = codes.gain if gain is None else gain
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
        if arr.dtype == np.uint8:
            coefficients = self._compander.decode_image(arr, dtype=dtype)
        else:
            coefficients = self._compander.decode_continuous(arr[..., ::-1, :], dtype=dtype)
        coefficients = coefficients[..., : self.n_frames(length)]
        g = None
        if gain is not None:
            g = np.asarray(gain, dtype=np.float64)
            if not (np.all(np.isfinite(g)) and np.all(g > 0)):
                raise ParameterError("gain must be finite and > 0")
            try:
                g = np.broadcast_to(g, arr.shape[:-2])
            except ValueError as exc:
                raise ParameterError(
                    f"gain of shape {g.shape} does not match codes of shape {arr.shape}"
                ) from exc
        # Decoded from 8-bit codes (finite tables) or checked by decode_continuous: finite.
        audio = self._mdct.inverse(coefficients, length=length, check_finite=False)
        if g is not None:
            audio /= g[..., None].astype(audio.dtype)  # in place: the inverse returned a fresh array
        return audio.astype(dtype, copy=False)

    # ------------------------------------------------------------------ PIL images
    def image_from_audio(self, audio: Any, *, n_frames: int | None = None):
        """Transform mono audio ``(n_samples,)`` into a grayscale PIL image.

        The image's ``info[METADATA_KEY]`` holds JSON with the gain, length, sample rate,
        profile id and compander settings, so :meth:`audio_from_image` inverts it without
        extra arguments (PNG files written by :func:`mdctcompand.codec.save_image` keep it).

        Examples
        --------
        >>> conv = AudioImageConverter()
        >>> img = conv.image_from_audio(np.zeros(10000, dtype=np.float32), n_frames=64)
        >>> img.size, img.mode
        ((64, 512), 'L')
        """
        from PIL import Image

        x = as_float_audio(audio)
        if x.ndim != 1:
            raise ParameterError(f"image_from_audio takes mono audio (n_samples,); got shape {x.shape}")
        enc = self.codes_from_audio(x, n_frames=n_frames)
        image = Image.fromarray(enc.codes, mode="L")
        image.info[METADATA_KEY] = json.dumps(self.image_metadata(enc))
        return image

    def image_metadata(self, enc: CodeImage) -> dict[str, Any]:
        """The JSON-compatible parameters that travel with an image of ``enc``.

        Examples
        --------
        >>> import numpy as np
        >>> conv = AudioImageConverter()
        >>> meta = conv.image_metadata(conv.codes_from_audio(np.zeros(1000, np.float32)))
        >>> meta["length"], meta["sample_rate"], meta["tilt"]
        (1000, 24000, 5.5)
        """
        return {
            "length": enc.length,
            "gain": np.asarray(enc.gain).tolist(),
            "sample_rate": enc.sample_rate,
            "profile_id": self._profile.id,
            "profile_name": self._profile.name,
            **self._compander.settings(),
            "level": str(self._level),
        }

    def audio_from_image(
        self,
        image: Any,
        *,
        length: int | None = None,
        gain: Any = None,
        value_range: str = "auto",
        dtype: Any = np.float32,
    ) -> np.ndarray:
        """Invert :meth:`image_from_audio`; also takes arrays and model outputs.

        Parameters
        ----------
        image : PIL.Image.Image or array_like
            A grayscale image (``L``), an RGB(A) image (channels averaged), or an array
            ``(..., n_bands, n_frames)`` / ``(n_bands, n_frames, 3)``: uint8 codes, or floats in
            [0, 1] or [0, 255].
        length, gain : optional
            Override the values stored in the image's metadata (if any).
        value_range : {"auto", "unit", "byte"}
            For float input: ``"unit"`` means [0, 1] (code = 255 v), ``"byte"`` means [0, 255];
            ``"auto"`` picks ``"unit"`` when every value is <= 1.
        dtype : float32 or float64

        Returns
        -------
        audio : np.ndarray

        Examples
        --------
        >>> import numpy as np
        >>> conv = AudioImageConverter()
        >>> image = conv.image_from_audio(np.sin(np.arange(20000) / 10.0).astype(np.float32))
        >>> conv.audio_from_image(image).shape  # length and gain read from image.info
        (20000,)
        >>> model_output = np.full((512, 64), 0.5)  # floats in [0, 1], e.g. from a diffusion model
        >>> conv.audio_from_image(model_output, length=20000).shape
        (20000,)
        """
        meta: dict[str, Any] = {}
        info = getattr(image, "info", None)
        if isinstance(info, dict) and METADATA_KEY in info:
            try:
                meta = json.loads(info[METADATA_KEY])
            except (TypeError, ValueError) as exc:
                raise ParameterError(f"image metadata {METADATA_KEY!r} is not valid JSON") from exc
            self._check_metadata(meta)
        values = _image_values(image, value_range)
        if length is None:
            length = meta.get("length")
        if gain is None and "gain" in meta:
            gain = meta["gain"]
        return self.audio_from_codes(values, length=length, gain=gain, dtype=dtype)

    def _check_metadata(self, meta: dict[str, Any]) -> None:
        pid = meta.get("profile_id")
        if pid is not None and pid != self._profile.id:
            raise ParameterError(
                f"the image was made with profile {meta.get('profile_name', '?')!r} (id {pid}); this converter uses "
                f"{self._profile.name!r} (id {self._profile.id})"
            )
        for key in ("tilt", "rounding", "sample_rate"):
            mine = self.sample_rate if key == "sample_rate" else self._compander.settings()[key]
            if key in meta and meta[key] != mine:
                raise ParameterError(
                    f"the image was made with {key}={meta[key]!r}; this converter uses {mine!r}"
                )

    def __repr__(self) -> str:
        c = self._compander
        return (
            f"AudioImageConverter(profile={self._profile.name!r}, tilt={c.tilt:g}, rounding={c.rounding!r}, "
            f"reconstruction={c.reconstruction!r}, level='{self._level}')"
        )


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
