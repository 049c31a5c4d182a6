"""LoRA fine-tuning (or training from scratch) on a companded-MDCT image dataset.

Follows diffusers' ``train_text_to_image_lora.py``: every pretrained component frozen,
``unet.add_adapter(LoraConfig(...))``, only the adapter's parameters optimized (kept in
float32 under fp16 and bf16), accelerate for devices, gradient accumulation, mixed
precision (from :class:`TrainingConfig` or from ``accelerate launch``/its config) and
trackers (``report_to``); checkpoints hold the trainable weights only; resume continues
the step count and the logs. The same options: noise offset, min-SNR-gamma weighting, a
prediction-type override, 8-bit Adam, TF32, Adam betas/epsilon/weight decay, ``scale_lr``,
``max_train_samples``, epochs, a model card. Latents are encoded once (``cache_latents``).

``mode="scratch"`` trains a small conditional U-Net from scratch instead (pixel space, or
latent space with the pretrained VAE), the paper's stated next step; the text encoder and
tokenizer still come from ``pretrained_model``. Scratch training drops captions (10 % by
default, so classifier-free guidance works at sampling time) and keeps an EMA of the
weights (diffusers' ``EMAModel``), which is what it saves.

Random horizontal flips reverse time: they are not valid MDCT data and are refused.
Random crops along time are valid and used when the images are wider than ``resolution``.

:func:`train` runs the steps of a :class:`_Run` in order: ``setup`` (accelerator, seed,
precision, TF32), ``load_models``, ``build_data``, ``build_optimizer``, ``prepare``
(accelerate, checkpoint hooks, resume, logs, trackers), ``loop`` (``compute_loss``,
``after_step``: log, checkpoint, validate) and ``finish`` (weights, scheduler, converter,
logs, model card).
"""

from __future__ import annotations

from . import _extra  # noqa: F401  (first: names what the extra needs before torch is imported)

# isort: split

import logging
import math
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..exceptions import ParameterError
from .components import MDCTImageConverter
from .config import AUDIO_CAPTIONS_SUFFIXES, TrainingConfig
from .data import CaptionedAudio, CaptionedImages, LatentCache, load_rows
from .losses import LossMeter, denoising_loss, diffusion_loss, training_target, waveform_loss
from .runlog import RunLog

__all__ = ["TrainingConfig", "adamw_class", "fixed_noise_loss", "train", "training_converter"]

logger = logging.getLogger(__name__)

LORA_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]


def train(config: TrainingConfig, *, progress: bool = True) -> Path:
    """Run a training job; returns the output directory.

    LoRA: the adapter is saved as ``pytorch_lora_weights.safetensors`` (float32, with its
    ``lora_alpha`` in the metadata) beside ``converter/`` and ``scheduler/``; load it with
    ``load_pipeline(base_model, lora=output_dir)``. Scratch: a whole
    :class:`~mdctcompand.diffusion.MDCTDiffusionPipeline` is saved to ``output_dir``
    (``load_pipeline(output_dir)``). Both write ``training_log.json``,
    ``training_config.json`` (see :mod:`mdctcompand.diffusion.runlog`) and ``README.md``.

    Examples
    --------
    >>> import tempfile
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> out = train(TrainingConfig(str(ws.model), str(ws.dataset), tempfile.mkdtemp(), max_train_steps=2,
    ...                            gradient_accumulation_steps=1, resolution=32), progress=False)
    >>> sorted(p.name for p in out.iterdir() if not p.name.startswith("checkpoint"))
    ['README.md', 'converter', 'pytorch_lora_weights.safetensors', 'scheduler', 'training_config.json', 'training_log.json']
    """
    run = _Run(config, progress=progress)
    try:
        run.setup()
        run.load_models()
        run.build_data()
        run.build_optimizer()
        run.prepare()
        run.loop()
        return run.finish()
    finally:
        _release_accelerate_state()


