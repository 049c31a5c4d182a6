"""``mdctcompand train-lora``, ``fuse-lora`` and ``generate`` (the diffusion extra; torch imported when run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import CLIError, Formatter, quiet_parent

#: Sampler names of ``generate --scheduler`` (kept in sync with mdctcompand.diffusion.sampling.SCHEDULERS,
#: which needs torch to import).
SCHEDULER_NAMES = ("ddim", "dpm++", "dpm2", "euler", "euler-ancestral", "heun", "lms", "pndm", "unipc")

TRAIN_EXAMPLES = """\
examples:
  # LoRA on SD 1.5 (hub id or local path) with a dataset from `mdctcompand dataset build`
  mdctcompand train-lora --model runwayml/stable-diffusion-v1-5 --dataset mdct1k/ -o lora/ \\
      --rank 4 --batch-size 1 --gradient-accumulation-steps 4 --max-steps 15000 --mixed-precision fp16 \\
      --validation-prompt "a calm piano melody" --resume latest

  # straight from captioned audio (CSV/JSONL: audio path, caption[, split]): random crops converted to
  # code images on the training device at every step, no `dataset build` needed
  mdctcompand train-lora --model ... --dataset clips.csv -o lora/ --profile paper --stereo mono
  mdctcompand train-lora --model ... --dataset clips.jsonl -o lora44k/ --profile 44k --stereo left-right \\
      --resolution 1024 --crop-frames 512

  # several GPUs or nodes: the same command under accelerate
  accelerate launch -m mdctcompand.cli.main train-lora --model ... --dataset ... -o ...

  # a small U-Net from scratch, in pixel space (text encoder and tokenizer from --model);
  # 10 % caption dropout and an EMA of the weights by default
  mdctcompand train-lora --mode scratch --space pixel --scratch-channels 64,128,256 --model ... --dataset mdct1k/ -o scratch/

  # full band, stereo: a dataset built with --profile 44k --stereo left-right (1024 bands, RGB planes L, R, mid),
  # trained in 1024 x 512 crops with a multi-resolution STFT loss on the decoded audio
  mdctcompand train-lora --model ... --dataset stereo44k/ -o lora44k/ --resolution 1024 --crop-frames 512 \\
      --waveform-loss-weight 0.1

  # diffusers' options: min-SNR weighting, noise offset, v-prediction, tracking, 8-bit Adam, epochs
  mdctcompand train-lora ... --snr-gamma 5 --noise-offset 0.05 --prediction-type v_prediction \\
      --report-to tensorboard --use-8bit-adam --allow-tf32 --epochs 20 --scale-lr
"""

FUSE_EXAMPLES = """\
examples:
  mdctcompand fuse-lora --model runwayml/stable-diffusion-v1-5 --lora lora/ -o merged/
  mdctcompand generate "a calm piano melody" --model merged/ -o piano.wav   # no base model or adapter needed

  # in Python: load_pipeline("merged/"), or DiffusionPipeline.from_pretrained("merged/", trust_remote_code=True)
"""

GENERATE_EXAMPLES = """\
examples:
  mdctcompand generate "a calm piano melody" --model runwayml/stable-diffusion-v1-5 --lora lora/ -o piano.wav
  mdctcompand generate "energetic rock" --model scratch/ --seconds 30 -o rock.wav   # continues across images
  mdctcompand generate "same song, jazzier" --model ... --lora lora/ --init-audio in.wav --strength 0.6 -o out.wav
  mdctcompand generate "a wide synth pad" --model ... --lora lora44k/ -o pad.wav   # stereo, 44.1 kHz (the model's)
