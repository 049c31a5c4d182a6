"""Audio files: reading (any format soundfile reads), resampling (soxr), atomic writing.

Arrays follow the library convention ``(..., n_samples)``: a multichannel file is read
as ``(channels, n_samples)``, a mono one as ``(n_samples,)`` unless ``always_2d``.

Outputs are written atomically (:func:`atomic_output`): to a hidden temporary file beside
the target, created with the mode the umask gives new files, renamed onto the target only
when writing succeeded, and removed on any failure, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._validation import all_finite, as_float_audio, check_int, check_positive_float
from .exceptions import AudioReadError, ParameterError

__all__ = [
    "AudioInfo",
    "AudioReader",
    "ResampleStream",
    "audio_info",
    "atomic_output",
    "check_distinct",
    "load_audio",
    "open_audio",
    "float_to_pcm",
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


#: Integer subtypes :func:`float_to_pcm` converts: bits of the value, the integer type soundfile
#: writes it from, and that type's left shift (soundfile takes 24-bit PCM as int32 << 8).
_PCM_INTEGERS = {"PCM_16": (16, np.int16, 0), "PCM_24": (24, np.int32, 8)}
#: The subtypes :func:`float_to_pcm` converts (the writers here convert these themselves).
PCM_SUBTYPES = frozenset(_PCM_INTEGERS)
#: Values :func:`float_to_pcm` converts at a time (a block that stays in L1/L2 cache).
_PCM_BLOCK_VALUES = 1 << 16


def float_to_pcm(audio: Any, subtype: str) -> np.ndarray:
    """Float audio ``(channels, n)`` as the integers soundfile writes for ``subtype``, frame-major ``(n, channels)``.

    Each value is ``x * 2**(bits - 1)`` rounded to the nearest integer (ties to even) and
    clipped to the integer range: ffmpeg's conversion, the inverse of :func:`pcm_to_float`
    wherever that is exact (libsndfile's own float writer rounds 16-bit WAV down, a bias of
    half a step). 24-bit values come as int32 shifted left by 8, the form soundfile writes.

    Parameters
    ----------
    audio : array_like of float, shape (channels, n)
    subtype : {"PCM_16", "PCM_24"}

    Returns
    -------
    np.ndarray of int16 (``PCM_16``) or int32 (``PCM_24``), shape (n, channels)

    Examples
    --------
    >>> float_to_pcm(np.array([[-1.0, 0.25, 0.99999, 1.0]]), "PCM_16").ravel().tolist()
    [-32768, 8192, 32767, 32767]
    >>> float_to_pcm(np.array([[-1.0, 0.5]]), "PCM_24").ravel().tolist()  # 24-bit values << 8
    [-2147483648, 1073741824]
    """
    if subtype not in PCM_SUBTYPES:
        raise ParameterError(f"subtype={subtype!r} must be one of {sorted(_PCM_INTEGERS)}")
    bits, dtype, shift = _PCM_INTEGERS[subtype]
    x = np.asarray(audio)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.floating):
        raise ParameterError(f"audio must be a float array (channels, n); got {x.dtype} {x.shape}")
    real = x.dtype.type
    top = 2.0 ** (bits - 1)
    out = np.empty(x.shape[::-1], dtype=dtype)
    # In blocks of samples that stay in cache through the passes below.
    step = max(1, _PCM_BLOCK_VALUES // max(1, x.shape[0]))
    buffer = np.empty((x.shape[0], min(step, x.shape[1])), dtype=x.dtype)
    for a in range(0, x.shape[1], step):
        b = min(a + step, x.shape[1])
        y = np.multiply(x[:, a:b], real(top), out=buffer[:, : b - a])  # exact: a power of two
        if not all_finite(y):
            raise ParameterError("audio contains NaN or infinite values")
        np.rint(y, out=y)
        np.clip(y, real(-top), real(top - 1), out=y)  # typed bounds: 5x faster than Python floats
        if shift:
            y *= 1 << shift  # still exact: at most 32 significant bits of a power-of-two multiple
        for c in range(x.shape[0]):  # channel by channel: numpy's 2-D transposing copy is 8x slower
            out[a:b, c] = y[c]
    return out


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


class ResampleStream:
    """Streaming soxr resampler for ``(channels, n)`` float32 blocks (the identity when the rates agree).

    Examples
    --------
    >>> r = ResampleStream(48000, 24000, 2, quality="HQ")
    >>> parts = [r.push(np.zeros((2, 4800), np.float32)) for _ in range(3)] + [r.finish()]
    >>> sum(p.shape[1] for p in parts)
    7200
    """

    def __init__(self, in_rate: float, out_rate: float, channels: int, *, quality: str = "HQ") -> None:
        self.in_rate = check_positive_float(in_rate, "in_rate")
        self.out_rate = check_positive_float(out_rate, "out_rate")
        self.channels = check_int(channels, "channels", minimum=1)
        self._stream = None
        if self.in_rate != self.out_rate:
            import soxr

            self._stream = soxr.ResampleStream(
                self.in_rate, self.out_rate, self.channels, dtype="float32", quality=quality
            )

    def push(self, block: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Resample the next ``(channels, n)`` block; ``last=True`` flushes the filter.

        Examples
        --------
        >>> ResampleStream(8000, 8000, 1).push(np.ones((1, 3), np.float32)).shape
        (1, 3)
        """
        if self._stream is None:
            return block
        out = self._stream.resample_chunk(np.ascontiguousarray(block.T, dtype=np.float32), last=last)
        return np.ascontiguousarray(np.asarray(out, dtype=np.float32).T).reshape(self.channels, -1)

    def finish(self) -> np.ndarray:
        """The samples still in the filter.

        Examples
        --------
        >>> ResampleStream(8000, 16000, 1).finish().shape
        (1, 0)
        """
        return self.push(np.zeros((self.channels, 0), np.float32), last=True)


