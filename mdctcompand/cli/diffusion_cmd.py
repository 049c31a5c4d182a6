"""``mdctcompand train-lora`` and ``mdctcompand generate`` (the diffusion extra; torch imported when run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import CLIError, Formatter, quiet_parent

TRAIN_EXAMPLES = """\
examples:
  # LoRA on SD 1.5 (hub id or local path) with a dataset from `mdctcompand dataset build`
  mdctcompand train-lora --model runwayml/stable-diffusion-v1-5 --dataset mdct1k/ -o lora/ \\
      --rank 4 --batch-size 1 --gradient-accumulation-steps 4 --max-steps 15000 --mixed-precision fp16 \\
      --validation-prompt "a calm piano melody" --resume latest

  # several GPUs or nodes: the same command under accelerate
  accelerate launch -m mdctcompand.cli.main train-lora --model ... --dataset ... -o ...

  # a small U-Net from scratch, in pixel space (text encoder and tokenizer from --model)
  mdctcompand train-lora --mode scratch --space pixel --model ... --dataset mdct1k/ -o scratch/
"""

GENERATE_EXAMPLES = """\
examples:
  mdctcompand generate "a calm piano melody" --model runwayml/stable-diffusion-v1-5 --lora lora/ -o piano.wav
  mdctcompand generate "energetic rock" --model scratch/ --seconds 30 -o rock.wav   # continues across images
  mdctcompand generate "same song, jazzier" --model ... --lora lora/ --init-audio in.wav --strength 0.6 -o out.wav
"""


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "train-lora",
        parents=[quiet_parent()],
        help="LoRA fine-tuning (or training from scratch) on an MDCT image dataset (diffusion extra)",
        description="Fine-tune a Stable-Diffusion-style model with LoRA on a dataset built by `mdctcompand dataset build`.",
        epilog=TRAIN_EXAMPLES,
        formatter_class=Formatter,
    )
    t.add_argument("--model", required=True, help="pretrained SD-style model: hub id or path")
    t.add_argument("--dataset", required=True, help="dataset directory (imagefolder with captions)")
    t.add_argument("-o", "--output", required=True, help="output directory")
    t.add_argument("--mode", choices=("lora", "scratch"), default="lora")
    t.add_argument(
        "--space", choices=("latent", "pixel"), default="latent", help="scratch mode: latent or pixel space"
    )
    t.add_argument("--rank", type=int, default=4)
    t.add_argument("--alpha", type=float, default=4.0, help="lora_alpha (scaling alpha / rank)")
    t.add_argument("--learning-rate", type=float, default=1e-4)
    t.add_argument(
        "--lr-scheduler", default="constant", help="constant, cosine, linear, constant_with_warmup, ..."
    )
    t.add_argument("--lr-warmup-steps", type=int, default=0)
    t.add_argument("--batch-size", type=int, default=1)
    t.add_argument("--gradient-accumulation-steps", type=int, default=4)
    t.add_argument("--max-steps", type=int, default=15000)
    t.add_argument("--mixed-precision", choices=("no", "fp16", "bf16"), default="no")
    t.add_argument("--gradient-checkpointing", action="store_true")
    t.add_argument("--checkpointing-steps", type=int, default=500)
    t.add_argument("--checkpoints-total-limit", type=int, default=3)
    t.add_argument("--resume", help="'latest' or a checkpoint directory")
    t.add_argument("--validation-prompt", action="append", default=[], help="repeat for several prompts")
    t.add_argument("--validation-steps", type=int, default=1000)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--resolution", type=int, default=512, help="image height = width the model sees")
    t.add_argument("--num-workers", type=int, default=0, help="data loader processes")
    t.set_defaults(func=cmd_train)

    g = sub.add_parser(
        "generate",
        parents=[quiet_parent()],
        help="text-to-audio (or audio-to-audio) with a trained model (diffusion extra)",
        epilog=GENERATE_EXAMPLES,
        formatter_class=Formatter,
    )
    g.add_argument("prompt")
    g.add_argument("-o", "--output", required=True, help="output audio file (.wav, .flac, ...)")
    g.add_argument(
        "--model", required=True, help="base model (hub id or path) or a directory saved by training"
    )
    g.add_argument("--lora", help="LoRA directory written by train-lora")
    g.add_argument("--negative-prompt")
    g.add_argument("--steps", type=int, default=50)
    g.add_argument("--guidance", type=float, default=7.0)
    g.add_argument("--seed", type=int)
    g.add_argument("--seconds", type=float, help="audio length (default: one image, about 10.9 s)")
    g.add_argument("--batch", type=int, default=1, help="waveforms to generate (OUT, OUT_1, OUT_2, ...)")
    g.add_argument("--init-audio", help="audio-to-audio: start from this file")
    g.add_argument("--strength", type=float, default=0.8, help="with --init-audio: how much to change (0..1]")
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


def cmd_train(args: argparse.Namespace) -> int:
    _need_extra()
    from ..diffusion import TrainingConfig, train

    config = TrainingConfig(
        pretrained_model=args.model, dataset_dir=args.dataset, output_dir=args.output, mode=args.mode,
        space=args.space, rank=args.rank, alpha=args.alpha, learning_rate=args.learning_rate,
        lr_scheduler=args.lr_scheduler, lr_warmup_steps=args.lr_warmup_steps, train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps, max_train_steps=args.max_steps,
        mixed_precision=args.mixed_precision, gradient_checkpointing=args.gradient_checkpointing,
        checkpointing_steps=args.checkpointing_steps, checkpoints_total_limit=args.checkpoints_total_limit,
        resume_from_checkpoint=args.resume, validation_prompts=args.validation_prompt,
        validation_steps=args.validation_steps, seed=args.seed, resolution=args.resolution,
        dataloader_num_workers=args.num_workers,
    )  # fmt: skip
    out = train(config, progress=not args.quiet)
    if not args.quiet:
        print(f"wrote {out}")
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
    result = pipe(
        args.prompt, negative_prompt=args.negative_prompt, num_inference_steps=args.steps, guidance_scale=args.guidance,
        audio_length_s=args.seconds, num_waveforms_per_prompt=args.batch, seed=args.seed, init_audio=args.init_audio,
        strength=args.strength, progress=not args.quiet,
    )  # fmt: skip
    for target, audio in zip(targets, result.audios):
        peak = float(np.abs(audio).max())
        save_audio(target, audio / max(1.0, peak), result.sample_rate, overwrite=True)
    if args.image:
        result.images[0].save(args.image)
    if not args.quiet:
        seconds = result.audios.shape[-1] / result.sample_rate
        print(f"wrote {', '.join(map(str, targets))} ({seconds:.2f} s at {result.sample_rate} Hz)")
    return 0
