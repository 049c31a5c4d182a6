"""Training data: code images with captions, caption dropout, time crops and a latent cache.

Rows come from a dataset built by ``mdctcompand dataset build`` (a Hugging Face
``imagefolder``). Images reach tensors only through the converter component's seam
(:meth:`~mdctcompand.diffusion.MDCTImageConverter.codes_from_pil` and
:meth:`~mdctcompand.diffusion.MDCTImageConverter.tensor_from_codes`).

With a VAE and ``cache_latents``, every image is encoded once before training
(:class:`LatentCache`: the mean and log-variance of its latent distribution, so a fresh
latent is still *sampled* at every step, as without the cache); crops in time then happen
on the latent grid.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..exceptions import ParameterError
from .components import MDCTImageConverter

__all__ = ["CaptionedImages", "LatentCache", "load_rows"]


def load_rows(
    dataset_dir: str | Path, *, caption_column: str, max_samples: int | None = None, seed: int = 0
) -> Any:
    """The ``train`` split of a built dataset, optionally a seeded random subset of ``max_samples`` rows.

    Examples
    --------
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> len(load_rows(tiny_workspace().dataset, caption_column="caption", max_samples=3))
    3
    """
    try:
        from datasets import load_dataset
    except ImportError as exc:
        raise ImportError(
            "training on a dataset directory needs datasets (not installed): pip install 'mdctcompand[diffusion]'"
        ) from exc

    root = Path(dataset_dir)
    if not (root / "train").is_dir():
        raise ParameterError(f"{root}: no train/ split (build it with `mdctcompand dataset build`)")
    rows = load_dataset("imagefolder", data_dir=str(root), split="train")
    if caption_column not in rows.column_names:
        raise ParameterError(
            f"caption column {caption_column!r} not in the dataset (columns: {', '.join(rows.column_names)})"
        )
    if max_samples is not None and max_samples < len(rows):
        rows = rows.shuffle(seed=seed).select(range(max_samples))
    return rows


class LatentCache:
    """The VAE's latent distribution of every image, computed once: ``(mean, logvar)`` on the CPU.

    Examples
    --------
    >>> import torch
    >>> from diffusers import AutoencoderKL
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> vae = AutoencoderKL.from_pretrained(ws.model / "vae")
    >>> rows = load_rows(ws.dataset, caption_column="caption", max_samples=2)
    >>> cache = LatentCache.build(rows, vae, ws.converter(), device="cpu", dtype=torch.float32)
    >>> len(cache), tuple(cache.parameters[0].shape)  # mean and log-variance, 4 channels each
    (2, (8, 16, 16))
    """

    def __init__(self, parameters: list[torch.Tensor], factor: int) -> None:
        self.parameters = parameters
        self.factor = factor
        self.encodes = len(parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    @classmethod
    @torch.no_grad()
    def build(
        cls,
        rows: Any,
        vae: Any,
        converter: MDCTImageConverter,
        *,
        device: Any,
        dtype: torch.dtype,
        batch_size: int = 8,
    ) -> LatentCache:
        """Encode every row's image (in batches of images of equal width).

        Examples
        --------
        >>> LatentCache([], 8).encodes
        0
        """
        factor = 2 ** (len(vae.config.block_out_channels) - 1)
        out: list[torch.Tensor] = []
        for j in range(0, len(rows), batch_size):
            codes = [converter.codes_from_pil(image) for image in rows[j : j + batch_size]["image"]]
            for i, c in enumerate(codes, j):
                if c.shape[-2] % factor or c.shape[-1] % factor:
                    raise ParameterError(
                        f"image {i} is {c.shape[-2]} x {c.shape[-1]}, not a multiple of the VAE factor {factor}: "
                        "rebuild the dataset or turn off cache_latents"
                    )
            same_shape = len({c.shape for c in codes}) == 1
            for batch in [np.stack(codes)] if same_shape else [c[None] for c in codes]:
                images = converter.tensor_from_codes(batch, channels=3)
                params = vae.encode(images.to(device, dtype)).latent_dist.parameters
                out.extend(params.float().cpu().unbind(0))
        return cls(out, factor)

    def sample(
        self, index: int, start_column: int, width: int, generator: np.random.Generator
    ) -> torch.Tensor:
        """A latent sample ``(C, h, width / factor)`` of image ``index`` from image column ``start_column``.

        Examples
        --------
        >>> import numpy as np, torch
        >>> cache = LatentCache([torch.zeros(8, 2, 4)], 2)
        >>> tuple(cache.sample(0, 2, 4, np.random.default_rng(0)).shape)
        (4, 2, 2)
        """
        p = self.parameters[index]
        f = self.factor
        p = p[..., start_column // f : (start_column + width) // f]
        mean, logvar = torch.chunk(p, 2, dim=0)
        std = torch.exp(0.5 * torch.clamp(logvar, -30.0, 20.0))
        eps = torch.from_numpy(generator.standard_normal(mean.shape).astype(np.float32))
        return mean + std * eps


class CaptionedImages(torch.utils.data.Dataset):
    """Model inputs with tokenized captions: ``pixel_values`` (no cache) or ``latents`` (cache).

    Each item is a random crop in time of ``crop_frames`` columns (default ``resolution``;
    aligned to the VAE grid when cached) and, with probability ``caption_dropout``, the empty caption.

    Examples
    --------
    >>> from transformers import CLIPTokenizer
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> rows = load_rows(ws.dataset, caption_column="caption")
    >>> tok = CLIPTokenizer.from_pretrained(ws.model / "tokenizer")
    >>> data = CaptionedImages(rows, tok, ws.converter(), caption_column="caption", resolution=32, channels=3)
    >>> item = data[0]
    >>> tuple(item["pixel_values"].shape), tuple(item["input_ids"].shape)
    ((3, 32, 32), (16,))
    """

    def __init__(
        self,
        rows: Any,
        tokenizer: Any,
        converter: MDCTImageConverter,
        *,
        caption_column: str,
        resolution: int,
        channels: int,
        caption_dropout: float = 0.0,
        latents: LatentCache | None = None,
        seed: int = 0,
        crop_frames: int | None = None,
    ) -> None:
        self.rows = rows
        self.tokenizer = tokenizer
        self.converter = converter
        self.caption_column = caption_column
        self.resolution = resolution
        self.crop_frames = int(crop_frames) if crop_frames is not None else resolution
        self.channels = channels
        self.caption_dropout = float(caption_dropout)
        self.latents = latents
        self.seed = seed
        self.captions = list(rows[caption_column]) if len(rows) else []
        self._rng: tuple[int, np.random.Generator] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def _generator(self) -> np.random.Generator:
        # One stream per process and data-loader worker (workers get distinct torch seeds).
        pid = os.getpid()
        if self._rng is None or self._rng[0] != pid:
            info = torch.utils.data.get_worker_info()
            base = info.seed if info is not None else self.seed
            self._rng = (pid, np.random.default_rng([int(base) % 2**63, self.seed]))
        return self._rng[1]

    def tokenize(self, caption: str) -> torch.Tensor:
        """Token ids ``(model_max_length,)``, padded and truncated.

        Examples
        --------
        >>> from transformers import CLIPTokenizer
        >>> from mdctcompand.diffusion.testing import tiny_workspace
        >>> tok = CLIPTokenizer.from_pretrained(tiny_workspace().model / "tokenizer")
        >>> CaptionedImages([], tok, None, caption_column="c", resolution=8, channels=1).tokenize("").tolist()[:3]
        [0, 1, 1]
        """
        return self.tokenizer(
            caption, padding="max_length", truncation=True, max_length=self.tokenizer.model_max_length,
            return_tensors="pt",
        ).input_ids[0]  # fmt: skip

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = self._generator()
        caption = self.captions[int(i)]
        if self.caption_dropout and rng.random() < self.caption_dropout:
            caption = ""
        item = {"input_ids": self.tokenize(caption)}
        if self.latents is not None:
            f = self.latents.factor
            _, h, w = self.latents.parameters[int(i)].shape
            start = self._crop_start(h * f, w * f, rng, f)
            item["latents"] = self.latents.sample(int(i), start, self.crop_frames, rng)
            return item
        codes = self.converter.codes_from_pil(self.rows[int(i)]["image"])
        start = self._crop_start(codes.shape[-2], codes.shape[-1], rng, 1)
        codes = codes[..., start : start + self.crop_frames]  # a crop in time: still valid audio
        item["pixel_values"] = self.converter.tensor_from_codes(codes[None], channels=self.channels)[0]
        return item

    def _crop_start(self, height: int, width: int, rng: np.random.Generator, grid: int) -> int:
        if height != self.resolution:
            raise ParameterError(
                f"image height {height} != resolution {self.resolution}: resizing would mix bands; rebuild the "
                "dataset or set --resolution"
            )
        if width < self.crop_frames:
            raise ParameterError(
                f"image width {width} < crop width {self.crop_frames} (--crop-frames, or --resolution)"
            )
        positions = (width - self.crop_frames) // grid + 1
        return int(rng.integers(0, positions)) * grid