#: Text tags that travel from a source file through the codec to the decoded file: the ones
#: libsndfile reads and writes in WAV, FLAC, Ogg, AIFF and MP3 (the encoding software is not
#: one of them: the decoded file has another).
TAG_NAMES = ("title", "artist", "album", "date", "tracknumber", "genre", "comment", "copyright", "license")


def write_tags(sf_file: Any, tags: dict[str, str]) -> list[str]:
    """Set ``tags`` on a soundfile opened for writing; returns the names its format could not take."""
    refused = []
    for name, value in tags.items():
        try:
            setattr(sf_file, name, value)
        except (RuntimeError, AttributeError):
            refused.append(name)
    return refused


class AudioReader:
    """An open audio file read in blocks (see :func:`open_audio`).

    Attributes
    ----------
    sample_rate, channels, frames : int
        ``frames`` is the length in samples as the file declares it (-1 if unknown).
    format, subtype : str
        soundfile's names, e.g. ``"WAV"`` and ``"PCM_16"``; ``subtype`` is ``None`` for a
        source read through PyAV (a lossy format has no PCM sample format).
    name : str
        The path, or ``"<stream>"``.
    tags : dict of str to str
        The file's text tags by :data:`TAG_NAMES` name (Vorbis comments, ID3, RIFF INFO; empty
        values left out).

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.flac"
    >>> sf.write(path, np.zeros((5000, 2)), 8000, subtype="PCM_24")
    >>> with open_audio(path) as reader:
    ...     reader.subtype, [b.shape for b in reader.blocks(4096)]
    ('PCM_24', [(2, 4096), (2, 904)])
    """

    def __init__(self, sf_file: Any, name: str) -> None:
        self._file = sf_file
        self.name = name
        self.sample_rate = int(sf_file.samplerate)
        self.channels = int(sf_file.channels)
        self.frames = int(sf_file.frames) if sf_file.frames is not None else -1
        self.format = str(sf_file.format)
        self.subtype: str | None = str(sf_file.subtype)
        try:
            found = sf_file.copy_metadata()
        except (UnicodeDecodeError, RuntimeError):  # tags in a foreign encoding are left out, not fatal
            found = {}
        self.tags = {k: v for k, v in found.items() if k in TAG_NAMES and v}

    def blocks(self, block_size: int) -> Iterator[np.ndarray]:
        """Yield ``(channels, n)`` float32 blocks of at most ``block_size`` samples; NaN/inf is an error.

        Examples
        --------
        >>> import tempfile, pathlib, soundfile as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
        >>> sf.write(path, np.zeros(10), 8000)
        >>> with open_audio(path) as reader:
        ...     [b.shape for b in reader.blocks(4)]
        [(1, 4), (1, 4), (1, 2)]
        """
        while True:
            try:
                data = self._file.read(block_size, dtype="float32", always_2d=True)
            except Exception as exc:
                raise AudioReadError(f"{self.name}: corrupt audio data ({exc})") from exc
            if data.shape[0] == 0:
                return
            if not np.isfinite(data).all():
                raise AudioReadError(f"{self.name}: the file contains NaN or infinite samples")
            yield np.ascontiguousarray(data.T)

    def close(self) -> None:
        """Close the file.

        Examples
        --------
        >>> import tempfile, pathlib, soundfile as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
        >>> sf.write(path, np.zeros(10), 8000)
        >>> open_audio(path).close()
        """
        self._file.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _PyAVReader(AudioReader):
    """:class:`AudioReader` over PyAV (formats libsndfile does not read); the length is unknown."""

    def __init__(self, source: Any, name: str) -> None:
        from . import _pyav

        self._source = source
        self.name = name
        self.sample_rate, self.channels, _ = _pyav.read_blocks(source, block=1)  # probe only
        self.frames = -1
        self.format = "FFMPEG"
        self.subtype = None  # a lossy source has no PCM sample format: outputs take their format's default
        try:
            found = _pyav.tags(source)
        except Exception:  # PyAV raises its own types on odd metadata: tags are never fatal
            found = {}
        self.tags = {k: v for k, v in found.items() if k in TAG_NAMES and v}
        self._file = None

    def blocks(self, block_size: int) -> Iterator[np.ndarray]:
        from . import _pyav

        if not isinstance(self._source, (str, os.PathLike)):
            self._source.seek(0)
        _, _, blocks = _pyav.read_blocks(self._source, block=block_size)
        for data in blocks:
            if not np.isfinite(data).all():
                raise AudioReadError(f"{self.name}: the file contains NaN or infinite samples")
            yield data

    def close(self) -> None:
        return None


