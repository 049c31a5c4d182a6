"""Offline evaluation of generated audio: is a set of clips distributed like a reference set?

``mdctcompand evaluate GENERATED --reference REFERENCE`` (or :func:`evaluate`) embeds
every clip of both folders frame by frame and reports:

- the **Fréchet distance** between Gaussians fitted to the two sets of frame embeddings
  (the headline figure; FAD when the embedding is VGGish or CLAP);
- the **kernel distance** (KID: unbiased polynomial-kernel MMD^2 over random subsets,
  mean and standard deviation), which is unbiased on small sets; it is computed on
  embeddings standardized with the reference set's per-dimension mean and deviation.

Procedure, fixed so that figures are comparable: each file is read as a mono mix,
resampled to the embedding's rate (soxr, very high quality) and normalized to
-23 LUFS integrated loudness (ITU-R BS.1770-4, :mod:`~mdctcompand.evaluation.loudness`);
the default embedding is the weight-free ``mel-mdct-v1``
(:class:`~mdctcompand.evaluation.embeddings.MelMDCTEmbedding`: 64 log-mel energies and
16 MDCT band groups' flatness and energy change per 42.7 ms frame at 24 kHz); KID uses
seed 0. Every figure must be quoted with the embedding, sample rate and loudness level,
which :class:`Evaluation` carries. Established embeddings plug in
(``embedding="clap:PATH"``, ``"fadtk:MODEL"`` or any :class:`Embedding`) where their
weights are present locally.

Examples
--------
>>> import numpy as np
>>> from mdctcompand.testing import make_signal
>>> ref = [(f"r{i}", make_signal("mixture", 48000, 24000, seed=i), 24000) for i in range(4)]
>>> gen = [(f"g{i}", make_signal("mixture", 48000, 24000, seed=10 + i), 24000) for i in range(4)]
>>> result = compare(embed_clips(gen), embed_clips(ref), kid_subsets=10)
>>> result.frechet_distance >= 0, result.embedding.startswith("mel-mdct-v1")
(True, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..exceptions import MdctCompandError, ParameterError
from .distances import GaussianStatistics, KernelDistance, frechet_distance, kernel_distance
from .embeddings import ClapEmbedding, Embedding, FadtkEmbedding, MelMDCTEmbedding, get_embedding
from .loudness import integrated_loudness, normalize_loudness

__all__ = [
    "AUDIO_EXTENSIONS",
    "ClapEmbedding",
    "EmbeddedSet",
    "Embedding",
    "Evaluation",
    "FadtkEmbedding",
    "GaussianStatistics",
    "KernelDistance",
    "MelMDCTEmbedding",
    "OnError",
    "audio_files",
    "compare",
    "embed_clips",
    "embed_files",
    "evaluate",
    "frechet_distance",
    "get_embedding",
    "integrated_loudness",
    "kernel_distance",
    "normalize_loudness",
]

#: File name endings read as audio when a folder is given.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".opus", ".aiff", ".aif")
DEFAULT_LOUDNESS_LUFS = -23.0


#: What to do with a clip that cannot be read or embedded: stop with an error naming it, or skip it.
OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class EmbeddedSet:
    """Frame embeddings of a set of clips, and how they were made.

    Examples
    --------
    >>> s = embed_clips([("a", np.random.default_rng(0).standard_normal(24000), 24000)])
    >>> s.features.shape, s.clips, s.frames
    ((45, 96), ('a',), (45,))
    """

    features: np.ndarray
    clips: tuple[str, ...]
    frames: tuple[int, ...]
    embedding: str
    sample_rate: int
    loudness_lufs: float | None
    name: str = ""
    skipped: tuple[tuple[str, str], ...] = ()  # (clip, why) of the clips left out


def audio_files(path: str | os.PathLike) -> list[Path]:
    """The audio files of a folder (recursively, sorted), or ``[path]`` for a file.

    Examples
    --------
    >>> import tempfile
    >>> audio_files(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: ...: no audio files (.wav, .flac, .ogg, .oga, .mp3, .opus, .aiff, .aif)
    """
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise ParameterError(f"{p}: no such file or folder")
    files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise ParameterError(f"{p}: no audio files ({', '.join(AUDIO_EXTENSIONS)})")
    return files


def embed_clips(
    clips: Iterable[tuple[str, Any, int]],
    *,
    embedding: str | Embedding | None = None,
    loudness_lufs: float | None = DEFAULT_LOUDNESS_LUFS,
    name: str = "",
    on_error: OnError = "raise",
) -> EmbeddedSet:
    """Embed ``(name, audio, sample_rate)`` clips: mono mix, resampling, loudness, frames.

    Parameters
    ----------
    clips : iterable of (str, array_like, int)
        Audio ``(n_samples,)`` or ``(channels, n_samples)``.
    embedding : str or Embedding, optional
        Default ``"mel-mdct-v1"``; see :func:`get_embedding`.
    loudness_lufs : float or None, default -23
        Normalize every clip to this integrated loudness (None: leave levels alone).
    name : str
        A label for reports.
    on_error : {"raise", "skip"}
        A clip that cannot be embedded (too short, unreadable) raises an error naming it, or is
        skipped and listed in :attr:`EmbeddedSet.skipped`.

    Examples
    --------
    >>> embed_clips([])
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: no clips to embed
    """
    emb = get_embedding(embedding)

    def given(audio: Any, rate: int) -> Callable[[], tuple[Any, int]]:
        return lambda: (audio, rate)

    return _embed_all(((str(n), given(a, r)) for n, a, r in clips), emb, loudness_lufs, name, on_error)


def _embed_all(
    items: Iterable[tuple[str, Callable[[], tuple[Any, int]]]],
    emb: Embedding,
    loudness_lufs: float | None,
    name: str,
    on_error: OnError,
) -> EmbeddedSet:
    """Embed ``(name, load)`` items; a clip that fails is named in the error, or skipped and listed."""
    if on_error not in ("raise", "skip"):
        raise ParameterError(f"on_error={on_error!r} must be 'raise' or 'skip'")
    features, names, frames, skipped = [], [], [], []
    for clip_name, load in items:
        try:
            audio, sample_rate = load()
            f = _embed_one(emb, clip_name, audio, sample_rate, loudness_lufs)
        except (MdctCompandError, ValueError, OSError) as exc:
            text = str(exc) if str(exc).startswith(clip_name) else f"{clip_name}: {exc}"
            if on_error == "raise":
                raise (
                    type(exc)(text) if isinstance(exc, MdctCompandError) else ParameterError(text)
                ) from exc
            skipped.append((clip_name, text))
            continue
        features.append(f)
        names.append(clip_name)
        frames.append(int(f.shape[0]))
    if not features:
        if len(skipped) == 1:  # a single file: its own error
            raise ParameterError(skipped[0][1])
        if skipped:
            raise ParameterError(f"no clips to embed: all {len(skipped)} failed (the first: {skipped[0][1]})")
        raise ParameterError("no clips to embed")
    describe = getattr(emb, "describe", None)
    return EmbeddedSet(
        np.concatenate(features), tuple(names), tuple(frames), describe() if callable(describe) else emb.name,
        int(emb.sample_rate), loudness_lufs, name, tuple(skipped),
    )  # fmt: skip


def _embed_one(
    emb: Embedding, clip_name: str, audio: Any, sample_rate: int, loudness_lufs: float | None
) -> np.ndarray:
    from ..io import resample

    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1 or x.size == 0:
        raise ParameterError(
            f"{clip_name}: audio of shape {np.shape(audio)} must be (n_samples,) or (channels, n_samples)"
        )
    if int(sample_rate) != emb.sample_rate:
        x = resample(x, sample_rate, emb.sample_rate)
    if loudness_lufs is not None:
        x = normalize_loudness(x, emb.sample_rate, target_lufs=loudness_lufs)
    f = np.asarray(emb.embed(x), dtype=np.float64)
    if f.ndim != 2 or f.shape[0] == 0:
        raise ParameterError(f"{clip_name}: the embedding returned shape {f.shape}, not (n_frames, dim)")
    return f


def embed_files(
    path: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    embedding: str | Embedding | None = None,
    loudness_lufs: float | None = DEFAULT_LOUDNESS_LUFS,
    max_seconds: float | None = None,
    on_error: OnError = "raise",
) -> EmbeddedSet:
    """Embed a folder of audio files (or a list of files); see :func:`embed_clips`.

    ``max_seconds`` reads at most that much of each file (from its start); ``on_error="skip"``
    leaves out files that cannot be read or embedded (listed in :attr:`EmbeddedSet.skipped`).

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(d / "a.wav", make_signal("mixture", 24000, 48000), 48000)
    >>> embed_files(d).features.shape  # 0.5 s at 24 kHz: 22 frames
    (22, 96)
    """
    from ..io import load_audio

    emb = get_embedding(embedding)
    if isinstance(path, (str, os.PathLike)):
        files, label = audio_files(path), str(path)
    else:
        files = [Path(p) for p in path]
        label = f"{len(files)} files"

    def load(f: Path) -> tuple[np.ndarray, int]:
        return load_audio(f, sample_rate=emb.sample_rate, mono=True, duration=max_seconds, dtype=np.float64)

    items = ((str(f), lambda f=f: load(f)) for f in files)
    return _embed_all(items, emb, loudness_lufs, label, on_error)


@dataclass(frozen=True)
class Evaluation:
    """The figures of one comparison and everything needed to quote them.

    Examples
    --------
    >>> e = Evaluation(1.5, 0.01, 0.002, {"clips": 2}, {"clips": 3}, "mel-mdct-v1", 24000, -23.0,
    ...                {"subsets": 100, "subset_size": 50, "seed": 0})
    >>> e.to_dict()["frechet_distance"]
    1.5
    """

    frechet_distance: float
    kernel_distance: float
    kernel_distance_std: float
    generated: dict[str, Any]
    reference: dict[str, Any]
    embedding: str
    sample_rate: int
    loudness_lufs: float | None
    kid: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible figures (``frechet_distance`` is the headline).

        Examples
        --------
        >>> sorted(Evaluation(1.0, 0.0, 0.0, {}, {}, "e", 24000, -23.0).to_dict())[:3]
        ['embedding', 'frechet_distance', 'generated']
        """
        return {
            "frechet_distance": self.frechet_distance,
            "kernel_distance": self.kernel_distance,
            "kernel_distance_std": self.kernel_distance_std,
            "generated": self.generated,
            "reference": self.reference,
            "embedding": self.embedding,
            "sample_rate": self.sample_rate,
            "loudness_lufs": self.loudness_lufs,
            "kid": self.kid,
        }

    def table(self) -> str:
        """A Markdown table of the figures with the embedding, rate and loudness stated.

        Examples
        --------
        >>> print(Evaluation(1.0, 0.5, 0.1, {"clips": 1, "frames": 9}, {"clips": 2, "frames": 20}, "e", 24000,
        ...                  -23.0, {"subsets": 5, "subset_size": 9, "seed": 0}).table())  # doctest: +NORMALIZE_WHITESPACE
        | figure | value |
        |---|---:|
        | Fréchet distance | 1.000 |
        | kernel distance (KID, 5 subsets of 9) | 0.5000 ± 0.1000 |
        | generated: clips, frames | 1, 9 |
        | reference: clips, frames | 2, 20 |
        <BLANKLINE>
        embedding e; 24000 Hz; clips normalized to -23 LUFS; KID seed 0
        """
        loud = (
            f"clips normalized to {self.loudness_lufs:g} LUFS"
            if self.loudness_lufs is not None
            else "levels as found"
        )
        kid = self.kid
        return "\n".join([
            "| figure | value |",
            "|---|---:|",
            f"| Fréchet distance | {self.frechet_distance:.3f} |",
            f"| kernel distance (KID, {kid.get('subsets', '?')} subsets of {kid.get('subset_size', '?')}) | "
            f"{self.kernel_distance:.4f} ± {self.kernel_distance_std:.4f} |",
            f"| generated: clips, frames | {self.generated.get('clips')}, {self.generated.get('frames')} |",
            f"| reference: clips, frames | {self.reference.get('clips')}, {self.reference.get('frames')} |",
            "",
            f"embedding {self.embedding}; {self.sample_rate} Hz; {loud}; KID seed {kid.get('seed', '?')}",
        ])  # fmt: skip


def compare(
    generated: EmbeddedSet,
    reference: EmbeddedSet,
    *,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """Fréchet and kernel distances between two embedded sets (made with the same embedding).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = embed_clips([("a", rng.standard_normal(48000), 24000)])
    >>> compare(s, s, kid_subsets=5).frechet_distance  # a set against itself
    0.0
    """
    if (generated.embedding, generated.sample_rate, generated.loudness_lufs) != (
        reference.embedding, reference.sample_rate, reference.loudness_lufs,
    ):  # fmt: skip
        raise ParameterError("the two sets were embedded differently (embedding, sample rate or loudness)")
    fd = frechet_distance(generated.features, reference.features)
    mu = reference.features.mean(axis=0)
    sd = np.maximum(reference.features.std(axis=0), 1e-6)
    kid = kernel_distance(
        (generated.features - mu) / sd, (reference.features - mu) / sd,
        subsets=kid_subsets, subset_size=kid_subset_size, seed=seed,
    )  # fmt: skip

    def info(s: EmbeddedSet) -> dict[str, Any]:
        out = {"name": s.name, "clips": len(s.clips), "frames": int(s.features.shape[0])}
        if s.skipped:
            out["skipped"] = [{"clip": c, "why": why} for c, why in s.skipped]
        return out

    return Evaluation(
        fd, kid.mean, kid.std, info(generated), info(reference), generated.embedding, generated.sample_rate,
        generated.loudness_lufs, {"subsets": kid.subsets, "subset_size": kid.subset_size, "degree": 3, "seed": seed},
    )  # fmt: skip


def evaluate(
    generated: str | os.PathLike | Iterable[str | os.PathLike],
    reference: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    embedding: str | Embedding | None = None,
    loudness_lufs: float | None = DEFAULT_LOUDNESS_LUFS,
    max_seconds: float | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """Compare a folder of generated audio with a reference folder (what ``mdctcompand evaluate`` runs).

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> gen, ref = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     sf.write(gen / f"{i}.wav", make_signal("mixture", 24000, 24000, seed=i), 24000)
    ...     sf.write(ref / f"{i}.wav", make_signal("mixture", 24000, 24000, seed=5 + i), 24000)
    >>> result = evaluate(gen, ref, kid_subsets=10)
    >>> result.generated["clips"], result.sample_rate, result.loudness_lufs
    (3, 24000, -23.0)
    """
    emb = get_embedding(embedding)
    g = embed_files(generated, embedding=emb, loudness_lufs=loudness_lufs, max_seconds=max_seconds)
    r = embed_files(reference, embedding=emb, loudness_lufs=loudness_lufs, max_seconds=max_seconds)
    return compare(g, r, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, seed=seed)
