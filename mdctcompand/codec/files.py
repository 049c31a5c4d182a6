"""Encoding and decoding files: paths or binary file objects (pipes), streaming, atomic outputs.

An output path is written through :func:`mdctcompand.io.atomic_output`: nothing appears
under its name until the whole file is written (decoding included), it is created with
the umask's mode, and a failure, Ctrl-C or SIGTERM leaves nothing behind. An output file
object (e.g. ``sys.stdout.buffer``) receives the bytes only after the conversion succeeded.
The input and the output are never the same file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..exceptions import ParameterError
from ..formats import format_from_path
from ..io import PCM_SUBTYPES, atomic_output, check_distinct, float_to_pcm, open_audio, write_tags
from .core import BLOCK, DEFAULT_MAX_PIXELS, CodecInfo, Progress, decode_stream, encode_stream, read_source
from .section import CodingSection
from .settings import EncodeSettings

__all__ = ["DecodedFile", "decode_file", "encode_file"]

Target = str | os.PathLike | IO[bytes]


@dataclass(frozen=True)
class DecodedFile:
    """What :func:`decode_file` wrote.

    Attributes
    ----------
    info : CodecInfo
        The encoded input.
    format, subtype : str
        soundfile format and subtype of the output (e.g. ``"WAV"``, ``"PCM_16"``).
    clipped_samples : int
        Samples outside [-1, 1] that were clipped for a PCM output (0 for float outputs).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from mdctcompand.codec import encode
    >>> _ = (tmp / "a.jpg").write_bytes(encode(np.zeros(8000, np.int16), 8000))  # 16-bit PCM in
    >>> out = decode_file(tmp / "a.jpg", tmp / "a.wav")
    >>> out.subtype, out.clipped_samples, out.duration
    ('PCM_16', 0, 1.0)
    """

    info: CodecInfo
    format: str
    subtype: str
    clipped_samples: int

    duration = property(lambda self: self.info.duration, doc="Duration in seconds.")
    source_channels = property(lambda self: self.info.source_channels, doc="Channels written.")
    source_sample_rate = property(lambda self: self.info.source_sample_rate, doc="Sample rate written (Hz).")


@contextmanager
def _output(target: Target, *, overwrite: bool) -> Iterator[Any]:
    """A writable destination for ``target``: a temporary path (renamed at the end) or a spooled file
    whose bytes are copied to the file object at the end. Nothing reaches ``target`` on failure."""
    if isinstance(target, (str, os.PathLike)):
        with atomic_output(target, overwrite=overwrite) as tmp:
            yield tmp
        return
    if not callable(getattr(target, "write", None)):
        raise ParameterError(f"output of type {type(target).__name__} must be a path or a binary file object")
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        yield spool
        spool.seek(0)
        shutil.copyfileobj(spool, target)
        flush = getattr(target, "flush", None)
        if callable(flush):
            flush()


def encode_file(
    input: str | os.PathLike | IO[bytes],
    output: Target,
    *,
    overwrite: bool = False,
    settings: EncodeSettings | None = None,
    progress: Progress | None = None,
    tags: dict[str, str] | None = None,
    source_tags: bool = True,
    **options: Any,
) -> CodecInfo:
    """Encode an audio file (path or binary file object) to an image file (path or file object), streaming.

    Parameters
    ----------
    input : path or binary file object
        Any audio soundfile reads (wav, flac, ogg, mp3, ...); a pipe is read into memory.
    output : path or binary file object
        The image; a path is written atomically.
    overwrite : bool, default False
        Replace an existing output path (never the input itself).
    settings, **options
        As for :func:`~mdctcompand.codec.encode`; the format defaults to the output path's
        extension (JPEG for file objects).
    progress : callable, optional
        ``progress(samples_done, samples_total)`` after each block (source samples).
    tags : dict of str to str, optional
        Text tags to store (``title``, ``artist``, ...), over the source's.
    source_tags : bool, default True
        Keep the source's tags (Vorbis comments, ID3, RIFF INFO); :func:`decode_file` writes
        them back.

    Returns
    -------
    CodecInfo
        Of the written file (the source's sample format is in ``info.source_subtype``).

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> info = encode_file(tmp / "song.wav", tmp / "song.webp", quality=40)
    >>> info.format, info.source_sample_rate, info.duration, info.source_subtype
    ('webp', 48000, 1.0, 'PCM_16')
    """
    check_distinct(input, output)
    if options.get("format") is None and settings is None and isinstance(output, (str, os.PathLike)):
        options["format"] = format_from_path(output)
    s = (settings or EncodeSettings()).replace(**options)
    with open_audio(input) as reader, _output(output, overwrite=overwrite) as dest:
        sink = open(dest, "wb") if isinstance(dest, Path) else dest
        try:
            header = encode_stream(
                reader.blocks(BLOCK), sample_rate=reader.sample_rate, n_channels=reader.channels, settings=s,
                out=sink, total=reader.frames if reader.frames > 0 else None, progress=progress,
                source_subtype=reader.subtype, tags={**(reader.tags if source_tags else {}), **(tags or {})},
            )  # fmt: skip
            size = sink.tell()
        finally:
            if sink is not dest:
                sink.close()
    return CodecInfo(header, size)


def _audio_format(output: Target, format: str | None) -> str:
    import soundfile as sf

    if format is None:
        if not isinstance(output, (str, os.PathLike)):
            return "WAV"
        format = Path(output).suffix.lstrip(".")
    fmt = {"OGA": "OGG", "AIF": "AIFF", "OPUS": "OGG"}.get(format.upper(), format.upper())
    if fmt not in sf.available_formats():
        raise ParameterError(
            f"audio format {format!r} is unknown; use wav, flac, ogg, ... (from the extension or format=)"
        )
    return fmt


def _subtype(fmt: str, subtype: str | None, source_subtype: str | None) -> str:
    import soundfile as sf

    if subtype is not None:
        if not sf.check_format(fmt, subtype.upper()):
            raise ParameterError(f"subtype={subtype!r} is not available for {fmt} files")
        return subtype.upper()
    # Only a sample format is kept: a codec's subtype (MPEG_LAYER_III, VORBIS, OPUS, ...) says how
    # the source was compressed, and libsndfile's check_format accepts some (MP3 in WAV) that it
    # then cannot write.
    if source_subtype in _SAMPLE_FORMATS and sf.check_format(fmt, source_subtype):
        return source_subtype
    return sf.default_subtype(fmt)


#: soundfile subtypes that are plain sample formats (kept from the source on decode).
_SAMPLE_FORMATS = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})


def decode_file(
    input: str | os.PathLike | bytes | IO[bytes],
    output: Target,
    *,
    overwrite: bool = False,
    subtype: str | None = None,
    format: str | None = None,
    decoder: str = "table",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Progress | None = None,
    tags: bool = True,
) -> DecodedFile:
    """Decode an image file to an audio file, streaming (memory: one tile); written only once decoding succeeded.

    Parameters
    ----------
    input : path, bytes or binary file object
    output : path or binary file object
    overwrite : bool, default False
        Replace an existing output path (never the input itself).
    subtype : str, optional
        soundfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ...). Default: the
        source's (recorded by the encoder) where the output format has it, else the
        format's default. PCM outputs are clipped to [-1, 1] (the count is reported).
    format : str, optional
        Audio format (``"wav"``, ``"flac"``, ``"ogg"``, ...); default: from the output
        path's extension, WAV for file objects.
    decoder : {"table", "mmse"}
        See :func:`~mdctcompand.codec.decode`.
    max_pixels : int
        Refuse files whose tiles hold more pixels in all.
    progress : callable, optional
        ``progress(samples_done, samples_total)`` after each block (source samples).
    tags : bool, default True
        Write the text tags the file carries (the source's) where the format holds them.

    Returns
    -------
    DecodedFile

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "song.wav", make_signal("mixture", 48000, 48000), 48000, subtype="PCM_24")
    >>> _ = encode_file(tmp / "song.wav", tmp / "song.jpg")
    >>> out = decode_file(tmp / "song.jpg", tmp / "back.flac")
    >>> out.subtype, sf.info(tmp / "back.flac").frames, sf.info(tmp / "back.flac").samplerate
    ('PCM_24', 48000, 48000)
    """
    import soundfile as sf

    check_distinct(input, output)
    fmt = _audio_format(output, format)
    data = read_source(input)
    header, blocks = decode_stream(data, decoder=decoder, max_pixels=max_pixels)
    try:
        coding = CodingSection.from_header(header)
        sub = _subtype(fmt, subtype, coding.source_subtype)
    except BaseException:
        blocks.close()  # type: ignore[attr-defined]
        raise
    clip = not sub.startswith(("FLOAT", "DOUBLE"))
    clipped = 0
    done = 0
    with _output(output, overwrite=overwrite) as dest:
        target = os.fspath(dest) if isinstance(dest, Path) else dest
        with sf.SoundFile(
            target, "w", header.source_sample_rate, header.source_channels, subtype=sub, format=fmt
        ) as out:
            if tags and coding.tags:
                write_tags(out, coding.tags)
            for block in blocks:
                if clip and (block.max(initial=0.0) > 1.0 or block.min(initial=0.0) < -1.0):
                    clipped += int(np.count_nonzero(block > 1.0)) + int(np.count_nonzero(block < -1.0))
                    if sub not in PCM_SUBTYPES:
                        block = np.clip(block, -1.0, 1.0, out=block if block.flags.writeable else None)
                out.write(float_to_pcm(block, sub) if sub in PCM_SUBTYPES else block.T)
                done += block.shape[1]
                if progress is not None:
                    progress(done, header.source_length)
    size = len(data) if isinstance(data, bytes) else Path(data).stat().st_size
    return DecodedFile(CodecInfo(header, size), fmt, sub, clipped)
