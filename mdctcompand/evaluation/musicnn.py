"""The musicnn music embedding (Pons & Serra 2019) in numpy, from its TensorFlow 1 checkpoints.

:class:`MusicnnEmbedding` returns musicnn's ``features['penultimate']`` (the batch-normalized
200-unit dense layer) for each 3 s patch; ``MTT_vgg``/``MSD_vgg`` give their flattened
``pool5`` (256 values). Nothing here needs TensorFlow, librosa or musicnn's code: the weights
are read from the checkpoint files that the ``musicnn`` wheel ships, which installs with::

    pip install --no-deps musicnn==0.1.0

(``--no-deps`` because musicnn 0.1.0 pins ``numpy<1.17``, which cannot be met next to numpy 2;
this module only reads its weight files and never imports musicnn or TensorFlow).

Front-end, as musicnn 0.1.0's ``extractor(..., input_length=3, input_overlap=False)``: audio
as float32 at 16 kHz; ``librosa.feature.melspectrogram(y, sr=16000, n_fft=512,
hop_length=256, n_mels=96)`` (centred frames with zero padding, periodic Hann, power 2,
Slaney mel scale and area normalization), cast to float16, ``log10(10000 x + 1)`` computed in
float16; patches of 187 frames (3 s) without overlap, the frames after the last whole patch
dropped. Where this differs from the extractor, on purpose:

- where the float16 product ``10000 x`` overflows (``x > 6.55``: loud low bins; at -23 LUFS
  86 of 88 test-corpus clips have some, 0.2 % of all cells), the extractor feeds ``inf`` to
  the network (whose outputs then land up to 2.5 away); here that value is computed in
  float32 and rounded to float16;
- the extractor's ``features['penultimate']`` repeats the first patch's values for every
  patch (jordipons/musicnn#2, #20, unfixed on PyPI); here each patch gets its own;
- audio shorter than one patch (47616 samples), where the extractor fails, is zero-padded
  at the end to one patch.

Checked against musicnn 0.1.0 on TensorFlow 2.21 (CPU, tf_keras legacy layers), numpy 2.4,
librosa 0.11 with ``benchmarks/lab/musicnn_check.py``: the checkpoint reader is bit-exact for
every variable of the four models (150, 150, 86, 86); the mel filterbank, mel spectrogram
and log-mel patches are bit-identical to librosa's and the extractor's (where finite); the
embeddings of musicnn's front-end + graph, patch by patch, differ from this module's by at
most (max abs error / largest magnitude; 4 synthetic signals of 6-10 s, 2 real music clips
of 10 s):
MTT_musicnn 4.7e-6 synthetic, 3.7e-6 real; MSD_musicnn 2.0e-6, 1.7e-6; pool5 of MTT_vgg
3.3e-6, 2.7e-6; MSD_vgg 1.9e-6, 2.5e-6 (absolute: at most 1.7e-5). ``embed`` takes about
2.2 s (musicnn) or 1.3 s (vgg) per minute of audio on two busy CPU cores.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np

from ..exceptions import FormatError, ParameterError

__all__ = ["MODELS", "MusicnnEmbedding", "crc32c", "log_mel_patches", "mel_filterbank", "melspectrogram", "read_checkpoint"]  # fmt: skip

SAMPLE_RATE, N_FFT, HOP, N_MELS, PATCH = 16000, 512, 256, 96, 187
_windows = np.lib.stride_tricks.sliding_window_view
#: model name -> (architecture, embedding dimension)
MODELS = {"MTT_musicnn": ("musicnn", 200), "MSD_musicnn": ("musicnn", 200), "MTT_vgg": ("vgg", 256), "MSD_vgg": ("vgg", 256)}  # fmt: skip
_INSTALL = (
    "install them with `pip install --no-deps musicnn==0.1.0` (--no-deps: its numpy<1.17 pin cannot be "
    "met next to numpy 2, and only its weight files are read, never its code), or give the folder of a "
    "model's weights (named after it): --embedding musicnn:FOLDER, or weights=FOLDER in Python"
)

# ---------------------------------------------------------------- TensorFlow checkpoints (TensorBundle)

_TABLE_MAGIC = 0xDB4775248B80FB57
_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 8: "<c8", 9: "<i8", 10: "?", 17: "<u2", 18: "<c16", 19: "<f2", 22: "<u4", 23: "<u8"}  # fmt: skip
_BFLOAT16, _STRING = 14, 7


@functools.lru_cache(maxsize=1)
def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0x82F63B78), table >> 1).astype(np.uint32)
    return table


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of ``data``, continuing from ``crc``; chunks run in parallel in numpy.

    Examples
    --------
    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    >>> crc32c(b"6789", crc32c(b"12345")) == crc32c(b"123456789")
    True
    """
    table = _crc_table()
    buf = np.frombuffer(data, dtype=np.uint8)
    width = max(64, -(-buf.size // 1024))
    n_chunks, head = buf.size // width, buf.size % width
    state, lookup = crc ^ 0xFFFFFFFF, table.tolist()
    for byte in buf[:head].tolist():
        state = lookup[(state ^ byte) & 0xFF] ^ (state >> 8)
    # CRC is linear: the state after a chunk = (the state advanced by `width` zero bytes) ^ the chunk's own CRC
    if n_chunks:
        body = buf[head:].reshape(n_chunks, width)
        part = np.zeros(n_chunks, dtype=np.uint32)
        columns = np.left_shift(np.uint32(1), np.arange(32, dtype=np.uint32))
        for j in range(width):
            part = table[(part ^ body[:, j]) & 0xFF] ^ (part >> 8)
            columns = table[columns & 0xFF] ^ (columns >> 8)
        shift = columns.tolist()
        for value in part.tolist():
            advanced = 0
            for bit in range(32):
                if state >> bit & 1:
                    advanced ^= shift[bit]
            state = advanced ^ value
    return state ^ 0xFFFFFFFF


def _unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise FormatError(f"bad varint at byte {pos}")
        byte = buf[pos]
        value, pos, shift = value | (byte & 0x7F) << shift, pos + 1, shift + 7
        if byte < 0x80:
            return value, pos


def _message(data: bytes) -> dict[int, list[int | bytes]]:
    """A protobuf message's fields (varint, fixed64/32 as int; length-delimited as bytes) by number."""
    fields: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        wire, size = tag & 7, {1: 8, 5: 4}.get(tag & 7, 0)
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire in (1, 5):
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        else:
            raise FormatError(f"unsupported protobuf wire type {wire}")
        if pos > len(data):
            raise FormatError("truncated protobuf message")
        fields.setdefault(tag >> 3, []).append(value)
    return fields


_T = TypeVar("_T", int, bytes)


def _get(fields: dict[int, list[int | bytes]], number: int, default: _T = 0) -> _T:  # type: ignore[assignment]
    """The last value of field ``number``, of the type of ``default``."""
    value = fields.get(number, [default])[-1]
    if not isinstance(value, type(default)):
        raise FormatError(f"protobuf field {number} has the wrong wire type")
    return value


def _block(data: bytes, handle: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The ``(key, value)`` entries of the SSTable block that ``handle`` (offset, size) points to."""
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    end = offset + size
    if end + 5 > len(data):
        raise FormatError(f"block at byte {offset} runs past the end of the file")
    if _unmask(int.from_bytes(data[end + 1 : end + 5], "little")) != crc32c(data[offset : end + 1]):
        raise FormatError(f"checksum mismatch in the block at byte {offset}")
    if data[end] != 0:
        raise FormatError(f"compressed block (type {data[end]}) at byte {offset}: not supported")
    block, key, pos = data[offset:end], b"", 0
    limit = size - 4 - 4 * int.from_bytes(block[-4:], "little")  # before the restart array
    if size < 4 or limit < 0:
        raise FormatError(f"bad restart array in the block at byte {offset}")
    while pos < limit:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        length, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + length > limit:
            raise FormatError(f"bad entry at byte {offset + pos}")
        key, pos = key[:shared] + block[pos : pos + unshared], pos + unshared
        yield key, block[pos : pos + length]
        pos += length


def _decode(fields: dict[int, list[int | bytes]], raw: bytes) -> np.ndarray:
    """A tensor from its ``BundleEntryProto`` fields (1 dtype, 2 shape, 6 masked crc32c, 7 slices) and bytes."""
    dtype, dims = _get(fields, 1), _message(_get(fields, 2, b""))
    shape = tuple(_get(_message(dim), 1) for dim in dims.get(2, []) if isinstance(dim, bytes))
    count = int(np.prod(shape, dtype=np.int64))
    if 7 in fields:
        raise FormatError("partitioned (sliced) tensor: not supported")
    if dtype == _STRING:  # [varint64 lengths][masked crc32c of the lengths][bytes]
        lengths, pos = [], 0
        for _ in range(count):
            length, pos = _varint(raw, pos)
            lengths.append(length)
        if pos + 4 + sum(lengths) != len(raw):
            raise FormatError(f"string lengths do not match its {len(raw)} bytes")
        crc = crc32c(b"".join(n.to_bytes(4 if n <= 0xFFFFFFFF else 8, "little") for n in lengths) + raw[pos:])
        value, pos = np.empty(count, dtype=object), pos + 4
        for i, length in enumerate(lengths):
            value[i], pos = raw[pos : pos + length], pos + length
    elif dtype in _DTYPES or dtype == _BFLOAT16:
        item = np.dtype(_DTYPES.get(dtype, "<u2"))
        if len(raw) != count * item.itemsize:
            raise FormatError(f"{len(raw)} bytes for shape {shape} of {item}")
        crc, value = crc32c(raw), np.frombuffer(raw, dtype=item).astype(item.newbyteorder("="))
        if dtype == _BFLOAT16:  # bfloat16 is the upper half of a float32
            value = (value.astype(np.uint32) << 16).view(np.float32)
    else:
        raise FormatError(f"TensorFlow dtype {dtype}: not supported")
    if crc != _unmask(_get(fields, 6)):
        raise FormatError("checksum mismatch in its data")
    return value.reshape(shape)


def read_checkpoint(
    prefix: str | os.PathLike[str], select: Callable[[str], bool] | None = None
) -> dict[str, np.ndarray]:
    """Read a TensorFlow (TensorBundle) checkpoint, ``prefix.index`` and ``prefix.data-*``, with numpy only.

    Parameters
    ----------
    prefix : str or path-like
        The checkpoint prefix (``"dir/ckpt-1"`` for ``dir/ckpt-1.index``). A directory is read
        as the checkpoint with an empty prefix inside it (musicnn's layout: ``dir/.index``).
    select : callable, optional
        Read only the variables whose name it returns true for (default: all).

    Returns
    -------
    dict of str to numpy.ndarray
        Variable name -> value, native byte order; strings as object arrays of bytes,
        bfloat16 as float32. Every block and tensor checksum (CRC-32C) is verified.

    Raises
    ------
    FormatError
        A missing, truncated or corrupt file, or what is not supported (compressed blocks,
        partitioned variables, big-endian bundles).

    Examples
    --------
    >>> read_checkpoint("/no/such/checkpoint")
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.FormatError: /no/such/checkpoint.index: cannot read (No such file or directory)
    """
    base = os.path.join(prefix, "") if os.path.isdir(prefix) else os.fspath(prefix)
    index = base + ".index"
    try:
        data = Path(index).read_bytes()
    except OSError as exc:
        raise FormatError(f"{index}: cannot read ({exc.strerror or exc})") from None
    try:
        if len(data) < 48 or int.from_bytes(data[-8:], "little") != _TABLE_MAGIC:
            raise FormatError("not an SSTable (bad footer magic)")
        _, pos = _varint(data, len(data) - 48)  # the metaindex handle (offset, size; unused) ...
        _, pos = _varint(data, pos)  # ... then the index handle
        entries = {k.decode(): v for _, h in _block(data, data[pos:]) for k, v in _block(data, h)}
        header = _message(entries.pop("", b""))
        if _get(header, 2):
            raise FormatError("big-endian checkpoint: not supported")
        n_shards, fields = _get(header, 1, 1), {k: _message(v) for k, v in entries.items()}
    except (ValueError, IndexError) as exc:
        raise FormatError(f"{index}: corrupt TensorFlow checkpoint index: {exc}") from None
    out: dict[str, np.ndarray] = {}
    with contextlib.ExitStack() as stack:
        files: dict[str, BinaryIO] = {}
        for name in sorted(n for n in fields if select is None or select(n)):
            shard, offset, size = (_get(fields[name], i) for i in (3, 4, 5))
            path = f"{base}.data-{shard:05d}-of-{n_shards:05d}"
            try:
                if path not in files:
                    files[path] = stack.enter_context(open(path, "rb"))
                files[path].seek(offset)
                raw = files[path].read(size)
                if len(raw) != size:
                    raise FormatError(f"truncated: needs bytes {offset} to {offset + size}")
                out[name] = _decode(fields[name], raw)
            except OSError as exc:
                raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
            except (ValueError, IndexError) as exc:
                raise FormatError(f"{path}: tensor {name!r}: {exc}") from None
    return out


# ---------------------------------------------------------------- front-end (librosa's mel spectrogram)


@functools.lru_cache(maxsize=4)
def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """``librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels)``, float32, operation for operation.

    Slaney mel scale (linear below 1 kHz, logarithmic above), triangles over 0 Hz to Nyquist,
    each scaled by ``2 / (upper - lower edge in Hz)`` (Slaney area normalization).

    Examples
    --------
    >>> fb = mel_filterbank()
    >>> fb.shape, fb.dtype
    ((96, 257), dtype('float32'))
    """
    f_sp, min_log_mel, logstep, f_max = 200.0 / 3, 1000.0 / (200.0 / 3), np.log(6.4) / 27.0, sample_rate / 2
    top = min_log_mel + np.log(f_max / 1000.0) / logstep if f_max >= 1000.0 else f_max / f_sp
    mels = np.linspace(0.0, top, n_mels + 2)
    mel_f = f_sp * mels
    log = mels >= min_log_mel
    mel_f[log] = 1000.0 * np.exp(logstep * (mels[log] - min_log_mel))
    fdiff, ramps = np.diff(mel_f), np.subtract.outer(mel_f, np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate))
    weights = np.maximum(0, np.minimum(-ramps[:-2] / fdiff[:-1, None], ramps[2:] / fdiff[1:, None]))
    weights = weights.astype(np.float32)
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    weights.flags.writeable = False  # cached
    return weights


def melspectrogram(audio: np.ndarray) -> np.ndarray:
    """musicnn's mel power spectrogram ``(n_frames, 96)``, float32, of mono audio at 16 kHz.

    Computed as ``librosa.feature.melspectrogram(y=audio.astype(float32), sr=16000, n_fft=512,
    hop_length=256, n_mels=96).T`` (librosa 0.11): frames centred by zero padding (``1 + n // 256``
    frames), periodic Hann window, power 2, :func:`mel_filterbank`.

    Examples
    --------
    >>> melspectrogram(np.zeros(16000)).shape
    (63, 96)
    """
    y = np.asarray(audio, dtype=np.float32)
    frames = _windows(np.pad(y, N_FFT // 2), N_FFT)[::HOP]
    window = 0.5 + 0.5 * np.cos(np.linspace(-np.pi, np.pi, N_FFT + 1)[:-1])  # scipy's periodic Hann
    power = np.abs(np.fft.rfft(window * frames, axis=-1).astype(np.complex64)) ** 2.0
    mel: np.ndarray = np.einsum("...ft,mf->...mt", power.T, mel_filterbank(), optimize=True).T
    return mel


def log_mel_patches(audio: np.ndarray, *, hop: int = PATCH) -> np.ndarray:
    """musicnn's input: log-mel patches ``(n_patches, 187, 96)`` (float32 holding float16 values).

    The mel power of :func:`melspectrogram` is cast to float16 and compressed with
    ``log10(10000 x + 1)`` in float16, as musicnn 0.1.0's extractor; where ``10000 x``
    overflows float16 (``x > 6.55``) the value is computed in float32 and rounded to float16
    (the extractor gives ``inf`` there). Patches of 187 frames (3 s) start every ``hop`` frames
    (default 187: no overlap, as the extractor); frames after the last whole patch are dropped;
    audio shorter than one patch (47616 samples) is zero-padded at the end to one patch.

    Examples
    --------
    >>> log_mel_patches(np.zeros(16000 * 7)).shape  # 7 s: two whole patches
    (2, 187, 96)
    >>> log_mel_patches(np.zeros(16000 * 7), hop=62).shape  # a patch every 62 frames (0.99 s)
    (5, 187, 96)
    """
    if not 1 <= int(hop) <= PATCH:
        raise ParameterError(f"hop={hop} must be 1 to {PATCH} frames")
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1 or y.size == 0 or not np.isfinite(y).all():
        raise ParameterError(f"audio of shape {y.shape} must be mono (n_samples,), non-empty and finite")
    y = np.pad(y, (0, max(0, (PATCH - 1) * HOP - y.size)))
    mel32 = melspectrogram(y)
    with np.errstate(over="ignore"):
        mel = mel32.astype(np.float16)
        logmel = np.log10(10000 * mel + 1)  # float16 arithmetic, as the extractor
    overflow = np.isinf(logmel)  # from float16 mel (or, far beyond full scale, the float32 mel)
    logmel[overflow] = np.log10(10000 * np.where(np.isinf(mel), mel32, mel)[overflow] + 1)
    if int(hop) == PATCH:
        n = logmel.shape[0] // PATCH
        return logmel[: n * PATCH].reshape(n, PATCH, N_MELS).astype(np.float32)
    starts = range(0, logmel.shape[0] - PATCH + 1, int(hop))
    return np.stack([logmel[i : i + PATCH] for i in starts]).astype(np.float32)


# ---------------------------------------------------------------- the networks (inference mode)

Weights = dict[str, np.ndarray]


def _name(base: str, i: int) -> str:
    return base if i == 0 else f"{base}_{i}"


def _bn(x: np.ndarray, w: Weights, i: int) -> np.ndarray:
    """tf.compat.v1.layers.batch_normalization at inference: moving statistics, epsilon 1e-3."""
    n = _name("batch_normalization", i)
    scale = w[f"{n}/gamma"] / np.sqrt(w[f"{n}/moving_variance"] + np.float32(1e-3))
    out = x * scale
    out += w[f"{n}/beta"] - w[f"{n}/moving_mean"] * scale
    return out


def _conv_relu(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """'valid' 2-D convolution + ReLU of ``(B, H, W, C_in)`` with a ``(kh, kw, C_in, C_out)`` kernel (im2col)."""
    kh, kw, c_in, c_out = kernel.shape
    cols = _windows(x, (kh, kw), axis=(1, 2))  # (B, H', W', C_in, kh, kw)
    b, h, wd = cols.shape[:3]
    y = cols.transpose(0, 1, 2, 4, 5, 3).reshape(b * h * wd, kh * kw * c_in) @ kernel.reshape(-1, c_out)
    y += bias
    return np.maximum(y, 0, out=y).reshape(b, h, wd, c_out)


def _pad(x: np.ndarray, time: tuple[int, int], freq: tuple[int, int] = (0, 0)) -> np.ndarray:
    return np.pad(x, ((0, 0), time, freq, (0, 0)))


def _musicnn(x: np.ndarray, w: Weights) -> np.ndarray:
    """musicnn (``build_musicnn``, 64 mid-end filters, 200 back-end units): patches -> penultimate."""
    x = _bn(x[..., None], w, 0)

    def block(inp: np.ndarray, i: int) -> np.ndarray:  # conv i + ReLU, batch norm i + 1, max over frequency
        conv = _name("conv2d", i)
        return _bn(_conv_relu(inp, w[f"{conv}/kernel"], w[f"{conv}/bias"]), w, i + 1).max(axis=2)

    timbral = [block(_pad(x, (3, 3)), i) for i in (0, 1)]  # 7 x 38 and 7 x 67 kernels
    temporal = [block(_pad(x, (k // 2 - 1, k // 2)), i) for i, k in ((2, 128), (3, 64), (4, 32))]  # 'same'
    front = np.concatenate(timbral + temporal, axis=2)  # (B, T, 561)
    mid = [block(_pad(front[..., None], (3, 3)), 5)]
    for i in (6, 7):  # residual mid-end layers
        mid.append(block(_pad(mid[-1][..., None], (3, 3)), i) + mid[-1])
    features = np.concatenate([front, *mid], axis=2)  # (B, T, 753)
    pooled = np.stack([features.max(axis=1), features.mean(axis=1)], axis=2).reshape(len(x), -1)
    dense = np.maximum(_bn(pooled, w, 9) @ w["dense/kernel"] + w["dense/bias"], 0)
    return _bn(dense, w, 10)


def _vgg(x: np.ndarray, w: Weights) -> np.ndarray:
    """musicnn's ``vgg`` (5 x 3x3 conv, 128 filters): patches -> flattened pool5 (256 values)."""
    x = _bn(x[..., None], w, 0)
    pools = [((4, 1), 2), ((2, 2), 2), ((2, 2), 2), ((2, 2), 2), ((4, 4), 4)]  # 'valid' max pooling
    for i, (size, step) in enumerate(pools, start=1):
        y = _bn(_conv_relu(_pad(x, (1, 1), (1, 1)), w[f"{i}CNN/kernel"], w[f"{i}CNN/bias"]), w, i)
        x = _windows(y, size, axis=(1, 2))[:, ::step, ::step].max(axis=(-2, -1))
    return x.reshape(len(x), -1)


@functools.lru_cache(maxsize=4)
def _weights(folder: str) -> Weights:
    """The inference variables (no optimizer slots) of a musicnn model folder, cached per folder."""
    return read_checkpoint(folder, lambda name: "Adam" not in name and not name.endswith("_power"))


def _installed_folder(model: str) -> Path:
    spec = importlib.util.find_spec("musicnn")  # without importing it (its __init__ imports TensorFlow)
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError(f"the musicnn weights are not installed: {_INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / model


class MusicnnEmbedding:
    """musicnn (Pons & Serra 2019): one embedding per 3 s patch, from its trained weights, in numpy.

    Parameters
    ----------
    model : {"MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg"}
        The trained model (MagnaTagATune or Million Song Dataset). musicnn models give their
        ``penultimate`` layer (200 values), vgg models their flattened ``pool5`` (256).
    weights : str or path-like, optional
        The model's folder (holding ``.index`` and ``.data-00000-of-00001``); by default the
        folder inside the installed ``musicnn`` package (``pip install --no-deps musicnn==0.1.0``),
        found without importing it.
    hop : int, default 187
        Mel frames (16 ms each) between patch starts: 187 is the extractor's default (no
        overlap); smaller values give more, overlapping patches (a Fréchet distance needs more
        patches than the 200 dimensions).

    Notes
    -----
    One row per whole 3 s patch, without overlap; audio shorter than one patch is zero-padded
    to one (:func:`log_mel_patches`). Weights are read once per folder and cached.

    Examples
    --------
    >>> emb = MusicnnEmbedding()  # doctest: +SKIP
    >>> emb.embed(np.random.default_rng(0).standard_normal(16000 * 10) * 0.05).shape  # doctest: +SKIP
    (3, 200)
    """

    sample_rate = SAMPLE_RATE

    def __init__(
        self, model: str = "MTT_musicnn", *, weights: str | os.PathLike[str] | None = None, hop: int = PATCH
    ) -> None:
        if model not in MODELS:
            raise ParameterError(f"model={model!r} must be one of {', '.join(MODELS)}")
        if not 1 <= int(hop) <= PATCH:
            raise ParameterError(f"hop={hop} must be 1 to {PATCH} frames")
        self.model, self.name, self.dim = model, f"musicnn:{model}", MODELS[model][1]  # dim: values per patch
        self.hop = int(hop)
        self.folder = Path(weights) if weights is not None else _installed_folder(model)
        if not (self.folder / ".index").is_file():
            raise ParameterError(f"{self.folder}: no musicnn weights (.index) there; {_INSTALL}")

    def describe(self) -> str:
        """One line stating what the embedding is.

        Examples
        --------
        >>> MusicnnEmbedding().describe()  # doctest: +SKIP
        'musicnn:MTT_musicnn: penultimate layer (200 values) per 3 s patch (187 frames, no overlap) of 96-band log-mel at 16000 Hz; musicnn 0.1.0 weights (Pons & Serra 2019)'
        """
        layer = "penultimate layer" if MODELS[self.model][0] == "musicnn" else "flattened pool5"
        overlap = "no overlap" if self.hop == PATCH else f"one every {self.hop} frames"
        return (
            f"{self.name}: {layer} ({self.dim} values) per 3 s patch ({PATCH} frames, {overlap}) of "
            f"{N_MELS}-band log-mel at {self.sample_rate} Hz; musicnn 0.1.0 weights (Pons & Serra 2019)"
        )

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """Embeddings ``(n_patches, dim)``, float32, of mono audio at 16 kHz.

        Examples
        --------
        >>> MusicnnEmbedding().embed(np.zeros(16000 * 6)).shape  # doctest: +SKIP
        (2, 200)
        """
        patches = log_mel_patches(audio, hop=self.hop)
        weights = _weights(str(self.folder.resolve()))
        forward = _musicnn if MODELS[self.model][0] == "musicnn" else _vgg
        return np.concatenate([forward(patches[i : i + 4], weights) for i in range(0, len(patches), 4)])