def training_converter(config: TrainingConfig) -> MDCTImageConverter:
    """The converter of a run: a built dataset's own, or ``profile`` + ``stereo`` for a captions list of audio.

    For a dataset directory, ``profile`` and ``stereo`` may be left out (None); given, they
    must be what the dataset was built with.

    Examples
    --------
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> captions = str(ws.root / "audio" / "captions.jsonl")  # audio files and their captions
    >>> conv = training_converter(TrainingConfig("m", captions, "o", profile="44k", stereo="left-right",
    ...                                          resolution=1024))
    >>> conv.sample_rate, conv.n_bands, conv.stereo, conv.frames
    (44100, 1024, 'left-right', 1024)
    >>> training_converter(TrainingConfig("m", str(ws.dataset), "o", stereo="left-right"))
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: --stereo left-right: the dataset ... was built with --stereo mono; leave --stereo out (a built dataset's layout is its own) or rebuild it
    """
    import json

    from ..converter import AudioImageConverter

    c = config
    if c.audio_captions:
        if not Path(c.dataset_dir).is_file():
            raise ParameterError(f"--dataset {c.dataset_dir}: no such captions file")
        return MDCTImageConverter.from_converter(
            AudioImageConverter(c.profile or "paper", band_gains="none"), frames=c.crop_frames or c.resolution,
            stereo=c.stereo or "mono",
        )  # fmt: skip
    root = Path(c.dataset_dir)
    if not (root / "mdctcompand.json").is_file():
        raise ParameterError(
            f"--dataset {root}: neither a dataset built by `mdctcompand dataset build` (no mdctcompand.json) "
            f"nor a captions list of audio ({', '.join(AUDIO_CAPTIONS_SUFFIXES)})"
        )
    built = json.loads((root / "mdctcompand.json").read_text())["build"]
    saved = {"profile": built.get("profile"), "stereo": built.get("stereo", "mono")}
    for name, value in (("profile", c.profile), ("stereo", c.stereo)):
        if value is not None and value != saved[name]:
            raise ParameterError(
                f"--{name} {value}: the dataset {root} was built with --{name} {saved[name]}; leave --{name} out "
                "(a built dataset's layout is its own) or rebuild it"
            )
    return MDCTImageConverter.from_dataset(c.dataset_dir)


def _release_accelerate_state() -> None:
    """Forget the run's mixed precision and accumulation settings (accelerate keeps them per process).

    Without this, a second :func:`train` in the same process (a notebook, a test session)
    could not use another mixed precision. The process group itself is kept.
    """
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()


