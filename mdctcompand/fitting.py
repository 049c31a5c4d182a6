"""Fitting per-band GGD profiles on a corpus of audio files.

Each file is read, resampled to the profile's rate, cut into clips (10 s by default, like
MusicCaps), and every clip that is not silent is level-normalized and transformed; its
MDCT coefficients update a :class:`~mdctcompand.stats.BandStatistics`. Files are
independent, so the statistics of several processes or machines merge exactly
(``mdctcompand profile fit --workers`` and ``--scheduler`` use that).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .exceptions import AudioReadError, ParameterError
from .ggd import SHAPE_BRACKET
from .profile import DEFAULT_MAX_ROLLOFF, GGDProfile, LevelSpec
from .stats import BandStatistics
from .transform import MDCT

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_MIN_SHAPE",
    "FitConfig",
    "audio_files",
    "file_statistics",
    "fit_profile",
]

#: File extensions treated as audio when a directory is scanned.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".opus")
#: Smallest GGD shape a fitted profile gets (the likelihood is maximized over shapes >= this).
#: Bands that are mostly empty (lossy sources above 16-19 kHz, resampler transition bands) fit
#: shapes near 0.1, for which the tilted compander's range exceeds 10^6 standard deviations:
#: every coefficient then falls in the zero cell and any code error decodes to a huge value.
#: 0.4 was chosen on the fitting songs (see docs/method.rst, "Full band").
DEFAULT_MIN_SHAPE = 0.4


@dataclass(frozen=True)
class FitConfig:
    """Geometry and clip handling for fitting a profile.

    Attributes
    ----------
    sample_rate : int
        Audio is resampled to this rate.
    frame_length : int
        MDCT frame length (bands = frame_length // 2).
    window : str
        MDCT window name.
    level : str
        Level normalization applied to each clip (and recorded in the profile).
    clip_seconds : float
        Clip length; the tail shorter than half a clip is dropped.
    silence_db : float
        Clips whose RMS is below this many dBFS are skipped.

    Examples
    --------
    >>> FitConfig(sample_rate=16000, frame_length=512).clip_seconds
    10.0
    """

    sample_rate: int = 24000
    frame_length: int = 1024
    window: str = "sine"
    level: str = "rms:-20"
    clip_seconds: float = 10.0
    silence_db: float = -60.0

    def __post_init__(self) -> None:
        from ._validation import check_int

        check_int(self.sample_rate, "sample_rate", minimum=1)
        LevelSpec.parse(self.level)
        MDCT(self.frame_length, window=self.window)
        if not self.clip_seconds > 0:
            raise ParameterError(f"clip_seconds={self.clip_seconds} must be > 0")


def audio_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand files and directories (searched recursively) into a sorted list of audio files.

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> [p.name for p in audio_files([tmp])]
    ['song.wav']
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)
        elif p.is_file():
            out.append(p)
        else:
            raise AudioReadError(f"{p}: no such file or directory")
    return sorted(set(out))


def clips(audio: np.ndarray, n: int) -> Iterator[np.ndarray]:
    """Consecutive clips of ``n`` samples; a last partial clip is kept if at least half as long."""
    for start in range(0, audio.shape[-1], n):
        clip = audio[..., start : start + n]
        if clip.shape[-1] >= max(1, n // 2):
            yield clip


def file_statistics(path: str | os.PathLike, config: FitConfig) -> BandStatistics:
    """Statistics of one file (all of its non-silent clips, channels averaged to mono).

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> stats = file_statistics(tmp / "song.wav", FitConfig(clip_seconds=1.0))
    >>> stats.n_bands, stats.n_clips
    (512, 1)
    """
    from .io import load_audio

    audio, _ = load_audio(path, sample_rate=config.sample_rate, mono=True)
    mdct = MDCT(config.frame_length, window=config.window)
    level = LevelSpec.parse(config.level)
    stats = BandStatistics(mdct.n_bins)
    threshold = 10 ** (config.silence_db / 20)
    for clip in clips(audio, int(round(config.clip_seconds * config.sample_rate))):
        if np.sqrt(np.mean(clip.astype(np.float64) ** 2)) < threshold:
            continue
        stats.update(mdct.forward(clip * np.float32(level.gain(clip))))
    return stats


def batch_statistics(job: tuple[list[Path], FitConfig]) -> tuple[BandStatistics | None, list[str]]:
    """Merged statistics of a batch of files (runs on a worker) and the files that failed."""
    paths, config = job
    total: BandStatistics | None = None
    failures = []
    for path in paths:
        try:
            stats = file_statistics(path, config)
        except Exception as exc:
            failures.append(f"{path}: {exc}")
            continue
        total = stats if total is None else total.merge(stats)
    return total, failures


def fit_profile(
    paths: Iterable[str | os.PathLike],
    *,
    config: FitConfig | None = None,
    method: str = "moments",
    smoothing: int = 9,
    name: str = "custom",
    description: str = "",
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
    statistics: BandStatistics | None = None,
    min_shape: float = DEFAULT_MIN_SHAPE,
    max_rolloff: float | None = DEFAULT_MAX_ROLLOFF,
) -> tuple[GGDProfile, BandStatistics]:
    """Fit a per-band GGD profile on audio files.

    Parameters
    ----------
    paths : iterable of paths
        Audio files or directories (searched recursively).
    config : FitConfig, optional
        Geometry, level and clip handling (defaults: 24 kHz, frame 1024, sine, RMS -20 dBFS, 10 s).
    method : {"moments", "mle"}
        Per-band estimator.
    smoothing : int, default 9
        Width in bands of the across-band smoothing (0 for none).
    name, description : str
        Stored in the profile.
    workers : int, default 1
        Processes reading and transforming files in parallel (``-1``: all cores).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:port``) or ``"local"``: batches of files are
        reduced to statistics on the workers, and the batches merged here.
    progress : bool
        Show a progress bar.
    statistics : BandStatistics, optional
        Statistics to start from (e.g. from other machines); merged with the new ones.
    min_shape : float, default 0.4
        Smallest shape a band gets: the fit maximizes the likelihood over shapes
        ``>= min_shape`` (see :data:`DEFAULT_MIN_SHAPE`); 0.05 is the unconstrained fit.
    max_rolloff : float or None, default 48
        Steepest fall of the band standard deviations towards high frequencies, dB per octave
        (:meth:`GGDProfile.with_max_rolloff`): bands above the corpus's bandwidth (an encoder's
        low-pass) are lifted to that slope. ``None``: the bands as fitted.

    Returns
    -------
    profile : GGDProfile
    statistics : BandStatistics
        The merged statistics (save them to merge more data later).

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> profile, stats = fit_profile([tmp], config=FitConfig(clip_seconds=0.5), smoothing=0)
    >>> profile.n_bands, stats.n_clips
    (512, 2)
    """
    from tqdm.auto import tqdm

    from ._validation import check_int, check_workers
    from .parallel import imap_unordered

    config = config or FitConfig()
    # every check that can fail runs before any file is read
    if not SHAPE_BRACKET[0] <= min_shape < SHAPE_BRACKET[1]:
        raise ParameterError(f"min_shape={min_shape} must be in [{SHAPE_BRACKET[0]}, {SHAPE_BRACKET[1]})")
    check_int(smoothing, "smoothing", minimum=0)
    if method not in ("moments", "mle"):
        raise ParameterError(f"method={method!r} must be 'moments' or 'mle'")
    if statistics is not None and statistics.n_bands != config.frame_length // 2:
        raise ParameterError(
            f"the statistics to merge hold {statistics.n_bands} bands; frame_length={config.frame_length} "
            f"gives {config.frame_length // 2}"
        )
    files = audio_files(paths)
    if not files and statistics is None:
        raise AudioReadError("no audio files found")
    n_workers = check_workers(workers)
    size = max(1, min(32, len(files) // max(1, 4 * n_workers)))
    batches = [files[i : i + size] for i in range(0, len(files), size)]
    total = BandStatistics(config.frame_length // 2) if statistics is None else statistics.copy()
    failures: list[str] = []
    with tqdm(total=len(files), desc="fitting", unit="file", disable=not progress) as bar:
        for index, result in imap_unordered(
            batch_statistics, ((b, config) for b in batches), workers=n_workers, scheduler=scheduler
        ):
            if isinstance(result, Exception):
                failures.append(f"batch {index}: {result}")
            else:
                stats, failed = result
                failures.extend(failed)
                if stats is not None:
                    total = total.merge(stats)
            bar.update(len(batches[index]))
    if total.n_clips == 0:
        detail = ("; " + "; ".join(failures[:3])) if failures else ""
        raise AudioReadError(
            f"no usable clips (readable, not silent, at least half of clip_seconds={config.clip_seconds:g} long) "
            f"in {len(files)} file(s) ({', '.join(map(str, files[:3]))}{', ...' if len(files) > 3 else ''}){detail}"
        )
    profile = GGDProfile.from_statistics(
        total,
        sample_rate=config.sample_rate,
        frame_length=config.frame_length,
        window=config.window,
        level=config.level,
        method=method,
        smoothing=smoothing,
        name=name,
        description=description,
        bracket=(min_shape, SHAPE_BRACKET[1]),
        max_rolloff=max_rolloff,
    )
    return profile, total