def open_audio(source: PathLike | IO[bytes]) -> AudioReader:
    """Open an audio file (a path, or a binary file object such as ``sys.stdin.buffer``) for block reading.

    A file object that cannot seek (a pipe) is read into memory first.

    Raises
    ------
    FileNotFoundError, AudioReadError

    Examples
    --------
    >>> import io, soundfile as sf
    >>> buf = io.BytesIO()
    >>> sf.write(buf, np.zeros(100), 16000, format="WAV")
    >>> _ = buf.seek(0)
    >>> reader = open_audio(buf)
    >>> reader.sample_rate, reader.frames, reader.name
    (16000, 100, '<stream>')
    """
    import soundfile as sf

    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if not Path(source).exists():
            raise FileNotFoundError(f"{name}: no such file")
        target: Any = name
    else:
        name = "<stream>"
        target = source
        seekable = getattr(source, "seekable", None)
        if not (callable(seekable) and seekable()):
            target = io.BytesIO(source.read())
    try:
        return AudioReader(sf.SoundFile(target), name)
    except Exception as exc:
        error = AudioReadError(f"{name}: cannot read audio ({exc})")
    # Formats libsndfile does not read (m4a/AAC, wma, webm, ...): FFmpeg through PyAV when installed.
    from . import _pyav

    if not isinstance(target, (str, os.PathLike)):
        target.seek(0)
    if _pyav.available():
        try:
            return _PyAVReader(target, name)
        except AudioReadError:
            raise error from None
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() in _pyav.EXTENSIONS:
        raise AudioReadError(f"{name}: libsndfile cannot read this format; {_pyav.INSTALL_HINT}")
    raise error


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


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While active (main thread, default SIGTERM handling only), SIGTERM raises SystemExit(143).

    The exception unwinds ``with`` blocks, so temporary files are removed; the process still
    ends with the status a SIGTERM gives (128 + 15).
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
    ):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _write_failure(path: Path, exc: RuntimeError) -> Exception:
    """What a writer's bare error (libsndfile's "System error.") was: a full disk, a refused
    write, or else the error itself."""
    import errno
    import shutil

    if "System error" not in str(exc):
        return exc
    free = shutil.disk_usage(path.parent).free
    if free < 1 << 20:
        return OSError(errno.ENOSPC, f"no space left on the device of {path.parent} ({free} bytes free)")
    if not os.access(path.parent, os.W_OK):
        return OSError(errno.EACCES, f"no permission to write in {path.parent}")
    return OSError(errno.EIO, f"{path}: the audio could not be written ({exc})")


