"""Text-to-audio and audio-to-audio sampling on companded-MDCT images.

:class:`MDCTDiffusionPipeline` is a diffusers pipeline (components registered, saved and
loaded with ``save_pretrained``/``from_pretrained``, LoRA adapters through
``load_lora_weights``) whose :class:`~mdctcompand.diffusion.MDCTImageConverter` component
turns generated images into audio.

Audio longer than one image is generated image after image
(:mod:`~mdctcompand.diffusion.sampling`): each image with a fresh scheduler, its first
``overlap`` latent columns pinned to the previous image's last ones (noised to the current
timestep at every step, as in RePaint), the decoded images crossfaded in the middle of the
overlap. All frames then form one MDCT frame sequence that a single inverse MDCT turns into
audio: every frame is a whole TDAC frame, overlap-added with its true neighbours.

The audio <-> image transform is reached only through the converter component's seam
(:meth:`~mdctcompand.diffusion.MDCTImageConverter.codes_from_audio_tensor`,
``tensor_from_codes``, ``values_from_tensor``, ``audio_from_values``), which runs on the
pipeline's device through :mod:`mdctcompand.torch`: the decoded images stay on the device,
are joined there, and only the final waveforms (and, if asked for, the joined code images)
are copied to the host. The image layout (mono, or left/right/mid planes for stereo) is the
converter's, saved with the model.
"""

from __future__ import annotations

from . import _extra  # noqa: F401  (first: names what the extra needs before torch is imported)

# isort: split

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders import StableDiffusionLoraLoaderMixin

# the same class as diffusers.DiffusionPipeline, whose lazy export type checkers see as a no-torch dummy
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.schedulers import KarrasDiffusionSchedulers
from diffusers.utils import BaseOutput
from transformers import CLIPTextModel, CLIPTokenizer

from ..exceptions import ParameterError
from .components import MDCTImageConverter, randn, resolve_device
from .sampling import SCHEDULERS, LongFormPlan, crossfade_join, denoising_timesteps, fresh_scheduler

__all__ = ["MDCTDiffusionPipeline", "MDCTPipelineOutput", "load_pipeline"]


@dataclass
class MDCTPipelineOutput(BaseOutput):
    """Output of :class:`MDCTDiffusionPipeline`.

    Attributes
    ----------
    audios : np.ndarray, shape (batch, n_samples) or (batch, 2, n_samples)
        float32 audio at ``sample_rate``: mono, or stereo (left, right) from a left-right model.
    sample_rate : int
    images : list of PIL.Image.Image
        The generated code image of each waveform (all frames, overlaps removed): ``L`` for
        mono models, ``RGB`` (left, right, mid) for left-right ones; empty with
        ``return_images=False``.

    Examples
    --------
    >>> import numpy as np
    >>> out = MDCTPipelineOutput(audios=np.zeros((1, 10), np.float32), sample_rate=24000, images=[])
    >>> out.audios.shape, out.sample_rate
    ((1, 10), 24000)
    """

    audios: np.ndarray
    sample_rate: int
    images: list