"""


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "train-lora",
        parents=[quiet_parent()],
        help="LoRA fine-tuning (or training from scratch) on an MDCT image dataset (diffusion extra)",
        description="Fine-tune a Stable-Diffusion-style model with LoRA on a dataset built by `mdctcompand dataset build` "
        "(the options of diffusers' train_text_to_image_lora.py), or train a small U-Net from scratch. "
        "--dataset may also be a captions list of audio (.csv/.jsonl): the audio is then cropped at random and "
        "converted to code images on the training device (GPU) at every step, with --profile and --stereo.",
        epilog=TRAIN_EXAMPLES,
        formatter_class=Formatter,
    )
    t.add_argument("--model", required=True, help="pretrained SD-style model: hub id or path")
    t.add_argument(
        "--dataset", required=True,
        help="dataset directory (imagefolder with captions), or a captions list of audio (.csv/.jsonl: audio path, "
        "caption[, split]) converted on the training device",
    )  # fmt: skip
    t.add_argument(
        "--profile", metavar="NAME",
        help="audio captions list: shipped profile name or profile JSON (default: paper); a built dataset has its "
        "own, and another one here is refused",
    )  # fmt: skip
    t.add_argument(
        "--stereo", choices=("mono", "left-right"),
        help="audio captions list: image layout, mono or left-right planes L, R, mid (default: mono); a built "
        "dataset has its own, and another one here is refused",
    )  # fmt: skip
    t.add_argument("-o", "--output", required=True, help="output directory")
    t.add_argument(
        "--mode", choices=("lora", "scratch"), default="lora",
        help="fine-tune a LoRA adapter, or train a small U-Net from scratch",
    )  # fmt: skip
    t.add_argument(
        "--space", choices=("latent", "pixel"), default="latent", help="scratch mode: latent or pixel space"
    )
    t.add_argument("--rank", type=int, default=4, help="LoRA rank")
    t.add_argument("--alpha", type=float, default=4.0, help="lora_alpha (scaling alpha / rank)")
    t.add_argument(
        "--scratch-channels",
        type=_widths,
        default=(64, 128, 256),
        help="scratch U-Net block widths, e.g. 64,128,256",
    )
    opt = t.add_argument_group("optimization")
    opt.add_argument("--learning-rate", type=float, default=1e-4, help="AdamW learning rate")
    opt.add_argument(
        "--scale-lr",
        action="store_true",
        help="multiply the learning rate by batch x accumulation x processes",
    )
    opt.add_argument(
        "--lr-scheduler", default="constant", help="constant, cosine, linear, constant_with_warmup, ..."
    )
    opt.add_argument("--lr-warmup-steps", type=int, default=0, help="learning-rate warm-up steps")
    opt.add_argument("--adam-beta1", type=float, default=0.9, help="AdamW beta1")
    opt.add_argument("--adam-beta2", type=float, default=0.999, help="AdamW beta2")
    opt.add_argument("--adam-epsilon", type=float, default=1e-8, help="AdamW epsilon")
    opt.add_argument("--adam-weight-decay", type=float, default=1e-2, help="AdamW weight decay")
    opt.add_argument("--use-8bit-adam", action="store_true", help="bitsandbytes' 8-bit AdamW (CUDA)")
    opt.add_argument("--max-grad-norm", type=float, default=1.0, help="gradient clipping norm")
    opt.add_argument("--batch-size", type=int, default=1, help="images per micro-batch and process")
    opt.add_argument(
        "--gradient-accumulation-steps", type=int, default=4, help="micro-batches per optimizer step"
    )
    opt.add_argument("--max-steps", type=int, help="optimizer steps (default 15000, or --epochs)")
    opt.add_argument("--epochs", type=int, help="train this many epochs (when --max-steps is not given)")
    opt.add_argument("--max-train-samples", type=int, help="a seeded random subset of the images")
    opt.add_argument(
        "--mixed-precision", choices=("no", "fp16", "bf16"), help="default: accelerate's setting"
    )
    opt.add_argument("--allow-tf32", action="store_true", help="TF32 matrix products (Ampere and newer GPUs)")
    opt.add_argument(
        "--gradient-checkpointing",
        action="store_true",
        help="recompute activations in the backward pass (less memory)",
    )
    obj = t.add_argument_group("objective")
    obj.add_argument(
        "--noise-offset",
        type=float,
        default=0.0,
        help="add this times N(0, 1) per image and channel to the noise",
    )
    obj.add_argument("--snr-gamma", type=float, help="min-SNR loss weighting (5 recommended)")
    obj.add_argument(
        "--prediction-type", choices=("epsilon", "v_prediction"), help="override the scheduler's"
    )
    obj.add_argument("--caption-column", default="caption", help="metadata column with the captions")
    obj.add_argument(
        "--caption-dropout", type=float, help="empty-caption probability (default: 0.1 scratch, 0 LoRA)"
    )
    obj.add_argument(
        "--no-cache-latents", action="store_true", help="encode images with the VAE at every step"
    )
    obj.add_argument(
        "--ema",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="EMA of the weights (default: on for scratch)",
    )
    obj.add_argument("--ema-decay", type=float, default=0.9999, help="decay of the EMA of the weights")
    obj.add_argument(
        "--resolution",
        type=int,
        default=512,
        help="image height (= bands) the model sees, and the crop width",
    )
    obj.add_argument(
        "--crop-frames", type=int,
        help="width of the training crops in frames (default: --resolution; e.g. 512 for 1024-band images)",
    )  # fmt: skip
    obj.add_argument(
        "--waveform-loss-weight", type=float, default=0.0,
        help="weight of a multi-resolution STFT loss on audio decoded on the device (0: off)",
    )  # fmt: skip
    obj.add_argument(
        "--stft-resolutions", type=_resolutions, default=((1024, 120, 600), (2048, 240, 1200), (512, 50, 240)),
        metavar="N_FFT:HOP:WIN,...", help="resolutions of the waveform loss (default: 1024:120:600,2048:240:1200,512:50:240)",
    )  # fmt: skip
    run = t.add_argument_group("checkpoints, validation and tracking")
    run.add_argument(
        "--checkpointing-steps", type=int, default=500, help="save a resumable checkpoint every N steps"
    )
    run.add_argument(
        "--checkpoints-total-limit", type=int, default=3, help="keep at most this many checkpoints"
    )
    run.add_argument("--resume", help="'latest' or a checkpoint directory")
    run.add_argument("--validation-prompt", action="append", default=[], help="repeat for several prompts")
    run.add_argument(
        "--validation-steps", type=int, default=1000, help="sample the validation prompts every N steps"
    )
    run.add_argument(
        "--validation-inference-steps", type=int, default=30, help="denoising steps of validation samples"
    )
    run.add_argument(
        "--validation-guidance", type=float, default=7.0, help="guidance scale of validation samples"
    )
    run.add_argument("--report-to", help="accelerate trackers: tensorboard, wandb, all, ...")
    run.add_argument("--tracker-project-name", default="mdctcompand", help="project name for the trackers")
    run.add_argument("--seed", type=int, default=0, help="seed of noise, timesteps, crops and LoRA init")
    run.add_argument("--num-workers", type=int, default=0, help="data loader processes")
    t.set_defaults(func=cmd_train)

    f = sub.add_parser(
        "fuse-lora",
        parents=[quiet_parent()],
        help="fuse a LoRA adapter into its base model and save a standalone pipeline (diffusion extra)",
        description="Merge a LoRA adapter's weights into its base U-Net and save a pipeline that loads "
        "without peft (DiffusionPipeline.from_pretrained).",
        epilog=FUSE_EXAMPLES,
        formatter_class=Formatter,
    )
    f.add_argument("--model", required=True, help="base model (hub id or path)")
    f.add_argument("--lora", required=True, help="LoRA directory written by train-lora")
    f.add_argument("-o", "--output", required=True, help="output directory (must not exist, unless --force)")
    f.add_argument("--lora-scale", type=float, default=1.0, help="weight of the LoRA update when fusing it")
    f.add_argument("--fp16", action="store_true", help="save in half precision")
    f.add_argument("--force", action="store_true", help="write into an existing directory")
    f.set_defaults(func=cmd_fuse)

    g = sub.add_parser(
        "generate",
        parents=[quiet_parent()],
        help="text-to-audio (or audio-to-audio) with a trained model (diffusion extra)",
        description="Generate audio from a text prompt (or change an audio file) with a model trained by "
        "train-lora: mono or stereo at the sample rate of the model's converter (its saved layout and profile).",
        epilog=GENERATE_EXAMPLES,
        formatter_class=Formatter,
    )
    g.add_argument("prompt", help="text prompt")
    g.add_argument("-o", "--output", required=True, help="output audio file (.wav, .flac, ...)")
    g.add_argument(
        "--model", required=True, help="base model (hub id or path) or a directory saved by training"
    )
    g.add_argument("--lora", help="LoRA directory written by train-lora")
    g.add_argument("--negative-prompt", help="what to steer away from (with --guidance > 1)")
    g.add_argument("--steps", type=int, default=50, help="denoising steps per image")
    g.add_argument("--guidance", type=float, default=7.0, help="classifier-free guidance scale (1: off)")
    g.add_argument("--seed", type=int, help="seed of the noise (default: random)")
    g.add_argument("--seconds", type=float, help="audio length (default: one image, about 10.9 s)")
    g.add_argument("--batch", type=int, default=1, help="waveforms to generate (OUT, OUT_1, OUT_2, ...)")
    g.add_argument("--init-audio", help="audio-to-audio: start from this file")
    g.add_argument("--strength", type=float, default=0.8, help="with --init-audio: how much to change (0..1]")
    g.add_argument("--scheduler", choices=SCHEDULER_NAMES, help="sampler (default: the model's)")
    g.add_argument("--overlap-frames", type=int, help="frames crossfaded between images of long audio")
    g.add_argument(
        "--channels", choices=("mono", "stereo"),
        help="output channels (default: the model's; mono from a stereo model averages left and right)",
    )  # fmt: skip
    g.add_argument(
        "--sample-rate", type=int, help="the rate you expect; must be the model's (default: the model's rate)"
    )
    g.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    g.add_argument("--fp16", action="store_true", help="half precision (GPUs)")
    g.add_argument("--image", help="also save the generated code image (PNG)")
    g.add_argument("--force", action="store_true", help="overwrite existing outputs")
    g.set_defaults(func=cmd_generate)


def _need_extra() -> None:
    try:
        import mdctcompand.diffusion  # noqa: F401
    except ImportError as exc:
        raise CLIError(str(exc)) from exc


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated integers, e.g. 64,128,256") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: widths must be positive")
    return widths


def _resolutions(text: str) -> tuple[tuple[int, int, int], ...]:
    try:
        found = tuple(tuple(int(v) for v in item.split(":")) for item in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: N_FFT:HOP:WIN triples, e.g. 1024:120:600,512:50:240"
        ) from None
    if not found or any(len(r) != 3 for r in found):
        raise argparse.ArgumentTypeError(f"{text!r}: N_FFT:HOP:WIN triples, e.g. 1024:120:600,512:50:240")
    return tuple((n_fft, hop, win) for n_fft, hop, win in found)


def training_config(args: argparse.Namespace):
    """The :class:`~mdctcompand.diffusion.TrainingConfig` of parsed ``train-lora`` arguments."""
    from ..diffusion import TrainingConfig

    max_steps = args.max_steps if args.max_steps is not None else (None if args.epochs else 15000)
    return TrainingConfig(
        pretrained_model=args.model, dataset_dir=args.dataset, output_dir=args.output, mode=args.mode,
        space=args.space, rank=args.rank, alpha=args.alpha, scratch_channels=args.scratch_channels,
        learning_rate=args.learning_rate, scale_lr=args.scale_lr, lr_scheduler=args.lr_scheduler,
        lr_warmup_steps=args.lr_warmup_steps, adam_beta1=args.adam_beta1, adam_beta2=args.adam_beta2,
        adam_epsilon=args.adam_epsilon, adam_weight_decay=args.adam_weight_decay, use_8bit_adam=args.use_8bit_adam,
        max_grad_norm=args.max_grad_norm, train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps, max_train_steps=max_steps,
        num_train_epochs=args.epochs, max_train_samples=args.max_train_samples,
        mixed_precision=args.mixed_precision, allow_tf32=args.allow_tf32,
        gradient_checkpointing=args.gradient_checkpointing, noise_offset=args.noise_offset,
        snr_gamma=args.snr_gamma, prediction_type=args.prediction_type, caption_column=args.caption_column,
        caption_dropout=args.caption_dropout, cache_latents=not args.no_cache_latents, use_ema=args.ema,
        ema_decay=args.ema_decay, resolution=args.resolution, checkpointing_steps=args.checkpointing_steps,
        checkpoints_total_limit=args.checkpoints_total_limit, resume_from_checkpoint=args.resume,
        validation_prompts=args.validation_prompt, validation_steps=args.validation_steps,
        validation_inference_steps=args.validation_inference_steps,
        validation_guidance_scale=args.validation_guidance, report_to=args.report_to,
        tracker_project_name=args.tracker_project_name, seed=args.seed, dataloader_num_workers=args.num_workers,
        crop_frames=args.crop_frames, waveform_loss_weight=args.waveform_loss_weight,
        stft_resolutions=args.stft_resolutions, profile=args.profile, stereo=args.stereo,
    )  # fmt: skip


def cmd_train(args: argparse.Namespace) -> int:
    _need_extra()
    from ..diffusion import train

    out = train(training_config(args), progress=not args.quiet)
    if not args.quiet:
        print(f"wrote {out}")
    return 0


def cmd_fuse(args: argparse.Namespace) -> int:
    _need_extra()
    out = Path(args.output)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise FileExistsError(f"{out} exists and is not empty")
    from ..diffusion import export_fused

    dtype = None
    if args.fp16:
        import torch

        dtype = torch.float16
    export_fused(args.model, out, lora=args.lora, lora_scale=args.lora_scale, dtype=dtype)
    if not args.quiet:
        print(
            f"wrote {out} (load it with load_pipeline({str(out)!r}) or `mdctcompand generate --model {out}`)"
        )
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    _need_extra()
    import numpy as np

    from ..diffusion import load_pipeline
    from ..io import save_audio

    out = Path(args.output)
    targets = [out] + [out.with_name(f"{out.stem}_{i}{out.suffix}") for i in range(1, args.batch)]
    for target in targets:
        if target.exists() and not args.force:
            raise FileExistsError(f"{target} exists")
    dtype = None
    if args.fp16:
        import torch

        dtype = torch.float16
    pipe = load_pipeline(args.model, lora=args.lora, device=args.device, dtype=dtype)
    _check_layout(args, pipe.converter)
    if args.scheduler:
        pipe.use_scheduler(args.scheduler)
    result = pipe(
        args.prompt, negative_prompt=args.negative_prompt, num_inference_steps=args.steps, guidance_scale=args.guidance,
        audio_length_s=args.seconds, num_waveforms_per_prompt=args.batch, seed=args.seed, init_audio=args.init_audio,
        strength=args.strength, overlap_frames=args.overlap_frames, channels=args.channels, progress=not args.quiet,
        return_images=bool(args.image),
    )  # fmt: skip
    for target, audio in zip(targets, result.audios):
        peak = float(np.abs(audio).max())
        save_audio(target, audio / max(1.0, peak), result.sample_rate, overwrite=True)
    if args.image:
        result.images[0].save(args.image)
    if not args.quiet:
        seconds = result.audios.shape[-1] / result.sample_rate
        layout = "stereo" if result.audios.ndim == 3 else "mono"
        print(f"wrote {', '.join(map(str, targets))} ({seconds:.2f} s, {layout}, {result.sample_rate} Hz)")
    return 0


def _check_layout(args: argparse.Namespace, converter) -> None:
    """Refuse a channel layout or rate the model cannot give, naming the flag (the model's metadata decides)."""
    model = args.lora or args.model
    if args.channels == "stereo" and converter.stereo == "mono":
        raise CLIError(
            f"--channels stereo: {model} was trained on mono images (its saved converter is mono); leave out "
            "--channels, or train on a dataset built with `dataset build --stereo left-right`"
        )
    if args.sample_rate is not None and args.sample_rate != converter.sample_rate:
        raise CLIError(
            f"--sample-rate {args.sample_rate}: {model} generates {converter.sample_rate} Hz audio (profile "
            f"{converter.converter.profile.name!r}); leave out --sample-rate, or resample the output"
        )
