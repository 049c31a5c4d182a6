"""Device check of the diffusion extra: stereo 44.1 kHz training with the waveform loss, and sampling, on one device.

Builds everything locally (no downloads): a tiny SD-shaped model
(:func:`mdctcompand.diffusion.testing.tiny_model`, VAE factor 8) and stereo images of the
shipped ``"44k"`` profile in the ``--stereo left-right`` layout (planes left, right, mid;
1024 bands x 64 frames, made on the device from generated music). Then:

1. LoRA training steps with the training code's loss (:func:`training_loss`: the public
   steps of :mod:`mdctcompand.diffusion.losses` that training composes): timed without and
   with the multi-resolution STFT waveform loss (median of ``--steps`` steps after
   ``--warmup``);
2. one stereo clip sampled with :class:`~mdctcompand.diffusion.MDCTDiffusionPipeline`
   (timed);
3. where every tensor lived, and host round trips: on CUDA the waveform loss (forward and
   backward) and the decode of the sampled images run under
   ``torch.cuda.set_sync_debug_mode("error")`` (any device -> host copy or synchronization
   raises); on every device the ``Tensor.cpu``/``numpy``/``item``/``tolist`` calls made during
   sampling are counted and none may move an image- or audio-sized tensor except the final
   waveform.

Needs only torch, numpy, scipy, diffusers, peft, accelerate and transformers (no soundfile,
no datasets). Run::

    python -m lab.diffusion_device --device cuda    # < 60 s on a GPU
    python -m lab.diffusion_device --device cpu     # the same checks, slower

Exit status 0 when every check passes; the figures go to stdout (``--json`` for a dict).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

#: Training micro-batch (stereo images of 1024 bands x FRAMES frames).
BATCH = 2
FRAMES = 64


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


#: Turned off after a guarded section raised, so that the remaining figures are still measured.
GUARD = {"on": True}


@contextlib.contextmanager
def no_host_sync(device: Any) -> Iterator[None]:
    """On CUDA: any synchronizing operation (a device -> host copy included) raises inside."""
    import torch

    if device.type != "cuda" or not GUARD["on"]:
        yield
        return
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


@contextlib.contextmanager
def host_transfers() -> Iterator[list[tuple[str, tuple[int, ...], str]]]:
    """Record ``(method, shape, device)`` of every ``Tensor.cpu/numpy/item/tolist`` call inside."""
    import torch

    calls: list[tuple[str, tuple[int, ...], str]] = []
    originals = {name: getattr(torch.Tensor, name) for name in ("cpu", "numpy", "item", "tolist")}

    def spy(name: str, original: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append((name, tuple(self.shape), str(self.device)))
            return original(self, *args, **kwargs)

        return wrapper

    for name, original in originals.items():
        setattr(torch.Tensor, name, spy(name, original))
    try:
        yield calls
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


def build(device: Any, root: str) -> SimpleNamespace:
    """The tiny model, a LoRA U-Net, the stereo 44k converter and a batch of images, on ``device``."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from peft import LoraConfig
    from transformers import CLIPTextModel, CLIPTokenizer

    from mdctcompand.diffusion import MDCTImageConverter
    from mdctcompand.diffusion.testing import stereo_signal, tiny_model

    model = tiny_model(root, fullband=True)
    conv = MDCTImageConverter.from_converter(_profile_converter("44k"), frames=FRAMES, stereo="left-right")
    vae = AutoencoderKL.from_pretrained(model / "vae").to(device).requires_grad_(False)
    unet = UNet2DConditionModel.from_pretrained(model / "unet").to(device).requires_grad_(False)
    unet.add_adapter(
        LoraConfig(
            r=4,
            lora_alpha=4,
            init_lora_weights="gaussian",
            target_modules=["to_k", "to_q", "to_v", "to_out.0"],
        )
    )
    text_encoder = CLIPTextModel.from_pretrained(model / "text_encoder").to(device).requires_grad_(False)
    tokenizer = CLIPTokenizer.from_pretrained(model / "tokenizer")
    n = conv.max_samples(FRAMES)
    audio = [torch.from_numpy(stereo_signal(n, conv.sample_rate, seed=i)).to(device) for i in range(BATCH)]
    codes = torch.stack(
        [conv.codes_from_audio_tensor(a, n_frames=FRAMES) for a in audio]
    )  # (B, 3, 1024, 64) on device
    images = conv.tensor_from_codes(codes, channels=3)
    with torch.no_grad():
        latents = vae.encode(images).latent_dist.mean * vae.config.scaling_factor
    ids = tokenizer(["a slow rock song"] * BATCH, padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids.to(device)  # fmt: skip
    return SimpleNamespace(
        model=model, conv=conv, vae=vae, unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, codes=codes,
        latents=latents, ids=ids, scheduler=DDPMScheduler.from_pretrained(model / "scheduler"),
    )  # fmt: skip


def _profile_converter(name: str) -> Any:
    from mdctcompand.converter import AudioImageConverter

    return AudioImageConverter(name, band_gains="none")  # the images of a model carry no band gains


class HostSyncError(RuntimeError):
    """A synchronization (device -> host) inside a guarded section."""


def training_loss(
    parts: SimpleNamespace, config: Any, batch: dict[str, Any], device: Any, waveform: Any
) -> Any:
    """The loss of one micro-batch, as the training code computes it from cached latents.

    :func:`mdctcompand.diffusion.losses.denoising_loss`, the function ``train`` minimizes
    (float32, the VAE's mean latents), plus ``waveform_loss_weight`` times ``waveform(...)``
    (:func:`~mdctcompand.diffusion.losses.waveform_loss` through the frozen VAE's decoder).
    """
    import torch

    from mdctcompand.diffusion.losses import denoising_loss

    latents = (batch["latents"].to(device) * parts.vae.config.scaling_factor).to(torch.float32)
    return denoising_loss(
        parts.unet, parts.text_encoder, parts.scheduler, latents, batch["input_ids"],
        noise_offset=config.noise_offset, snr_gamma=config.snr_gamma, waveform=waveform,
        waveform_weight=config.waveform_loss_weight,
    )  # fmt: skip


def training_run(
    parts: SimpleNamespace, device: Any, *, weight: float, steps: int, warmup: int
) -> dict[str, Any]:
    """LoRA steps with the training code's loss (:func:`training_loss`); per-step seconds and the losses."""
    import torch

    from mdctcompand.diffusion.config import TrainingConfig
    from mdctcompand.diffusion.losses import waveform_loss

    config = TrainingConfig("tiny", "in-memory", tempfile.mkdtemp(), max_train_steps=steps, waveform_loss_weight=weight,
                            resolution=parts.conv.n_bands, crop_frames=FRAMES)  # fmt: skip
    factor = parts.vae.config.scaling_factor
    params = [p for p in parts.unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    torch.manual_seed(0)
    times, losses, waveform_devices = [], [], set()

    def images_from_model(x: Any) -> Any:  # the frozen VAE's decoder, in float32
        return parts.vae.decode(x / factor).sample.float()

    def traced(*args: Any) -> Any:
        with no_host_sync(device):
            try:
                value = waveform_loss(
                    parts.conv, parts.scheduler, *args, images_from_model=images_from_model,
                    resolutions=config.stft_resolutions,
                )  # fmt: skip
            except RuntimeError as exc:
                raise HostSyncError(f"waveform loss forward: {exc}") from exc
        waveform_devices.add(str(value.device))
        return value

    batch = {"latents": parts.latents / factor, "input_ids": parts.ids}
    for i in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        loss = training_loss(parts, config, batch, device, traced)
        if weight > 0:
            with no_host_sync(device):
                try:
                    loss.backward()
                except RuntimeError as exc:
                    raise HostSyncError(f"backward with the waveform loss: {exc}") from exc
        else:
            loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
        losses.append(float(loss.detach()))
    grads_ok = all(p.grad is None for p in params)  # zeroed after the last step
    return {"step_s": statistics.median(times), "losses": losses, "waveform_loss_device": sorted(waveform_devices),
            "finite": bool(np.all(np.isfinite(losses))), "zeroed": grads_ok}  # fmt: skip


def sampling_run(parts: SimpleNamespace, device: Any, *, steps: int) -> dict[str, Any]:
    """One stereo clip (one image) with the pipeline; host transfers recorded."""
    import torch
    from diffusers import DDIMScheduler

    from mdctcompand.diffusion import MDCTDiffusionPipeline

    pipe = MDCTDiffusionPipeline(
        vae=parts.vae, text_encoder=parts.text_encoder, tokenizer=parts.tokenizer, unet=parts.unet,
        scheduler=DDIMScheduler.from_pretrained(parts.model / "scheduler"), converter=parts.conv,
    )  # fmt: skip
    pipe.to(device)
    parts.unet.eval()
    with torch.no_grad():  # the decode alone, under the no-sync guard: values -> audio on the device
        latents = torch.randn(1, 4, parts.conv.n_bands // 8, FRAMES // 8, device=device)
        images = parts.vae.decode(latents / parts.vae.config.scaling_factor).sample  # the pipeline's decode
        values = parts.conv.values_from_tensor(images)
        with no_host_sync(device):
            try:
                audio = parts.conv.audio_from_values(values)
            except RuntimeError as exc:
                raise HostSyncError(f"decode of sampled images: {exc}") from exc
    _sync(device)
    start = time.perf_counter()
    with host_transfers() as calls:
        out = pipe("a slow rock song", num_inference_steps=steps, seed=0, guidance_scale=1.0, progress=False,
                   return_images=False)  # fmt: skip
    _sync(device)
    seconds = time.perf_counter() - start
    image_size = parts.conv.n_bands * FRAMES
    large = [c for c in calls if int(np.prod(c[1])) >= image_size]
    waveform_only = all(c[0] in ("cpu", "numpy") and c[1] == tuple(out.audios.shape) for c in large)
    return {"sample_s": seconds, "audio_shape": list(out.audios.shape), "sample_rate": out.sample_rate,
            "decoded_on": str(values.device), "decode_audio_on": str(audio.device), "large_host_transfers": large,
            "host_transfers": len(calls), "waveform_only": waveform_only, "finite": bool(np.all(np.isfinite(out.audios)))}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda, cpu or mps (default: cuda)")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per setting (default: 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default: 2)")
    parser.add_argument(
        "--sample-steps", type=int, default=10, help="denoising steps of the clip (default: 10)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    import torch

    from mdctcompand.diffusion import resolve_device

    device = resolve_device(args.device)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        parts = build(device, root)
        placement = {
            "codes (on-device encode)": str(parts.codes.device), "clean latents": str(parts.latents.device),
            "unet": str(next(parts.unet.parameters()).device), "vae": str(next(parts.vae.parameters()).device),
            "converter tables": str(next(parts.conv.torch_converter(device).buffers()).device),
        }  # fmt: skip
        plain = training_run(parts, device, weight=0.0, steps=args.steps, warmup=args.warmup)
        sync_errors = []
        for _ in range(2):  # a second try without the guard if it raised: the timings still come back
            try:
                waveform = training_run(parts, device, weight=1.0, steps=args.steps, warmup=args.warmup)
                sample = sampling_run(parts, device, steps=args.sample_steps)
                break
            except HostSyncError as exc:
                sync_errors.append(str(exc))
                GUARD["on"] = False
    total = time.perf_counter() - t0
    result = {
        "device": str(device), "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "images": f"{BATCH} x 3 x {parts.conv.n_bands} x {FRAMES} (44k profile, left-right planes)",
        "placement": placement, "train_step_s": plain["step_s"], "train_step_waveform_loss_s": waveform["step_s"],
        "waveform_loss_ratio": waveform["step_s"] / plain["step_s"], "waveform_loss_device": waveform["waveform_loss_device"],
        "losses_plain": plain["losses"], "losses_waveform": waveform["losses"], **sample, "total_s": total,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None,
    }  # fmt: skip
    result["host_sync_errors"] = sync_errors
    checks = {
        "no synchronization inside the guarded sections (CUDA)": not sync_errors,
        "losses finite": plain["finite"] and waveform["finite"],
        "waveform loss on the device": waveform["waveform_loss_device"]
        == [str(torch.empty(0, device=device).device)],
        "decode on the device": sample["decoded_on"] == sample["decode_audio_on"] == str(parts.codes.device),
        "only the waveform crosses to the host": sample["waveform_only"],
        "stereo clip at 44.1 kHz": sample["audio_shape"][:2] == [1, 2] and sample["sample_rate"] == 44100,
        "sampled audio finite": sample["finite"],
    }
    result["checks"] = checks
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        print(
            f"device: {result['device_name']} ({device}), torch {torch.__version__}, {result['threads']} threads"
        )
        print(f"images: {result['images']}")
        for name, where in placement.items():
            print(f"  {name:28s} on {where}")
        print(f"training step (LoRA, batch {BATCH}), median of {args.steps}:")
        print(f"  denoising loss only            {plain['step_s'] * 1e3:9.1f} ms")
        print(
            f"  + MR-STFT waveform loss        {waveform['step_s'] * 1e3:9.1f} ms  ({result['waveform_loss_ratio']:.2f}x)"
        )
        print(f"sampling one clip ({args.sample_steps} steps, {sample['audio_shape']} at {sample['sample_rate']} Hz): "
              f"{sample['sample_s']:.2f} s; host transfers {sample['host_transfers']}, image/audio-sized: "
              f"{sample['large_host_transfers']}")  # fmt: skip
        if result["peak_memory_gib"] is not None:
            print(f"peak GPU memory: {result['peak_memory_gib']:.2f} GiB")
        print(f"total: {total:.1f} s")
        for error in sync_errors:
            print(f"  host synchronization: {error}")
        for name, ok in checks.items():
            print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
