"""Stable-Diffusion-shaped models from configs: tiny ones for tests, the SD 1.5 U-Net for benchmarks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["build_stable_diffusion", "sd15_unet_config", "small_unet_config", "write_tiny_tokenizer"]


def sd15_unet_config(*, sample_size: int = 64, cross_attention_dim: int = 768) -> dict[str, Any]:
    """The U-Net configuration of Stable Diffusion 1.5 (860 M parameters; 64 x 64 latents for 512 x 512 images).

    Examples
    --------
    >>> sd15_unet_config()["block_out_channels"]
    [320, 640, 1280, 1280]
    """
    return {
        "sample_size": sample_size,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": [
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "DownBlock2D",
        ],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        "block_out_channels": [320, 640, 1280, 1280],
        "layers_per_block": 2,
        "cross_attention_dim": cross_attention_dim,
        "attention_head_dim": 8,
        "norm_num_groups": 32,
    }


def small_unet_config(
    *,
    sample_size: int,
    in_channels: int,
    cross_attention_dim: int,
    block_out_channels: tuple[int, ...] = (64, 128, 256),
    layers_per_block: int = 1,
    attention_head_dim: int = 8,
) -> dict[str, Any]:
    """A small conditional U-Net for training from scratch (pixel space: 1 channel; latent: 4).

    Cross-attention in every block but the first (the text conditions the coarse scales).

    Examples
    --------
    >>> cfg = small_unet_config(sample_size=64, in_channels=1, cross_attention_dim=32)
    >>> cfg["down_block_types"], cfg["in_channels"]
    (['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'], 1)
    """
    n = len(block_out_channels)
    down = ["DownBlock2D"] + ["CrossAttnDownBlock2D"] * (n - 1)
    up = ["CrossAttnUpBlock2D"] * (n - 1) + ["UpBlock2D"]
    return {
        "sample_size": sample_size,
        "in_channels": in_channels,
        "out_channels": in_channels,
        "down_block_types": down,
        "up_block_types": up,
        "block_out_channels": list(block_out_channels),
        "layers_per_block": layers_per_block,
        "cross_attention_dim": cross_attention_dim,
        "attention_head_dim": attention_head_dim,
        "norm_num_groups": min(32, min(block_out_channels)),
    }


def write_tiny_tokenizer(directory: str | Path) -> None:
    """A working CLIP BPE tokenizer with a tiny vocabulary (characters and a few words), for tests.

    Examples
    --------
    >>> import tempfile
    >>> from transformers import CLIPTokenizer
    >>> d = tempfile.mkdtemp()
    >>> write_tiny_tokenizer(d)
    >>> CLIPTokenizer.from_pretrained(d)("a slow song").input_ids[:2]  # <|startoftext|>, "a</w>"
    [0, 3]
    """
    from transformers import CLIPTokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    words = [
        "a",
        "the",
        "song",
        "guitar",
        "drums",
        "piano",
        "rock",
        "jazz",
        "slow",
        "fast",
        "with",
        "and",
        "calm",
        "loud",
    ]
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)] + list(".,!?'-")
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in chars:
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    merges = []
    for w in words:  # merge a word left to right: w[0] w[1] -> w[:2], ...
        piece = w[0]
        for i, ch in enumerate(w[1:], 1):
            last = i == len(w) - 1
            right = ch + ("</w>" if last else "")
            merges.append(f"{piece} {right}")
            piece = piece + right
            vocab.setdefault(piece, len(vocab))
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(dict.fromkeys(merges)) + "\n")
    tok = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=16)
    tok.save_pretrained(directory)


def build_stable_diffusion(
    directory: str | Path,
    *,
    image_size: int = 32,
    unet_channels: tuple[int, ...] = (32, 64),
    vae_channels: tuple[int, ...] = (32, 64),
    text_hidden: int = 32,
    seed: int = 0,
) -> Path:
    """Write a randomly initialized, SD-shaped model (``save_pretrained`` layout) to ``directory``.

    U-Net (cross-attention), AutoencoderKL (downsampling ``2 ** (len(vae_channels) - 1)``),
    CLIP text encoder and a tiny CLIP tokenizer, PNDM scheduler with SD 1.5's betas: the
    same components and files as a real Stable Diffusion checkpoint, small enough for CPU
    tests. Load it with :func:`~mdctcompand.diffusion.load_pipeline` like any SD model.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = build_stable_diffusion(tempfile.mkdtemp(), image_size=32)
    >>> sorted(p.name for p in pathlib.Path(path).iterdir())
    ['model_index.json', 'scheduler', 'text_encoder', 'tokenizer', 'unet', 'vae']
    """
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    directory = Path(directory)
    torch.manual_seed(seed)
    factor = 2 ** (len(vae_channels) - 1)
    n = len(unet_channels)
    unet = UNet2DConditionModel(
        sample_size=image_size // factor,
        in_channels=4,
        out_channels=4,
        block_out_channels=tuple(unet_channels),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D",) * (n - 1) + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (n - 1),
        cross_attention_dim=text_hidden,
        attention_head_dim=4,
        norm_num_groups=min(32, min(unet_channels)),
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=tuple(vae_channels),
        down_block_types=("DownEncoderBlock2D",) * len(vae_channels),
        up_block_types=("UpDecoderBlock2D",) * len(vae_channels),
        layers_per_block=1,
        norm_num_groups=min(32, min(vae_channels)),
        sample_size=image_size,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            hidden_size=text_hidden,
            intermediate_size=2 * text_hidden,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=1000,
            max_position_embeddings=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    scheduler = PNDMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True, set_alpha_to_one=False,
        steps_offset=1,
    )  # fmt: skip
    # diffusers/__init__ shows type checkers its no-torch dummy classes, which have no save_pretrained
    unet.save_pretrained(directory / "unet")  # type: ignore[attr-defined]
    vae.save_pretrained(directory / "vae")  # type: ignore[attr-defined]
    text_encoder.save_pretrained(directory / "text_encoder")
    scheduler.save_pretrained(directory / "scheduler")  # type: ignore[attr-defined]
    write_tiny_tokenizer(directory / "tokenizer")
    model_index = {
        "_class_name": "StableDiffusionPipeline",
        "_diffusers_version": __import__("diffusers").__version__,
        "feature_extractor": [None, None],
        "safety_checker": [None, None],
        "requires_safety_checker": False,
        "scheduler": ["diffusers", "PNDMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    (directory / "model_index.json").write_text(json.dumps(model_index, indent=1))
    return directory
