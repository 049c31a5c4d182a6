"""Audio files: reading (any format soundfile reads), resampling (soxr), atomic writing.

Arrays follow the library convention ``(..., n_samples)``: a multichannel file is read
as ``(channels, n_samples)``, a mono one as ``(n_samples,)`` unless ``always_2d``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import as_float_audio, check_int, check_positive_float
from .exceptions import AudioReadError, ParameterError

__all__ = [
    "AudioInfo",
    "audio_info",
    "atomic_output",
    "load_audio",
    "pcm_to_float",
    "resample",
    "save_audio",
]

PathLike = str | os.PathLike


def pcm_to_float(x: Any) -> np.ndarray:
    """Integer PCM to float32 in [-1, 1); float input is returned unchanged (float16 -> float32).

    Signed ``intN`` is divided by ``2**(N-1)``; unsigned ``uintN`` (8-bit WAV) is centred on
    ``2**(N-1)`` first.

    Examples
    --------
    >>> pcm_to_float(np.array([-32768, 0, 16384], dtype=np.int16))
    array([-1. ,  0. ,  0.5], dtype=float32)
    >>> pcm_to_float(np.array([0, 128], dtype=np.uint8))
    array([-1.,  0.], dtype=float32)
    """
    return as_float_audio(x, min_length=0, finite=False)


class AudioInfo:
    """What :func:`audio_info` reports of a file: sample rate, channels, frames, format.

    Examples
    --------
    >>> AudioInfo(44100, 2, 88200, "WAV", "PCM_16").duration
    2.0
    """

    def __init__(self, sample_rate: int, channels: int, frames: int, format: str, subtype: str) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames = frames
        self.format = format
        self.subtype = subtype

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate

    def __repr__(self) -> str:
        return (
            f"AudioInfo(sample_rate={self.sample_rate}, channels={self.channels}, frames={self.frames}, "
            f"format={self.format!r}, subtype={self.subtype!r})"
        )


def _open_error(path: PathLike, exc: Exception) -> AudioReadError:
    if not Path(path).exists():
        return AudioReadError(f"{os.fspath(path)}: no such file")
    return AudioReadError(f"{os.fspath(path)}: cannot read audio ({exc})")


def audio_info(path: PathLike) -> AudioInfo:
    """Sample rate, channel count, length and format of an audio file, without decoding it.

    Raises
    ------
    AudioReadError
        The file is missing or not audio that libsndfile can read.

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> audio_info(tmp / "song.wav")
    AudioInfo(sample_rate=48000, channels=1, frames=48000, format='WAV', subtype='PCM_16')
    """
    import soundfile as sf

    try:
        info = sf.info(os.fspath(path))
    except Exception as exc:
        raise _open_error(path, exc) from exc
    return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames), info.format, info.subtype)


def resample(x: Any, orig_sr: float, target_sr: float, *, quality: str = "VHQ") -> np.ndarray:
    """Resample along the last axis with soxr.

    Parameters
    ----------
    x : array_like, shape (..., n_samples)
        Float audio (integer PCM is converted).
    orig_sr, target_sr : float
        Sample rates in Hz.
    quality : {"VHQ", "HQ", "MQ", "LQ", "QQ"}, default "VHQ"
        soxr quality recipe.

    Returns
    -------
    y : np.ndarray, shape (..., round(n_samples * target_sr / orig_sr))
        Same dtype as the (float) input.

    Examples
    --------
    >>> y = resample(np.zeros(44100, dtype=np.float32), 44100, 24000)
    >>> y.shape, y.dtype
    ((24000,), dtype('float32'))
    """
    import soxr

    x = as_float_audio(x, min_length=0)
    orig_sr = check_positive_float(orig_sr, "orig_sr")
    target_sr = check_positive_float(target_sr, "target_sr")
    if orig_sr == target_sr or x.shape[-1] == 0:
        return x.copy()
    lead = x.shape[:-1]
    rows = x.reshape(-1, x.shape[-1])
    # soxr takes (frames, channels) and returns the same layout.
    y = soxr.resample(np.ascontiguousarray(rows.T), orig_sr, target_sr, quality=quality)
    y = np.asarray(y, dtype=x.dtype).T
    return np.ascontiguousarray(y).reshape(lead + (y.shape[-1],))


def load_audio(
    path: PathLike,
    *,
    sample_rate: float | None = None,
    mono: bool = False,
    offset: float = 0.0,
    duration: float | None = None,
    dtype: Any = np.float32,
    always_2d: bool = False,
) -> tuple[np.ndarray, int]:
    """Read an audio file (wav, flac, ogg, mp3, ... whatever libsndfile reads).

    Parameters
    ----------
    path : str or os.PathLike
        Audio file.
    sample_rate : float, optional
        Resample to this rate (soxr, very high quality). Default: the file's rate.
    mono : bool, default False
        Average the channels.
    offset, duration : float
        Start and length in seconds (before resampling); ``duration=None`` reads to the end.
    dtype : float32 or float64
        Output dtype.
    always_2d : bool, default False
        Return ``(channels, n_samples)`` even for mono.

    Returns
    -------
    audio : np.ndarray, shape (channels, n_samples) or (n_samples,)
    sample_rate : int

    Raises
    ------
    AudioReadError
        Missing, unreadable or corrupt file, or no samples in the requested range.

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> x, sr = load_audio(tmp / "song.wav", sample_rate=24000, offset=0.5)
    >>> x.shape, sr, x.dtype
    ((12000,), 24000, dtype('float32'))
    """
    import soundfile as sf

    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ParameterError(f"dtype={dtype} must be float32 or float64")
    try:
        with sf.SoundFile(os.fspath(path)) as f:
            sr = int(f.samplerate)
            start = int(round(offset * sr))
            frames = -1 if duration is None else int(round(duration * sr))
            if f.frames > 0 and start >= f.frames:
                raise AudioReadError(
                    f"{os.fspath(path)}: offset {offset:g} s is past the end of the file ({f.frames / sr:.2f} s)"
                )
            if start:
                f.seek(start)
            data = f.read(frames, dtype=dtype.name, always_2d=True)
    except AudioReadError:
        raise
    except Exception as exc:
        raise _open_error(path, exc) from exc
    if data.shape[0] == 0:
        raise AudioReadError(f"{os.fspath(path)}: no audio samples (empty file or offset past the end)")
    if not np.isfinite(data).all():
        raise AudioReadError(f"{os.fspath(path)}: the file contains NaN or infinite samples")
    audio = np.ascontiguousarray(data.T)
    if mono:
        audio = audio.mean(axis=0, keepdims=True).astype(dtype)
    if sample_rate is not None and float(sample_rate) != sr:
        audio = resample(audio, sr, sample_rate)
        sr = int(round(float(sample_rate)))
    if not always_2d and audio.shape[0] == 1:
        audio = audio[0]
    return audio, sr


@contextlib.contextmanager
def atomic_output(path: PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A failure (exception, interrupt) removes the temporary file, so ``path`` is never left
    partially written. Raises :class:`FileExistsError` if ``path`` exists and not ``overwrite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists (use --force, or overwrite=True, to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and ending in ".part": never mistaken for a finished file (e.g. by imagefolder
    # loaders) if the process is killed before the rename. Writers name their format explicitly.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def save_audio(
    path: PathLike,
    audio: Any,
    sample_rate: int,
    *,
    subtype: str | None = None,
    format: str | None = None,
    overwrite: bool = True,
) -> None:
    """Write ``audio (channels, n)`` or ``(n,)`` atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or os.PathLike
        Output file; the format follows the extension unless ``format`` is given.
    audio : array_like
        Float audio in [-1, 1] (clipped by the PCM subtypes) or integer PCM.
    sample_rate : int
        Sample rate in Hz.
    subtype : str, optional
        soundfile subtype, e.g. ``"PCM_16"`` or ``"FLOAT"``; default: the format's default.
    format : str, optional
        soundfile format name, e.g. ``"WAV"``, ``"FLAC"``, ``"OGG"``.
    overwrite : bool, default True
        Replace an existing file.

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tone.flac"
    >>> save_audio(path, np.zeros((2, 1000)), 8000, subtype="PCM_16")
    >>> sf.info(path).channels, sf.info(path).frames
    (2, 1000)
    """
    import soundfile as sf

    audio = as_float_audio(audio)
    if audio.ndim > 2:
        raise ParameterError(f"audio of shape {audio.shape} must be (n_samples,) or (channels, n_samples)")
    sample_rate = check_int(sample_rate, "sample_rate", minimum=1)
    fmt = format or (Path(path).suffix.lstrip(".").upper() or None)
    if fmt is None:
        raise ParameterError(f"{os.fspath(path)}: no extension; pass format=")
    if fmt == "OGA":
        fmt = "OGG"
    data = audio.T if audio.ndim == 2 else audio
    with atomic_output(path, overwrite=overwrite) as tmp:
        sf.write(os.fspath(tmp), data, sample_rate, subtype=subtype, format=fmt)