class MDCTDiffusionPipeline(DiffusionPipeline, StableDiffusionLoraLoaderMixin):
    """Text-to-audio on companded-MDCT images with a Stable-Diffusion-style model.

    Parameters
    ----------
    vae : AutoencoderKL or None
        Latent-space models; ``None`` for a pixel-space U-Net (trained from scratch).
    text_encoder : CLIPTextModel
    tokenizer : CLIPTokenizer
    unet : UNet2DConditionModel
    scheduler : a diffusers scheduler
    converter : MDCTImageConverter
        Images <-> audio; saved with the pipeline.

    Examples
    --------
    >>> from mdctcompand.diffusion import load_pipeline
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()  # a tiny random SD-shaped model and its dataset's converter
    >>> pipe = load_pipeline(ws.model, converter=ws.converter(), device="cpu")
    >>> out = pipe("a slow rock song", num_inference_steps=2, seed=0, progress=False)
    >>> out.audios.shape, out.sample_rate  # one 32-frame image at 8 kHz, hop 32
    ((1, 992), 8000)
    >>> long = pipe("a slow rock song", num_inference_steps=2, seed=0, audio_length_s=0.5, progress=False)
    >>> long.audios.shape  # continued across images
    (1, 4000)
    """

    model_cpu_offload_seq = "text_encoder->unet->vae"  # type: ignore[assignment]  # diffusers declares it None
    _optional_components = ["vae"]  # None for pixel-space U-Nets
    # a diffusers scheduler, set by register_modules (the other components are read through
    # ConfigMixin.__getattr__, typed Any; this one is also assigned, by use_scheduler)
    scheduler: Any

    def __init__(
        self,
        vae: AutoencoderKL | None,
        text_encoder: CLIPTextModel,
        tokenizer: CLIPTokenizer,
        unet: UNet2DConditionModel,
        scheduler: KarrasDiffusionSchedulers,
        converter: MDCTImageConverter,
    ) -> None:
        super().__init__()
        self.register_modules(
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            unet=unet,
            scheduler=scheduler,
            converter=converter,
        )

    # ------------------------------------------------------------------ geometry
    @property
    def latent_factor(self) -> int:
        """Image pixels per latent pixel (8 for SD's VAE, 1 in pixel space)."""
        if self.vae is None:
            return 1
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def image_height(self) -> int:
        return self.converter.n_bands

    @property
    def image_width(self) -> int:
        return self.converter.frames

    def _latent_shape(self, batch: int) -> tuple[int, int, int, int]:
        f = self.latent_factor
        return batch, self.unet.config.in_channels, self.image_height // f, self.image_width // f

    # ------------------------------------------------------------------ helpers
    def encode_prompt(self, prompts: list[str], negative: list[str] | None, guidance: bool) -> torch.Tensor:
        """CLIP text embeddings; with guidance, ``[negative; positive]`` stacked.

        Examples
        --------
        >>> from mdctcompand.diffusion import load_pipeline
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> pipe = load_pipeline(tiny_workspace().model, converter=tiny_workspace().converter(), device="cpu")
        >>> tuple(pipe.encode_prompt(["a song"], None, True).shape)  # negative and positive, 16 tokens, width 32
        (2, 16, 32)
        """

        def embed(texts: list[str]) -> torch.Tensor:
            ids = self.tokenizer(
                texts,
                padding="max_length",
                max_length=self.tokenizer.model_max_length,
                truncation=True,
                return_tensors="pt",
            ).input_ids
            return self.text_encoder(ids.to(self.device))[0]

        cond = embed(prompts)
        if not guidance:
            return cond
        uncond = embed(negative if negative is not None else [""] * len(prompts))
        return torch.cat([uncond, cond])

    def to_model(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] -> the U-Net's space (VAE latents, or the pixels themselves).

        Examples
        --------
        >>> import torch
        >>> from mdctcompand.diffusion import load_pipeline
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> pipe = load_pipeline(tiny_workspace().model, converter=tiny_workspace().converter(), device="cpu")
        >>> pipe.to_model(torch.zeros(1, pipe.image_channels, 32, 32)).shape[0]
        1
        """
        if self.vae is None:
            return images[:, : self.unet.config.in_channels]
        latents = self.vae.encode(images.to(self.vae.dtype)).latent_dist.mean
        return latents * self.vae.config.scaling_factor

    def from_model(self, latents: torch.Tensor) -> torch.Tensor:
        """The U-Net's space -> images in [-1, 1] (the VAE's decoder, or the pixels themselves).

        Examples
        --------
        >>> import torch
        >>> from mdctcompand.diffusion import load_pipeline
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> pipe = load_pipeline(tiny_workspace().model, converter=tiny_workspace().converter(), device="cpu")
        >>> pipe.from_model(pipe.to_model(torch.zeros(1, pipe.image_channels, 32, 32))).shape
        torch.Size([1, 3, 32, 32])
        """
        if self.vae is None:
            return latents
        return self.vae.decode(latents.to(self.vae.dtype) / self.vae.config.scaling_factor).sample

    def check_inputs(
        self, prompt, negative_prompt, num_inference_steps, guidance_scale, audio_length_s, strength,
        channels=None, sample_rate=None,
    ) -> None:  # fmt: skip
        """Raise :class:`~mdctcompand.ParameterError` naming the first bad argument of a call.

        Examples
        --------
        >>> from mdctcompand.diffusion import load_pipeline
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> pipe = load_pipeline(tiny_workspace().model, converter=tiny_workspace().converter(), device="cpu")
        >>> pipe.check_inputs("a song", None, 30, 7.0, None, 1.5)
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.ParameterError: strength=1.5 must be in (0, 1]
        """
        if not isinstance(prompt, (str, list)) or (
            isinstance(prompt, list) and not all(isinstance(p, str) for p in prompt)
        ):
            raise ParameterError(f"prompt must be a string or a list of strings; got {type(prompt).__name__}")
        if negative_prompt is not None and isinstance(prompt, list) and isinstance(negative_prompt, list):
            if len(negative_prompt) != len(prompt):
                raise ParameterError(f"{len(negative_prompt)} negative prompts for {len(prompt)} prompts")
        if not isinstance(num_inference_steps, int) or num_inference_steps < 1:
            raise ParameterError(f"num_inference_steps={num_inference_steps} must be a positive integer")
        if not guidance_scale >= 0:
            raise ParameterError(f"guidance_scale={guidance_scale} must be >= 0")
        if audio_length_s is not None and not audio_length_s > 0:
            raise ParameterError(f"audio_length_s={audio_length_s} must be > 0")
        if not 0 < strength <= 1:
            raise ParameterError(f"strength={strength} must be in (0, 1]")
        conv = self.converter
        if channels not in (None, "mono", "stereo"):
            raise ParameterError(f"channels={channels!r} must be 'mono', 'stereo' or None (the model's)")
        if channels == "stereo" and conv.stereo == "mono":
            raise ParameterError(
                "channels='stereo': this model was trained on mono images (its converter has stereo='mono'); "
                "leave channels unset, or train on a dataset built with --stereo left-right"
            )
        if sample_rate is not None and sample_rate != conv.sample_rate:
            raise ParameterError(
                f"sample_rate={sample_rate}: this model generates {conv.sample_rate} Hz audio (profile "
                f"{conv.converter.profile.name!r}); leave sample_rate unset, or resample the result"
            )
        if conv.image_channels == 3 and self.image_channels != 3:
            raise ParameterError(
                f"the converter's stereo='left-right' images have 3 planes; this U-Net takes {self.image_channels}"
            )
        if self.image_height % self.latent_factor or self.image_width % self.latent_factor:
            raise ParameterError(
                f"images of {self.image_height} x {self.image_width} are not multiples of the VAE factor {self.latent_factor}"
            )

    def _init_codes(
        self, init_audio: Any, sample_rate: int | None, n_frames: int
    ) -> tuple[torch.Tensor, int]:
        """uint8 codes of the init audio on the pipeline's device (the converter's layout), and its length."""
        from ..io import load_audio, resample

        conv = self.converter
        if isinstance(init_audio, (str, Path)):
            audio, _ = load_audio(
                init_audio, sample_rate=conv.sample_rate, mono=conv.audio_channels == 1, always_2d=True
            )
        else:
            audio = np.asarray(init_audio, dtype=np.float32)
            if sample_rate is None:
                raise ParameterError("init_audio given as an array needs init_sample_rate")
            audio = resample(np.atleast_2d(audio), sample_rate, conv.sample_rate)
        audio = np.ascontiguousarray(audio[..., : conv.max_samples(n_frames)], dtype=np.float32)
        tensor = torch.from_numpy(audio).to(self.device)
        return conv.codes_from_audio_tensor(tensor, n_frames=n_frames), int(audio.shape[-1])

    def _init_frames(self, init_audio: Any, sample_rate: int | None) -> int:
        conv = self.converter
        if isinstance(init_audio, (str, Path)):
            from ..io import audio_info

            seconds = audio_info(init_audio).duration
        else:
            if sample_rate is None:
                raise ParameterError("init_audio given as an array needs init_sample_rate")
            seconds = np.asarray(init_audio).shape[-1] / sample_rate
        return conv.n_frames(max(1, int(round(seconds * conv.sample_rate))))

    def _sample_image(
        self,
        *,
        embeddings: torch.Tensor,
        guidance_scale: float,
        num_inference_steps: int,
        strength: float,
        generator: torch.Generator | None,
        init: torch.Tensor | None,
        known: torch.Tensor | None,
        progress: Any,
    ) -> torch.Tensor:
        """Denoise one image with a scheduler of its own; return its final latents.

        ``init``: uint8 codes ``([3,] H, W)`` to start from (audio-to-audio); ``known``: latents
        of the first columns, taken from the previous image (long-form continuation).
        """
        batch = embeddings.shape[0] // (2 if guidance_scale > 1.0 else 1)
        device, dtype = self.device, self.unet.dtype
        scheduler = fresh_scheduler(self.scheduler)
        timesteps = denoising_timesteps(
            scheduler, num_inference_steps, strength if init is not None else 1.0, device
        )
        noise = randn(self._latent_shape(batch), generator, device, dtype)
        if init is not None:
            codes = init[None].expand(batch, *init.shape)
            image = self.converter.tensor_from_codes(codes, channels=self.image_channels).to(device, dtype)
            clean = self.to_model(image).to(dtype)
            latents = scheduler.add_noise(clean, noise, timesteps[:1].repeat(batch))
        else:
            latents = noise * scheduler.init_noise_sigma
        k = 0 if known is None else known.shape[-1]
        if known is not None and k:
            known_noise = randn(tuple(known.shape), generator, device, dtype)
            latents[..., :k] = scheduler.add_noise(known, known_noise, timesteps[:1].repeat(batch))
        guidance = guidance_scale > 1.0
        for i, t in enumerate(timesteps):
            model_in = torch.cat([latents] * 2) if guidance else latents
            model_in = scheduler.scale_model_input(model_in, t)
            pred = self.unet(model_in, t, encoder_hidden_states=embeddings).sample
            if guidance:
                uncond, cond = pred.chunk(2)
                pred = uncond + guidance_scale * (cond - uncond)
            latents = scheduler.step(pred, t, latents).prev_sample
            if k:  # keep the shared columns on the previous image's trajectory
                if i + 1 < len(timesteps):
                    noisy = scheduler.add_noise(known, known_noise, timesteps[i + 1 : i + 2].repeat(batch))
                    latents[..., :k] = noisy
                else:
                    latents[..., :k] = known
            progress.update()
        return latents

    @property
    def image_channels(self) -> int:
        """Planes of the images the model takes (3 with a VAE, else the U-Net's input channels)."""
        return 3 if self.vae is not None else self.unet.config.in_channels

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        *,
        negative_prompt: str | list[str] | None = None,
        num_inference_steps: int = 50,
        guidance_scale: float = 7.0,
        audio_length_s: float | None = None,
        num_waveforms_per_prompt: int = 1,
        seed: int | None = None,
        init_audio: Any = None,
        init_sample_rate: int | None = None,
        strength: float = 0.8,
        overlap_frames: int | None = None,
        channels: str | None = None,
        sample_rate: int | None = None,
        return_images: bool = True,
        progress: bool = True,
    ) -> MDCTPipelineOutput:
        """Generate audio.

        Parameters
        ----------
        prompt : str or list of str
        negative_prompt : str or list of str, optional
            Used with classifier-free guidance (``guidance_scale > 1``).
        num_inference_steps : int, default 50
        guidance_scale : float, default 7
        audio_length_s : float, optional
            Length of each waveform (default: one image; longer audio continues image after
            image, see :mod:`mdctcompand.diffusion.sampling`). With ``init_audio``: its length.
        num_waveforms_per_prompt : int, default 1
        seed : int, optional
            Seeds the noise (drawn on the CPU, so results agree across devices).
        init_audio : path or array, optional
            Audio-to-audio: start from this audio's image, noised to ``strength``.
        init_sample_rate : int, optional
            Sample rate of an ``init_audio`` array.
        strength : float, default 0.8
            How much of the init audio to replace (1: all of it).
        overlap_frames : int, optional
            Frames shared (and crossfaded) by consecutive images of long audio (default: an
            eighth of the image width, 64 frames = 1.4 s for 512-frame images).
        channels : {"mono", "stereo"}, optional
            Default: the model's (stereo for a left-right model). ``"mono"`` from a stereo
            model averages left and right; ``"stereo"`` from a mono model is refused.
        sample_rate : int, optional
            States the rate the caller expects; it must be the model's (:attr:`converter`'s
            ``sample_rate``), which is also the default.
        return_images : bool, default True
            Also return the code images (copied to the host as PIL images).

        Returns
        -------
        MDCTPipelineOutput
        """
        from tqdm.auto import tqdm

        # 1. inputs
        self.check_inputs(
            prompt, negative_prompt, num_inference_steps, guidance_scale, audio_length_s, strength,
            channels, sample_rate,
        )  # fmt: skip
        prompts, negatives = self._expand_prompts(prompt, negative_prompt, num_waveforms_per_prompt)
        conv = self.converter
        # 2. text embeddings
        embeddings = self.encode_prompt(prompts, negatives, guidance_scale > 1.0)
        # 3. the image plan
        if init_audio is not None:
            total_frames = self._init_frames(init_audio, init_sample_rate)
        else:
            seconds = audio_length_s
            length = (
                conv.max_samples(conv.frames)
                if seconds is None
                else int(round(seconds * conv.sample_rate))
            )
            total_frames = conv.n_frames(max(1, length))
        overlap = self.image_width // 8 if overlap_frames is None else int(overlap_frames)
        plan = LongFormPlan.for_frames(
            total_frames, width=self.image_width, overlap=overlap, factor=self.latent_factor
        )
        init_codes = None
        if init_audio is not None:
            init_codes, length = self._init_codes(init_audio, init_sample_rate, plan.padded_frames)
        # 4. one image after the other, each with a fresh scheduler
        generator = torch.Generator("cpu").manual_seed(int(seed)) if seed is not None else None
        k = plan.overlap // self.latent_factor
        bar = tqdm(desc="sampling", unit="step", disable=not progress)
        decoded: list[torch.Tensor] = []
        latents: torch.Tensor | None = None
        for index in range(plan.n_images):
            start = plan.start(index)
            latents = self._sample_image(
                embeddings=embeddings, guidance_scale=guidance_scale, num_inference_steps=num_inference_steps,
                strength=strength, generator=generator, progress=bar,
                init=None if init_codes is None else init_codes[..., start : start + plan.width],
                known=None if (latents is None or k == 0) else latents[..., latents.shape[-1] - k :],
            )  # fmt: skip
            # code values on the device: (batch, bands, width) mono, (batch, 3, bands, width) left-right
            decoded.append(conv.values_from_tensor(self.from_model(latents)))
        bar.close()
        # 5. crossfade the shared columns, one inverse transform over all frames, on the device
        values = crossfade_join(decoded, overlap=plan.overlap)
        audios = conv.audio_from_values(values, length=length)  # (batch, n) or (batch, 2, n)
        if channels == "mono" and audios.ndim == 3:
            audios = audios.mean(dim=1)
        # 6. only the waveforms (and the images, if asked for) go to the host
        audios = audios.to(torch.float32).cpu().numpy()
        images = [conv.pil_from_values(v) for v in values] if return_images else []
        return MDCTPipelineOutput(audios=audios, sample_rate=conv.sample_rate, images=images)

    @staticmethod
    def _expand_prompts(prompt, negative_prompt, copies: int) -> tuple[list[str], list[str] | None]:
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        prompts = [p for p in prompts for _ in range(copies)]
        if negative_prompt is None:
            return prompts, None
        if isinstance(negative_prompt, str):
            return prompts, [negative_prompt] * len(prompts)
        return prompts, [n for n in negative_prompt for _ in range(copies)]

    def use_scheduler(self, name: str) -> None:
        """Sample with another diffusers scheduler (class name, e.g. ``"EulerDiscreteScheduler"``,
        or a ``generate --scheduler`` name such as ``"dpm++"``), built from the current config.

        Examples
        --------
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> pipe = load_pipeline(tiny_workspace().model, converter=tiny_workspace().converter(), device="cpu")
        >>> pipe.use_scheduler("euler"); type(pipe.scheduler).__name__
        'EulerDiscreteScheduler'
        """
        import diffusers

        cls = getattr(diffusers, SCHEDULERS.get(name, name), None)
        if cls is None or not hasattr(cls, "from_config"):
            raise ParameterError(
                f"scheduler {name!r} is not one of {', '.join(sorted(SCHEDULERS))} or a diffusers scheduler class"
            )
        self.scheduler = cls.from_config(self.scheduler.config)

    # ------------------------------------------------------------------ saving and loading
    # the superclass's options (safe_serialization, variant...) pass through **kwargs: keyword only
    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:  # type: ignore[override]
        """Save the pipeline so that it reloads anywhere mdctcompand is installed.

        LoRA adapters that are loaded but not fused are merged into copies of the modules
        they adapt before saving (the live pipeline is unchanged), so the saved model
        behaves like this pipeline. A small ``pipeline_mdctcompand.py`` that imports this
        class lets ``DiffusionPipeline.from_pretrained(path, trust_remote_code=True)`` load it;
        :meth:`from_pretrained` of this class and :func:`load_pipeline` need no flag.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> pipe = load_pipeline(tiny_workspace().model, converter=tiny_workspace().converter(), device="cpu")
        >>> d = tempfile.mkdtemp()
        >>> pipe.save_pretrained(d)
        >>> type(MDCTDiffusionPipeline.from_pretrained(d)).__name__
        'MDCTDiffusionPipeline'
        """
        merged = {name: _merged_copy(module) for name, module in self._adapted_modules().items()}
        target = self
        if merged:
            components = {**self.components, **merged}
            target = MDCTDiffusionPipeline(**components)
        DiffusionPipeline.save_pretrained(target, save_directory, **kwargs)
        root = Path(save_directory)
        index = json.loads((root / "model_index.json").read_text())
        index["_class_name"] = [SHIM_MODULE, type(self).__name__]
        (root / "model_index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        (root / f"{SHIM_MODULE}.py").write_text(SHIM_SOURCE)

    def _adapted_modules(self) -> dict[str, torch.nn.Module]:
        from peft.tuners.tuners_utils import BaseTunerLayer

        found = {}
        for name in ("unet", "text_encoder"):
            module = getattr(self, name, None)
            if module is not None and any(isinstance(m, BaseTunerLayer) for m in module.modules()):
                found[name] = module
        return found

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any
    ) -> MDCTDiffusionPipeline:
        """``DiffusionPipeline.from_pretrained``; trusts the loader shim that :meth:`save_pretrained` writes.

        Examples
        --------
        >>> import tempfile
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> d = tempfile.mkdtemp()
        >>> load_pipeline(tiny_workspace().model, converter=tiny_workspace().converter(), device="cpu").save_pretrained(d)
        >>> MDCTDiffusionPipeline.from_pretrained(d).converter.frames
        32
        """
        shim = Path(pretrained_model_name_or_path) / f"{SHIM_MODULE}.py"
        if shim.is_file() and shim.read_text() == SHIM_SOURCE:
            kwargs.setdefault("trust_remote_code", True)  # our own one-line import, nothing else
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)


