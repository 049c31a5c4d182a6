"""The whole transform T on tensors: audio <-> 8-bit image, batches and channels in one call.

Mirrors :class:`mdctcompand.AudioImageConverter` (same settings, same method names, same
results): ``T(x) = flipud(Q(F(MDCT(g x))))`` with ``g`` the level-normalizing gain of each
clip (channel), ``F`` the per-band GGD compander and ``Q`` the 8-bit quantizer; image row 0 is
the highest band. The steps are separate methods (gain, coefficients, image) so that a
channel layout (e.g. mid/side stereo) can map the channel axis before the gain and after
the inverse without touching the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from .._validation import check_int
from ..band_gains import BAND_GAIN_RANGE_DB, BandGainMode, BandGains
from ..compand import DEFAULT_ROUNDING, N_LEVELS
from ..converter import AudioImageConverter as NumpyConverter
from ..converter import CodeImage as NumpyCodeImage
from ..converter import ConverterGeometry
from ..exceptions import ParameterError
from ..profile import GGDProfile, LevelSpec
from ._checks import as_float_audio, check_float_dtype, raise_if_not_finite, require_tensor, should_check
from .compand import Compander
from .transform import MDCT

__all__ = ["AudioImageConverter", "CodeImage", "ValueRange"]

#: How float image values map to code values: ``"unit"`` [0, 1], ``"byte"`` [0, 255], ``"auto"``
#: (``"unit"`` when every value is <= 1, decided on the device without a synchronization).
ValueRange = Literal["auto", "unit", "byte"]


@dataclass(frozen=True, eq=False)
class CodeImage:
    """8-bit codes of a batch of clips and what is needed to invert them (tensor twin of
    :class:`mdctcompand.CodeImage`).

    Attributes
    ----------
    codes : torch.Tensor, shape (..., n_bands, n_frames)
        uint8 codes in image orientation (row 0 is the highest band); float codes with a
        straight-through gradient when made with ``straight_through=True``.
    gain : torch.Tensor, shape (...)
        Gain applied to each clip (channel) before the transform (float64, float32 on MPS).
    length : int
        Number of audio samples represented.
    sample_rate : int
        Sample rate in Hz.
    band_gains : torch.Tensor or None, shape (..., n_groups)
        Band-group gains in dB applied on top of ``gain`` (float64; ``None``: none).

    Examples
    --------
    >>> import torch
    >>> enc = AudioImageConverter().codes_from_audio(torch.zeros(2, 5000))
    >>> enc.codes.shape, enc.gain.shape, enc.n_frames
    (torch.Size([2, 512, 11]), torch.Size([2]), 11)
    """

    codes: torch.Tensor
    gain: torch.Tensor
    length: int
    sample_rate: int
    band_gains: torch.Tensor | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames (image width)."""
        return int(self.codes.shape[-1])

    def to_numpy(self) -> NumpyCodeImage:
        """The numpy :class:`mdctcompand.CodeImage` (copies to the host).

        Examples
        --------
        >>> import torch
        >>> AudioImageConverter().codes_from_audio(torch.zeros(3000)).to_numpy().codes.dtype
        dtype('uint8')
        """
        return NumpyCodeImage(
            self.codes.detach().cpu().numpy(),
            self.gain.detach().cpu().double().numpy(),
            self.length,
            self.sample_rate,
            band_gains=None if self.band_gains is None else self.band_gains.detach().cpu().double().numpy(),
        )

    @classmethod
    def from_numpy(cls, code_image: NumpyCodeImage, *, device: Any = None) -> CodeImage:
        """A numpy :class:`mdctcompand.CodeImage` as tensors on ``device``.

        Examples
        --------
        >>> import numpy as np, mdctcompand
        >>> enc = mdctcompand.AudioImageConverter().codes_from_audio(np.zeros(3000, np.float32))
        >>> CodeImage.from_numpy(enc).codes.shape
        torch.Size([512, 7])
        """
        if not isinstance(code_image, NumpyCodeImage):
            raise ParameterError(
                f"code_image must be a mdctcompand.CodeImage; got {type(code_image).__name__}"
            )
        device = torch.device("cpu") if device is None else torch.device(device)
        gain_dtype = torch.float32 if device.type == "mps" else torch.float64
        return cls(
            torch.as_tensor(code_image.codes, device=device),
            torch.as_tensor(code_image.gain, dtype=gain_dtype, device=device),
            int(code_image.length),
            int(code_image.sample_rate),
            None
            if code_image.band_gains is None
            else torch.as_tensor(code_image.band_gains, dtype=gain_dtype, device=device),
        )


