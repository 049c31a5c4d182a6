"""LoRA fine-tuning (or training from scratch) on a companded-MDCT image dataset.

Follows diffusers' ``train_text_to_image_lora.py``: every pretrained component frozen,
``unet.add_adapter(LoraConfig(...))``, only the adapter's parameters optimized (upcast to
float32 under fp16), accelerate for devices, gradient accumulation and mixed precision
(``accelerate launch`` runs it on several GPUs or nodes unchanged), checkpoints that hold
the adapter only, resume from the latest, validation prompts written as images *and*
audio, and the adapter saved with its metadata so ``lora_alpha`` survives a reload.

``mode="scratch"`` trains a small conditional U-Net from scratch instead (pixel space, or
latent space with the pretrained VAE), the paper's stated next step; the text encoder
and tokenizer still come from ``pretrained_model``.

Random horizontal flips reverse time: they are not valid MDCT data and are off (a
``random_flip=True`` is refused). Random crops along time are valid and used when the
images are wider than ``resolution``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..exceptions import ParameterError
from .components import MDCTImageConverter, images_to_tensor

__all__ = ["TrainingConfig", "fixed_noise_loss", "train"]

logger = logging.getLogger(__name__)


@dataclass
class TrainingConfig:
    """Everything a training run needs; ``mdctcompand train-lora`` exposes the same fields.

    Attributes
    ----------
    pretrained_model : str
        Path or hub id of a Stable-Diffusion-style model (SD 1.5 layout).
    dataset_dir : str
        A dataset built by ``mdctcompand dataset build`` (imagefolder with captions).
    output_dir : str
        Adapter (or model), checkpoints, validation samples and logs go here.
    mode : {"lora", "scratch"}
        Fine-tune a LoRA adapter, or train a small U-Net from scratch.
    space : {"latent", "pixel"}
        For ``mode="scratch"``: diffuse VAE latents or the code images themselves.
    rank, alpha : int, float
        LoRA rank and ``lora_alpha`` (scaling ``alpha / rank``).
    learning_rate, lr_scheduler, lr_warmup_steps, adam_weight_decay, max_grad_norm
        Optimizer and schedule (any ``diffusers.optimization.get_scheduler`` name).
    train_batch_size, gradient_accumulation_steps, max_train_steps
        Effective batch = batch x accumulation x processes.
    mixed_precision : {"no", "fp16", "bf16"}
    gradient_checkpointing : bool
    checkpointing_steps, checkpoints_total_limit : int
    resume_from_checkpoint : {"latest", path, None}
    validation_prompts : list of str
    validation_steps : int
        Also runs at the end of training.
    validation_inference_steps : int
    seed : int
    resolution : int
        Image height and width the model sees (images must be this tall; wider ones are
        randomly cropped in time).
    caption_column : str
    dataloader_num_workers : int
    scratch_channels : tuple of int
        Block widths of the from-scratch U-Net.

    Examples
    --------
    >>> config = TrainingConfig("runwayml/stable-diffusion-v1-5", "mdct1k/", "lora/", rank=8, alpha=8)
    >>> config.gradient_accumulation_steps, config.random_flip
    (4, False)
    >>> TrainingConfig("m", "d", "o", random_flip=True)
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: random_flip=True reverses time: flipped MDCT images are not valid audio; leave it off
    """

    pretrained_model: str
    dataset_dir: str
    output_dir: str
    mode: str = "lora"
    space: str = "latent"
    rank: int = 4
    alpha: float = 4.0
    learning_rate: float = 1e-4
    lr_scheduler: str = "constant"
    lr_warmup_steps: int = 0
    adam_weight_decay: float = 1e-2
    max_grad_norm: float = 1.0
    train_batch_size: int = 1
    gradient_accumulation_steps: int = 4
    max_train_steps: int = 15000
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    checkpointing_steps: int = 500
    checkpoints_total_limit: int | None = 3
    resume_from_checkpoint: str | None = None
    validation_prompts: list[str] = field(default_factory=list)
    validation_steps: int = 1000
    validation_inference_steps: int = 30
    seed: int = 0
    resolution: int = 512
    random_flip: bool = False
    caption_column: str = "caption"
    dataloader_num_workers: int = 0
    scratch_channels: tuple[int, ...] = (64, 128, 256)

    def __post_init__(self) -> None:
        if self.mode not in ("lora", "scratch"):
            raise ParameterError(f"mode={self.mode!r} must be 'lora' or 'scratch'")
        if self.space not in ("latent", "pixel"):
            raise ParameterError(f"space={self.space!r} must be 'latent' or 'pixel'")
        if self.mode == "lora" and self.space != "latent":
            raise ParameterError(
                "LoRA fine-tuning works on the pretrained model's latent space (space='latent')"
            )
        if self.random_flip:
            raise ParameterError(
                "random_flip=True reverses time: flipped MDCT images are not valid audio; leave it off"
            )
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise ParameterError(f"mixed_precision={self.mixed_precision!r} must be 'no', 'fp16' or 'bf16'")
        for name in ("rank", "train_batch_size", "gradient_accumulation_steps", "max_train_steps", "checkpointing_steps",
                     "validation_steps", "resolution"):  # fmt: skip
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"{name}={getattr(self, name)} must be >= 1")
        if not self.learning_rate > 0:
            raise ParameterError(f"learning_rate={self.learning_rate} must be > 0")


# ---------------------------------------------------------------------- data
class _Dataset(torch.utils.data.Dataset):
    """The dataset's PNG code images as tensors in [-1, 1] with tokenized captions."""

    def __init__(self, config: TrainingConfig, tokenizer: Any, channels: int, seed: int) -> None:
        from datasets import load_dataset

        data_dir = Path(config.dataset_dir)
        if not (data_dir / "train").is_dir():
            raise ParameterError(f"{data_dir}: no train/ split (build it with `mdctcompand dataset build`)")
        self.data = load_dataset("imagefolder", data_dir=str(data_dir), split="train")
        if config.caption_column not in self.data.column_names:
            raise ParameterError(
                f"caption column {config.caption_column!r} not in the dataset (columns: {', '.join(self.data.column_names)})"
            )
        self.tokenizer = tokenizer
        self.channels = channels
        self.resolution = config.resolution
        self.caption_column = config.caption_column
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        row = self.data[int(i)]
        codes = np.array(row["image"].convert("L"))  # a writable copy for torch
        h, w = codes.shape
        if h != self.resolution:
            raise ParameterError(
                f"image height {h} != resolution {self.resolution}: resizing would mix bands; rebuild the dataset "
                "or set --resolution"
            )
        if w < self.resolution:
            raise ParameterError(f"image width {w} < resolution {self.resolution}")
        start = int(self.rng.integers(0, w - self.resolution + 1)) if w > self.resolution else 0
        codes = codes[:, start : start + self.resolution]  # a crop in time: still valid audio
        ids = self.tokenizer(
            row[self.caption_column], padding="max_length", truncation=True,
            max_length=self.tokenizer.model_max_length, return_tensors="pt",
        ).input_ids[0]  # fmt: skip
        return {"pixel_values": images_to_tensor(codes[None], self.channels)[0], "input_ids": ids}


