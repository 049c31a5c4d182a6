"""Text-to-audio and audio-to-audio sampling on companded-MDCT images.

:class:`MDCTDiffusionPipeline` is a diffusers pipeline (components registered, saved and
loaded with ``save_pretrained``/``from_pretrained``, LoRA adapters through
``load_lora_weights``) whose :class:`~mdctcompand.diffusion.MDCTImageConverter` component
turns generated images into audio.

Audio longer than one image is generated image after image: each new image continues
the previous one by outpainting, its first ``overlap`` latent columns pinned to the
previous image's last columns (noised to the current timestep at every step, as in
RePaint). The frames of all images, minus the overlaps, form one MDCT frame sequence
that a single inverse MDCT turns into audio, so there is no seam at the joins: every
frame is a whole TDAC frame, overlap-added with its true neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL, DiffusionPipeline, UNet2DConditionModel
from diffusers.loaders import StableDiffusionLoraLoaderMixin
from diffusers.schedulers import KarrasDiffusionSchedulers
from diffusers.utils import BaseOutput
from transformers import CLIPTextModel, CLIPTokenizer

from ..exceptions import ParameterError
from .components import MDCTImageConverter, images_to_tensor, randn, resolve_device, tensor_to_codes

__all__ = ["MDCTDiffusionPipeline", "MDCTPipelineOutput", "load_pipeline"]


@dataclass
class MDCTPipelineOutput(BaseOutput):
    """Output of :class:`MDCTDiffusionPipeline`.

    Attributes
    ----------
    audios : np.ndarray, shape (batch, n_samples)
        float32 audio at ``sample_rate``.
    sample_rate : int
    images : list of PIL.Image.Image
        The generated code image of each waveform (all frames, overlaps removed).

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

    model_cpu_offload_seq = "text_encoder->unet->vae"

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

    def _to_model(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] -> the U-Net's space (VAE latents, or the pixels themselves)."""
        if self.vae is None:
            return images[:, : self.unet.config.in_channels]
        latents = self.vae.encode(images.to(self.vae.dtype)).latent_dist.mean
        return latents * self.vae.config.scaling_factor

    def _from_model(self, latents: torch.Tensor) -> torch.Tensor:
        if self.vae is None:
            return latents
        return self.vae.decode(latents.to(self.vae.dtype) / self.vae.config.scaling_factor).sample

    def check_inputs(
        self, prompt, negative_prompt, num_inference_steps, guidance_scale, audio_length_s, strength
    ) -> None:
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
        if self.image_height % self.latent_factor or self.image_width % self.latent_factor:
            raise ParameterError(
                f"images of {self.image_height} x {self.image_width} are not multiples of the VAE factor {self.latent_factor}"
            )

    def _init_codes(self, init_audio: Any, sample_rate: int | None, n_frames: int) -> tuple[np.ndarray, int]:
        from ..io import load_audio, resample

        conv = self.converter.converter
        if isinstance(init_audio, (str, Path)):
            audio, _ = load_audio(init_audio, sample_rate=conv.sample_rate, mono=True)
        else:
            audio = np.asarray(init_audio, dtype=np.float32)
            if audio.ndim == 2:
                audio = audio.mean(axis=0)
            if sample_rate is None:
                raise ParameterError("init_audio given as an array needs init_sample_rate")
            audio = resample(audio, sample_rate, conv.sample_rate)
        audio = audio[: conv.max_samples(n_frames)]
        return conv.codes_from_audio(audio, n_frames=n_frames).codes, audio.size

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
            image, see the module docstring). With ``init_audio``: its length.
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
            Frames shared by consecutive images of long audio (default: an eighth of the
            image width, 64 frames = 1.4 s for 512-frame images).

        Returns
        -------
        MDCTPipelineOutput
        """
        from PIL import Image
        from tqdm.auto import tqdm

        self.check_inputs(
            prompt, negative_prompt, num_inference_steps, guidance_scale, audio_length_s, strength
        )
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        prompts = [p for p in prompts for _ in range(num_waveforms_per_prompt)]
        negatives = None
        if negative_prompt is not None:
            negatives = (
                [negative_prompt] * len(prompts)
                if isinstance(negative_prompt, str)
                else [n for n in negative_prompt for _ in range(num_waveforms_per_prompt)]
            )
        batch = len(prompts)
        conv = self.converter.converter
        device = self.device
        dtype = self.unet.dtype
        guidance = guidance_scale > 1.0
        embeddings = self.encode_prompt(prompts, negatives, guidance)
        f = self.latent_factor
        width = self.image_width
        if overlap_frames is None:
            overlap_frames = width // 8
        overlap = max(0, min(int(overlap_frames) // f * f, width - f))
        step_frames = width - overlap

        init_codes = None
        if init_audio is not None:
            frames_needed = None
            if isinstance(init_audio, (str, Path)):
                from ..io import audio_info

                info = audio_info(init_audio)
                frames_needed = conv.n_frames(max(1, int(round(info.duration * conv.sample_rate))))
            else:
                arr = np.asarray(init_audio)
                frames_needed = conv.n_frames(
                    max(1, int(arr.shape[-1] * conv.sample_rate / (init_sample_rate or 1)))
                )
            total_frames = frames_needed
        else:
            length = (
                conv.max_samples(width)
                if audio_length_s is None
                else int(round(audio_length_s * conv.sample_rate))
            )
            total_frames = conv.n_frames(max(1, length))
        n_images = 1 + max(0, math.ceil((total_frames - width) / step_frames))
        padded_frames = width + (n_images - 1) * step_frames
        if init_audio is not None:
            init_codes, init_length = self._init_codes(init_audio, init_sample_rate, padded_frames)
            length = init_length

        generator = torch.Generator("cpu").manual_seed(int(seed)) if seed is not None else None
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        if init_codes is not None:
            start = max(0, min(num_inference_steps, int(round(num_inference_steps * strength))))
            timesteps = timesteps[num_inference_steps - start :]
            if len(timesteps) == 0:
                raise ParameterError(
                    f"strength={strength} leaves no denoising steps with {num_inference_steps} steps"
                )

        latent_w = width // f
        k = overlap // f
        pieces: list[np.ndarray] = []
        previous: torch.Tensor | None = None
        bar = tqdm(total=n_images * len(timesteps), desc="sampling", unit="step", disable=not progress)
        for index in range(n_images):
            noise = randn(self._latent_shape(batch), generator, device, dtype)
            if init_codes is not None:
                window = init_codes[:, index * step_frames : index * step_frames + width]
                image = images_to_tensor(np.repeat(window[None], batch, axis=0), 3).to(
                    device=device, dtype=dtype
                )
                clean = self._to_model(image).to(dtype)
                latents = self.scheduler.add_noise(clean, noise, timesteps[:1])
            else:
                latents = noise * self.scheduler.init_noise_sigma
            known = previous[..., latent_w - k :] if (previous is not None and k) else None
            known_noise = randn(known.shape, generator, device, dtype) if known is not None else None
            if known is not None:
                latents[..., :k] = self.scheduler.add_noise(known, known_noise, timesteps[:1])
            for i, t in enumerate(timesteps):
                model_in = torch.cat([latents] * 2) if guidance else latents
                model_in = self.scheduler.scale_model_input(model_in, t)
                pred = self.unet(model_in, t, encoder_hidden_states=embeddings).sample
                if guidance:
                    uncond, cond = pred.chunk(2)
                    pred = uncond + guidance_scale * (cond - uncond)
                latents = self.scheduler.step(pred, t, latents).prev_sample
                if known is not None:  # keep the shared columns on the previous image's trajectory
                    if i + 1 < len(timesteps):
                        latents[..., :k] = self.scheduler.add_noise(
                            known, known_noise, timesteps[i + 1 : i + 2]
                        )
                    else:
                        latents[..., :k] = known
                bar.update()
            previous = latents
            values = tensor_to_codes(self._from_model(latents))  # (batch, bands, width)
            pieces.append(values if index == 0 else values[..., overlap:])
        bar.close()
        values = np.concatenate(pieces, axis=-1)
        audios = conv.audio_from_codes(values, length=length)
        audios = np.asarray(audios, dtype=np.float32).reshape(batch, -1)
        images = [Image.fromarray(np.clip(np.round(v), 0, 255).astype(np.uint8), mode="L") for v in values]
        return MDCTPipelineOutput(audios=audios, sample_rate=conv.sample_rate, images=images)


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
        kwargs["torch_dtype"] = dtype
    if not (path / "vae").is_dir() and path.is_dir():
        kwargs["vae"] = None
    pipe = MDCTDiffusionPipeline.from_pretrained(str(model), **kwargs)
    if lora is not None:
        pipe.load_lora_weights(str(lora))
    return pipe.to(dev)
