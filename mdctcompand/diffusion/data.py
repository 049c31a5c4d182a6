"""Training data: code images (or audio) with captions, caption dropout, time crops and a latent cache.

Rows come from a dataset built by ``mdctcompand dataset build`` (a Hugging Face
``imagefolder``), or, with :class:`CaptionedAudio`, straight from a captions list of audio
files (:func:`mdctcompand.dataset.read_captions`): random crops of audio that the training
loop converts to code images on its device
(:meth:`~mdctcompand.diffusion.MDCTImageConverter.codes_from_audio_tensor`). Images reach tensors only through the converter component's seam
(:meth:`~mdctcompand.diffusion.MDCTImageConverter.codes_from_pil` and
:meth:`~mdctcompand.diffusion.MDCTImageConverter.tensor_from_codes`).

With a VAE and ``cache_latents``, every image is encoded once before training
(:class:`LatentCache`: the mean and log-variance of its latent distribution, so a fresh
latent is still *sampled* at every step, as without the cache); crops in time then happen
on the latent grid.
"""

from __future__ import annotations

from . import _extra  # noqa: F401  (first: names what the extra needs before torch is imported)

# isort: split

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..exceptions import AudioReadError, ParameterError
from ..io import audio_info, load_audio
from ..profile import check_rate_served
from .components import MDCTImageConverter

__all__ = ["CaptionedAudio", "CaptionedImages", "LatentCache", "load_rows"]

logger = logging.getLogger(__name__)


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
            "training on a dataset directory needs datasets (not installed): pip install datasets (or the 'diffusion' extra)"
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


class _Captioned(torch.utils.data.Dataset):
    """What the captioned datasets share: tokenized captions, caption dropout, a seeded stream per worker."""

    def __init__(self, tokenizer: Any, captions: list[str], *, caption_dropout: float, seed: int) -> None:
        self.tokenizer = tokenizer
        self.captions = captions
        self.caption_dropout = float(caption_dropout)
        self.seed = seed
        self._rng: tuple[int, np.random.Generator] | None = None

    def __len__(self) -> int:
        return len(self.captions)

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

    def _input_ids(self, i: int, rng: np.random.Generator) -> torch.Tensor:
        """Item ``i``'s tokenized caption, or the empty one with probability ``caption_dropout``."""
        caption = self.captions[int(i)]
        if self.caption_dropout and rng.random() < self.caption_dropout:
            caption = ""
        return self.tokenize(caption)


class CaptionedImages(_Captioned):
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
        captions = list(rows[caption_column]) if len(rows) else []
        super().__init__(tokenizer, captions, caption_dropout=caption_dropout, seed=seed)
        self.rows = rows
        self.converter = converter
        self.caption_column = caption_column
        self.resolution = resolution
        self.crop_frames = int(crop_frames) if crop_frames is not None else resolution
        self.channels = channels
        self.latents = latents

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = self._generator()
        item = {"input_ids": self._input_ids(i, rng)}
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


class _Clip:
    """A readable clip of a captions list: path, the file's rate, and its region in source samples."""

    __slots__ = ("first", "path", "rate", "stop")

    def __init__(self, path: Path, rate: int, first: int, stop: int) -> None:
        self.path, self.rate, self.first, self.stop = path, rate, first, stop


