"""Diffusion cost: ``python -m lab.diffusion [--config sd15|small] [--device auto]``.

Builds SD-shaped models from their configurations on the spot (random weights: the cost
of a step does not depend on them; nothing is downloaded), and reports:

- LoRA training micro-batches per second (rank-4 adapter on the attention projections,
  frozen U-Net in half precision on GPUs, batch ``--batch``, 64 x 64 latents), and what a
  real run costs at that speed: ``--max-train-steps`` optimizer steps x
  ``--accumulation`` micro-batches (the paper: 15,000 x 4 in about 4 h on one RTX 2060,
  about 4.2 micro-batches per second);
- sampling time per 10 s of audio: ``--steps`` denoising steps with classifier-free
  guidance for one 512-frame image (10.9 s at 24 kHz), plus the VAE decode and the
  inverse transform (``--sample-steps-measured`` times fewer steps and extrapolates,
  stated in the output, for slow CPUs);
- long-form sampling through :class:`~mdctcompand.diffusion.MDCTDiffusionPipeline`:
  ``--seconds`` of audio (several images, a fresh DPM-Solver++ per image, crossfaded
  joins), wall time (skipped with ``--seconds 0``).

``sd15``: the Stable Diffusion 1.5 U-Net (860 M parameters), its VAE and a CLIP ViT-L/14
text encoder (77 tokens); ``small``: a 3-level U-Net and a small VAE for CPUs. Run
``--config sd15 --device cuda`` on a GPU for the figures quoted in the docs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import numpy as np


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", choices=("sd15", "small"), default="small")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument(
        "--train-steps", type=int, default=5, help="timed training micro-batches (after one warm-up)"
    )
    parser.add_argument(
        "--max-train-steps", type=int, default=15000, help="optimizer steps of the real run to cost"
    )
    parser.add_argument(
        "--accumulation", type=int, default=4, help="micro-batches per optimizer step of that run"
    )
    parser.add_argument("--steps", type=int, default=50, help="denoising steps per image")
    parser.add_argument(
        "--sample-steps-measured", type=int, default=None, help="time only this many steps, extrapolate"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="long-form sampling length (0: skip)")
    parser.add_argument(
        "--long-form-steps", type=int, default=25, help="DPM-Solver++ steps per image, long form"
    )
    return parser


def build_components(config: str, device: Any, dtype: Any) -> dict[str, Any]:
    """U-Net, VAE, text encoder and tokenizer of ``config``, random, on ``device`` in ``dtype``."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from mdctcompand.diffusion import sd15_unet_config, small_unet_config
    from mdctcompand.diffusion.models import write_tiny_tokenizer

    torch.manual_seed(0)
    if config == "sd15":
        unet_cfg = sd15_unet_config()
        vae_channels, layers = (128, 256, 512, 512), 2
        text = CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                              max_position_embeddings=77, vocab_size=49408, bos_token_id=0, eos_token_id=1,
                              pad_token_id=1)  # fmt: skip
    else:
        unet_cfg = small_unet_config(
            sample_size=64, in_channels=4, cross_attention_dim=256, block_out_channels=(64, 128, 256)
        )
        vae_channels, layers = (32, 64, 64, 64), 1
        text = CLIPTextConfig(hidden_size=256, intermediate_size=512, num_attention_heads=4, num_hidden_layers=2,
                              max_position_embeddings=77, vocab_size=1000, bos_token_id=0, eos_token_id=1,
                              pad_token_id=1)  # fmt: skip
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=vae_channels, layers_per_block=layers,
        down_block_types=("DownEncoderBlock2D",) * len(vae_channels), up_block_types=("UpDecoderBlock2D",) * len(vae_channels),
        norm_num_groups=min(32, min(vae_channels)), sample_size=512,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        write_tiny_tokenizer(d)
        tokenizer = CLIPTokenizer.from_pretrained(d, model_max_length=77)
    return {
        "unet": UNet2DConditionModel(**unet_cfg).to(device, dtype),
        "vae": vae.to(device, dtype),
        "text_encoder": CLIPTextModel(text).to(device, dtype),
        "tokenizer": tokenizer,
        "text_dim": text.hidden_size,
    }


def time_lora_training(unet: Any, text_dim: int, device: Any, dtype: Any, *, batch: int, steps: int) -> float:
    """Micro-batches per second of a rank-4 LoRA training step (forward, backward, AdamW)."""
    import torch
    from peft import LoraConfig

    from mdctcompand.diffusion.training import LORA_TARGETS

    unet.requires_grad_(False)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian", target_modules=LORA_TARGETS))
    for p in unet.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    latents = torch.randn(batch, 4, 64, 64, device=device, dtype=dtype)
    states = torch.randn(batch, 77, text_dim, device=device, dtype=dtype)

    def step() -> None:
        t = torch.randint(0, 1000, (batch,), device=device)
        noise = torch.randn_like(latents)
        with torch.autocast(device.type, dtype=dtype, enabled=device.type == "cuda"):
            pred = unet(latents + noise, t, states).sample
        loss = torch.nn.functional.mse_loss(pred.float(), noise.float())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    rate = steps / (time.perf_counter() - t0)
    unet.delete_adapters("default")  # sample with the plain U-Net
    unet.eval()
    return rate


