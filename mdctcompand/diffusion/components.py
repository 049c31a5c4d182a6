"""The audio/image converter as a diffusers component, and tensor helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from ..compand import DEFAULT_ROUNDING, DEFAULT_TILT
from ..converter import AudioImageConverter
from ..exceptions import ParameterError
from ..profile import GGDProfile

__all__ = ["MDCTImageConverter", "images_to_tensor", "resolve_device", "tensor_to_codes"]


class MDCTImageConverter(ConfigMixin, SchedulerMixin):
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

    config_name = "converter_config.json"

    @register_to_config
    def __init__(
        self,
        profile: dict | None = None,
        tilt: float = DEFAULT_TILT,
        rounding: str = DEFAULT_ROUNDING,
        reconstruction: str = "midpoint",
        level: str | None = None,
        frames: int = 512,
    ) -> None:
        self._converter: AudioImageConverter | None = None

    @classmethod
    def from_converter(cls, converter: AudioImageConverter, *, frames: int = 512) -> MDCTImageConverter:
        """Wrap an :class:`AudioImageConverter`.

        Examples
        --------
        >>> from mdctcompand import AudioImageConverter
        >>> MDCTImageConverter.from_converter(AudioImageConverter(tilt=3.0), frames=256).config.frames
        256
        """
        s = converter.settings()
        return cls(s["profile"], s["tilt"], s["rounding"], s["reconstruction"], s["level"], frames)

    @classmethod
    def from_dataset(cls, dataset_dir: str) -> MDCTImageConverter:
        """The converter a dataset built by :func:`mdctcompand.dataset.build_dataset` was made with.

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
        profile = GGDProfile.load(root / "profile.json").to_dict()
        conv = settings["converter"]
        return cls(
            profile,
            conv["tilt"],
            conv["rounding"],
            conv["reconstruction"],
            conv["level"],
            settings["build"]["frames"],
        )

    @property
    def converter(self) -> AudioImageConverter:
        """The underlying :class:`AudioImageConverter` (built once)."""
        if self._converter is None:
            c = self.config
            profile = GGDProfile.from_dict(c.profile) if c.profile is not None else None
            self._converter = AudioImageConverter(
                profile, tilt=c.tilt, rounding=c.rounding, reconstruction=c.reconstruction, level=c.level
            )
        return self._converter

    @property
    def sample_rate(self) -> int:
        return self.converter.sample_rate

    @property
    def n_bands(self) -> int:
        return self.converter.n_bands

    @property
    def frames(self) -> int:
        return int(self.config.frames)

    def frames_for_samples(self, n_samples: int) -> int:
        """Frames (image columns) that ``n_samples`` samples of audio need.

        Examples
        --------
        >>> MDCTImageConverter().frames_for_samples(240000)
        470
        """
        return self.converter.n_frames(n_samples)

    def samples_in_frames(self, n_frames: int) -> int:
        """Most samples of audio that ``n_frames`` frames hold.

        Examples
        --------
        >>> MDCTImageConverter().samples_in_frames(512)
        261632
        """
        return self.converter.max_samples(n_frames)

    # ------------------------------------------------------------------ the seam
    # Pipeline and training reach the audio <-> image transform only through the five
    # methods below (and the geometry above): a stereo channel layout or the torch
    # converter changes these methods, nothing else.
    @property
    def image_channels(self) -> int:
        """Code channels per image (1: mono, one grayscale image per clip).

        Examples
        --------
        >>> MDCTImageConverter().image_channels
        1
        """
        return 1

    def images_from_audio(self, audio: np.ndarray, *, n_frames: int) -> tuple[np.ndarray, int]:
        """8-bit code images of mono audio (at :attr:`sample_rate`), padded to ``n_frames`` columns.

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

    def audio_from_images(self, values: np.ndarray, *, length: int | None = None) -> np.ndarray:
        """Audio from code images ``(..., n_bands, n_frames)``: uint8 codes or real values in [0, 255].

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

    def codes_from_pil(self, image: Any) -> np.ndarray:
        """The uint8 codes ``(n_bands, n_frames)`` of a dataset image (a PIL image).

        Examples
        --------
        >>> import numpy as np
        >>> from PIL import Image
        >>> MDCTImageConverter().codes_from_pil(Image.fromarray(np.zeros((512, 8), np.uint8))).shape
        (512, 8)
        """
        return np.array(image.convert("L"))  # a writable copy for torch

    def tensor_from_codes(self, codes: np.ndarray, *, channels: int) -> torch.Tensor:
        """uint8 code images ``(B, H, W)`` -> float tensor ``(B, channels, H, W)`` in [-1, 1].

        Examples
        --------
        >>> import numpy as np
        >>> x = MDCTImageConverter().tensor_from_codes(np.full((2, 4, 4), 255, np.uint8), channels=3)
        >>> tuple(x.shape), float(x.max())
        ((2, 3, 4, 4), 1.0)
        """
        return images_to_tensor(codes, channels)

    def codes_from_tensor(self, x: torch.Tensor) -> np.ndarray:
        """Model images ``(B, C, H, W)`` in [-1, 1] -> real code values ``(B, H, W)`` in [0, 255].

        Channels are averaged (SD's VAE decodes 3 nearly equal channels).

        Examples
        --------
        >>> import torch
        >>> MDCTImageConverter().codes_from_tensor(torch.zeros(1, 3, 4, 4))[0, 0, 0]
        np.float64(127.5)
        """
        return tensor_to_codes(x)


def images_to_tensor(codes: np.ndarray, channels: int) -> torch.Tensor:
    """uint8 code images ``(B, H, W)`` -> float tensor ``(B, channels, H, W)`` in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(codes)).float().div_(127.5).sub_(1.0)
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
