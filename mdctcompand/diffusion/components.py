"""The audio/image converter as a diffusers component, and tensor helpers."""

from __future__ import annotations

from . import _extra  # noqa: F401  (first: names what the extra needs before torch is imported)

# isort: split

from typing import Any, Literal, cast

import numpy as np
import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from ..band_gains import TILT_WITHOUT_BAND_GAINS
from ..channels import ChannelLayout
from ..compand import DEFAULT_ROUNDING
from ..converter import AudioImageConverter, ConverterGeometry
from ..exceptions import ParameterError
from ..profile import GGDProfile

__all__ = ["ImageStereo", "MDCTImageConverter", "images_to_tensor", "resolve_device", "tensor_to_codes"]

#: Image layouts of the diffusion extra: ``"mono"`` (one grayscale plane, the paper's) or
#: ``"left-right"`` (the dataset builder's RGB planes: left, right, mid ``(L + R) / 2``).
ImageStereo = Literal["mono", "left-right"]
_STEREO = ("mono", "left-right")


class MDCTImageConverter(ConfigMixin, SchedulerMixin, ConverterGeometry):
    """An :class:`~mdctcompand.AudioImageConverter` that a diffusers pipeline saves and loads.

    Like the audio-diffusion ``Mel`` component, it is a config-only object (stored as
    ``converter/converter_config.json`` by ``save_pretrained``): the profile and the compander
    settings travel with the model, so generated images always decode with the settings the
    model was trained on.

    Parameters
    ----------
    profile : dict, optional
        :meth:`GGDProfile.to_dict` of the profile (default: the shipped one).
    tilt, rounding, reconstruction, level
        See :class:`~mdctcompand.AudioImageConverter`.
    frames : int
        Image width in frames that the model works with (512 for SD 1.5 images).
    stereo : {"mono", "left-right"}
        The image layout (as ``dataset build --stereo``): ``"mono"`` one grayscale plane
        (the default, and what configurations saved before stereo existed mean);
        ``"left-right"`` three planes, left, right and mid ``(L + R) / 2``, decoded to
        ``(2, n)`` audio from the left and right planes.

    Notes
    -----
    The ``*_tensor`` methods run on the device of their input through
    :class:`mdctcompand.torch.AudioImageConverter` (no host round trip) and the float paths are
    differentiable, so a waveform-domain loss can sit behind them.

    Examples
    --------
    >>> conv = MDCTImageConverter(tilt=5.0)  # the shipped profile, a tilt other than the default
    >>> conv.sample_rate, conv.n_bands, conv.frames
    (24000, 512, 512)
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> conv.save_pretrained(d)
    >>> MDCTImageConverter.from_pretrained(d).config.tilt
    5.0
    """

    config_name = "converter_config.json"  # type: ignore[assignment]  # diffusers declares it as None

    @register_to_config
    def __init__(
        self,
        profile: dict | None = None,
        tilt: float = TILT_WITHOUT_BAND_GAINS,
        rounding: str = DEFAULT_ROUNDING,
        reconstruction: str = "midpoint",
        level: str | None = None,
        frames: int = 512,
        stereo: ImageStereo = "mono",
    ) -> None:
        if stereo not in _STEREO:
            raise ParameterError(f"stereo={stereo!r} must be one of {_STEREO}")
        self._converter: AudioImageConverter | None = None
        self._torch: dict[str, Any] = {}

    @classmethod
    def from_converter(
        cls, converter: AudioImageConverter, *, frames: int = 512, stereo: ImageStereo = "mono"
    ) -> MDCTImageConverter:
        """Wrap an :class:`AudioImageConverter` (its compander settings; the image layout is ``stereo``).

        Examples
        --------
        >>> from mdctcompand import AudioImageConverter
        >>> MDCTImageConverter.from_converter(AudioImageConverter(band_gains="none"), frames=256).config.frames
        256
        >>> MDCTImageConverter.from_converter(AudioImageConverter())
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.ParameterError: the converter has per-clip band gains, which the images a model generates cannot carry; use AudioImageConverter(band_gains="none")
        """
        if converter.band_gains is not None:
            raise ParameterError(
                "the converter has per-clip band gains, which the images a model generates cannot carry; use "
                'AudioImageConverter(band_gains="none")'
            )
        s = converter.settings()
        return cls(s["profile"], s["tilt"], s["rounding"], s["reconstruction"], s["level"], frames, stereo)

    @classmethod
    def from_dataset(cls, dataset_dir: str) -> MDCTImageConverter:
        """The converter a dataset built by :func:`mdctcompand.dataset.build_dataset` was made with.

        The profile, compander settings, image width and layout (``stereo``) are read from the
        dataset's ``mdctcompand.json`` and ``profile.json``; datasets written before stereo
        existed record no layout and are mono.

        Examples
        --------
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> conv = MDCTImageConverter.from_dataset(tiny_workspace().dataset)
        >>> conv.sample_rate, conv.frames
        (8000, 32)
        """
        import json
        from pathlib import Path

        root = Path(dataset_dir)
        settings = json.loads((root / "mdctcompand.json").read_text())
        if settings["converter"].get("band_gains"):
            raise ParameterError(
                f"{root}: built with per-clip band gains (dataset build --band-gains clip), which the images a "
                "model generates cannot carry; build it with --band-gains none to train on it"
            )
        stereo = settings["build"].get("stereo", "mono")
        if stereo not in _STEREO:
            raise ParameterError(f"{root / 'mdctcompand.json'}: stereo={stereo!r} must be one of {_STEREO}")
        # the converter's own description (AudioImageConverter.settings), its profile stored beside it
        profile = GGDProfile.load(root / "profile.json").to_dict()
        converter = AudioImageConverter.from_settings({**settings["converter"], "profile": profile})
        return cls.from_converter(converter, frames=settings["build"]["frames"], stereo=stereo)

    @property
    def converter(self) -> AudioImageConverter:
        """The underlying :class:`AudioImageConverter` (built once)."""
        if self._converter is None:
            c: Any = self.config  # a FrozenDict (diffusers types it as a dict): its keys are attributes too
            profile = GGDProfile.from_dict(c.profile) if c.profile is not None else None
            self._converter = AudioImageConverter(
                profile, tilt=c.tilt, rounding=c.rounding, reconstruction=c.reconstruction, level=c.level,
                channels=ChannelLayout(self.stereo, arrangement="planes"), band_gains="none",
            )  # fmt: skip
        return self._converter

    def torch_converter(self, device: Any = "cpu") -> Any:
        """The :class:`mdctcompand.torch.AudioImageConverter` with these settings on ``device`` (one per device).

        Examples
        --------
        >>> MDCTImageConverter().torch_converter("cpu").n_bands
        512
        """
        dev = torch.device(device)
        if dev.type == "cuda" and dev.index is None:  # "cuda" and "cuda:0" are one device: one copy of the tables
            dev = torch.device("cuda", torch.cuda.current_device())
        key = str(dev)
        if key not in self._torch:
            from ..torch import AudioImageConverter as TorchConverter

            self._torch[key] = TorchConverter.from_numpy(self.converter).to(dev)
        return self._torch[key]

    @property
    def stereo(self) -> ImageStereo:
        """The image layout: ``"mono"`` or ``"left-right"`` (configurations without one are mono)."""
        # __init__ accepts no other value; the config (diffusers) is untyped
        return cast(ImageStereo, str(getattr(self.config, "stereo", "mono")))

    @property
    def audio_channels(self) -> int:
        """Channels of the decoded audio (1 or 2).

        Examples
        --------
        >>> MDCTImageConverter(stereo="left-right").audio_channels
        2
        """
        return 1 if self.stereo == "mono" else 2

    @property
    def frames(self) -> int:
        """Image width in frames of the images the model makes."""
        return int(self.config["frames"])

    # The geometry (sample_rate, n_bands, hop_length, n_frames, max_samples) is the converter's:
    profile = property(lambda self: self.converter.profile, doc="The GGD profile.")
    mdct = property(lambda self: self.converter.mdct, doc="The MDCT.")
    compander = property(lambda self: self.converter.compander, doc="The compander.")

    # ------------------------------------------------------------------ the seam
    # Pipeline and training reach the audio <-> image transform only through the methods
    # below (and the geometry above). The layout (mono or left-right planes) is handled here.
    @property
    def image_channels(self) -> int:
        """Code planes per image: 1 (mono, one grayscale image per clip) or 3 (left, right, mid).

        Examples
        --------
        >>> MDCTImageConverter().image_channels, MDCTImageConverter(stereo="left-right").image_channels
        (1, 3)
        """
        return 1 if self.stereo == "mono" else ChannelLayout(self.stereo, arrangement="planes").image_planes

    def images_from_audio(self, audio: np.ndarray, *, n_frames: int) -> tuple[np.ndarray, int]:
        """8-bit code images of mono audio (at :attr:`sample_rate`), padded to ``n_frames`` columns (numpy).

        Returns
        -------
        codes : np.ndarray of uint8, shape (n_bands, n_frames)
        length : int
            Samples of audio the codes hold.

        Examples
        --------
        >>> import numpy as np
        >>> codes, length = MDCTImageConverter().images_from_audio(np.zeros(24000, np.float32), n_frames=64)
        >>> codes.shape, codes.dtype, length
        ((512, 64), dtype('uint8'), 24000)
        """
        enc = self.converter.codes_from_audio(audio, n_frames=n_frames)
        return enc.codes, int(enc.length)

    def codes_from_audio_tensor(self, audio: torch.Tensor, *, n_frames: int) -> torch.Tensor:
        """uint8 code planes of ``audio (channels, n)`` at :attr:`sample_rate`, on its device.

        Mono: the channels' mean, ``(n_bands, n_frames)``. Left-right: ``(3, n_bands, n_frames)``
        planes left, right, mid with one level gain over left and right (a mono input gives
        two equal channels), as ``dataset build --stereo left-right`` writes them.

        Examples
        --------
        >>> import torch
        >>> conv = MDCTImageConverter(stereo="left-right")
        >>> conv.codes_from_audio_tensor(torch.zeros(2, 24000), n_frames=64).shape
        torch.Size([3, 512, 64])
        """
        if not isinstance(audio, torch.Tensor) or audio.ndim != 2:
            raise ParameterError(
                f"audio must be a (channels, n) tensor; got {getattr(audio, 'shape', audio)!r}"
            )
        tc = self.torch_converter(audio.device)
        x = audio.to(torch.float32)
        if self.stereo == "mono":
            x = x.mean(dim=0, keepdim=True)
        elif x.shape[0] == 1:
            x = x.expand(2, -1)
        elif x.shape[0] != 2:
            raise ParameterError(f"{x.shape[0]} channels: stereo='left-right' images hold 1 or 2")
        length, capacity = x.shape[-1], tc.max_samples(n_frames)
        if length > capacity:
            raise ParameterError(
                f"audio of {length} samples does not fit in {n_frames} frames (at most {capacity})"
            )
        gain = tc.gain(x.reshape(1, -1))  # one gain for the clip (both channels)
        if self.stereo != "mono":
            x = torch.cat([x, ChannelLayout.mid(x)])  # left, right, mid: the layout's image planes
        coefficients = tc.mdct(torch.nn.functional.pad(x, (0, capacity - length)), check_finite=False)
        if tc.level.mode != "none":
            coefficients = coefficients * gain.to(coefficients.dtype)[..., None, None]
        codes = tc.compander.encode_image(coefficients, check_finite=False)
        return codes[0] if self.stereo == "mono" else codes

    def audio_from_images(self, values: np.ndarray, *, length: int | None = None) -> np.ndarray:
        """Audio from mono code images ``(..., n_bands, n_frames)`` (numpy): uint8 codes or real values in [0, 255].

        Real values (model outputs) are decoded with the continuous inverse compander.

        Examples
        --------
        >>> import numpy as np
        >>> MDCTImageConverter().audio_from_images(np.full((512, 64), 127.5), length=24000).shape
        (24000,)
        """
        values = np.asarray(values)
        if values.dtype != np.uint8:
            values = values.astype(np.float64)
        return self.converter.audio_from_codes(values, length=length)

    def audio_from_values(self, values: torch.Tensor, *, length: int | None = None) -> torch.Tensor:
        """Audio from code values on their device: ``(B, n)`` mono or ``(B, 2, n)`` left-right.

        ``values``: what :meth:`values_from_tensor` returns, ``(B, n_bands, n_frames)`` (mono)
        or ``(B, 3, n_bands, n_frames)`` (left, right, mid; decoded from left and right), uint8
        codes (table decode) or real values in [0, 255] (continuous inverse compander,
        differentiable). Gain 1: model images are at the profile's level.

        Examples
        --------
        >>> import torch
        >>> MDCTImageConverter().audio_from_values(torch.full((2, 512, 64), 127.5), length=24000).shape
        torch.Size([2, 24000])
        """
        self._check_values(values)
        tc = self.torch_converter(values.device)
        if self.stereo != "mono":
            values = values[:, :2]  # left, right
        if values.dtype != torch.uint8:
            values = values.to(torch.float32)
        return tc.audio_from_codes(values, length=length, check_finite=False)

    def audio_from_tensor(self, x: torch.Tensor, *, length: int | None = None) -> torch.Tensor:
        """Model images ``(B, C, H, W)`` in [-1, 1] -> audio on their device (differentiable).

        Examples
        --------
        >>> import torch
        >>> MDCTImageConverter().audio_from_tensor(torch.zeros(1, 3, 512, 16)).shape
        torch.Size([1, 7680])
        """
        return self.audio_from_values(self.values_from_tensor(x), length=length)

    def _check_values(self, values: torch.Tensor) -> None:
        want = 3 if self.stereo == "mono" else 4
        if not isinstance(values, torch.Tensor) or values.ndim != want or values.shape[-2] != self.n_bands:
            shape = "(B, n_bands, n_frames)" if want == 3 else "(B, 3, n_bands, n_frames)"
            raise ParameterError(
                f"code values of shape {tuple(getattr(values, 'shape', ()))} must be {shape} with n_bands="
                f"{self.n_bands} for stereo={self.stereo!r} images"
            )

    def codes_from_pil(self, image: Any) -> np.ndarray:
        """The uint8 codes of a dataset image (a PIL image): ``(n_bands, n_frames)`` mono, ``(3, ...)`` planes.

        The image's mode must be the layout's (``L`` mono, ``RGB`` left-right): a dataset of
        the other layout is refused, never converted.

        Examples
        --------
        >>> import numpy as np
        >>> from PIL import Image
        >>> MDCTImageConverter().codes_from_pil(Image.fromarray(np.zeros((512, 8), np.uint8))).shape
        (512, 8)
        """
        want = "L" if self.stereo == "mono" else "RGB"
        if image.mode != want:
            raise ParameterError(
                f"a {image.mode} image for a converter with stereo={self.stereo!r} (expects {want}): the dataset and "
                "the model have different layouts (dataset build --stereo)"
            )
        codes = np.array(image)  # a writable copy for torch
        return codes if codes.ndim == 2 else np.ascontiguousarray(np.moveaxis(codes, -1, 0))

    def tensor_from_codes(self, codes: Any, *, channels: int) -> torch.Tensor:
        """uint8 code images -> float tensor ``(B, channels, H, W)`` in [-1, 1] (on the codes' device).

        Mono codes ``(B, H, W)`` are repeated over ``channels``; left-right codes ``(B, 3, H, W)``
        need ``channels=3``. Takes numpy arrays or tensors.

        Examples
        --------
        >>> import numpy as np
        >>> x = MDCTImageConverter().tensor_from_codes(np.full((2, 4, 4), 255, np.uint8), channels=3)
        >>> tuple(x.shape), float(x.max())
        ((2, 3, 4, 4), 1.0)
        """
        if self.stereo == "mono":
            return images_to_tensor(codes, channels)
        t = torch.from_numpy(np.ascontiguousarray(codes)) if isinstance(codes, np.ndarray) else codes
        if t.ndim != 4 or t.shape[1] != 3 or channels != 3:
            raise ParameterError(
                f"left-right codes of shape {tuple(t.shape)} for {channels} model channels: expected (B, 3, H, W) "
                "and a 3-channel model"
            )
        return t.float().div(127.5).sub(1.0)

    def values_from_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Model images ``(B, C, H, W)`` in [-1, 1] -> code values in [0, 255], on their device.

        Mono: ``(B, H, W)``, channels averaged (SD's VAE decodes 3 nearly equal channels);
        left-right: ``(B, 3, H, W)``. Differentiable inside (-1, 1).

        Examples
        --------
        >>> import torch
        >>> MDCTImageConverter().values_from_tensor(torch.zeros(1, 3, 4, 4))[0, 0, 0]
        tensor(127.5000)
        """
        values = (x.float().clamp(-1, 1) + 1.0) * 127.5
        if self.stereo == "mono":
            return values.mean(dim=1)
        if values.shape[1] != 3:
            raise ParameterError(f"model images with {values.shape[1]} channels; stereo='left-right' needs 3")
        return values

    def codes_from_tensor(self, x: torch.Tensor) -> np.ndarray:
        """Model images ``(B, C, H, W)`` in [-1, 1] -> real code values on the host (float64).

        Examples
        --------
        >>> import torch
        >>> MDCTImageConverter().codes_from_tensor(torch.zeros(1, 3, 4, 4))[0, 0, 0]
        np.float64(127.5)
        """
        return self.values_from_tensor(x.detach()).cpu().numpy().astype(np.float64)

    def pil_from_values(self, values: Any) -> Any:
        """A PIL image (``L`` mono, ``RGB`` left-right) of one image's code values (copies to the host).

        Examples
        --------
        >>> import numpy as np
        >>> MDCTImageConverter(stereo="left-right").pil_from_values(np.zeros((3, 4, 5))).mode
        'RGB'
        """
        from PIL import Image

        v = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
        pixels = np.clip(np.round(v), 0, 255).astype(np.uint8)
        if self.stereo == "mono":
            return Image.fromarray(pixels, mode="L")
        return Image.fromarray(np.ascontiguousarray(np.moveaxis(pixels, 0, -1)), mode="RGB")


def images_to_tensor(codes: np.ndarray, channels: int) -> torch.Tensor:
    """uint8 code images ``(B, H, W)`` (numpy, or a tensor: stays on its device) -> float ``(B, channels, H, W)`` in [-1, 1]."""
    t = codes if isinstance(codes, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(codes))
    x = t.float().div_(127.5).sub_(1.0)
    return x.unsqueeze(1).expand(-1, channels, -1, -1).contiguous()


def tensor_to_codes(x: torch.Tensor) -> np.ndarray:
    """Model images ``(B, C, H, W)`` in [-1, 1] -> real code values ``(B, H, W)`` in [0, 255] (channels averaged)."""
    values = (x.detach().float().clamp(-1, 1) + 1.0) * 127.5
    return values.mean(dim=1).cpu().numpy().astype(np.float64)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU; anything else is checked.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device={device!r}: CUDA is not available here (use 'cpu' or 'auto')")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ParameterError(f"device={device!r}: Apple MPS is not available here (use 'cpu' or 'auto')")
    return dev


def _generator(seed: int | None, device: torch.device) -> torch.Generator | None:
    if seed is None:
        return None
    # CPU generators give the same noise on every device (MPS has no device generator).
    return torch.Generator("cpu").manual_seed(int(seed))


def randn(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device, dtype: Any
) -> torch.Tensor:
    """Gaussian noise drawn on the CPU (reproducible across devices), moved to ``device``."""
    return torch.randn(shape, generator=generator, dtype=torch.float32).to(device=device, dtype=dtype)
