"""``mdctcompand train-lora``, ``fuse-lora`` and ``generate`` (the diffusion extra; torch imported when run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import (
    CLIError,
    Formatter,
    UsageError,
    add_settings_arguments,
    quiet_parent,
    settings_from_arguments,
)

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
    from ..diffusion.config import TrainingConfig  # the options are its fields (it needs none of the extra)

    add_settings_arguments(t, TrainingConfig)
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


def training_config(args: argparse.Namespace):
    """The :class:`~mdctcompand.diffusion.TrainingConfig` of parsed ``train-lora`` arguments."""
    from ..diffusion import TrainingConfig

    options = settings_from_arguments(args, TrainingConfig)
    if options["max_train_steps"] is None and options["num_train_epochs"] is None:
        options["max_train_steps"] = 15000  # the default, unless --epochs is given
    return TrainingConfig(**options)


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
        raise UsageError(
            f"--channels stereo: {model} was trained on mono images (its saved converter is mono); leave out "
            "--channels, or train on a dataset built with `dataset build --stereo left-right`"
        )
    if args.sample_rate is not None and args.sample_rate != converter.sample_rate:
        raise UsageError(
            f"--sample-rate {args.sample_rate}: {model} generates {converter.sample_rate} Hz audio (profile "
            f"{converter.converter.profile.name!r}); leave out --sample-rate, or resample the output"
        )