# ---------------------------------------------------------------------- checkpoints
def _checkpoints(output_dir: Path) -> list[Path]:
    found = [
        p for p in output_dir.glob("checkpoint-*") if p.is_dir() and re.fullmatch(r"checkpoint-\d+", p.name)
    ]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def _prune(output_dir: Path, limit: int | None) -> None:
    if limit is None:
        return
    existing = _checkpoints(output_dir)
    for old in existing[: max(0, len(existing) - limit + 1)]:
        shutil.rmtree(old)


# ---------------------------------------------------------------------- training
def train(config: TrainingConfig, *, progress: bool = True) -> Path:
    """Run a training job; returns the output directory.

    LoRA: the adapter is saved as ``pytorch_lora_weights.safetensors`` (with its
    ``lora_alpha`` in the metadata) beside ``converter/``; load it with
    ``load_pipeline(base_model, lora=output_dir)``. Scratch: a whole
    :class:`MDCTDiffusionPipeline` is saved to ``output_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> out = train(TrainingConfig(str(ws.model), str(ws.dataset), tempfile.mkdtemp(), max_train_steps=2,
    ...                            gradient_accumulation_steps=1, resolution=32), progress=False)
    >>> sorted(p.name for p in out.iterdir() if not p.name.startswith("checkpoint"))
    ['converter', 'pytorch_lora_weights.safetensors', 'training_config.json', 'training_log.json']
    """
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from diffusers.optimization import get_scheduler
    from tqdm.auto import tqdm
    from transformers import CLIPTextModel, CLIPTokenizer

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    converter = MDCTImageConverter.from_dataset(config.dataset_dir)
    accelerator = Accelerator(
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        mixed_precision=config.mixed_precision,
        project_config=ProjectConfiguration(project_dir=str(out), logging_dir=str(out / "logs")),
    )
    set_seed(config.seed)
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(config.mixed_precision, torch.float32)

    model = config.pretrained_model
    noise_scheduler = DDPMScheduler.from_pretrained(model, subfolder="scheduler")
    tokenizer = CLIPTokenizer.from_pretrained(model, subfolder="tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(model, subfolder="text_encoder")
    text_encoder.requires_grad_(False)
    vae = None
    if config.space == "latent":
        vae = AutoencoderKL.from_pretrained(model, subfolder="vae")
        vae.requires_grad_(False)

    lora_config = None
    if config.mode == "lora":
        from peft import LoraConfig

        unet = UNet2DConditionModel.from_pretrained(model, subfolder="unet")
        unet.requires_grad_(False)
        unet.to(accelerator.device, dtype=weight_dtype)
        lora_config = LoraConfig(
            r=int(config.rank), lora_alpha=float(config.alpha), init_lora_weights="gaussian",
            target_modules=["to_k", "to_q", "to_v", "to_out.0"],
        )  # fmt: skip
        unet.add_adapter(lora_config)
        if config.mixed_precision == "fp16":
            from diffusers.training_utils import cast_training_params

            cast_training_params(unet, dtype=torch.float32)  # trainable params in float32
    else:
        from .models import small_unet_config

        factor = 1 if vae is None else 2 ** (len(vae.config.block_out_channels) - 1)
        in_channels = 1 if vae is None else vae.config.latent_channels
        unet = UNet2DConditionModel(
            **small_unet_config(
                sample_size=config.resolution // factor, in_channels=in_channels,
                cross_attention_dim=text_encoder.config.hidden_size, block_out_channels=tuple(config.scratch_channels),
            )
        )  # fmt: skip
        unet.train()
    text_encoder.to(accelerator.device, dtype=weight_dtype)
    if vae is not None:
        vae.to(accelerator.device, dtype=weight_dtype)
    if config.gradient_checkpointing:
        unet.enable_gradient_checkpointing()

    # Checkpoints hold the trainable weights only (the adapter, or the scratch U-Net).
    def save_hook(models: list, weights: list, output_dir: str) -> None:
        if not accelerator.is_main_process:
            return
        for m in models:
            _save_trainable(accelerator.unwrap_model(m), Path(output_dir), config.mode, lora_config)
            if weights:
                weights.pop()

    def load_hook(models: list, input_dir: str) -> None:
        while models:
            m = models.pop()
            _load_trainable(accelerator.unwrap_model(m), Path(input_dir), config.mode)

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)

    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.adam_weight_decay)
    channels = 3 if vae is not None else 1
    dataset = _Dataset(config, tokenizer, channels, config.seed)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=config.train_batch_size, shuffle=True, num_workers=config.dataloader_num_workers,
        generator=torch.Generator().manual_seed(config.seed), drop_last=False,
    )  # fmt: skip
    lr_scheduler = get_scheduler(
        config.lr_scheduler, optimizer=optimizer,
        num_warmup_steps=config.lr_warmup_steps * accelerator.num_processes,
        num_training_steps=config.max_train_steps * accelerator.num_processes,
    )  # fmt: skip
    unet, optimizer, loader, lr_scheduler = accelerator.prepare(unet, optimizer, loader, lr_scheduler)

    global_step = 0
    if config.resume_from_checkpoint:
        path = (
            _checkpoints(out)[-1] if config.resume_from_checkpoint == "latest" and _checkpoints(out) else None
        )
        if config.resume_from_checkpoint != "latest":
            path = Path(config.resume_from_checkpoint)
        if path is None:
            logger.info("no checkpoint to resume from in %s: starting a new run", out)
        else:
            if not path.is_dir():
                raise ParameterError(f"checkpoint {path} does not exist")
            accelerator.load_state(str(path))
            global_step = int(path.name.split("-")[1])
    updates_per_epoch = max(1, math.ceil(len(loader) / config.gradient_accumulation_steps))
    first_epoch = global_step // updates_per_epoch

    bar = tqdm(total=config.max_train_steps, initial=global_step, desc="training", unit="step",
               disable=not (progress and accelerator.is_local_main_process))  # fmt: skip
    losses: list[float] = []
    epoch = first_epoch
    while global_step < config.max_train_steps:
        unet.train()
        for batch in loader:
            with accelerator.accumulate(unet):
                pixels = batch["pixel_values"].to(accelerator.device, dtype=weight_dtype)
                if vae is not None:
                    latents = vae.encode(pixels).latent_dist.sample() * vae.config.scaling_factor
                else:
                    latents = pixels
                noise = torch.randn_like(latents)
                t = torch.randint(
                    0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],), device=latents.device
                )
                noisy = noise_scheduler.add_noise(latents, noise, t)
                states = text_encoder(batch["input_ids"].to(accelerator.device))[0]
                if noise_scheduler.config.prediction_type == "v_prediction":
                    target = noise_scheduler.get_velocity(latents, noise, t)
                else:
                    target = noise
                pred = unet(
                    noisy.to(unet.dtype if config.mode == "scratch" else weight_dtype), t, states
                ).sample
                loss = torch.nn.functional.mse_loss(pred.float(), target.float())
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                global_step += 1
                losses.append(float(loss.detach()))
                bar.update()
                bar.set_postfix(loss=f"{losses[-1]:.4f}", lr=f"{lr_scheduler.get_last_lr()[0]:.2e}")
                if accelerator.is_main_process and global_step % config.checkpointing_steps == 0:
                    _prune(out, config.checkpoints_total_limit)
                    accelerator.save_state(str(out / f"checkpoint-{global_step}"))
                if (
                    accelerator.is_main_process
                    and config.validation_prompts
                    and global_step % config.validation_steps == 0
                ):
                    _validate(
                        config,
                        accelerator.unwrap_model(unet),
                        vae,
                        text_encoder,
                        tokenizer,
                        converter,
                        global_step,
                    )
                if global_step >= config.max_train_steps:
                    break
        epoch += 1
    bar.close()

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        final = accelerator.unwrap_model(unet)
        _save_trainable(final, out, config.mode, lora_config)
        if config.mode == "scratch":
            from .pipeline import MDCTDiffusionPipeline

            pipe = MDCTDiffusionPipeline(
                vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=final,
                scheduler=_inference_scheduler(model), converter=converter,
            )  # fmt: skip
            pipe.save_pretrained(out)
        converter.save_pretrained(out / "converter")
        (out / "training_config.json").write_text(json.dumps(asdict(config), indent=1, default=str))
        (out / "training_log.json").write_text(json.dumps({"global_step": global_step, "losses": losses}))
        if config.validation_prompts and global_step % config.validation_steps:
            _validate(config, final, vae, text_encoder, tokenizer, converter, global_step)
    accelerator.end_training()
    return out