@contextlib.contextmanager
def atomic_output(path: PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; publish it as ``path`` only if the block succeeds.

    The temporary file is created with the permissions the umask gives new files (0644
    under umask 022). A failure (exception, Ctrl-C, SIGTERM) removes it, so ``path`` is
    never left partially written. Without ``overwrite`` the file is published with a hard
    link, which fails if ``path`` exists by then: a file that someone else created while this
    one was written is never replaced (:class:`FileExistsError`, checked up front as well).
    The temporary name (hidden, ``.NAME.PID.XXXXXXXX.part``, the name shortened where needed so
    that any legal output name fits) records the writer's process: temporary files of writers
    that were killed (SIGKILL) are removed by this process's first write into their directory.

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
    prefix = _part_prefix(path.name)
    _remove_stale_parts(path.parent)
    with _sigterm_raises():
        # Hidden and ending in ".part": never mistaken for a finished file (e.g. by imagefolder
        # loaders) if the process is killed before it is published. Writers name their format explicitly.
        fd, tmp_name = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".part", dir=path.parent)
        tmp = Path(tmp_name)
        try:
            os.fchmod(fd, 0o666 & ~_umask())
            os.close(fd)
            try:
                yield tmp
            except RuntimeError as exc:  # libsndfile says "System error." for a full disk, a lost permission
                raise _write_failure(path, exc) from exc
            if overwrite:
                os.replace(tmp, path)
            else:
                _publish_exclusive(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise


#: Bytes of the output name that a temporary name keeps (names are at most 255 bytes; the
#: temporary name adds a dot, the process id, 8 random characters and ".part").
_PART_NAME_BYTES = 200


def _part_prefix(name: str) -> str:
    """``.NAME.`` of the temporary files of output ``name`` (the name cut to fit, at a character boundary)."""
    kept = name.encode("utf-8", "surrogateescape")[:_PART_NAME_BYTES].decode("utf-8", "ignore")
    return f".{kept}."


#: Temporary files of :func:`atomic_output` (``.NAME.PID.XXXXXXXX.part``, ``XXXXXXXX`` from mkstemp).
_PART_PATTERN = re.compile(r"\..+\.(\d+)\.[a-z0-9_]{8}\.part")
#: Directories this process has already cleaned (once each: a batch of thousands of outputs
#: into one directory scans it once, not once per file).
_CLEANED: set[str] = set()


def _remove_stale_parts(directory: Path) -> None:
    """Remove the temporary files of writers that no longer run (killed: SIGKILL, out of memory),
    once per directory and process."""
    key = os.path.abspath(directory)
    if key in _CLEANED:
        return
    _CLEANED.add(key)
    try:
        names = [e.name for e in os.scandir(directory) if e.name.endswith(".part") and e.name.startswith(".")]
    except OSError:
        return
    for name in names:
        match = _PART_PATTERN.fullmatch(name)
        if match is None or int(match.group(1)) == os.getpid() or _process_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            (directory / name).unlink()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or not ours to judge): keep its file
    return True


def _publish_exclusive(tmp: Path, path: Path) -> None:
    """Make ``tmp`` appear as ``path`` unless ``path`` exists (hard link, then unlink)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(
            f"{path} was created by someone else while this file was written; not replaced (use --force, "
            "or overwrite=True, to replace it)"
        ) from None
    except OSError:  # no hard links on this file system: the check up front is all there is
        if path.exists():
            raise FileExistsError(f"{path} exists (use --force, or overwrite=True, to replace it)") from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def check_distinct(source: Any, target: Any) -> None:
    """Raise :class:`~mdctcompand.ParameterError` if two paths name the same file (links included).

    File objects and missing targets never clash.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.wav").write_bytes(b"x") and (d / "b").symlink_to(d / "a.wav")
    >>> check_distinct(d / "a.wav", d / "b")
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: .../b is the input file .../a.wav; choose another output
    """
    if not isinstance(source, (str, os.PathLike)) or not isinstance(target, (str, os.PathLike)):
        return
    a, b = Path(source), Path(target)
    same = a.resolve() == b.resolve()
    if not same and a.exists() and b.exists():
        with contextlib.suppress(OSError):
            same = os.path.samefile(a, b)
    if same:
        raise ParameterError(f"{b} is the input file {a}; choose another output")


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
    rows = audio.reshape(-1, audio.shape[-1])
    sub = (subtype or sf.default_subtype(fmt) or "").upper()
    data = float_to_pcm(rows, sub) if sub in PCM_SUBTYPES else rows.T
    with atomic_output(path, overwrite=overwrite) as tmp:
        sf.write(
            os.fspath(tmp), data if audio.ndim == 2 else data[:, 0], sample_rate, subtype=subtype, format=fmt
        )
