"""PRE-MERGE SHIM -- delete this file once the codec's file API has landed (issue 16).

The command line is written against the codec API being added in parallel::

    codec.encode_file(input, output, *, overwrite, settings, progress) -> CodecInfo
    codec.decode_file(input, output, *, overwrite, subtype, decoder, format, progress)
        -> result with .duration, .source_channels, .source_sample_rate, .n_clipped

where ``input``/``output`` are paths or binary file objects and ``progress(done, total)``
is called after each block (samples at the source rate). Until that API exists this module
provides it over the current codec, so the command line and its tests run today. After
the merge, :func:`api` returns :mod:`mdctcompand.codec` itself; then remove this module and
call ``codec`` directly in ``wav2jpeg.encode_one`` / ``decode_one``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

Progress = Callable[[int, int], None] | None


def api() -> ModuleType:
    """:mod:`mdctcompand.codec` once it has the new file API, else this shim."""
    from .. import codec

    if "progress" in inspect.signature(codec.encode_file).parameters:
        return codec
    return sys.modules[__name__]


@contextlib.contextmanager
def _input_path(source: Any) -> Iterator[Path]:
    if isinstance(source, (str, os.PathLike)):
        yield Path(source)
        return
    with tempfile.NamedTemporaryFile(suffix=".input") as tmp:
        shutil.copyfileobj(source, tmp)
        tmp.flush()
        yield Path(tmp.name)


@contextlib.contextmanager
def _output_path(target: Any, suffix: str, overwrite: bool) -> Iterator[Path]:
    from ..io import atomic_output

    if isinstance(target, (str, os.PathLike)):
        with atomic_output(target, overwrite=overwrite) as tmp:
            yield tmp
        return
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / f"out{suffix}"
        yield tmp
        with open(tmp, "rb") as f:
            shutil.copyfileobj(f, target)


def encode_file(
    input: Any, output: Any, *, overwrite: bool = False, settings: Any = None, progress: Progress = None
):
    import soundfile as sf

    from .. import _pyav, codec
    from ..exceptions import AudioReadError

    with _input_path(input) as src:
        try:
            rate, channels, blocks = codec._read_blocks(src, 1 << 18)
            total = sf.info(os.fspath(src)).frames
        except AudioReadError:  # what io.py's reader will do after the merge: PyAV for the rest
            if not _pyav.available():
                raise
            rate, channels, blocks = _pyav.read_blocks(src)
            total = 0

        def counted() -> Iterator[Any]:
            done = 0
            for block in blocks:
                yield block
                done += block.shape[1]
                if progress is not None and total:
                    progress(done, total)

        with _output_path(output, ".img", overwrite) as tmp, open(tmp, "wb") as out:
            codec._encode_stream(counted(), rate, channels, settings, out)
            out.flush()
            info_source = tmp.read_bytes()
    return codec.read_info(info_source)


class _Decoded:
    def __init__(self, info: Any, n_clipped: int) -> None:
        self.info = info
        self.n_clipped = n_clipped

    def __getattr__(self, name: str) -> Any:
        return getattr(self.info, name)


def decode_file(
    input: Any, output: Any, *, overwrite: bool = False, subtype: str | None = None, decoder: str = "table",
    format: str | None = None, progress: Progress = None,
):  # fmt: skip
    import numpy as np
    import soundfile as sf

    from .. import codec

    fmt = format or Path(output).suffix.lstrip(".").upper()
    fmt = {"OGA": "OGG", "AIF": "AIFF"}.get(fmt.upper(), fmt.upper())
    clip = subtype is None or not subtype.upper().startswith(("FLOAT", "DOUBLE"))
    n_clipped = done = 0
    with _input_path(input) as src:
        header, blocks = codec._decode_blocks(src, decoder)
        with _output_path(output, f".{fmt.lower()}", overwrite) as tmp:
            with sf.SoundFile(
                os.fspath(tmp),
                "w",
                header.source_sample_rate,
                header.source_channels,
                subtype=subtype,
                format=fmt,
            ) as out:
                for block in blocks:
                    if clip:
                        n_clipped += int(np.count_nonzero(np.abs(block) > 1.0))
                        block = np.clip(block, -1.0, 1.0)
                    out.write(block.T)
                    done += block.shape[1]
                    if progress is not None:
                        progress(done, header.source_length)
        info = codec.read_info(src)
    return _Decoded(info, n_clipped)