def _save_trainable(unet: Any, directory: Path, mode: str, lora_config: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if mode == "lora":
        from diffusers import StableDiffusionPipeline
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft.utils import get_peft_model_state_dict

        layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
        StableDiffusionPipeline.save_lora_weights(
            directory, unet_lora_layers=layers, safe_serialization=True,
            unet_lora_adapter_metadata=lora_config.to_dict(),
        )  # fmt: skip
    else:
        unet.save_pretrained(directory / "unet")


def _load_trainable(unet: Any, directory: Path, mode: str) -> None:
    if mode == "lora":
        from diffusers import StableDiffusionPipeline
        from diffusers.utils import convert_unet_state_dict_to_peft
        from peft.utils import set_peft_model_state_dict

        state, _ = StableDiffusionPipeline.lora_state_dict(str(directory))
        unet_state = {k.replace("unet.", "", 1): v for k, v in state.items() if k.startswith("unet.")}
        set_peft_model_state_dict(unet, convert_unet_state_dict_to_peft(unet_state), adapter_name="default")
    else:
        from diffusers import UNet2DConditionModel

        loaded = UNet2DConditionModel.from_pretrained(directory / "unet")
        unet.load_state_dict(loaded.state_dict())


@torch.no_grad()
def fixed_noise_loss(
    pipe: Any, dataset_dir: str, *, n_images: int = 16, seed: int = 0, caption_column: str = "caption"
) -> float:
    """Denoising loss of ``pipe``'s U-Net on the first images of a dataset, with fixed noise and timesteps.

    The same noise, timesteps and images every call: a training-progress measure that does
    not fluctuate with the sampling (lower is better).

    Examples
    --------
    >>> from mdctcompand.diffusion import load_pipeline
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> pipe = load_pipeline(ws.model, converter=ws.converter(), device="cpu")
    >>> loss = fixed_noise_loss(pipe, ws.dataset)
    >>> loss == fixed_noise_loss(pipe, ws.dataset) and loss > 0  # the same noise every call
    True
    """
    from datasets import load_dataset
    from diffusers import DDPMScheduler

    data = load_dataset("imagefolder", data_dir=str(dataset_dir), split="train")
    rows = [data[i] for i in range(min(n_images, len(data)))]
    codes = np.stack([np.array(r["image"].convert("L")) for r in rows])
    channels = 3 if pipe.vae is not None else 1
    images = images_to_tensor(codes, channels).to(pipe.device, dtype=pipe.unet.dtype)
    latents = pipe._to_model(images).to(pipe.unet.dtype)
    generator = torch.Generator("cpu").manual_seed(seed)
    noise = torch.randn(latents.shape, generator=generator).to(latents)
    ddpm = DDPMScheduler.from_config(pipe.scheduler.config)
    t = torch.randint(0, ddpm.config.num_train_timesteps, (latents.shape[0],), generator=generator).to(
        pipe.device
    )
    noisy = ddpm.add_noise(latents, noise, t)
    states = pipe.encode_prompt([r[caption_column] for r in rows], None, False)
    pred = pipe.unet(noisy, t, encoder_hidden_states=states).sample
    target = ddpm.get_velocity(latents, noise, t) if ddpm.config.prediction_type == "v_prediction" else noise
    return float(torch.nn.functional.mse_loss(pred.float(), target.float()))


def _inference_scheduler(model: str) -> Any:
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_pretrained(model, subfolder="scheduler")


def _validate(config: TrainingConfig, unet, vae, text_encoder, tokenizer, converter, step: int) -> None:
    """Sample the validation prompts; write images and audio to ``output_dir/validation/step-N``."""
    from ..io import save_audio
    from .pipeline import MDCTDiffusionPipeline

    pipe = MDCTDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
        scheduler=_inference_scheduler(config.pretrained_model), converter=converter,
    )  # fmt: skip
    was_training = unet.training
    unet.eval()
    target = Path(config.output_dir) / "validation" / f"step-{step}"
    target.mkdir(parents=True, exist_ok=True)
    for i, prompt in enumerate(config.validation_prompts):
        result = pipe(
            prompt,
            num_inference_steps=config.validation_inference_steps,
            seed=config.seed + i,
            progress=False,
        )
        result.images[0].save(target / f"{i:02d}.png")
        peak = float(np.abs(result.audios[0]).max())
        save_audio(target / f"{i:02d}.wav", result.audios[0] / max(1.0, peak), result.sample_rate)
        (target / f"{i:02d}.txt").write_text(prompt + "\n")
    if was_training:
        unet.train()
