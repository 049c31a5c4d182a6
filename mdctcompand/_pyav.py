"""Reading audio that libsndfile cannot (m4a/AAC, mp4, wma, webm, ...) through PyAV (private).

PyAV (``pip install av``, or the ``av`` extra) wraps FFmpeg's libraries and
ships them in its wheels. It is optional: without it, :func:`read_blocks` raises an
:class:`~mdctcompand.exceptions.AudioReadError` that says what to install.

The reader streams: it yields float32 ``(channels, n)`` blocks at the file's own sample rate
and channel count, in the library's array convention, so it can stand in for soundfile
wherever audio is read block by block. The decoder trims what the container marks as
priming samples; a few padding samples may remain at the end (lossy codecs pad to whole
frames), as with the ``ffmpeg`` command.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .exceptions import AudioReadError

__all__ = ["EXTENSIONS", "INSTALL_HINT", "available", "read_blocks"]

#: Extensions of formats that libsndfile does not read but FFmpeg does.
EXTENSIONS = (".m4a", ".mp4", ".m4b", ".aac", ".wma", ".webm", ".mka", ".mkv", ".ac3", ".amr")
#: What to install to read them.
INSTALL_HINT = "install PyAV to read it: python -m pip install av (or the 'av' extra)"


def available() -> bool:
    """Whether PyAV can be imported.

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _name(source: str | os.PathLike | BinaryIO) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


def tags(source: str | os.PathLike | BinaryIO) -> dict[str, str]:
    """The container's text tags, names in lower case (``track`` is ``tracknumber``, as libsndfile names it)."""
    import av

    container = av.open(os.fspath(source) if isinstance(source, (str, os.PathLike)) else source)
    try:
        found = {("tracknumber" if k.lower() == "track" else k.lower()): str(v) for k, v in container.metadata.items()}
    finally:
        container.close()
        if not isinstance(source, (str, os.PathLike)):
            source.seek(0)
    return found


def read_blocks(
    source: str | os.PathLike | BinaryIO, *, block: int = 1 << 18
) -> tuple[int, int, Iterator[np.ndarray]]:
    """Open ``source`` with PyAV: ``(sample_rate, channels, blocks)``.

    Parameters
    ----------
    source : path or binary file object
        Any file FFmpeg reads; the first audio stream is decoded.
    block : int, default 262144
        Samples per yielded block (the last one may be shorter).

    Returns
    -------
    sample_rate : int
    channels : int
    blocks : iterator of np.ndarray, float32, shape (channels, n)
        Decoded audio, block by block; the file is closed when the iterator ends (or is
        garbage-collected).

    Raises
    ------
    AudioReadError
        PyAV missing (the message says what to install), no audio stream, or corrupt data.
        Missing files raise :class:`FileNotFoundError`.

    Examples
    --------
    >>> import subprocess, tempfile, pathlib, shutil, pytest
    >>> if not (available() and shutil.which("ffmpeg")):
    ...     pytest.skip("needs PyAV and ffmpeg")
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=440:duration=1",
    ...                     "-ac", "2", "-c:a", "aac", str(tmp / "tone.m4a")], check=True)
    >>> rate, channels, blocks = read_blocks(tmp / "tone.m4a")
    >>> x = np.concatenate(list(blocks), axis=1)
    >>> rate, channels, x.dtype, abs(x.shape[1] - rate) < 2048
    (44100, 2, dtype('float32'), True)
    """
    name = _name(source)
    if isinstance(source, (str, os.PathLike)) and not Path(source).exists():
        raise FileNotFoundError(f"{name}: no such file")
    try:
        import av
    except ImportError:
        raise AudioReadError(f"{name}: this format is not readable by libsndfile; {INSTALL_HINT}") from None
    try:
        container = av.open(os.fspath(source) if isinstance(source, (str, os.PathLike)) else source)
    except Exception as exc:  # av.error.FFmpegError and its subclasses, OSError
        raise AudioReadError(f"{name}: cannot read audio ({exc})") from exc
    streams = container.streams.audio
    if not streams:
        container.close()
        raise AudioReadError(f"{name}: no audio stream")
    stream = streams[0]
    rate = int(stream.rate or stream.codec_context.sample_rate)
    channels = int(stream.codec_context.layout.nb_channels)
    if rate <= 0 or channels <= 0:
        container.close()
        raise AudioReadError(f"{name}: audio stream without a sample rate or channels")
    return rate, channels, _blocks(container, stream, channels, block, name)


def _blocks(container: Any, stream: Any, channels: int, block: int, name: str) -> Iterator[np.ndarray]:
    import av

    resampler = av.AudioResampler(format="fltp")  # planar float32, same layout and rate
    pending: list[np.ndarray] = []
    held = 0

    def frames() -> Iterator[np.ndarray]:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                yield out.to_ndarray()
        for out in resampler.resample(None):
            yield out.to_ndarray()

    try:
        for data in frames():
            data = np.asarray(data, dtype=np.float32).reshape(channels, -1)
            pending.append(data)
            held += data.shape[1]
            while held >= block:
                joined = np.concatenate(pending, axis=1)
                yield np.ascontiguousarray(joined[:, :block])
                rest = joined[:, block:]
                pending, held = [rest], rest.shape[1]
        if held:
            yield np.ascontiguousarray(np.concatenate(pending, axis=1))
    except av.error.FFmpegError as exc:
        raise AudioReadError(f"{name}: corrupt audio data ({exc})") from exc
    finally:
        container.close()
