"""A tiny, complete diffusion setup built locally: for tests, examples and CPU benchmarks.

:func:`tiny_workspace` writes a 32-band profile (8 kHz, frame 64), a captioned dataset of
32 x 32 images made from generated audio, and a randomly initialized SD-shaped model
(:func:`~mdctcompand.diffusion.build_stable_diffusion`): the real file layouts and loading
paths, offline, in a couple of seconds. :func:`tiny_stereo_workspace` does the same at full
band: the shipped ``"44k"`` profile (44.1 kHz, 1024 bands), ``--stereo left-right``
(RGB planes left, right, mid), images 1024 bands x 64 frames, a model whose VAE
downsamples 8x (as SD's).

:func:`stereo_signal` and :func:`tiny_model` need neither soundfile nor datasets (the
device check ``python -m lab.diffusion_device``, in ``benchmarks/lab``, uses them).
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import MDCT
from ..dataset import BuildConfig, build_dataset, read_captions
from ..profile import GGDProfile, load_profile
from ..stats import BandStatistics
from ..testing import make_signal
from .components import MDCTImageConverter
from .models import build_stable_diffusion

__all__ = [
    "TinyWorkspace",
    "build_tiny_workspace",
    "stereo_signal",
    "tiny_model",
    "tiny_stereo_workspace",
    "tiny_workspace",
]

#: Block widths of the tiny full-band model: a VAE that downsamples 8x (SD's factor), a 2-level U-Net.
FULLBAND_VAE_CHANNELS = (4, 4, 4, 4)
FULLBAND_UNET_CHANNELS = (8, 16)


def stereo_signal(n: int, sample_rate: int, *, seed: int = 0) -> np.ndarray:
    """``(2, n)`` float32 test music: two different mixtures, partly correlated, with energy up to ``sample_rate / 2``.

    Examples
    --------
    >>> x = stereo_signal(44100, 44100)
    >>> x.shape, x.dtype, bool(abs(np.corrcoef(x)[0, 1]) < 0.99)
    ((2, 44100), dtype('float32'), True)
    """

    common = make_signal("mixture", n, sample_rate, seed=seed)
    left = 0.6 * common + 0.3 * make_signal("chirp", n, sample_rate, seed=seed + 1)
    right = 0.6 * common + 0.3 * make_signal("transients", n, sample_rate, seed=seed + 2)
    hiss = 0.02 * np.random.default_rng(seed).standard_normal((2, n))  # full band, above 12 kHz too
    return (0.5 * np.stack([left, right]) + hiss).astype(np.float32)


def tiny_model(root: str | Path, *, fullband: bool = False) -> Path:
    """A randomly initialized tiny SD-shaped model under ``root`` (see the module docstring).

    Examples
    --------
    >>> import tempfile
    >>> import diffusers
    >>> path = tiny_model(tempfile.mkdtemp(), fullband=True)
    >>> len(diffusers.AutoencoderKL.load_config(path / "vae")["block_out_channels"])  # factor 8
    4
    """

    if fullband:
        return build_stable_diffusion(
            root, image_size=64, unet_channels=FULLBAND_UNET_CHANNELS, vae_channels=FULLBAND_VAE_CHANNELS
        )
    return build_stable_diffusion(root, image_size=32)


@dataclass(frozen=True)
class TinyWorkspace:
    """Paths of a tiny setup: ``root``, ``model`` (SD layout), ``dataset`` (imagefolder), ``profile``."""

    root: Path
    model: Path
    dataset: Path
    profile: Path

    def converter(self):
        """The dataset's :class:`~mdctcompand.diffusion.MDCTImageConverter`."""
        return MDCTImageConverter.from_dataset(str(self.dataset))


def build_tiny_workspace(root: str | Path, *, stereo: str = "mono") -> TinyWorkspace:
    """Write a tiny profile, dataset and model under ``root`` (see the module docstring).

    ``stereo="left-right"``: the full-band 44.1 kHz stereo workspace (the ``"44k"`` profile).

    Examples
    --------
    >>> import tempfile
    >>> ws = build_tiny_workspace(tempfile.mkdtemp())
    >>> sorted(p.name for p in ws.model.iterdir())
    ['model_index.json', 'scheduler', 'text_encoder', 'tokenizer', 'unet', 'vae']
    """
    import soundfile as sf

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    audio_dir = root / "audio"
    audio_dir.mkdir(exist_ok=True)
    captions = ["a slow rock song", "a fast jazz piano"]
    lines = []
    profile = root / "profile.json"
    if stereo == "mono":
        mdct, stats = MDCT(64), BandStatistics(32)
        for seed in range(4):
            x = make_signal("mixture", 8000 * 4, 8000, seed=seed).astype(np.float32)
            stats.update(mdct.forward(x * np.float32(0.1 / np.sqrt(np.mean(x**2)))))
        GGDProfile.from_statistics(stats, sample_rate=8000, frame_length=64, smoothing=3, name="tiny").save(
            profile
        )
        for i in range(6):
            kind = "mixture" if i % 2 else "tone"
            sf.write(audio_dir / f"c{i}.wav", 0.5 * make_signal(kind, 4000, 8000, seed=i), 8000)
            lines.append(json.dumps({"audio": f"c{i}.wav", "caption": captions[i % 2]}))
        config = BuildConfig(frames=32, profile=str(profile))
    else:
        load_profile("44k").save(profile)
        for i in range(4):
            sf.write(audio_dir / f"c{i}.wav", stereo_signal(60000, 44100, seed=i).T, 44100)
            lines.append(json.dumps({"audio": f"c{i}.wav", "caption": captions[i % 2]}))
        config = BuildConfig(frames=64, profile="44k", stereo="left-right")
    (audio_dir / "captions.jsonl").write_text("\n".join(lines) + "\n")
    specs, _ = read_captions(audio_dir / "captions.jsonl")
    build_dataset(specs, root / "dataset", config=config, workers=1, progress=False)
    tiny_model(root / "model", fullband=stereo != "mono")
    return TinyWorkspace(root, root / "model", root / "dataset", profile)


@functools.lru_cache(maxsize=1)
def tiny_workspace() -> TinyWorkspace:
    """A tiny workspace in a temporary directory, built once per process.

    Examples
    --------
    >>> ws = tiny_workspace()
    >>> ws.converter().frames, ws.converter().n_bands
    (32, 32)
    """
    return build_tiny_workspace(tempfile.mkdtemp(prefix="mdctcompand-tiny-"))


@functools.lru_cache(maxsize=1)
def tiny_stereo_workspace() -> TinyWorkspace:
    """A tiny full-band stereo workspace (44.1 kHz, left-right planes), built once per process.

    Examples
    --------
    >>> conv = tiny_stereo_workspace().converter()
    >>> conv.sample_rate, conv.n_bands, conv.frames, conv.stereo
    (44100, 1024, 64, 'left-right')
    """
    return build_tiny_workspace(tempfile.mkdtemp(prefix="mdctcompand-tiny-stereo-"), stereo="left-right")
