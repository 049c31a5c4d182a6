"""A tiny, complete diffusion setup built locally: for tests, examples and CPU benchmarks.

:func:`tiny_workspace` writes a 32-band profile (8 kHz, frame 64), a captioned dataset of
32 x 32 images made from generated audio, and a randomly initialized SD-shaped model
(:func:`~mdctcompand.diffusion.build_stable_diffusion`): the real file layouts and loading
paths, offline, in a couple of seconds.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["TinyWorkspace", "tiny_workspace"]


@dataclass(frozen=True)
class TinyWorkspace:
    """Paths of a tiny setup: ``root``, ``model`` (SD layout), ``dataset`` (imagefolder), ``profile``."""

    root: Path
    model: Path
    dataset: Path
    profile: Path

    def converter(self):
        """The dataset's :class:`~mdctcompand.diffusion.MDCTImageConverter`."""
        from .components import MDCTImageConverter

        return MDCTImageConverter.from_dataset(str(self.dataset))


def build_tiny_workspace(root: str | Path) -> TinyWorkspace:
    """Write a tiny profile, dataset and model under ``root`` (see the module docstring).

    Examples
    --------
    >>> import tempfile
    >>> ws = build_tiny_workspace(tempfile.mkdtemp())
    >>> sorted(p.name for p in ws.model.iterdir())
    ['model_index.json', 'scheduler', 'text_encoder', 'tokenizer', 'unet', 'vae']
    """
    import soundfile as sf

    from .. import MDCT
    from ..dataset import BuildConfig, build_dataset, read_captions
    from ..profile import GGDProfile
    from ..stats import BandStatistics
    from ..testing import make_signal
    from .models import build_stable_diffusion

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    mdct, stats = MDCT(64), BandStatistics(32)
    for seed in range(4):
        x = make_signal("mixture", 8000 * 4, 8000, seed=seed).astype(np.float32)
        stats.update(mdct.forward(x * np.float32(0.1 / np.sqrt(np.mean(x**2)))))
    profile = root / "profile.json"
    GGDProfile.from_statistics(stats, sample_rate=8000, frame_length=64, smoothing=3, name="tiny").save(
        profile
    )
    audio_dir = root / "audio"
    audio_dir.mkdir(exist_ok=True)
    lines = []
    for i in range(6):
        kind = "mixture" if i % 2 else "tone"
        sf.write(audio_dir / f"c{i}.wav", 0.5 * make_signal(kind, 4000, 8000, seed=i), 8000)
        lines.append(
            json.dumps({"audio": f"c{i}.wav", "caption": ["a slow rock song", "a fast jazz piano"][i % 2]})
        )
    (audio_dir / "captions.jsonl").write_text("\n".join(lines) + "\n")
    specs, _ = read_captions(audio_dir / "captions.jsonl")
    config = BuildConfig(frames=32, profile=str(profile))
    build_dataset(specs, root / "dataset", config=config, workers=1, progress=False)
    build_stable_diffusion(root / "model", image_size=32)
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