def _scaled(x: torch.Tensor, factor: torch.Tensor, *, divide: bool = False) -> torch.Tensor:
    """``x * factor`` (``x / factor``), in place where no gradient needs ``x`` (a fresh intermediate of ours)."""
    if x.requires_grad or factor.requires_grad or x.shape != torch.broadcast_shapes(x.shape, factor.shape):
        return x / factor if divide else x * factor
    return x.div_(factor) if divide else x.mul_(factor)


def _mean_square(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Mean of ``x**2`` over the last axis in ``dtype``, without a ``dtype`` copy of ``x``.

    Blocks of 1024 samples are reduced in the input's dtype (``vector_norm`` squares on the
    fly), their squared norms summed in ``dtype``: float32 audio keeps about float32 relative
    precision (1e-7) where one float32 sum over 10^6 samples would not, at the memory traffic
    of reading ``x`` once.
    """
    if x.dtype == dtype:
        return x.square().mean(dim=-1)
    n = x.shape[-1]
    whole = n - n % _MEAN_SQUARE_BLOCK
    blocks = x[..., :whole].reshape(*x.shape[:-1], -1, _MEAN_SQUARE_BLOCK)
    total = torch.linalg.vector_norm(blocks, dim=-1).to(dtype).square().sum(dim=-1)
    total = total + x[..., whole:].to(dtype).square().sum(dim=-1)
    return total / n


_MEAN_SQUARE_BLOCK = 1024


class AudioImageConverter(torch.nn.Module, ConverterGeometry):
    """Convert audio tensors to companded-MDCT 8-bit images and back, on any device.

    Parameters
    ----------
    profile : GGDProfile, path or None
        Per-band GGD profile; ``None`` or ``"default"`` uses the shipped one.
    tilt, rounding, reconstruction, level
        As :class:`mdctcompand.AudioImageConverter`.
    sample_rate : int, optional
        The audio's sample rate; it must be the profile's (a
        :class:`~mdctcompand.ProfileMismatchError` names both otherwise).
    bands : int, optional
        Store only the lowest ``bands`` bands (image height); the others decode as silence,
        as in :class:`mdctcompand.AudioImageConverter`.

    Notes
    -----
    Audio is ``(..., n_samples)``; every leading index (batch, channel) is a clip with its own
    gain. Codes are ``(..., n_bands, n_frames)``. The module holds the MDCT and compander
    tables as buffers: ``.to(device)`` moves it, and every input must be on that device.
    :meth:`codes_from_audio` with ``straight_through=True`` and :meth:`audio_from_codes` on
    float values are differentiable, so the transform can sit inside a training loss.

    Examples
    --------
    >>> import torch
    >>> conv = AudioImageConverter()
    >>> t = torch.arange(24000) / 24000
    >>> x = 0.3 * torch.sin(2 * torch.pi * 440 * t)
    >>> enc = conv.codes_from_audio(x)
    >>> enc.codes.shape, enc.codes.dtype
    (torch.Size([512, 48]), torch.uint8)
    >>> y = conv.audio_from_codes(enc)
    >>> bool(10 * torch.log10((x**2).sum() / ((x - y) ** 2).sum()) > 30)
    True
    """

    # buffers registered by name in __init__
    _group_widths: torch.Tensor
    _group_matrix: torch.Tensor
    _group_reference: torch.Tensor

    def __init__(
        self,
        profile: GGDProfile | str | os.PathLike | None = None,
        *,
        tilt: float | None = None,
        rounding: str = DEFAULT_ROUNDING,
        reconstruction: str = "midpoint",
        level: str | LevelSpec | None = None,
        sample_rate: int | None = None,
        bands: int | None = None,
        band_gains: BandGains | BandGainMode = "clip",
    ) -> None:
        super().__init__()
        reference = NumpyConverter(
            profile, tilt=tilt, rounding=rounding, reconstruction=reconstruction, level=level, bands=bands,
            band_gains=band_gains,
        )  # fmt: skip
        if sample_rate is not None:
            reference.profile.check_geometry(
                sample_rate=check_int(sample_rate, "sample_rate", minimum=1),
                frame_length=reference.profile.frame_length,
            )
        self._reference = reference
        self.mdct = MDCT.from_numpy(reference.mdct)
        self.compander = Compander.from_numpy(reference.compander)
        groups = reference.band_gains or BandGains()  # decoding takes given gains in any mode
        edges = groups.group_edges(
            reference.profile.n_bands, sample_rate=reference.sample_rate, stored_bands=reference.n_bands
        )
        self.register_buffer("_group_widths", torch.from_numpy(np.diff(edges)), persistent=False)
        matrix = np.zeros((edges.size - 1, reference.n_bands))
        for j, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
            matrix[j, a:b] = 1.0
        self.register_buffer("_group_matrix", torch.from_numpy(matrix), persistent=False)
        std = reference.profile.std[: reference.n_bands]
        reference_power = [float(np.sum(std[a:b] ** 2)) for a, b in zip(edges[:-1], edges[1:])]
        self.register_buffer(
            "_group_reference", torch.tensor(reference_power, dtype=torch.float64), persistent=False
        )

    @classmethod
    def from_numpy(cls, converter: NumpyConverter) -> AudioImageConverter:
        """The tensor twin of a numpy :class:`mdctcompand.AudioImageConverter`.

        Examples
        --------
        >>> import mdctcompand
        >>> AudioImageConverter.from_numpy(mdctcompand.AudioImageConverter(tilt=3)).compander.tilt
        3.0
        """
        if not isinstance(converter, NumpyConverter):
            raise ParameterError(
                f"converter must be a mdctcompand.AudioImageConverter; got {type(converter).__name__}"
            )
        return cls.from_settings(converter.settings())

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> AudioImageConverter:
        """Inverse of :meth:`settings` (also takes :meth:`mdctcompand.AudioImageConverter.settings`).

        Examples
        --------
        >>> c = AudioImageConverter(tilt=2.0)
        >>> AudioImageConverter.from_settings(c.settings()).compander.tilt
        2.0
        """
        reference = NumpyConverter.from_settings(settings)
        return cls(
            reference.profile, **reference.compander.settings(), level=reference.level,
            band_gains=reference.band_gains or "none",
        )  # fmt: skip

    def to_numpy(self) -> NumpyConverter:
        """The numpy :class:`mdctcompand.AudioImageConverter` with the same settings.

        Examples
        --------
        >>> AudioImageConverter(tilt=3).to_numpy().compander.tilt
        3.0
        """
        return self._reference

    # ------------------------------------------------------------------ properties
    @property
    def profile(self) -> GGDProfile:
        """The GGD profile."""
        return self._reference.profile

    @property
    def level(self) -> LevelSpec:
        """Level normalization."""
        return self._reference.level

    def settings(self) -> dict[str, Any]:
        """Everything needed to rebuild this converter, JSON-compatible; the numpy converter's format.

        Examples
        --------
        >>> AudioImageConverter(tilt=3).settings()["tilt"]
        3.0
        """
        return self._reference.settings()

    # ------------------------------------------------------------------ audio -> codes
    def gain(self, audio: torch.Tensor) -> torch.Tensor:
        """Gain per leading index of ``audio (..., n)`` that brings it to the level target.

        As :meth:`mdctcompand.LevelSpec.gain`: RMS or peak normalization, capped at the level's
        maximum gain (digital silence gets the cap). float64 (float32 on MPS); differentiable.

        Examples
        --------
        >>> import torch
        >>> AudioImageConverter(level="peak:0").gain(torch.tensor([[0.5, -0.25], [0.1, 0.0]]))
        tensor([ 2., 10.], dtype=torch.float64)
        """
        x = as_float_audio(audio, check_finite=False)
        spec = self.level
        dtype = torch.float32 if x.device.type == "mps" else torch.float64
        if spec.mode == "none":
            return torch.ones(x.shape[:-1], dtype=dtype, device=x.device)
        if spec.mode == "rms":
            power = _mean_square(x, dtype)
            level = torch.sqrt(power.clamp_min(torch.finfo(dtype).tiny))
            silent = power <= 0
        else:
            level = x.abs().amax(dim=-1).to(dtype)  # exact in the input's dtype
            silent = level <= 0
        target = 10.0 ** (spec.target_db / 20.0)
        cap = 10.0 ** (spec.max_gain_db / 20.0)
        g = torch.where(
            silent, torch.full_like(level, cap), target / torch.where(silent, torch.ones_like(level), level)
        )
        return g.clamp_max(cap)

    def codes_from_audio(
        self,
        audio: torch.Tensor,
        *,
        n_frames: int | None = None,
        straight_through: bool = False,
        check_finite: bool | None = None,
    ) -> CodeImage:
        """Transform audio into 8-bit codes (as :meth:`mdctcompand.AudioImageConverter.codes_from_audio`).

        Parameters
        ----------
        audio : torch.Tensor, shape (..., n_samples)
            Audio at :attr:`sample_rate`; every leading index is a clip with its own gain.
        n_frames : int, optional
            Pad with silence to exactly this many frames (the audio must fit).
        straight_through : bool, default False
            Float codes with the gradient of the continuous compander (straight-through
            estimator) instead of uint8 codes.
        check_finite : bool, optional
            Raise on NaN/inf audio; default: on CPU tensors only.

        Returns
        -------
        CodeImage

        Examples
        --------
        >>> import torch
        >>> enc = AudioImageConverter().codes_from_audio(0.1 * torch.randn(2, 2, 100000), n_frames=512)
        >>> enc.codes.shape, enc.length, enc.gain.shape
        (torch.Size([2, 2, 512, 512]), 100000, torch.Size([2, 2]))
        """
        x = as_float_audio(audio, check_finite=check_finite)
        length = x.shape[-1]
        if n_frames is not None:
            n_frames = check_int(n_frames, "n_frames", minimum=2)
            capacity = self.max_samples(n_frames)
            if length > capacity:
                raise ParameterError(
                    f"audio of {length} samples does not fit in {n_frames} frames (at most {capacity} samples)"
                )
            x = torch.nn.functional.pad(x, (0, capacity - length))
        gain = self.gain(x[..., :length])
        coefficients = self.mdct(x, check_finite=False)
        if self.n_bands < coefficients.shape[-2]:  # only the stored bands
            coefficients = coefficients[..., : self.n_bands, :]
        band_gains = self.measure_band_gains(coefficients, gain=gain)
        if band_gains is not None:  # level and band gains in one scale per band, as numpy applies them
            scale = (gain.to(band_gains.dtype)[..., None] * self._band_factors(band_gains)).to(
                coefficients.dtype
            )
            coefficients = _scaled(coefficients, scale[..., None])
        elif self.level.mode != "none":
            coefficients = _scaled(coefficients, gain.to(coefficients.dtype)[..., None, None])
        codes = self.compander.encode_image(
            coefficients, straight_through=straight_through, check_finite=False
        )
        return CodeImage(codes, gain, length, self.sample_rate, band_gains)

    @property
    def band_gains(self) -> BandGains | None:
        """How band-group gains are measured (``None``: no band gains)."""
        return self._reference.band_gains

    def measure_band_gains(self, coefficients: torch.Tensor, *, gain: Any = None) -> torch.Tensor | None:
        """Band-group gains in dB ``(..., n_groups)`` of coefficients times ``gain`` (the level gain
        per leading index, not yet applied), as :meth:`mdctcompand.AudioImageConverter.measure_band_gains`;
        ``None`` without band gains.

        The gains are quantized (no gradient flows through them).

        Examples
        --------
        >>> import torch
        >>> conv = AudioImageConverter()
        >>> conv.measure_band_gains(conv.mdct(torch.zeros(4800))).shape
        torch.Size([11])
        """
        bg = self.band_gains
        if bg is None:
            return None
        X = coefficients.detach()[..., : self.n_bands, :]
        n_frames = max(X.shape[-1], 1)
        # frame power of every group at once: a (groups x bands) 0/1 matrix times the squares, in the
        # coefficients' precision (as numpy sums them); their mean and peak in float64
        dtype = torch.float32 if X.device.type == "mps" else torch.float64  # MPS has no float64
        frame_power = torch.matmul(self._group_matrix.to(X.device, X.dtype), X.square()).to(dtype)
        mean = frame_power.sum(dim=-1) / n_frames
        peak = frame_power.amax(dim=-1) if X.shape[-1] else mean
        reference = self._group_reference.to(X.device, dtype)
        if gain is not None:  # the coefficients' own scale: the reference divided by the gain
            g = torch.as_tensor(gain, device=X.device).detach().to(dtype)
            reference = reference / g.square()[..., None]
        level = torch.maximum(torch.maximum(mean, peak * 10.0 ** (-bg.peak_db / 10.0)), reference * 1e-30)
        steps = torch.round(10.0 * torch.log10(reference / level) / bg.step_db)
        top = np.floor(bg.max_boost_db / bg.step_db)
        return steps.clamp(-np.floor(BAND_GAIN_RANGE_DB / bg.step_db), top) * bg.step_db

    def _band_factors(self, band_gains: Any) -> torch.Tensor:
        """Per-band factors ``(..., n_bands)`` of group gains in dB."""
        device = band_gains.device if isinstance(band_gains, torch.Tensor) else self._group_widths.device
        dtype = torch.float32 if device.type == "mps" else torch.float64
        g = torch.as_tensor(band_gains, dtype=dtype, device=device)
        widths = self._group_widths
        if g.ndim < 1 or g.shape[-1] != widths.numel():
            raise ParameterError(
                f"band gains of shape {tuple(g.shape)} do not match {widths.numel()} band groups"
            )
        return torch.repeat_interleave(10.0 ** (g / 20.0), widths.to(device), dim=-1)

    # ------------------------------------------------------------------ codes -> audio
    def audio_from_codes(
        self,
        codes: CodeImage | torch.Tensor,
        *,
        length: int | None = None,
        gain: Any = None,
        band_gains: Any = None,
        dtype: torch.dtype = torch.float32,
        check_finite: bool | None = None,
    ) -> torch.Tensor:
        """Invert :meth:`codes_from_audio` (as :meth:`mdctcompand.AudioImageConverter.audio_from_codes`).

        Parameters
        ----------
        codes : CodeImage or torch.Tensor, shape (..., n_bands, n_frames)
            uint8 codes in image orientation (table decode); or real values in code units
            [0, 255] (model outputs), decoded with the continuous inverse compander and
            differentiable.
        length : int, optional
            Samples to return; default: the CodeImage's length, or everything the frames hold.
        gain : float or torch.Tensor, optional
            Gain to undo; default: the CodeImage's gain, or 1 for plain tensors.
        band_gains : torch.Tensor, optional
            Band-group gains (dB, ``(..., n_groups)``) to undo; default: the CodeImage's, or
            none for plain tensors (the profile's level, what a model's images decode with).
        dtype : torch.float32 or torch.float64

        Returns
        -------
        audio : torch.Tensor, shape (..., length)

        Examples
        --------
        >>> import torch
        >>> conv = AudioImageConverter()
        >>> x = 0.1 * torch.randn(2, 30000, generator=torch.Generator().manual_seed(0))
        >>> y = conv.audio_from_codes(conv.codes_from_audio(x))
        >>> y.shape, bool(torch.corrcoef(torch.stack([x[0], y[0]]))[0, 1] > 0.99)
        (torch.Size([2, 30000]), True)
        """
        if isinstance(codes, NumpyCodeImage):
            raise ParameterError(
                "codes is a numpy CodeImage; convert it with mdctcompand.torch.CodeImage.from_numpy"
            )
        if isinstance(codes, CodeImage):
            length = codes.length if length is None else length
            gain = codes.gain if gain is None else gain
            band_gains = codes.band_gains if band_gains is None else band_gains
            codes = codes.codes
        arr = require_tensor(codes, "codes")
        dtype = check_float_dtype(dtype)
        if arr.ndim < 2 or arr.shape[-2] != self.n_bands:
            raise ParameterError(
                f"codes of shape {tuple(arr.shape)} must be (..., n_bands={self.n_bands}, n_frames)"
            )
        n_frames = arr.shape[-1]
        if n_frames < 2:
            raise ParameterError(f"codes have {n_frames} frame(s); at least 2 are needed")
        length = self.max_samples(n_frames) if length is None else check_int(length, "length", minimum=1)
        if self.n_frames(length) > n_frames:
            raise ParameterError(
                f"length={length} needs {self.n_frames(length)} frames; the codes have {n_frames}"
            )
        if arr.dtype == torch.uint8:
            coefficients = self.compander.decode_image(arr, dtype=dtype, check_finite=check_finite)
        elif arr.dtype.is_complex or arr.dtype == torch.bool:
            raise ParameterError(f"codes have dtype {arr.dtype}; expected uint8 codes or real code values")
        else:  # real values in code units (model outputs): the continuous, differentiable inverse
            coefficients = self.compander.decode_continuous(
                arr.flip(-2).to(dtype), dtype=dtype, check_finite=check_finite
            )
        coefficients = coefficients[..., : self.n_frames(length)]
        if band_gains is not None:
            coefficients = _scaled(
                coefficients, self._band_factors(band_gains).to(coefficients)[..., None], divide=True
            )
        if self.n_bands < self.mdct.n_bins:  # the bands not stored are silent
            coefficients = torch.nn.functional.pad(coefficients, (0, 0, 0, self.mdct.n_bins - self.n_bands))
        audio = self.mdct.inverse(coefficients, length=length, check_finite=False)
        if gain is not None:
            audio = audio / self._gain_tensor(gain, arr, check_finite).to(audio.dtype)[..., None]
        return audio

    def audio_from_image(
        self,
        image: torch.Tensor,
        *,
        length: int | None = None,
        gain: Any = None,
        band_gains: Any = None,
        value_range: ValueRange = "auto",
        rgb_dim: int | None = None,
        dtype: torch.dtype = torch.float32,
        check_finite: bool | None = None,
    ) -> torch.Tensor:
        """Decode images (e.g. diffusion-model outputs) to audio.

        Parameters
        ----------
        image : torch.Tensor, shape (..., n_bands, n_frames)
            uint8 codes, or real values in [0, 1] or [0, 255] (image orientation).
        length, gain, band_gains : optional
            As :meth:`audio_from_codes` (without ``band_gains``, at the profile's level).
        value_range : {"auto", "unit", "byte"}
            For float input: ``"unit"`` means [0, 1] (code = 255 v), ``"byte"`` [0, 255]; ``"auto"``
            picks ``"unit"`` when every value is <= 1 (decided on the device).
        rgb_dim : int, optional
            Axis of 3 (RGB) or 4 (RGBA) colour channels to average (the first three), e.g. ``-3``
            for ``(batch, 3, height, width)`` model outputs.
        dtype : torch.float32 or torch.float64

        Examples
        --------
        >>> import torch
        >>> conv = AudioImageConverter()
        >>> rgb = torch.full((2, 3, 512, 64), 0.5)  # a batch of RGB model outputs in [0, 1]
        >>> conv.audio_from_image(rgb, rgb_dim=-3, length=20000).shape
        torch.Size([2, 20000])
        """
        if value_range not in ("auto", "unit", "byte"):
            raise ParameterError(f"value_range={value_range!r} must be 'auto', 'unit' or 'byte'")
        values = require_tensor(image, "image")
        if rgb_dim is not None:
            if values.ndim < 3 or not -values.ndim <= rgb_dim < values.ndim:
                raise ParameterError(
                    f"rgb_dim={rgb_dim} is not an axis of an image of shape {tuple(values.shape)}"
                )
            if values.shape[rgb_dim] not in (3, 4):
                raise ParameterError(
                    f"image axis rgb_dim={rgb_dim} has {values.shape[rgb_dim]} channels; expected 3 (RGB) or 4 (RGBA)"
                )
            values = values.narrow(rgb_dim, 0, 3).to(dtype).mean(dim=rgb_dim)
        if values.dtype == torch.uint8:
            return self.audio_from_codes(
                values,
                length=length,
                gain=gain,
                band_gains=band_gains,
                dtype=dtype,
                check_finite=check_finite,
            )
        if values.dtype.is_complex or values.dtype == torch.bool:
            raise ParameterError(f"image has dtype {values.dtype}; expected uint8 or real values")
        values = values.to(dtype)
        if value_range == "unit":
            values = values * (N_LEVELS - 1)
        elif value_range == "auto":
            unit = values.amax() <= 1.0
            values = values * torch.where(unit, N_LEVELS - 1.0, 1.0).to(values.dtype)
        return self.audio_from_codes(
            values, length=length, gain=gain, band_gains=band_gains, dtype=dtype, check_finite=check_finite
        )

    def _gain_tensor(self, gain: Any, codes: torch.Tensor, check_finite: bool | None) -> torch.Tensor:
        lead = codes.shape[:-2]
        dtype = torch.float32 if codes.device.type == "mps" else torch.float64
        if isinstance(gain, torch.Tensor):
            g = gain.to(device=codes.device, dtype=dtype)
        else:
            try:
                g = torch.as_tensor(gain, dtype=dtype, device=codes.device)
            except (TypeError, ValueError, RuntimeError) as exc:
                raise ParameterError(f"gain={gain!r} must be a number or a tensor") from exc
        try:
            g = torch.broadcast_to(g, lead)
        except RuntimeError as exc:
            raise ParameterError(
                f"gain of shape {tuple(g.shape)} does not match codes of shape {tuple(codes.shape)}"
            ) from exc
        if should_check(g, check_finite):
            raise_if_not_finite(g, "gain")
            if g.numel() and not bool((g > 0).all()):
                raise ParameterError("gain must be finite and > 0")
        return g

    def extra_repr(self) -> str:
        c = self.compander
        return (
            f"profile={self.profile.name!r}, tilt={c.tilt:g}, rounding={c.rounding!r}, "
            f"reconstruction={c.reconstruction!r}, level='{self.level}', "
            f"band_gains={'none' if self.band_gains is None else 'clip'!r}"
        )