class _Run:
    """The state of one training run, advanced by named steps (see the module docstring)."""

    def __init__(self, config: TrainingConfig, *, progress: bool) -> None:
        self.config = config
        self.progress = progress
        self.out = Path(config.output_dir)
        self.global_step = 0
        self.ema: Any = None
        self.vae: Any = None
        self.lora_config: Any = None
        self.last_validated = -1

    # ------------------------------------------------------------------ 1. setup
    def setup(self) -> None:
        from accelerate import Accelerator
        from accelerate.utils import ProjectConfiguration, set_seed

        c = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        if c.allow_tf32:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.accelerator = Accelerator(
            gradient_accumulation_steps=c.gradient_accumulation_steps,
            mixed_precision=c.mixed_precision,  # None: accelerate launch's flag or config file
            log_with=c.report_to,
            project_config=ProjectConfiguration(
                project_dir=str(self.out), logging_dir=str(self.out / "logs")
            ),
        )
        if c.report_to not in (None, "all") and not self.accelerator.log_with:
            raise ParameterError(
                f"report_to={c.to_dict()['report_to']!r}: that tracker is not installed (e.g. pip install tensorboard)"
            )
        self.weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(
            str(self.accelerator.mixed_precision), torch.float32
        )
        set_seed(c.seed)
        self.converter = training_converter(c)
        if c.audio_captions and self.converter.n_bands != c.resolution:  # before any model is loaded
            raise ParameterError(
                f"--resolution {c.resolution} != the {self.converter.n_bands} bands of profile "
                f"{c.profile or 'paper'!r}: images are as tall as the profile has bands; set --resolution "
                f"{self.converter.n_bands} (or pick another --profile)"
            )

    # ------------------------------------------------------------------ 2. models
    def load_models(self) -> None:
        from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
        from transformers import CLIPTextModel, CLIPTokenizer

        c, device = self.config, self.accelerator.device
        model = c.pretrained_model
        self.noise_scheduler = DDPMScheduler.from_pretrained(model, subfolder="scheduler")
        if c.prediction_type is not None:
            self.noise_scheduler.register_to_config(prediction_type=c.prediction_type)
        self.tokenizer = CLIPTokenizer.from_pretrained(model, subfolder="tokenizer")
        self.text_encoder = CLIPTextModel.from_pretrained(model, subfolder="text_encoder")
        self.text_encoder.requires_grad_(False)
        self.text_encoder.to(device, dtype=self.weight_dtype)
        if c.space == "latent":
            self.vae = AutoencoderKL.from_pretrained(model, subfolder="vae")
            self.vae.requires_grad_(False)
            self.vae.to(device, dtype=self.weight_dtype)
        if c.mode == "lora":
            self.unet = self._lora_unet(UNet2DConditionModel.from_pretrained(model, subfolder="unet"))
        else:
            self.unet = self._scratch_unet(UNet2DConditionModel)
        if c.gradient_checkpointing:
            self.unet.enable_gradient_checkpointing()
        if c.effective_use_ema:
            from diffusers.training_utils import EMAModel

            self.ema = EMAModel(
                self.unet.parameters(),
                decay=c.ema_decay,
                model_cls=UNet2DConditionModel,
                model_config=self.unet.config,
            )
            self.ema.to(device)

    def _lora_unet(self, unet: Any) -> Any:
        from diffusers.training_utils import cast_training_params
        from peft import LoraConfig

        c = self.config
        unet.requires_grad_(False)
        unet.to(self.accelerator.device, dtype=self.weight_dtype)
        self.lora_config = LoraConfig(
            r=int(c.rank),
            lora_alpha=float(c.alpha),  # type: ignore[arg-type]  # peft types it int; any number scales
            init_lora_weights="gaussian",
            target_modules=LORA_TARGETS,
        )
        unet.add_adapter(self.lora_config)
        cast_training_params(unet, dtype=torch.float32)  # trainable weights in float32 under fp16 and bf16
        self.unet_input_dtype = self.weight_dtype
        return unet

    def _scratch_unet(self, unet_class: Any) -> Any:
        from .models import small_unet_config

        c = self.config
        factor = 1 if self.vae is None else 2 ** (len(self.vae.config.block_out_channels) - 1)
        in_channels = self.converter.image_channels if self.vae is None else self.vae.config.latent_channels
        unet = unet_class(
            **small_unet_config(
                sample_size=c.resolution // factor, in_channels=in_channels,
                cross_attention_dim=self.text_encoder.config.hidden_size, block_out_channels=c.scratch_channels,
            )
        )  # fmt: skip
        unet.train()
        self.unet_input_dtype = torch.float32
        return unet

    # ------------------------------------------------------------------ 3. data
    def build_data(self) -> None:
        c = self.config
        if c.audio_captions:
            self._build_audio_data()
        else:
            self._build_image_data()
        self.loader = torch.utils.data.DataLoader(
            self.dataset, batch_size=c.train_batch_size, shuffle=True, num_workers=c.dataloader_num_workers,
            generator=torch.Generator().manual_seed(c.seed), drop_last=False,
        )  # fmt: skip

    def _build_audio_data(self) -> None:
        from ..dataset import read_captions

        c = self.config
        self.latent_cache: LatentCache | None = None
        if self.vae is not None and c.cache_latents:
            logger.info(
                "training from audio (%s): new crops every step, so the latent cache does not apply; "
                "latents are encoded at every step (--no-cache-latents implied)", c.dataset_dir,
            )  # fmt: skip
        clips, _ = read_captions(c.dataset_dir)
        self.dataset: CaptionedAudio | CaptionedImages = CaptionedAudio(
            clips, self.tokenizer, self.converter, crop_frames=c.crop_frames or c.resolution,
            caption_dropout=c.effective_caption_dropout, seed=c.seed, max_samples=c.max_train_samples,
        )  # fmt: skip

    def _build_image_data(self) -> None:
        c = self.config
        rows = load_rows(
            c.dataset_dir, caption_column=c.caption_column, max_samples=c.max_train_samples, seed=c.seed
        )
        self.latent_cache = None
        if self.vae is not None and c.cache_latents:
            self.latent_cache = LatentCache.build(
                rows, self.vae, self.converter, device=self.accelerator.device, dtype=self.weight_dtype
            )
        channels = 3 if self.vae is not None else self.converter.image_channels
        self.dataset = CaptionedImages(
            rows, self.tokenizer, self.converter, caption_column=c.caption_column, resolution=c.resolution,
            channels=channels, caption_dropout=c.effective_caption_dropout, latents=self.latent_cache, seed=c.seed,
            crop_frames=c.crop_frames,
        )  # fmt: skip

    # ------------------------------------------------------------------ 4. optimizer
    def build_optimizer(self) -> None:
        from diffusers.optimization import get_scheduler

        c, n = self.config, self.accelerator.num_processes
        self.params = [p for p in self.unet.parameters() if p.requires_grad]
        self.optimizer = adamw_class(c.use_8bit_adam)(
            self.params, lr=c.effective_learning_rate(n), betas=(c.adam_beta1, c.adam_beta2),
            weight_decay=c.adam_weight_decay, eps=c.adam_epsilon,
        )  # fmt: skip
        batches_per_process = math.ceil(len(self.dataset) / (c.train_batch_size * n))
        self.updates_per_epoch = max(1, math.ceil(batches_per_process / c.gradient_accumulation_steps))
        self.max_steps = (
            c.max_train_steps
            if c.max_train_steps is not None
            else c.num_train_epochs * self.updates_per_epoch
        )
        self.lr_scheduler = get_scheduler(
            c.lr_scheduler, optimizer=self.optimizer, num_warmup_steps=c.lr_warmup_steps * n,
            num_training_steps=self.max_steps * n,
        )  # fmt: skip

    # ------------------------------------------------------------------ 5. prepare
    def prepare(self) -> None:
        acc, c = self.accelerator, self.config
        self.unet, self.optimizer, self.loader, self.lr_scheduler = acc.prepare(
            self.unet, self.optimizer, self.loader, self.lr_scheduler
        )
        acc.register_save_state_pre_hook(self._save_hook)
        acc.register_load_state_pre_hook(self._load_hook)
        resumed = self._resume()
        run_info = {
            "mixed_precision": str(acc.mixed_precision),
            "num_processes": acc.num_processes,
            "resumed_from": resumed,
        }
        self.log = RunLog(self.out, start_step=self.global_step, config=c.to_dict(), run_info=run_info)
        if c.report_to is not None:
            acc.init_trackers(c.tracker_project_name, config=c.tracker_config())
        self.meter = LossMeter()

    def _resume(self) -> str | None:
        c = self.config
        if not c.resume_from_checkpoint:
            return None
        if c.resume_from_checkpoint == "latest":
            found = checkpoints(self.out)
            if not found:
                logger.info("no checkpoint to resume from in %s: starting a new run", self.out)
                return None
            path = found[-1]
        else:
            path = Path(c.resume_from_checkpoint)
            if not path.is_dir() or not re.fullmatch(r"checkpoint-\d+", path.name):
                raise ParameterError(f"checkpoint {path} does not exist (expected a checkpoint-N directory)")
        self.accelerator.load_state(str(path))
        self.global_step = int(path.name.split("-")[1])
        return str(path)

    def _save_hook(self, models: list, weights: list, output_dir: str) -> None:
        if not self.accelerator.is_main_process:
            return
        for model in models:
            save_trainable(
                self.accelerator.unwrap_model(model), Path(output_dir), self.config.mode, self.lora_config
            )
            if weights:
                weights.pop()
        if self.ema is not None:
            self.ema.save_pretrained(str(Path(output_dir) / "unet_ema"))

    def _load_hook(self, models: list, input_dir: str) -> None:
        if self.ema is not None:
            from diffusers import UNet2DConditionModel
            from diffusers.training_utils import EMAModel

            loaded = EMAModel.from_pretrained(str(Path(input_dir) / "unet_ema"), UNet2DConditionModel)
            self.ema.load_state_dict(loaded.state_dict())
            self.ema.to(self.accelerator.device)
        while models:
            load_trainable(self.accelerator.unwrap_model(models.pop()), Path(input_dir), self.config.mode)

    # ------------------------------------------------------------------ 6. the loop
    def loop(self) -> None:
        from tqdm.auto import tqdm

        acc = self.accelerator
        self.bar = tqdm(
            total=self.max_steps, initial=self.global_step, desc="training", unit="step",
            disable=not (self.progress and acc.is_local_main_process),
        )  # fmt: skip
        while self.global_step < self.max_steps:
            self.unet.train()
            for batch in self.loader:
                with acc.accumulate(self.unet):
                    loss = self.compute_loss(batch)
                    self.meter.add(loss, batch["input_ids"].shape[0], acc)
                    acc.backward(loss)
                    if acc.sync_gradients:
                        acc.clip_grad_norm_(self.params, self.config.max_grad_norm)
                    self.optimizer.step()
                    self.lr_scheduler.step()
                    self.optimizer.zero_grad()
                if acc.sync_gradients:
                    self.after_step()
                    if self.global_step >= self.max_steps:
                        break
        self.bar.close()

    def compute_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The (min-SNR weighted) denoising loss of one micro-batch, plus the weighted waveform loss."""
        c, device, sched = self.config, self.accelerator.device, self.noise_scheduler
        if "latents" in batch:
            latents = batch["latents"].to(device) * self.vae.config.scaling_factor
        else:
            pixels = batch["pixel_values"] if "pixel_values" in batch else self.images_from_audio(batch)
            pixels = pixels.to(device, dtype=self.weight_dtype if self.vae is not None else torch.float32)
            if self.vae is not None:
                latents = self.vae.encode(pixels).latent_dist.sample() * self.vae.config.scaling_factor
            else:
                latents = pixels
        return denoising_loss(
            self.unet, self.text_encoder, sched, latents.to(self.unet_input_dtype), batch["input_ids"],
            noise_offset=c.noise_offset, snr_gamma=c.snr_gamma, waveform=self.waveform_loss,
            waveform_weight=c.waveform_loss_weight,
        )  # fmt: skip

    @torch.no_grad()
    def images_from_audio(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Model images ``(B, C, H, W)`` in [-1, 1] of ``batch["audio"]``, converted on the accelerator's device.

        Each clip's first ``batch["length"]`` samples (its real audio; the rest is padding)
        are encoded as ``dataset build`` encodes a clip (one level gain per clip), in
        ``crop_frames`` columns, by
        :meth:`~mdctcompand.diffusion.MDCTImageConverter.codes_from_audio_tensor`.
        """
        c, conv = self.config, self.converter
        audio = batch["audio"].to(self.accelerator.device)
        lengths = batch["length"].tolist()  # B integers: the only values that reach the host
        frames = c.crop_frames or c.resolution
        codes = torch.stack(
            [conv.codes_from_audio_tensor(clip[:, :n], n_frames=frames) for clip, n in zip(audio, lengths)]
        )
        return conv.tensor_from_codes(codes, channels=3 if self.vae is not None else conv.image_channels)

    def waveform_loss(
        self, clean: torch.Tensor, noisy: torch.Tensor, pred: torch.Tensor, t: torch.Tensor
    ) -> torch.Tensor:
        """MR-STFT loss between the audio of ``clean`` and of the clean sample ``pred`` implies (on the device).

        Both go model space -> image (the frozen VAE's decoder, or the pixels) -> code values
        -> audio through the converter's torch path; only the prediction's side keeps a
        graph. Each sample is weighted by ``alphas_cumprod[t]``.
        """
        return waveform_loss(
            self.converter, self.noise_scheduler, clean, noisy, pred, t,
            images_from_model=self._images_from_model, resolutions=self.config.stft_resolutions,
        )  # fmt: skip

    def _images_from_model(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space samples -> images in [-1, 1] (VAE decode in the run's precision, or the pixels)."""
        if self.vae is None:
            return x.float()
        scaled = (x / self.vae.config.scaling_factor).to(self.weight_dtype)
        return self.vae.decode(scaled).sample.float()

    def after_step(self) -> None:
        """Once per optimizer step: EMA, log, checkpoint, validation."""
        from accelerate.utils import DistributedType

        acc, c = self.accelerator, self.config
        self.global_step += 1
        if self.ema is not None:
            self.ema.step(self.unet.parameters())
        loss, lr = self.meter.pop(), float(self.lr_scheduler.get_last_lr()[0])
        self.log.record(self.global_step, loss=loss, lr=lr)
        if c.report_to is not None:
            acc.log({"train_loss": loss, "lr": lr}, step=self.global_step)
        self.bar.update()
        self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}")
        if self.global_step % c.checkpointing_steps == 0:
            if acc.is_main_process:
                prune_checkpoints(self.out, c.checkpoints_total_limit)
            if acc.is_main_process or acc.distributed_type == DistributedType.DEEPSPEED:
                acc.save_state(str(self.out / f"checkpoint-{self.global_step}"))
            if acc.is_main_process:
                self.log.write()
        if acc.is_main_process and c.validation_prompts and self.global_step % c.validation_steps == 0:
            self.validate()

    def validate(self) -> list[tuple[str, str]]:
        """Sample the validation prompts (with the EMA weights, if any) into ``validation/step-N``."""
        unet = self.accelerator.unwrap_model(self.unet)
        if self.ema is not None:
            self.ema.store(unet.parameters())
            self.ema.copy_to(unet.parameters())
        try:
            written = _validate(
                self.config, unet, self.vae, self.text_encoder, self.tokenizer, self.converter, self.global_step,
                self._inference_scheduler(),
            )  # fmt: skip
        finally:
            if self.ema is not None:
                self.ema.restore(unet.parameters())
        self.last_validated = self.global_step
        return written

    def _inference_scheduler(self) -> Any:
        from diffusers import DDIMScheduler

        scheduler = DDIMScheduler.from_pretrained(self.config.pretrained_model, subfolder="scheduler")
        scheduler.register_to_config(prediction_type=self.noise_scheduler.config.prediction_type)
        return scheduler

    # ------------------------------------------------------------------ 7. finish
    def finish(self) -> Path:
        acc, c = self.accelerator, self.config
        acc.wait_for_everyone()
        if acc.is_main_process:
            final = acc.unwrap_model(self.unet)
            if self.ema is not None:
                self.ema.copy_to(final.parameters())
            if c.mode == "lora":
                save_trainable(final, self.out, "lora", self.lora_config)
                self._base_scheduler().save_pretrained(self.out / "scheduler")
            else:
                self._save_scratch_pipeline(final)
            self.converter.save_pretrained(self.out / "converter")
            validation = []
            if c.validation_prompts and self.last_validated != self.global_step:
                validation = _validate(
                    c, final, self.vae, self.text_encoder, self.tokenizer, self.converter, self.global_step,
                    self._inference_scheduler(),
                )  # fmt: skip
            self.log.write()
            self._model_card(validation)
        acc.end_training()
        return self.out

    def _base_scheduler(self) -> Any:
        """The base model's sampling scheduler, with the prediction type this run trained."""
        import diffusers

        model = self.config.pretrained_model
        config = diffusers.DDPMScheduler.load_config(model, subfolder="scheduler")
        cls = getattr(diffusers, str(config.get("_class_name", "PNDMScheduler")), diffusers.PNDMScheduler)
        scheduler = cls.from_config(config)
        scheduler.register_to_config(prediction_type=self.noise_scheduler.config.prediction_type)
        return scheduler

    def _save_scratch_pipeline(self, unet: Any) -> None:
        from diffusers import AutoencoderKL
        from transformers import CLIPTextModel

        from .pipeline import MDCTDiffusionPipeline

        model = self.config.pretrained_model
        # the frozen parts in their stored precision, not the run's mixed precision
        vae = AutoencoderKL.from_pretrained(model, subfolder="vae") if self.vae is not None else None
        pipe = MDCTDiffusionPipeline(
            vae=vae, text_encoder=CLIPTextModel.from_pretrained(model, subfolder="text_encoder"),
            tokenizer=self.tokenizer, unet=unet.float(), scheduler=self._inference_scheduler(), converter=self.converter,
        )  # fmt: skip
        pipe.save_pretrained(self.out)

    def _model_card(self, validation: list[tuple[str, str]]) -> None:
        from .export import write_model_card

        c = self.config
        losses = [s["loss"] for s in self.log.steps[-50:]]
        results = {
            "optimizer steps": self.global_step,
            "mean loss, last 50 steps": f"{np.mean(losses):.4f}" if losses else "n/a",
            "mixed precision": str(self.accelerator.mixed_precision),
            "processes": self.accelerator.num_processes,
            "prediction type": self.noise_scheduler.config.prediction_type,
        }
        what = "LoRA adapter" if c.mode == "lora" else f"U-Net trained from scratch ({c.space} space)"
        write_model_card(
            self.out, base_model=c.pretrained_model, title=f"mdctcompand text-to-audio {what}",
            body=f"A {what} trained with mdctcompand on companded-MDCT images of `{c.dataset_dir}`"
            + (" (audio converted on the training device)." if c.audio_captions else "."),
            tags=[c.mode], config=c.to_dict(), results=results,
            validation=[(p, str(Path(f).relative_to(self.out))) for p, f in validation],
        )  # fmt: skip


# ---------------------------------------------------------------------- optimizer
def adamw_class(use_8bit: bool) -> type:
    """``torch.optim.AdamW``, or bitsandbytes' ``AdamW8bit`` (a clear error where it is missing).

    Examples
    --------
    >>> adamw_class(False).__name__
    'AdamW'
    """
    if not use_8bit:
        return torch.optim.AdamW
    try:
        import bitsandbytes as bnb
    except ImportError as exc:
        raise ParameterError(
            "use_8bit_adam=True needs bitsandbytes, which is not installed: pip install bitsandbytes (CUDA GPUs)"
        ) from exc
    return bnb.optim.AdamW8bit


# ---------------------------------------------------------------------- checkpoints
def checkpoints(output_dir: Path) -> list[Path]:
    """The ``checkpoint-N`` directories of a run, oldest first.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in (10, 2): (d / f"checkpoint-{n}").mkdir()
    >>> [p.name for p in checkpoints(d)]
    ['checkpoint-2', 'checkpoint-10']
    """
    found = [
        p for p in output_dir.glob("checkpoint-*") if p.is_dir() and re.fullmatch(r"checkpoint-\d+", p.name)
    ]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def prune_checkpoints(output_dir: Path, limit: int | None) -> None:
    """Delete the oldest checkpoints so that one more keeps at most ``limit``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in (1, 2, 3): (d / f"checkpoint-{n}").mkdir()
    >>> prune_checkpoints(d, 2); [p.name for p in checkpoints(d)]
    ['checkpoint-3']
    """
    if limit is None:
        return
    existing = checkpoints(output_dir)
    for old in existing[: max(0, len(existing) - limit + 1)]:
        shutil.rmtree(old)


def save_trainable(unet: Any, directory: Path, mode: str, lora_config: Any) -> None:
    """Save the trainable weights: the LoRA adapter in float32 (with its config), or the whole U-Net.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffusers import UNet2DConditionModel
    >>> from mdctcompand.diffusion import small_unet_config
    >>> unet = UNet2DConditionModel(**small_unet_config(sample_size=8, in_channels=1, cross_attention_dim=8,
    ...                                                 block_out_channels=(8, 16)))
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> save_trainable(unet, d, "scratch", None)
    >>> sorted(p.name for p in (d / "unet").iterdir())
    ['config.json', 'diffusion_pytorch_model.safetensors']
    """
    directory.mkdir(parents=True, exist_ok=True)
    if mode == "lora":
        from diffusers import StableDiffusionPipeline
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft.utils import get_peft_model_state_dict

        state = {k: v.detach().float().contiguous() for k, v in get_peft_model_state_dict(unet).items()}
        StableDiffusionPipeline.save_lora_weights(
            directory, unet_lora_layers=convert_state_dict_to_diffusers(state), safe_serialization=True,
            unet_lora_adapter_metadata=lora_config.to_dict(),
        )  # fmt: skip
    else:
        unet.save_pretrained(directory / "unet")


def load_trainable(unet: Any, directory: Path, mode: str) -> None:
    """Load what :func:`save_trainable` wrote into ``unet`` (in place).

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> from diffusers import UNet2DConditionModel
    >>> from mdctcompand.diffusion import small_unet_config
    >>> cfg = small_unet_config(sample_size=8, in_channels=1, cross_attention_dim=8, block_out_channels=(8, 16))
    >>> a, b = UNet2DConditionModel(**cfg), UNet2DConditionModel(**cfg)
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> save_trainable(a, d, "scratch", None); load_trainable(b, d, "scratch")
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    """
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


# ---------------------------------------------------------------------- evaluation helpers
@torch.no_grad()
def fixed_noise_loss(
    pipe: Any, dataset_dir: str, *, n_images: int = 16, seed: int = 0, caption_column: str = "caption"
) -> float:
    """Denoising loss of ``pipe``'s U-Net on the first images of a dataset, with fixed noise and timesteps.

    The same noise, timesteps and images every call: a training-progress measure that does
    not fluctuate with the sampling (lower is better). For how the *audio* compares with
    real music, see :mod:`mdctcompand.evaluation`.

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
    from diffusers import DDPMScheduler

    rows = load_rows(dataset_dir, caption_column=caption_column)
    rows = rows.select(range(min(n_images, len(rows))))
    conv = pipe.converter
    codes = np.stack([conv.codes_from_pil(image) for image in rows["image"]])
    images = conv.tensor_from_codes(codes, channels=pipe.image_channels).to(
        pipe.device, dtype=pipe.unet.dtype
    )
    latents = pipe.to_model(images).to(pipe.unet.dtype)
    generator = torch.Generator("cpu").manual_seed(seed)
    noise = torch.randn(latents.shape, generator=generator).to(latents)
    ddpm = DDPMScheduler.from_config(pipe.scheduler.config)
    t = torch.randint(0, ddpm.config.num_train_timesteps, (latents.shape[0],), generator=generator).to(
        pipe.device
    )
    noisy = ddpm.add_noise(latents, noise, t)
    states = pipe.encode_prompt(list(rows[caption_column]), None, False)
    pred = pipe.unet(noisy, t, encoder_hidden_states=states).sample
    return float(diffusion_loss(pred, training_target(ddpm, latents, noise, t)))


def _validate(
    config: TrainingConfig, unet, vae, text_encoder, tokenizer, converter, step: int, scheduler: Any
) -> list[tuple[str, str]]:
    """Sample the validation prompts; write images and audio to ``output_dir/validation/step-N``."""
    from ..io import save_audio
    from .pipeline import MDCTDiffusionPipeline

    pipe = MDCTDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        converter=converter,
    )
    was_training = unet.training
    unet.eval()
    target = Path(config.output_dir) / "validation" / f"step-{step}"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for i, prompt in enumerate(config.validation_prompts):
        result = pipe(
            prompt, num_inference_steps=config.validation_inference_steps,
            guidance_scale=config.validation_guidance_scale, seed=config.seed + i, progress=False,
        )  # fmt: skip
        result.images[0].save(target / f"{i:02d}.png")
        peak = float(np.abs(result.audios[0]).max())
        save_audio(
            target / f"{i:02d}.wav", result.audios[0] / max(1.0, peak), result.sample_rate, overwrite=True
        )
        (target / f"{i:02d}.txt").write_text(prompt + "\n")
        written.append((prompt, str(target / f"{i:02d}.wav")))
    if was_training:
        unet.train()
    return written