#: Module name of the loader shim written next to a saved pipeline.
SHIM_MODULE = "pipeline_mdctcompand"
SHIM_SOURCE = (
    '"""Written by mdctcompand: lets DiffusionPipeline.from_pretrained(dir, trust_remote_code=True) find the class."""\n'
    "from mdctcompand.diffusion.pipeline import MDCTDiffusionPipeline  # noqa: F401\n"
)


def _merged_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``module`` with its active LoRA adapters merged into the base weights and removed."""
    import copy

    from diffusers.utils.peft_utils import recurse_remove_peft_layers
    from peft.tuners.tuners_utils import BaseTunerLayer

    merged = copy.deepcopy(module)
    for layer in merged.modules():
        if isinstance(layer, BaseTunerLayer) and not layer.disable_adapters:
            layer.merge(adapter_names=[a for a in layer.active_adapters if a not in layer.merged_adapters])
    recurse_remove_peft_layers(merged)
    if hasattr(merged, "peft_config"):
        del merged.peft_config
    if hasattr(merged, "_hf_peft_config_loaded"):
        # torch types Module attributes as tensors or modules; a plain flag is allowed too
        merged._hf_peft_config_loaded = False  # type: ignore[assignment]
    return merged


def load_pipeline(
    model: str | Path,
    *,
    lora: str | Path | None = None,
    converter: MDCTImageConverter | None = None,
    device: str = "auto",
    dtype: torch.dtype | None = None,
) -> MDCTDiffusionPipeline:
    """Load a pipeline: a saved :class:`MDCTDiffusionPipeline`, or any SD-style model plus a converter.

    Parameters
    ----------
    model : path or hub id
        A directory written by ``MDCTDiffusionPipeline.save_pretrained`` (or by
        :func:`~mdctcompand.diffusion.train`), or a Stable-Diffusion-style model (hub id or
        path; needs ``converter`` or a LoRA directory that holds one).
    lora : path, optional
        A LoRA adapter written by training; its ``converter`` subfolder is used if present.
    converter : MDCTImageConverter, optional
        Overrides the saved converter.
    device : str, default "auto"
        ``"cuda"``, ``"mps"``, ``"cpu"`` or ``"auto"``.
    dtype : torch.dtype, optional
        E.g. ``torch.float16`` on GPUs.

    Examples
    --------
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> pipe = load_pipeline(ws.model, converter=ws.converter(), device="cpu")
    >>> type(pipe).__name__, pipe.device.type, pipe.latent_factor
    ('MDCTDiffusionPipeline', 'cpu', 2)
    """
    dev = resolve_device(device)
    path = Path(str(model))
    if converter is None and lora is not None and (Path(lora) / "converter").is_dir():
        converter = MDCTImageConverter.from_pretrained(Path(lora) / "converter")
    if converter is None and (path / "converter").is_dir():
        converter = MDCTImageConverter.from_pretrained(path / "converter")
    if converter is None:
        raise ParameterError(
            f"{model}: no converter saved with the model; pass converter= (e.g. MDCTImageConverter.from_dataset(dir))"
        )
    kwargs: dict[str, Any] = {"converter": converter}
    if dtype is not None:
        kwargs[_dtype_keyword()] = dtype
    if not (path / "vae").is_dir() and path.is_dir():
        kwargs["vae"] = None
    if lora is not None and (Path(lora) / "scheduler").is_dir():
        # saved by training: the base scheduler with the prediction type the adapter learned
        kwargs["scheduler"] = _scheduler_class(Path(lora) / "scheduler").from_pretrained(
            Path(lora) / "scheduler"
        )
    pipe = MDCTDiffusionPipeline.from_pretrained(str(model), **kwargs)
    if lora is not None:
        pipe.load_lora_weights(str(lora))
    return pipe.to(dev)


def _scheduler_class(directory: Path) -> type[Any]:
    import diffusers

    name = json.loads((directory / "scheduler_config.json").read_text())["_class_name"]
    return getattr(diffusers, name)


def _dtype_keyword() -> str:
    """``dtype`` where diffusers takes it (0.42 deprecates ``torch_dtype``), else ``torch_dtype``."""
    try:
        from diffusers.utils import deprecation_utils
    except ImportError:
        return "torch_dtype"
    return "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
