"""Offline evaluation of generated audio: is a set of clips distributed like a reference set?

``mdctcompand evaluate GENERATED --reference REFERENCE`` (or :func:`evaluate`) embeds
every clip of both folders frame by frame and reports:

- the **Fréchet distance** between Gaussians fitted to the two sets of frame embeddings
  (the headline figure; FAD when the embedding is VGGish or CLAP);
- the **kernel distance** (KID: unbiased polynomial-kernel MMD^2 over random subsets,
  mean and standard deviation), which is unbiased on small sets; it is computed on
  embeddings centred on the reference set's mean and divided by its per-dimension deviation
  (at least 1 % of the median dimension's; ``mel-mdct-v1`` and plug-ins) or by one overall deviation (``mel-mdct-v2``, whose parts are
  weighted on purpose: :attr:`EmbeddedSet.kid_scaling`);
- 95 % **clip-bootstrap intervals** of both (whole clips resampled on both sides,
  :func:`~mdctcompand.evaluation.distances.bootstrap_distances`) and the size-bias-corrected
  ``FD_inf`` (:func:`~mdctcompand.evaluation.distances.frechet_distance_infinity`); a
  :class:`SmallSetWarning` when a set has fewer than :data:`MIN_CLIPS` clips or fewer than
  10 frames per embedding dimension.

Procedure, fixed so that figures are comparable: each file is read as a mono mix,
resampled to the embedding's rate (soxr, very high quality) and normalized to
-23 LUFS integrated loudness (ITU-R BS.1770-4, :mod:`~mdctcompand.evaluation.loudness`);
the default embedding is the weight-free ``mel-mdct-v2``
(:class:`~mdctcompand.evaluation.embeddings.MelMDCTEmbeddingV2`: 64 log-mel energies over a
floor relative to the clip, and 16 MDCT band groups' flatness, energy change and phase
coherence per 42.7 ms frame at 24 kHz; ``mel-mdct-v1`` stays available and gives the same
figures as before); KID and the bootstrap use seed 0. Every figure must be quoted with the embedding, sample rate and loudness level,
which :class:`Evaluation` carries. Established embeddings plug in
(``embedding="clap:PATH"``, ``"fadtk:MODEL"`` or any :class:`Embedding`) where their
weights are present locally, as does ``"musicnn"`` (a numpy port of the musicnn tagger
reading the weights of the ``musicnn`` wheel: :mod:`~mdctcompand.evaluation.musicnn`).

None of these figures is comparable with published FAD values (VGGish embeddings, other
sets, other sizes); compare systems only with the same embedding, reference and set sizes.

Examples
--------
>>> import numpy as np
>>> from mdctcompand.testing import make_signal
>>> ref = [(f"r{i}", make_signal("mixture", 48000, 24000, seed=i), 24000) for i in range(4)]
>>> gen = [(f"g{i}", make_signal("mixture", 48000, 24000, seed=10 + i), 24000) for i in range(4)]
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     result = compare(embed_clips(gen), embed_clips(ref), kid_subsets=10, bootstrap=50)
>>> result.frechet_distance >= 0, result.embedding.startswith("mel-mdct-v2")
(True, True)
>>> lo, hi = result.frechet_distance_interval  # 95 % clip-bootstrap interval
>>> [str(w.message)[:40] for w in caught][0]  # 4 clips are too few to resolve much
'the generated set has 4 clips (fewer tha'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..exceptions import MdctCompandError, ParameterError
from .distances import (
    BootstrapDistances,
    GaussianStatistics,
    KernelDistance,
    bootstrap_distances,
    frechet_distance,
    frechet_distance_infinity,
    kernel_distance,
)
from .embeddings import (
    ClapEmbedding,
    Embedding,
    FadtkEmbedding,
    MelMDCTEmbedding,
    MelMDCTEmbeddingV2,
    get_embedding,
)
from .loudness import integrated_loudness, normalize_loudness

__all__ = [
    "AUDIO_EXTENSIONS",
    "MIN_CLIPS",
    "BootstrapDistances",
    "ClapEmbedding",
    "EmbeddedSet",
    "Embedding",
    "Evaluation",
    "FadtkEmbedding",
    "GaussianStatistics",
    "KernelDistance",
    "MelMDCTEmbedding",
    "MelMDCTEmbeddingV2",
    "OnError",
    "SmallSetWarning",
    "audio_files",
    "bootstrap_distances",
    "compare",
    "embed_clips",
    "embed_files",
    "evaluate",
    "frechet_distance",
    "frechet_distance_infinity",
    "get_embedding",
    "integrated_loudness",
    "kernel_distance",
    "normalize_loudness",
]

#: File name endings read as audio when a folder is given.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".opus", ".aiff", ".aif")
DEFAULT_LOUDNESS_LUFS = -23.0
#: Fewer clips than this on either side gives a :class:`SmallSetWarning` (the distances then
#: move more between random draws of the clips than between most degradations).
MIN_CLIPS = 10


class SmallSetWarning(UserWarning):
    """A set too small for its figures to be resolved (see :data:`MIN_CLIPS`).

    Examples
    --------
    >>> import warnings
    >>> warnings.simplefilter("error", SmallSetWarning)  # make small sets an error
    >>> warnings.resetwarnings()
    """


#: What to do with a clip that cannot be read or embedded: stop with an error naming it, or skip it.
OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class EmbeddedSet:
    """Frame embeddings of a set of clips, and how they were made.

    Examples
    --------
    >>> s = embed_clips([("a", np.random.default_rng(0).standard_normal(24000), 24000)])
    >>> s.features.shape, s.clips, s.frames
    ((45, 112), ('a',), (45,))
    """

    features: np.ndarray
    clips: tuple[str, ...]
    frames: tuple[int, ...]
    embedding: str
    sample_rate: int
    loudness_lufs: float | None
    name: str = ""
    skipped: tuple[tuple[str, str], ...] = ()  # (clip, why) of the clips left out
    #: How the kernel distance scales the features: ``"per-dimension"`` (each by the reference's
    #: deviation) or ``"global"`` (all by one figure, keeping the embedding's own weighting).
    kid_scaling: str = "per-dimension"


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
        Default ``"mel-mdct-v2"``; see :func:`get_embedding`.
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
        int(emb.sample_rate), loudness_lufs, name, tuple(skipped), getattr(emb, "kid_scaling", "per-dimension"),
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
    (22, 112)
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
    frechet_distance_interval: tuple[float, float] | None = None
    kernel_distance_interval: tuple[float, float] | None = None
    frechet_distance_infinity: float | None = None
    bootstrap: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible figures (``frechet_distance`` is the headline).

        Examples
        --------
        >>> sorted(Evaluation(1.0, 0.0, 0.0, {}, {}, "e", 24000, -23.0).to_dict())[:4]
        ['bootstrap', 'embedding', 'frechet_distance', 'frechet_distance_infinity']
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
            "frechet_distance_interval": _listed(self.frechet_distance_interval),
            "kernel_distance_interval": _listed(self.kernel_distance_interval),
            "frechet_distance_infinity": self.frechet_distance_infinity,
            "bootstrap": {k: v for k, v in self.bootstrap.items() if not isinstance(v, np.ndarray)},
            "warnings": list(self.warnings),
        }

    def table(self) -> str:
        """A Markdown table of the figures with the embedding, rate and loudness stated.

        Examples
        --------
        >>> print(Evaluation(1.0, 0.5, 0.1, {"clips": 1, "frames": 9}, {"clips": 2, "frames": 20}, "e", 24000,
        ...                  -23.0, {"subsets": 5, "subset_size": 9, "seed": 0}, (0.8, 1.4), (0.3, 0.7), 0.9,
        ...                  {"replicates": 200, "confidence": 0.95}).table())  # doctest: +NORMALIZE_WHITESPACE
        | figure | value | 95 % interval |
        |---|---:|---:|
        | Fréchet distance | 1.000 | 0.800 - 1.400 |
        | Fréchet distance, size-bias corrected (FD_inf) | 0.900 | |
        | kernel distance (KID, 5 subsets of 9) | 0.5000 ± 0.1000 | 0.3000 - 0.7000 |
        | generated: clips, frames | 1, 9 | |
        | reference: clips, frames | 2, 20 | |
        <BLANKLINE>
        embedding e; 24000 Hz; clips normalized to -23 LUFS; KID seed 0; intervals: 200 clip-bootstrap replicates
        """
        loud = (
            f"clips normalized to {self.loudness_lufs:g} LUFS"
            if self.loudness_lufs is not None
            else "levels as found"
        )
        kid = self.kid
        confidence = self.bootstrap.get("confidence", 0.95)

        def interval(values: tuple[float, float] | None, digits: int) -> str:
            return "" if values is None else f"{values[0]:.{digits}f} - {values[1]:.{digits}f}"

        rows = [
            f"| figure | value | {100 * confidence:g} % interval |",
            "|---|---:|---:|",
            f"| Fréchet distance | {self.frechet_distance:.3f} | {interval(self.frechet_distance_interval, 3)} |",
        ]
        fd_inf = self.frechet_distance_infinity
        kid_sets = (
            f"all {kid['subset_size']} frames of each set"
            if kid.get("subsets") == 1
            else f"{kid.get('subsets', '?')} subsets of {kid.get('subset_size', '?')}"
        )
        rows.append(
            "| Fréchet distance, size-bias corrected (FD_inf) | "
            + ("n/a: needs 8 generated frames per dimension" if fd_inf is None else f"{fd_inf:.3f}")
            + " | |"
        )
        rows += [
            f"| kernel distance (KID, {kid_sets}) | "
            f"{self.kernel_distance:.4f} ± {self.kernel_distance_std:.4f} | {interval(self.kernel_distance_interval, 4)} |",
            f"| generated: clips, frames | {self.generated.get('clips')}, {self.generated.get('frames')} | |",
            f"| reference: clips, frames | {self.reference.get('clips')}, {self.reference.get('frames')} | |",
            "",
            f"embedding {self.embedding}; {self.sample_rate} Hz; {loud}; KID seed {kid.get('seed', '?')}"
            + (
                f"; intervals: {self.bootstrap['replicates']} clip-bootstrap replicates"
                if self.bootstrap
                else ""
            ),
        ]
        rows += [f"warning: {w}" for w in self.warnings]
        return "\n".join(rows)


def _listed(values: tuple[float, float] | None) -> list[float] | None:
    return None if values is None else [float(v) for v in values]


def compare(
    generated: EmbeddedSet,
    reference: EmbeddedSet,
    *,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> Evaluation:
    """Fréchet and kernel distances between two embedded sets (made with the same embedding).

    Parameters
    ----------
    generated, reference : EmbeddedSet
    kid_subsets, kid_subset_size : int
        Random subsets (and frames per subset) averaged by the kernel distance.
    bootstrap : int, default 200
        Clip-bootstrap replicates for the intervals (0: no intervals); see
        :func:`~mdctcompand.evaluation.distances.bootstrap_distances`.
    confidence : float, default 0.95
        Coverage of the intervals.
    seed : int
        Seed of the kernel distance's subsets and of the bootstrap: equal seeds resample the
        same clips of sets with equal clip counts (paired comparisons of conditions). Sets with
        the same clip names in the same order (a degraded copy of the reference) are resampled
        together.

    Warns
    -----
    SmallSetWarning
        Fewer than :data:`MIN_CLIPS` clips on a side, or fewer than 10 frames per dimension.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = embed_clips([("a", rng.standard_normal(48000), 24000)])
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):  # one clip: a SmallSetWarning
    ...     e = compare(s, s, kid_subsets=5, bootstrap=0)
    >>> e.frechet_distance  # a set against itself
    0.0
    """
    import warnings

    if (generated.embedding, generated.sample_rate, generated.loudness_lufs) != (
        reference.embedding, reference.sample_rate, reference.loudness_lufs,
    ):  # fmt: skip
        raise ParameterError("the two sets were embedded differently (embedding, sample rate or loudness)")
    if bootstrap < 0 or bootstrap == 1:
        raise ParameterError(f"bootstrap={bootstrap} must be 0 (no intervals) or >= 2")
    notes = []
    dim = generated.features.shape[1]
    for side, s in (("generated", generated), ("reference", reference)):
        if len(s.clips) < MIN_CLIPS:
            notes.append(
                f"the {side} set has {len(s.clips)} clips (fewer than {MIN_CLIPS}): its distances move more "
                "between random draws of the clips than between most degradations; see the intervals"
            )
        elif s.features.shape[0] < 10 * dim:
            notes.append(
                f"the {side} set has {s.features.shape[0]} frames for {dim} dimensions (fewer than 10 per "
                "dimension): the Fréchet distance is inflated by covariance noise; compare FD_inf"
            )
    for note in notes:
        warnings.warn(note, SmallSetWarning, stacklevel=2)
    fd = frechet_distance(generated.features, reference.features)
    mu = reference.features.mean(axis=0)
    sd = reference.features.std(axis=0)
    # a dimension that barely varies in the reference (a unit that is off there) is scaled as if it
    # varied by 1 % of the median dimension: dividing by its ~0 deviation would blow the kernel up
    sd = np.maximum(sd, max(0.01 * float(np.median(sd)), 1e-6))
    if reference.kid_scaling == "global":  # one scale for all: the embedding's weighting stays
        sd = np.full_like(sd, max(float(np.sqrt(np.mean(reference.features.var(axis=0)))), 1e-6))
    kid = kernel_distance(
        (generated.features - mu) / sd, (reference.features - mu) / sd,
        subsets=kid_subsets, subset_size=kid_subset_size, seed=seed,
    )  # fmt: skip
    boot: dict[str, Any] = {}
    fd_interval = kid_interval = None
    if bootstrap:
        b = bootstrap_distances(
            generated.features, generated.frames, reference.features, reference.frames, replicates=bootstrap,
            confidence=confidence, subset_size=kid_subset_size, standardize=(mu, sd),
            paired=generated.clips == reference.clips, seed=seed,
        )  # fmt: skip
        fd_interval, kid_interval = b.frechet_interval, b.kernel_interval
        boot = {
            "replicates": int(bootstrap), "confidence": float(confidence),
            "resampled": "clips, paired" if generated.clips == reference.clips else "clips",
            "frechet_distance": b.frechet_distance, "kernel_distance": b.kernel_distance,
        }  # fmt: skip

    def info(s: EmbeddedSet) -> dict[str, Any]:
        out = {"name": s.name, "clips": len(s.clips), "frames": int(s.features.shape[0])}
        if s.skipped:
            out["skipped"] = [{"clip": c, "why": why} for c, why in s.skipped]
        return out

    return Evaluation(
        fd, kid.mean, kid.std, info(generated), info(reference), generated.embedding, generated.sample_rate,
        generated.loudness_lufs, {"subsets": kid.subsets, "subset_size": kid.subset_size, "degree": 3, "seed": seed},
        fd_interval, kid_interval, frechet_distance_infinity(generated.features, reference.features, seed=seed),
        boot, tuple(notes),
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
    bootstrap: int = 200,
    confidence: float = 0.95,
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
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):  # 3 clips: a SmallSetWarning
    ...     result = evaluate(gen, ref, kid_subsets=10, bootstrap=20)
    >>> result.generated["clips"], result.sample_rate, result.loudness_lufs
    (3, 24000, -23.0)
    """
    emb = get_embedding(embedding)
    g = embed_files(generated, embedding=emb, loudness_lufs=loudness_lufs, max_seconds=max_seconds)
    r = embed_files(reference, embedding=emb, loudness_lufs=loudness_lufs, max_seconds=max_seconds)
    return compare(
        g, r, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, bootstrap=bootstrap,
        confidence=confidence, seed=seed,
    )  # fmt: skip
