"""The settings of a training run (:class:`TrainingConfig`), checked once when it is made."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from .._fields import option
from ..exceptions import ParameterError

__all__ = ["MixedPrecision", "PredictionType", "TrainingConfig", "TrainingMode"]

TrainingMode = Literal["lora", "scratch"]
Space = Literal["latent", "pixel"]
MixedPrecision = Literal["no", "fp16", "bf16"]
PredictionType = Literal["epsilon", "v_prediction"]

#: ``dataset_dir`` names with these suffixes are captions lists of audio (see :class:`TrainingConfig`).
AUDIO_CAPTIONS_SUFFIXES = (".csv", ".jsonl", ".json")


def parse_widths(text: str) -> tuple[int, ...]:
    """``64,128,256`` -> ``(64, 128, 256)`` (the ``--scratch-channels`` option)."""
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated integers, e.g. 64,128,256") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: widths must be positive")
    return widths


def parse_resolutions(text: str) -> tuple[tuple[int, int, int], ...]:
    """``1024:120:600,512:50:240`` -> ``((1024, 120, 600), (512, 50, 240))`` (the ``--stft-resolutions`` option)."""
    try:
        found = tuple(tuple(int(v) for v in item.split(":")) for item in text.split(","))
    except ValueError:
        found = ()
    if not found or any(len(r) != 3 for r in found):
        raise argparse.ArgumentTypeError(f"{text!r}: N_FFT:HOP:WIN triples, e.g. 1024:120:600,512:50:240")
    return tuple((n_fft, hop, win) for n_fft, hop, win in found)


@dataclass
class TrainingConfig:
    """Everything a training run needs; ``mdctcompand train-lora`` exposes the same fields.

    The options follow diffusers' ``train_text_to_image_lora.py`` (names included where
    they exist there).

    Attributes
    ----------
    pretrained_model : str
        Path or hub id of a Stable-Diffusion-style model (SD 1.5 layout).
    dataset_dir : str
        A dataset built by ``mdctcompand dataset build`` (imagefolder with captions), or a
        captions list of audio files (``.csv``/``.jsonl``, as ``dataset build`` reads:
        audio path, caption[, split]): then random crops of the ``train`` clips are
        converted to code images on the training device at every step
        (:class:`~mdctcompand.diffusion.data.CaptionedAudio`), with the converter of
        ``profile`` and ``stereo``.
    profile : str or None
        Audio captions lists: a shipped profile's name or a profile JSON file (None:
        ``"paper"``, the paper's 24 kHz profile). A dataset directory has its own; a
        different one given here is refused.
    stereo : {"mono", "left-right"} or None
        Audio captions lists: the image layout (None: ``"mono"``). A dataset directory has
        its own; a different one given here is refused.
    output_dir : str
        Adapter (or model), checkpoints, validation samples, logs and model card go here.
    mode : {"lora", "scratch"}
        Fine-tune a LoRA adapter, or train a small U-Net from scratch.
    space : {"latent", "pixel"}
        For ``mode="scratch"``: diffuse VAE latents or the code images themselves.
    rank, alpha : int, float
        LoRA rank and ``lora_alpha`` (scaling ``alpha / rank``).
    learning_rate : float
    scale_lr : bool
        Multiply the learning rate by batch size x accumulation x processes.
    lr_scheduler, lr_warmup_steps
        Any ``diffusers.optimization.get_scheduler`` name and its warm-up.
    adam_beta1, adam_beta2, adam_epsilon, adam_weight_decay : float
    use_8bit_adam : bool
        bitsandbytes' 8-bit AdamW (needs ``pip install bitsandbytes`` and a GPU).
    max_grad_norm : float
    train_batch_size, gradient_accumulation_steps : int
        Effective batch = batch x accumulation x processes.
    max_train_steps : int or None
        Optimizer steps; ``None``: ``num_train_epochs`` epochs.
    num_train_epochs : int or None
        Used when ``max_train_steps`` is None.
    max_train_samples : int or None
        Train on this many images (a seeded random subset) for quick runs.
    mixed_precision : {"no", "fp16", "bf16"} or None
        ``None`` takes accelerate's setting (``accelerate launch --mixed_precision bf16`` or
        its config file); trainable weights stay in float32 either way.
    allow_tf32 : bool
        TF32 matrix products on Ampere and newer GPUs.
    gradient_checkpointing : bool
    checkpointing_steps, checkpoints_total_limit : int
    resume_from_checkpoint : {"latest", path, None}
    noise_offset : float
        Adds ``noise_offset * N(0, 1)`` per image and channel to the noise (0: off).
    snr_gamma : float or None
        Min-SNR loss weighting with this gamma (5 is the paper's value; None: plain MSE).
    prediction_type : {"epsilon", "v_prediction"} or None
        Override the scheduler's prediction type (saved with the result).
    report_to : str, list or None
        accelerate trackers: ``"tensorboard"``, ``"wandb"``, ``"all"``, or
        ``accelerate.tracking.GeneralTracker`` instances; None: no tracking.
    tracker_project_name : str
    validation_prompts : list of str
    validation_steps, validation_inference_steps : int
    validation_guidance_scale : float
    seed : int
    resolution : int
        Image height and width the model sees (images must be this tall; wider ones are
        randomly cropped in time).
    crop_frames : int or None
        Width of the training crops in frames (None: ``resolution``, square crops). E.g.
        1024-band full-band images trained in 1024 x 512 crops.
    random_flip : bool
        Refused: a horizontal flip reverses time.
    caption_column : str
    caption_dropout : float or None
        Probability of training on the empty caption (what classifier-free guidance needs);
        None: 0.1 for ``mode="scratch"``, 0 for LoRA.
    cache_latents : bool
        Encode each image with the VAE once, before training (latent space only). Training
        from audio takes new crops at every step: there the cache does not apply and is
        skipped (logged).
    use_ema : bool or None
        Keep an exponential moving average of the weights (diffusers' ``EMAModel``) and save
        it; None: on for ``mode="scratch"``. Not available for LoRA.
    ema_decay : float
    dataloader_num_workers : int
    scratch_channels : tuple of int
        Block widths of the from-scratch U-Net.
    waveform_loss_weight : float
        Weight of a waveform-domain loss added to the denoising loss (0: off, the default):
        the multi-resolution STFT loss
        (:func:`~mdctcompand.diffusion.losses.multi_resolution_stft_loss`) between the audio
        of the clean latent and the audio of the clean latent the prediction implies, both
        decoded on the device (VAE, then :mod:`mdctcompand.torch`'s continuous inverse
        compander and IMDCT), each sample weighted by ``alphas_cumprod[t]`` (near 0 at pure
        noise, where the implied clean latent means little). Gradients flow through the
        frozen VAE decoder: it costs a decoder forward and backward per step.
    stft_resolutions : tuple of (n_fft, hop_length, win_length)
        Resolutions of the waveform loss (default: Parallel WaveGAN's three).

    Examples
    --------
    >>> config = TrainingConfig("runwayml/stable-diffusion-v1-5", "mdct1k/", "lora/", rank=8, alpha=8)
    >>> config.gradient_accumulation_steps, config.random_flip, config.effective_caption_dropout
    (4, False, 0.0)
    >>> TrainingConfig("m", "d", "o", mode="scratch").effective_caption_dropout
    0.1
    >>> TrainingConfig("m", "d", "o", random_flip=True)
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: random_flip=True reverses time: flipped MDCT images are not valid audio; leave it off
    """

    # ``option(default, help, ...)``: the flags, defaults and help of ``mdctcompand train-lora`` come from here.
    pretrained_model: str = option(help="pretrained SD-style model: hub id or path", flags=("--model",))
    dataset_dir: str = option(
        help="dataset directory (imagefolder with captions), or a captions list of audio (.csv/.jsonl: audio path, "
        "caption[, split]) converted on the training device", flags=("--dataset",),
    )  # fmt: skip
    output_dir: str = option(help="output directory", flags=("-o", "--output"))
    mode: TrainingMode = option("lora", "fine-tune a LoRA adapter, or train a small U-Net from scratch")
    space: Space = option("latent", "scratch mode: latent or pixel space")
    rank: int = option(4, "LoRA rank")
    alpha: float = option(4.0, "lora_alpha (scaling alpha / rank)")
    learning_rate: float = option(1e-4, "AdamW learning rate", group="optimization")
    scale_lr: bool = option(False, "multiply the learning rate by batch x accumulation x processes", group="optimization")
    lr_scheduler: str = option("constant", "constant, cosine, linear, constant_with_warmup, ...", group="optimization")
    lr_warmup_steps: int = option(0, "learning-rate warm-up steps", group="optimization")
    adam_beta1: float = option(0.9, "AdamW beta1", group="optimization")
    adam_beta2: float = option(0.999, "AdamW beta2", group="optimization")
    adam_epsilon: float = option(1e-8, "AdamW epsilon", group="optimization")
    adam_weight_decay: float = option(1e-2, "AdamW weight decay", group="optimization")
    use_8bit_adam: bool = option(False, "bitsandbytes' 8-bit AdamW (CUDA)", group="optimization")
    max_grad_norm: float = option(1.0, "gradient clipping norm", group="optimization")
    train_batch_size: int = option(1, "images per micro-batch and process", flags=("--batch-size",), group="optimization")
    gradient_accumulation_steps: int = option(4, "micro-batches per optimizer step", group="optimization")
    max_train_steps: int | None = option(
        15000, "optimizer steps (default 15000, or --epochs)", flags=("--max-steps",), cli_default=None, group="optimization"
    )
    num_train_epochs: int | None = option(
        None, "train this many epochs (when --max-steps is not given)", flags=("--epochs",), group="optimization"
    )
    max_train_samples: int | None = option(None, "a seeded random subset of the images", group="optimization")
    mixed_precision: MixedPrecision | None = option(None, "default: accelerate's setting", group="optimization")
    allow_tf32: bool = option(False, "TF32 matrix products (Ampere and newer GPUs)", group="optimization")
    gradient_checkpointing: bool = option(
        False, "recompute activations in the backward pass (less memory)", group="optimization"
    )
    checkpointing_steps: int = option(500, "save a resumable checkpoint every N steps", group="checkpoints, validation and tracking")
    checkpoints_total_limit: int | None = option(3, "keep at most this many checkpoints", group="checkpoints, validation and tracking")
    resume_from_checkpoint: str | None = option(
        None, "'latest' or a checkpoint directory", flags=("--resume",), group="checkpoints, validation and tracking"
    )
    noise_offset: float = option(0.0, "add this times N(0, 1) per image and channel to the noise", group="objective")
    snr_gamma: float | None = option(None, "min-SNR loss weighting (5 recommended)", group="objective")
    prediction_type: PredictionType | None = option(None, "override the scheduler's", group="objective")
    report_to: Any = option(None, "accelerate trackers: tensorboard, wandb, all, ...", group="checkpoints, validation and tracking")
    tracker_project_name: str = option("mdctcompand", "project name for the trackers", group="checkpoints, validation and tracking")
    validation_prompts: list[str] = option(
        help="repeat for several prompts", default_factory=list, flags=("--validation-prompt",), action="append",
        group="checkpoints, validation and tracking",
    )  # fmt: skip
    validation_steps: int = option(1000, "sample the validation prompts every N steps", group="checkpoints, validation and tracking")
    validation_inference_steps: int = option(30, "denoising steps of validation samples", group="checkpoints, validation and tracking")
    validation_guidance_scale: float = option(
        7.0, "guidance scale of validation samples", flags=("--validation-guidance",), group="checkpoints, validation and tracking"
    )
    seed: int = option(0, "seed of noise, timesteps, crops and LoRA init", group="checkpoints, validation and tracking")
    resolution: int = option(512, "image height (= bands) the model sees, and the crop width", group="objective")
    crop_frames: int | None = option(
        None, "width of the training crops in frames (default: --resolution; e.g. 512 for 1024-band images)",
        group="objective",
    )  # fmt: skip
    random_flip: bool = False
    caption_column: str = option("caption", "metadata column with the captions", group="objective")
    caption_dropout: float | None = option(
        None, "empty-caption probability (default: 0.1 scratch, 0 LoRA)", group="objective"
    )
    cache_latents: bool = option(
        True, "encode the images with the VAE once, before training (--no-cache-latents: at every step)", group="objective"
    )
    use_ema: bool | None = option(None, "EMA of the weights (default: on for scratch)", flags=("--ema",), group="objective")
    ema_decay: float = option(0.9999, "decay of the EMA of the weights", group="objective")
    dataloader_num_workers: int = option(0, "data loader processes", flags=("--num-workers",), group="checkpoints, validation and tracking")
    scratch_channels: tuple[int, ...] = option(
        (64, 128, 256), "scratch U-Net block widths, e.g. 64,128,256", type=parse_widths
    )
    waveform_loss_weight: float = option(
        0.0, "weight of a multi-resolution STFT loss on audio decoded on the device (0: off)", group="objective"
    )
    stft_resolutions: tuple[tuple[int, int, int], ...] = option(
        ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240)),
        "resolutions of the waveform loss (default: 1024:120:600,2048:240:1200,512:50:240)",
        type=parse_resolutions, metavar="N_FFT:HOP:WIN,...", group="objective",
    )  # fmt: skip
    profile: str | None = option(
        None, "audio captions list: shipped profile name or profile JSON (default: paper); a built dataset has its "
        "own, and another one here is refused", metavar="NAME",
    )  # fmt: skip
    stereo: Literal["mono", "left-right"] | None = option(
        None, "audio captions list: image layout, mono or left-right planes L, R, mid (default: mono); a built "
        "dataset has its own, and another one here is refused",
    )  # fmt: skip

    def __post_init__(self) -> None:
        self.scratch_channels = tuple(int(c) for c in self.scratch_channels)
        self.validation_prompts = list(self.validation_prompts)
        try:
            resolutions = tuple(tuple(int(v) for v in r) for r in self.stft_resolutions)
        except (TypeError, ValueError):
            raise ParameterError(
                f"stft_resolutions={self.stft_resolutions!r} must be (n_fft, hop_length, win_length) triples"
            ) from None
        if not resolutions or any(len(r) != 3 or not (0 < r[2] <= r[0] and r[1] > 0) for r in resolutions):
            raise ParameterError(
                f"stft_resolutions={resolutions!r} must be (n_fft, hop_length, win_length) triples "
                "with 0 < win_length <= n_fft and hop_length > 0"
            )
        self.stft_resolutions = tuple((n_fft, hop, win) for n_fft, hop, win in resolutions)
        _choice(self, "mode", ("lora", "scratch"))
        _choice(self, "space", ("latent", "pixel"))
        _choice(self, "mixed_precision", ("no", "fp16", "bf16", None))
        _choice(self, "prediction_type", ("epsilon", "v_prediction", None))
        _choice(self, "stereo", ("mono", "left-right", None))
        if self.mode == "lora" and self.space != "latent":
            raise ParameterError(
                "LoRA fine-tuning works on the pretrained model's latent space (space='latent')"
            )
        if self.random_flip:
            raise ParameterError(
                "random_flip=True reverses time: flipped MDCT images are not valid audio; leave it off"
            )
        if self.mode == "lora" and self.use_ema:
            raise ParameterError(
                "use_ema=True is for mode='scratch' (a LoRA adapter is averaged by nothing here)"
            )
        positive = ("rank", "train_batch_size", "gradient_accumulation_steps", "checkpointing_steps",
                    "validation_steps", "validation_inference_steps", "resolution")  # fmt: skip
        for name in positive:
            _at_least(self, name, 1)
        for name in ("max_train_steps", "num_train_epochs", "max_train_samples", "checkpoints_total_limit",
                     "crop_frames"):  # fmt: skip
            if getattr(self, name) is not None:
                _at_least(self, name, 1)
        if self.max_train_steps is None and self.num_train_epochs is None:
            raise ParameterError("set max_train_steps or num_train_epochs")
        if not self.scratch_channels or min(self.scratch_channels) < 1:
            raise ParameterError(f"scratch_channels={self.scratch_channels} must be positive widths")
        for name in ("learning_rate", "adam_epsilon", "alpha"):
            if not getattr(self, name) > 0:
                raise ParameterError(f"{name}={getattr(self, name)} must be > 0")
        for name in ("adam_beta1", "adam_beta2", "ema_decay"):
            if not 0 <= getattr(self, name) < 1:
                raise ParameterError(f"{name}={getattr(self, name)} must be in [0, 1)")
        for name in ("adam_weight_decay", "noise_offset", "lr_warmup_steps", "dataloader_num_workers",
                     "waveform_loss_weight"):  # fmt: skip
            if not getattr(self, name) >= 0:
                raise ParameterError(f"{name}={getattr(self, name)} must be >= 0")
        if self.snr_gamma is not None and not self.snr_gamma > 0:
            raise ParameterError(f"snr_gamma={self.snr_gamma} must be > 0 (or None for plain MSE)")
        if self.caption_dropout is not None and not 0 <= self.caption_dropout <= 1:
            raise ParameterError(f"caption_dropout={self.caption_dropout} must be in [0, 1]")

    @property
    def audio_captions(self) -> bool:
        """Whether ``dataset_dir`` is a captions list of audio (a ``.csv``/``.jsonl`` file), not a built dataset.

        Examples
        --------
        >>> TrainingConfig("m", "clips.csv", "o").audio_captions, TrainingConfig("m", "mdct1k/", "o").audio_captions
        (True, False)
        """
        return Path(self.dataset_dir).suffix.lower() in AUDIO_CAPTIONS_SUFFIXES

    @property
    def effective_caption_dropout(self) -> float:
        """``caption_dropout``, or its mode's default (0.1 from scratch, 0 for LoRA).

        Examples
        --------
        >>> TrainingConfig("m", "d", "o", caption_dropout=0.2).effective_caption_dropout
        0.2
        """
        if self.caption_dropout is not None:
            return float(self.caption_dropout)
        return 0.1 if self.mode == "scratch" else 0.0

    @property
    def effective_use_ema(self) -> bool:
        """``use_ema``, or its mode's default (on from scratch).

        Examples
        --------
        >>> TrainingConfig("m", "d", "o", mode="scratch").effective_use_ema
        True
        """
        return bool(self.use_ema) if self.use_ema is not None else self.mode == "scratch"

    def effective_learning_rate(self, num_processes: int = 1) -> float:
        """The learning rate, times batch x accumulation x processes with ``scale_lr``.

        Examples
        --------
        >>> TrainingConfig("m", "d", "o", learning_rate=1e-4, scale_lr=True, train_batch_size=2).effective_learning_rate(4)
        0.0032
        """
        if not self.scale_lr:
            return float(self.learning_rate)
        return (
            float(self.learning_rate)
            * self.train_batch_size
            * self.gradient_accumulation_steps
            * num_processes
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible settings (tracker objects by name).

        Examples
        --------
        >>> TrainingConfig("m", "d", "o").to_dict()["scratch_channels"]
        [64, 128, 256]
        """
        d = {f.name: getattr(self, f.name) for f in fields(self)}  # no deep copy of tracker objects
        d["scratch_channels"] = list(self.scratch_channels)
        d["validation_prompts"] = list(self.validation_prompts)
        d["stft_resolutions"] = [list(r) for r in self.stft_resolutions]
        d["report_to"] = _tracker_names(self.report_to)
        return d

    def tracker_config(self) -> dict[str, Any]:
        """The settings as flat scalars (what tensorboard's hyper-parameter view accepts).

        Examples
        --------
        >>> TrainingConfig("m", "d", "o", validation_prompts=["a", "b"]).tracker_config()["validation_prompts"]
        'a | b'
        """
        flat: dict[str, Any] = {}
        for key, value in self.to_dict().items():
            if isinstance(value, (list, tuple)):
                value = " | ".join(map(str, value))
            flat[key] = "none" if value is None else value
        return flat


def _tracker_names(report_to: Any) -> Any:
    if report_to is None or isinstance(report_to, str):
        return report_to
    items = report_to if isinstance(report_to, (list, tuple)) else [report_to]
    return [item if isinstance(item, str) else getattr(item, "name", type(item).__name__) for item in items]


def _choice(config: TrainingConfig, name: str, allowed: tuple) -> None:
    value = getattr(config, name)
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ParameterError(f"{name}={value!r} must be one of {shown}")


def _at_least(config: TrainingConfig, name: str, minimum: int) -> None:
    value = getattr(config, name)
    if int(value) != value or value < minimum:
        raise ParameterError(f"{name}={value} must be an integer >= {minimum}")
