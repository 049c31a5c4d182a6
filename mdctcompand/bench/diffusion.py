"""Diffusion cost: ``python -m mdctcompand.bench.diffusion [--config sd15|small] [--device auto]``.

Builds the U-Net from its configuration (random weights: the cost of a step does not
depend on them), adds a rank-4 LoRA adapter as training does, and reports:

- LoRA training steps per second (batch ``--batch``, mixed precision on GPUs), the
  paper's reference being 15,000 steps of batch 1 x 4 accumulation in 4 hours on one
  RTX 2060 (about 4.2 micro-batches per second);
- sampling time per 10 s of audio: ``--steps`` denoising steps with classifier-free
  guidance for one 512-frame image (10.9 s at 24 kHz), plus the VAE decode and the
  inverse transform. With ``--sample-steps-measured`` fewer steps are timed and the
  rest extrapolated (stated in the output), for slow CPUs.

``sd15``: the Stable Diffusion 1.5 U-Net (860 M parameters) and VAE, CLIP ViT-L text
encoder shapes; ``small``: a 3-level U-Net for CPUs. Run it on a GPU for the SD 1.5 figure.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", choices=("sd15", "small"), default="small")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--train-steps", type=int, default=5, help="timed training steps (after one warm-up)")
    parser.add_argument("--steps", type=int, default=50, help="denoising steps per image")
    parser.add_argument(
        "--sample-steps-measured", type=int, default=None, help="time only this many steps, extrapolate"
    )
    args = parser.parse_args(argv)

    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from peft import LoraConfig

    from ..diffusion import resolve_device, sd15_unet_config, small_unet_config

    device = resolve_device(args.device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    if args.config == "sd15":
        unet_cfg, text_dim, vae_channels = sd15_unet_config(), 768, (128, 256, 512, 512)
    else:
        unet_cfg = small_unet_config(
            sample_size=64, in_channels=4, cross_attention_dim=256, block_out_channels=(64, 128, 256)
        )
        text_dim, vae_channels = 256, (32, 64, 64, 64)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**unet_cfg).to(device, dtype)
    n_params = sum(p.numel() for p in unet.parameters())
    unet.requires_grad_(False)
    unet.add_adapter(
        LoraConfig(
            r=4,
            lora_alpha=4,
            init_lora_weights="gaussian",
            target_modules=["to_k", "to_q", "to_v", "to_out.0"],
        )
    )
    for p in unet.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    latents = torch.randn(args.batch, 4, 64, 64, device=device, dtype=dtype)
    states = torch.randn(args.batch, 77, text_dim, device=device, dtype=dtype)

    def train_step() -> None:
        t = torch.randint(0, 1000, (args.batch,), device=device)
        noise = torch.randn_like(latents)
        with torch.autocast(device.type, dtype=dtype, enabled=device.type == "cuda"):
            pred = unet(latents + noise, t, states).sample
        loss = torch.nn.functional.mse_loss(pred.float(), noise.float())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    train_step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.train_steps):
        train_step()
    sync()
    steps_per_s = args.train_steps / (time.perf_counter() - t0)

    unet.eval()
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=vae_channels, layers_per_block=2,
        down_block_types=("DownEncoderBlock2D",) * len(vae_channels), up_block_types=("UpDecoderBlock2D",) * len(vae_channels),
    ).to(device, dtype)  # fmt: skip
    measured = args.sample_steps_measured or args.steps
    with torch.no_grad():
        x = torch.randn(2, 4, 64, 64, device=device, dtype=dtype)  # classifier-free guidance: a batch of 2
        cond = torch.randn(2, 77, text_dim, device=device, dtype=dtype)
        unet(x, torch.tensor([999], device=device), cond)  # warm-up
        sync()
        t0 = time.perf_counter()
        for i in range(measured):
            unet(x, torch.tensor([999 - i], device=device), cond)
        sync()
        unet_time = (time.perf_counter() - t0) * args.steps / measured
        t0 = time.perf_counter()
        image = vae.decode(x[:1]).sample
        sync()
        vae_time = time.perf_counter() - t0
    from ..converter import AudioImageConverter

    conv = AudioImageConverter()
    values = ((image.float().clamp(-1, 1) + 1) * 127.5).mean(dim=1)[0].cpu().numpy()
    t0 = time.perf_counter()
    audio = conv.audio_from_codes(values.astype(np.float64))
    decode_time = time.perf_counter() - t0
    seconds = audio.size / conv.sample_rate
    per_10s = (unet_time + vae_time + decode_time) * 10.0 / seconds
    extrapolated = (
        f" (timed {measured} of {args.steps} steps, extrapolated)" if measured != args.steps else ""
    )
    print(
        f"### Diffusion cost: {args.config} U-Net ({n_params / 1e6:.0f} M parameters) on {device} ({dtype})\n"
    )
    print("| figure | value |\n|---|---:|")
    print(f"| LoRA training steps/s (batch {args.batch}, 64 x 64 latents) | {steps_per_s:.3f} |")
    print("| paper: RTX 2060, 15,000 steps x 4 accumulation in 4 h | about 4.2 micro-batches/s |")
    print(
        f"| sampling, {args.steps} steps with guidance, per 10 s of audio{extrapolated} | {per_10s:.2f} s |"
    )
    print(
        f"| of which U-Net, VAE decode, inverse transform | {unet_time:.2f} s, {vae_time:.2f} s, {decode_time:.2f} s |"
    )


if __name__ == "__main__":
    main()