class CaptionedAudio(_Captioned):
    """Random crops of captioned audio, converted to images later, on the training device.

    Each item is ``{"audio": (channels, n) float32, "length": int64, "input_ids": ...}``: a
    random crop in time of exactly ``n = converter.max_samples(crop_frames)`` samples
    at the converter's rate (a file at another rate is resampled by
    :func:`mdctcompand.io.load_audio`, soxr; a rate the profile cannot serve is refused),
    zero-padded when the clip is shorter; ``length`` counts the real samples (the level gain
    is computed on them, as the dataset builder does). ``channels`` is the converter's
    :attr:`~mdctcompand.diffusion.MDCTImageConverter.audio_channels`: mono downmixes any
    number of channels, left-right takes mono files as two equal channels and refuses files
    with more than two. Only the ``"train"`` clips are used; unreadable files are skipped
    with a warning (an error if none is left). Caption dropout and crops are seeded as in
    :class:`CaptionedImages`.

    Parameters
    ----------
    clips : sequence of ClipSpec
        E.g. from :func:`mdctcompand.dataset.read_captions`; ``start``/``end`` (seconds),
        when set, bound the region the crops are taken from.
    tokenizer, converter
        The model's tokenizer and :class:`~mdctcompand.diffusion.MDCTImageConverter`.
    crop_frames : int
        Crop width in frames (image columns).
    caption_dropout : float
        Probability of the empty caption.
    seed : int
        Seed of crops and caption dropout.
    max_samples : int, optional
        A seeded random subset of this many clips.

    Examples
    --------
    >>> from transformers import CLIPTokenizer
    >>> from mdctcompand.dataset import read_captions
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> clips, _ = read_captions(ws.root / "audio" / "captions.jsonl")
    >>> tok = CLIPTokenizer.from_pretrained(ws.model / "tokenizer")
    >>> data = CaptionedAudio(clips, tok, ws.converter(), crop_frames=32)
    >>> item = data[0]
    >>> len(data), tuple(item["audio"].shape), int(item["length"]), tuple(item["input_ids"].shape)
    (6, (1, 992), 992, (16,))
    """

    def __init__(
        self,
        clips: Sequence[Any],
        tokenizer: Any,
        converter: MDCTImageConverter,
        *,
        crop_frames: int,
        caption_dropout: float = 0.0,
        seed: int = 0,
        max_samples: int | None = None,
    ) -> None:
        if int(crop_frames) != crop_frames or crop_frames < 1:
            raise ParameterError(f"crop_frames={crop_frames} must be an integer >= 1")
        train = [spec for spec in clips if spec.split == "train"]
        if max_samples is not None and max_samples < len(train):
            keep = np.sort(np.random.default_rng(seed).choice(len(train), max_samples, replace=False))
            train = [train[int(k)] for k in keep]
        self.clips: list[_Clip] = []
        captions = []
        skipped = []
        for spec in train:
            try:
                info = audio_info(spec.audio)
            except (AudioReadError, OSError) as exc:
                skipped.append(f"{spec.audio} ({exc})")
                continue
            if converter.stereo != "mono" and info.channels > 2:
                raise ParameterError(
                    f"{spec.audio}: {info.channels} channels; stereo={converter.stereo!r} trains on 1 or 2 "
                    "(mono files are duplicated); downmix the file or train with --stereo mono"
                )
            try:
                check_rate_served(converter.converter.profile, info.sample_rate)
            except ParameterError as exc:
                raise ParameterError(f"{spec.audio}: {exc}") from None
            first = int(round(spec.start * info.sample_rate)) if spec.start is not None else 0
            stop = info.frames
            if spec.end is not None:
                stop = min(stop, int(round(spec.end * info.sample_rate)))
            if info.frames <= 0 or stop <= first:
                skipped.append(f"{spec.audio} (no audio in the clip's region)")
                continue
            self.clips.append(_Clip(Path(spec.audio), info.sample_rate, first, stop))
            captions.append(spec.caption)
        for line in skipped:
            logger.warning("skipping unreadable audio: %s", line)
        if not self.clips:
            shown = "; ".join(skipped[:3]) or "no clips in the train split"
            raise ParameterError(f"no readable training audio among {len(train)} train clip(s): {shown}")
        super().__init__(tokenizer, captions, caption_dropout=caption_dropout, seed=seed)
        self.converter = converter
        self.crop_frames = int(crop_frames)
        self.n_samples = converter.max_samples(self.crop_frames)
        self.skipped = skipped

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = self._generator()
        item = {"input_ids": self._input_ids(i, rng)}
        clip, target, n = self.clips[int(i)], self.converter.sample_rate, self.n_samples
        # Crops start where a source sample and a target sample coincide (every `step` target
        # samples), so that a crop resampled alone lies on the whole file's resampled grid;
        # `context` samples on either side keep soxr's edge effects out of the crop.
        step = target // math.gcd(target, clip.rate)
        context = 0 if clip.rate == target else step * -(-256 // step)
        available = (clip.stop - clip.first) * target // clip.rate  # samples at the converter's rate
        start = int(rng.integers(0, max(available - n, 0) // step + 1)) * step
        before = min(start, context)
        # exact: start - before is a multiple of step
        first = clip.first + (start - before) * clip.rate // target
        stop = min(clip.stop, first + -(-(before + n + context) * clip.rate // target))
        audio, _ = load_audio(
            clip.path, sample_rate=target, mono=self.converter.stereo == "mono", always_2d=True,
            offset=first / clip.rate, duration=(stop - first) / clip.rate,
        )  # fmt: skip
        audio = audio[:, before:]
        audio = audio[:, :n]
        if audio.shape[0] != self.converter.audio_channels:
            audio = np.repeat(audio, self.converter.audio_channels, axis=0)  # a mono file as left and right
        out = np.zeros((self.converter.audio_channels, n), np.float32)
        out[:, : audio.shape[1]] = audio
        item["audio"] = torch.from_numpy(out)
        item["length"] = torch.tensor(audio.shape[1], dtype=torch.int64)
        return item