def time_sampling(
    unet: Any, vae: Any, text_dim: int, device: Any, dtype: Any, *, steps: int, measured: int
) -> dict:
    """Seconds per 10 s of audio: U-Net steps with guidance, one VAE decode, the inverse transform."""
    import torch

    from mdctcompand.converter import AudioImageConverter

    with torch.no_grad():
        x = torch.randn(2, 4, 64, 64, device=device, dtype=dtype)  # classifier-free guidance: a batch of 2
        cond = torch.randn(2, 77, text_dim, device=device, dtype=dtype)
        unet(x, torch.tensor([999], device=device), cond)  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        for i in range(measured):
            unet(x, torch.tensor([999 - i], device=device), cond)
        _sync(device)
        unet_time = (time.perf_counter() - t0) * steps / measured
        vae.decode(x[:1])  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        image = vae.decode(x[:1]).sample
        _sync(device)
        vae_time = time.perf_counter() - t0
    conv = AudioImageConverter()
    values = ((image.float().clamp(-1, 1) + 1) * 127.5).mean(dim=1)[0].cpu().numpy()
    t0 = time.perf_counter()
    audio = conv.audio_from_codes(values.astype(np.float64))
    decode_time = time.perf_counter() - t0
    per_10s = (unet_time + vae_time + decode_time) * 10.0 / (audio.size / conv.sample_rate)
    return {"per_10s": per_10s, "unet": unet_time, "vae": vae_time, "decode": decode_time}


def time_long_form(components: dict, *, seconds: float, steps: int, device: Any) -> tuple[float, int, int]:
    """Wall time, number of images and samples of ``seconds`` of audio through the pipeline."""
    from diffusers import DPMSolverMultistepScheduler

    from mdctcompand.diffusion import MDCTDiffusionPipeline, MDCTImageConverter
    from mdctcompand.diffusion.sampling import LongFormPlan

    scheduler = DPMSolverMultistepScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    pipe = MDCTDiffusionPipeline(
        vae=components["vae"], text_encoder=components["text_encoder"], tokenizer=components["tokenizer"],
        unet=components["unet"], scheduler=scheduler, converter=MDCTImageConverter(),
    )  # fmt: skip
    pipe.to(device)
    _sync(device)
    t0 = time.perf_counter()
    out = pipe(
        "a calm piano melody", num_inference_steps=steps, audio_length_s=seconds, seed=0, progress=False
    )
    _sync(device)
    elapsed = time.perf_counter() - t0
    conv = pipe.converter
    total = conv.n_frames(out.audios.shape[-1])
    plan = LongFormPlan.for_frames(
        total, width=conv.frames, overlap=conv.frames // 8, factor=pipe.latent_factor
    )
    return elapsed, plan.n_images, int(out.audios.shape[-1])


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    import torch

    from mdctcompand.diffusion import resolve_device

    device = resolve_device(args.device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    parts = build_components(args.config, device, dtype)
    n_params = sum(p.numel() for p in parts["unet"].parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    rate = time_lora_training(
        parts["unet"], parts["text_dim"], device, dtype, batch=args.batch, steps=args.train_steps
    )
    measured = args.sample_steps_measured or args.steps
    sampling = time_sampling(
        parts["unet"], parts["vae"], parts["text_dim"], device, dtype, steps=args.steps, measured=measured
    )
    micro = args.max_train_steps * args.accumulation
    hours = micro / rate / 3600
    extrapolated = (
        f" (timed {measured} of {args.steps} steps, extrapolated)" if measured != args.steps else ""
    )
    print(
        f"### Diffusion cost: {args.config} U-Net ({n_params / 1e6:.0f} M parameters) on {name} ({dtype})\n"
    )
    print("| figure | value |\n|---|---:|")
    print(f"| LoRA training micro-batches/s (batch {args.batch}, 64 x 64 latents) | {rate:.3f} |")
    print(
        f"| a real run: {args.max_train_steps:,} steps x {args.accumulation} micro-batches | {hours:.2f} h |"
    )
    print("| paper: RTX 2060, 15,000 steps x 4 accumulation | about 4 h (4.2 micro-batches/s) |")
    print(
        f"| sampling, {args.steps} steps with guidance, per 10 s of audio{extrapolated} | {sampling['per_10s']:.2f} s |"
    )
    print(
        f"| of which U-Net, VAE decode, inverse transform | {sampling['unet']:.2f} s, {sampling['vae']:.2f} s, "
        f"{sampling['decode']:.3f} s |"
    )
    if args.seconds > 0:
        elapsed, images, samples = time_long_form(
            parts, seconds=args.seconds, steps=args.long_form_steps, device=device
        )
        print(
            f"| long form: {args.seconds:g} s of audio ({images} images, DPM-Solver++ {args.long_form_steps} steps, "
            f"guidance) | {elapsed:.2f} s ({samples} samples) |"
        )


if __name__ == "__main__":
    main()
