"""Encoding and decoding in memory, and what an encoded file holds (:class:`CodecInfo`).

The pipeline: source blocks -> channel layout -> resampling to the profile's rate ->
:class:`~mdctcompand.codec.streaming.TileEncoder` (streaming MDCT, converter codes) ->
image tiles -> container with the :class:`~mdctcompand.header.AudioImageHeader`; and back
through :class:`~mdctcompand.codec.streaming.TileDecoder`. Every check that can fail is
done before any work (settings, channel count, the header the settings would give, the
container's tile limit where the length is known), and the final header is validated
before anything is written.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._threads import one_blas_thread
from .._validation import as_float_audio, check_int
from ..band_gains import BandGainMode, BandGains
from ..channels import ChannelLayout
from ..containers import MAX_STREAM_BYTES, ImageFile, assemble, decode_tile, open_image_file
from ..converter import AudioImageConverter
from ..exceptions import FormatError, ParameterError
from ..header import HEADER_FORMAT, HEADER_VERSION, SAMPLE_RATE_RANGE, AudioImageHeader, header_from_profile
from ..io import TAG_NAMES, ResampleStream
from ..profile import GGDProfile
from .ratecontrol import STEP_RESOLUTION, TileCoder, encode_to_size, pick_quality
from .section import MAX_TAG_CHARS, CodingSection
from .settings import CODEC_ROUNDING, EncodeSettings
from .streaming import TileDecoder, TileEncoder
from .tools import side_info_text

__all__ = [
    "CODEC_FORMAT",
    "CODEC_VERSION",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SAMPLES",
    "CodecInfo",
    "DecodedAudio",
    "Progress",
    "decode",
    "encode",
    "read_info",
]

CODEC_FORMAT = HEADER_FORMAT
#: Version of the metadata written now; files of this or an earlier version decode.
CODEC_VERSION = HEADER_VERSION
#: Default budget of pixels in all tiles of a file that is decoded (tiles are decoded one at a
#: time): about 3.4 h of 44.1 kHz stereo at full band (2 x 1024 rows), 6 h at 24 kHz.
DEFAULT_MAX_PIXELS = 1 << 30
#: Default budget of output values (samples x channels) of :func:`decode` (in memory: 256 MiB).
DEFAULT_MAX_SAMPLES = 1 << 26
#: Largest sample magnitude the encoder takes (float audio is expected in [-1, 1]).
MAX_AMPLITUDE = 1e4
#: Largest decoded amplitude accepted: the encoder's input limit with room for coding error.
#: Beyond it (or not finite) the file is corrupt or hostile (gains and levels at the edges of
#: their ranges can multiply to 1e28) and decoding stops with a FormatError.
MAX_DECODED_PEAK = 4 * MAX_AMPLITUDE
#: Source samples per block when encoding in memory or from a file.
BLOCK = 1 << 18
#: Samples (at the transform's rate) resampled at a time when decoding.
_SUB_BLOCK = 1 << 16
_NOISE_GROUPS = 16
_DECODERS = ("table", "mmse")

Progress = Callable[[int, int], None]
Source = str | os.PathLike | bytes | IO[bytes]


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded audio: ``audio`` is ``(n_samples,)`` for mono sources, ``(channels, n_samples)`` otherwise.

    Examples
    --------
    >>> out = decode(encode(np.zeros((2, 4410)), 44100))
    >>> out.audio.shape, out.sample_rate, out.duration, out.header.source_channels
    ((2, 4410), 44100, 0.1, 2)
    """

    audio: np.ndarray
    sample_rate: int
    header: AudioImageHeader | None = None

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.audio.shape[-1] / self.sample_rate


@dataclass(frozen=True)
class CodecInfo:
    """What an encoded file holds: its :class:`~mdctcompand.header.AudioImageHeader` and its size.

    The properties are views of the header and of its codec section (:attr:`coding`).

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> info = read_info(encode(make_signal("mixture", 24000), 24000))
    >>> info.format, info.duration, info.source_channels, info.header.stored_bands
    ('jpeg', 1.0, 1, 280)
    """

    header: AudioImageHeader
    size_bytes: int

    @functools.cached_property
    def coding(self) -> CodingSection:
        """The codec's section of the header (validated)."""
        return CodingSection.from_header(self.header)

    format = property(lambda self: self.coding.image_format, doc="Image format of the file.")
    version = property(lambda self: self.header.version, doc="Header version the file was written with.")
    duration = property(lambda self: self.header.duration, doc="Duration of the source in seconds.")
    source_sample_rate = property(lambda self: self.header.source_sample_rate, doc="Source rate (Hz).")
    source_channels = property(lambda self: self.header.source_channels, doc="Source channel count.")
    source_length = property(lambda self: self.header.source_length, doc="Source length in samples.")
    source_subtype = property(lambda self: self.coding.source_subtype, doc="Source sample format, if known.")
    sample_rate = property(lambda self: self.header.sample_rate, doc="Rate of the transform (Hz).")
    stereo = property(lambda self: self.header.stereo, doc="Channel layout mode.")
    n_tiles = property(lambda self: self.header.n_tiles, doc="Number of image tiles.")
    quality = property(lambda self: self.coding.quality, doc="Lossy image quality (None: lossless or a JPEG step).")
    jpeg_step = property(lambda self: self.coding.jpeg_step, doc="JPEG step chosen by rate control, if any.")
    tilt = property(lambda self: self.header.tilt, doc="Compander tilt.")
    bandwidth = property(lambda self: self.coding.bandwidth, doc="Requested bandwidth in Hz, if any.")
    tags = property(lambda self: dict(self.coding.tags or {}), doc="The source's text tags (title, artist, ...).")
    profile_name = property(lambda self: self.header.profile_name, doc="Name of the GGD profile.")
    profile_id = property(lambda self: self.header.profile_id, doc="Id of the GGD profile.")

    @property
    def metadata(self) -> dict[str, Any]:
        """The header as a JSON-compatible dictionary."""
        return self.header.to_dict()

    @property
    def bitrate_kbps(self) -> float:
        """Average bit rate of the whole file in kbit/s."""
        return self.size_bytes * 8 / max(self.duration, 1e-9) / 1000

    def summary(self) -> str:
        """Multi-line human-readable description.

        Examples
        --------
        >>> from mdctcompand.testing import make_signal
        >>> print(read_info(encode(make_signal("mixture", 24000), 24000)).summary().splitlines()[0])
        format:       JPEG (step 19.25), 1 tile(s), codec version 4
        """
        h, c = self.header, self.coding
        q = "lossless" if c.quality is None else f"quality {c.quality}"
        if c.jpeg_step is not None:
            q = f"step {c.jpeg_step:g}"
        bw = "full band" if c.bandwidth is None else f"bandwidth {c.bandwidth:g} Hz"
        fmt = (c.image_format or "image").upper()
        sub = f", {c.source_subtype}" if c.source_subtype else ""
        return "\n".join(
            [
                f"format:       {fmt} ({q}), {h.n_tiles} tile(s), codec version {h.version}",
                f"audio:        {h.duration:.2f} s, {h.source_channels} channel(s) at {h.source_sample_rate} Hz "
                f"({h.source_length} samples{sub})",
                f"transform:    {h.sample_rate} Hz, {h.stereo}, tilt c={h.tilt:g}, {bw}, {h.stored_bands} bands"
                + (f", band gains ({h.band_gain_edges().size - 1} groups per tile)" if h.band_gains else ""),
                f"profile:      {h.profile_name} (id {h.profile_id})",
                f"size:         {self.size_bytes} bytes, {self.bitrate_kbps:.1f} kbit/s",
            ]
            + ([f"tags:         {', '.join(f'{k}={v}' for k, v in c.tags.items())}"] if c.tags else [])
        )


@functools.lru_cache(maxsize=8)
def codec_converter(
    profile: GGDProfile, tilt: float, rounding: str, bands: int, band_gains: BandGains | BandGainMode = "none"
) -> AudioImageConverter:
    """The converter a file of these settings is made with (cached: its tables are reused).

    ``band_gains="clip"``: every tile gets band-group gains (lossless files, which store the
    8-bit transform as it is); lossy files even out their levels with the coding tools' cell
    gains instead.

    Examples
    --------
    >>> from mdctcompand import default_profile
    >>> codec_converter(default_profile(), 8.0, "round", 256).n_bands
    256
    """
    return AudioImageConverter(
        profile, tilt=tilt, rounding=rounding, bands=bands, level=profile.level, band_gains=band_gains
    )


# ---------------------------------------------------------------------- encoding
def _check_up_front(settings: EncodeSettings, sample_rate: int, n_channels: int, total: int | None) -> None:
    """Everything that can fail before the first sample is transformed."""
    lo, hi = SAMPLE_RATE_RANGE
    if not lo <= sample_rate <= hi:
        raise ParameterError(f"sample_rate={sample_rate} must be in {lo}..{hi} Hz")
    if settings.profile is None:
        raise ParameterError("settings.profile must be resolved for the rate first (EncodeSettings.for_rate)")
    layout = ChannelLayout(settings.stereo)
    stored = layout.stored_channels(n_channels)
    profile = settings.resolved_profile
    if 10 ** (profile.level.max_gain_db / 20) > 1e6:
        raise ParameterError(
            f"the profile's level gain cap ({profile.level.max_gain_db:g} dB) exceeds 120 dB"
        )
    # The header these settings give must be valid (sizes, bands); its values are stand-ins.
    header_from_profile(
        profile, length=1, gains=[[1.0] * stored], tile_frames=settings.tile_frames, tilt=float(settings.tilt),
        rounding=CODEC_ROUNDING, stereo=layout.header_mode(n_channels), source_channels=n_channels,
        source_sample_rate=sample_rate, source_length=max(1, round(sample_rate / profile.sample_rate)),
        stored_bands=settings.stored_bands,
    )  # fmt: skip
    if total is not None and total > 0 and not settings.multi_tile:
        frames = -(-round(total * profile.sample_rate / sample_rate) // (profile.frame_length // 2)) + 1
        if frames > settings.tile_frames:
            seconds = (settings.tile_frames - 1) * (profile.frame_length // 2) / profile.sample_rate
            raise ParameterError(
                f"{settings.format.upper()} holds one tile ({settings.tile_frames} frames, {seconds:.0f} s); "
                f"this audio ({total / sample_rate:.1f} s) needs {frames} frames: use jpeg, png or webp"
            )


#: Bytes of a JPEG XL recompression per JPEG byte (measured on codec files; corrected per file).
_JXL_RATIO = 0.95


def check_tags(tags: Any) -> dict[str, str]:
    """Text tags to store: names from :data:`~mdctcompand.io.TAG_NAMES`, values cut to
    :data:`~mdctcompand.codec.section.MAX_TAG_CHARS` characters, empty ones left out.

    Examples
    --------
    >>> check_tags({"title": "A song", "artist": ""})
    {'title': 'A song'}
    >>> check_tags({"mood": "calm"})
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: tag 'mood' is not one of title, artist, album, date, tracknumber, genre, comment, copyright, license
    """
    out: dict[str, str] = {}
    for name, value in dict(tags or {}).items():
        if name not in TAG_NAMES:
            raise ParameterError(f"tag {name!r} is not one of {', '.join(TAG_NAMES)}")
        if not isinstance(value, str):
            raise ParameterError(f"tag {name}={value!r} must be text")
        if value:
            out[name] = value[:MAX_TAG_CHARS]
    return out


def _coding_noise(codes: np.ndarray, data: bytes, stored: int, bands: int) -> np.ndarray:
    """RMS code error of the (lossy) image codec per band group: what the MMSE decoder assumes."""
    decoded = decode_tile(data).reshape(stored, bands, -1)[:, ::-1]  # rows back to band order
    coded = codes.reshape(stored, bands, -1)[:, ::-1]
    groups = np.array_split(np.arange(bands), min(_NOISE_GROUPS, bands))
    # a group at a time: the errors of one group are a few MB, those of a tile hundreds
    return np.array(
        [np.sqrt(np.mean((decoded[:, g].astype(np.float32) - coded[:, g].astype(np.float32)) ** 2)) for g in groups]
    )


@one_blas_thread()
def encode_stream(
    blocks: Iterator[np.ndarray],
    *,
    sample_rate: int,
    n_channels: int,
    settings: EncodeSettings,
    out: IO[bytes],
    total: int | None = None,
    progress: Progress | None = None,
    source_subtype: str | None = None,
    tags: dict[str, str] | None = None,
) -> AudioImageHeader:
    """Encode ``(channels, n)`` float32 blocks at ``sample_rate``; write the file to ``out``.

    ``total`` (source samples, if known) enables the up-front length checks and the
    progress total; ``tags`` (text tags by :data:`~mdctcompand.io.TAG_NAMES` name) travel in the
    header. With a bit rate target (the default), every tile after the first is
    coded at the rate-control setting whose size is closest to its share of the target
    (side information counted); the first tile, written last with the header, lands the
    whole file on the target. Returns the header written. numpy's BLAS runs on one thread
    meanwhile, unless the environment sizes it (``OPENBLAS_NUM_THREADS``, ...): the codec's
    products are too small to gain from a pool.

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> h = encode_stream(iter([np.zeros((1, 8000), np.float32)]), sample_rate=8000, n_channels=1,
    ...                   settings=EncodeSettings(), out=buf)
    >>> h.source_length, h.length, read_info(buf.getvalue()).n_tiles
    (8000, 24000, 1)
    """
    lo, hi = SAMPLE_RATE_RANGE
    if not lo <= sample_rate <= hi:
        raise ParameterError(f"sample_rate={sample_rate} must be in {lo}..{hi} Hz")
    settings = settings.for_input(sample_rate, n_channels)
    _check_up_front(settings, sample_rate, n_channels, total)
    tags = check_tags(tags)
    profile = settings.resolved_profile
    layout = ChannelLayout(settings.stereo)
    stored = layout.stored_channels(n_channels)
    conv = codec_converter(
        profile, float(settings.tilt), CODEC_ROUNDING, settings.stored_bands, "clip" if settings.lossless else "none"
    )
    resampler = ResampleStream(sample_rate, profile.sample_rate, stored, quality=settings.resample_quality)
    tools = settings.tools
    encoder = TileEncoder(conv, layout, n_channels=stored, tile_frames=settings.tile_frames, tools=tools)
    target = settings.target_bitrate(n_channels)
    by_step = target is not None and settings.rate_control == "step"
    is_jpeg = settings.format in ("jpeg", "jxl")
    # JPEG XL recompression saves about 5 %: JPEG tiles aim that much higher (checked at the end)
    expansion = 1 / _JXL_RATIO if settings.format == "jxl" else 1.0
    bytes_per_frame = None if target is None else target * 1000 / 8 * conv.hop_length / profile.sample_rate * expansion
    first: np.ndarray | None = None
    quality = settings.quality
    params: list[int] = []  # rate control's setting of every tile after the first
    encoded: list[bytes] = []
    noise: list[np.ndarray] = []

    def side_chars(i: int) -> int:  # what tile i's side information costs in the header
        return len(side_info_text(encoder.side_info[i])) + 3 if encoder.side_info else 0

    def consume(tiles: Iterator[np.ndarray]) -> None:
        nonlocal first, quality
        for tile in tiles:
            i = len(encoder.counts) - 1
            if first is None:  # kept: encoded last, with the header
                first = tile
                if target is not None and not by_step:
                    seconds = min(encoder.n_samples, conv.max_samples(tile.shape[1])) / profile.sample_rate
                    budget = target * 1000 / 8 * max(seconds, 1e-3) - side_chars(0)
                    quality = pick_quality(TileCoder(settings, tile), budget)
                continue
            if not settings.multi_tile:
                raise ParameterError(
                    f"{settings.format.upper()} holds one tile ({settings.tile_frames} frames); use jpeg, png or webp"
                )
            if by_step:
                budget = bytes_per_frame * encoder.counts[i] - side_chars(i)  # type: ignore[operator]
                data, p = encode_to_size(TileCoder(settings, tile), budget, params[-1] if params else None)
                params.append(p)
            else:
                data = TileCoder(settings, tile).encode(quality=quality)
            encoded.append(data)
            if not settings.lossless:
                noise.append(_coding_noise(tile, data, stored, conv.n_bands))

    n_source = 0
    for block in blocks:
        if block.shape[1] == 0:
            continue
        peak = max(float(block.max()), -float(block.min()))
        if not peak <= MAX_AMPLITUDE:
            raise ParameterError(
                f"audio peak {peak:g} exceeds {MAX_AMPLITUDE:g} (float audio is expected in [-1, 1])"
            )
        n_source += block.shape[1]
        consume(encoder.push(resampler.push(layout.forward(block))))
        if progress is not None:
            progress(n_source, total if total and total > 0 else n_source)
    if n_source == 0:
        raise ParameterError("no audio samples to encode")
    consume(encoder.push(resampler.finish()))
    if encoder.n_samples == 0:  # shorter than one sample at the profile's rate
        consume(encoder.push(np.zeros((stored, 1), np.float32)))
    consume(encoder.finish())
    assert first is not None
    fields: dict[str, Any] = dict(
        length=encoder.n_samples, gains=encoder.gains, tile_frames=settings.tile_frames,
        tilt=settings.tilt, rounding=CODEC_ROUNDING, stereo=layout.header_mode(n_channels),
        source_channels=n_channels, source_sample_rate=sample_rate, source_length=n_source,
        stored_bands=conv.n_bands, band_gain_width=None if conv.band_gains is None else conv.band_gains.relative_width,
        band_gains=encoder.band_gains if conv.band_gains is not None else None,
    )  # fmt: skip
    section = CodingSection(
        bandwidth=None if settings.bandwidth is None else float(settings.bandwidth), image_format=settings.format,
        qtable=settings.qtable if is_jpeg else None, source_subtype=source_subtype, tools=tools,
        side_info=tuple(side_info_text(b) for b in encoder.side_info) if encoder.side_info else None,
        tags=tags or None,
    )  # fmt: skip
    jpeg_step = None
    tries = 2 if by_step and settings.format == "jxl" else 1
    target_bytes = 0.0 if target is None else target * 1000 / 8 * n_source / sample_rate
    correction = 0.0
    for attempt in range(tries):
        if by_step:
            # The first tile lands the whole file on the target: the other tiles' actual sizes,
            # the header (side information included; the step and noise figures stand in) counted.
            stand_in = dataclasses.replace(
                section, quality=None if is_jpeg else 50, jpeg_step=12.375 if is_jpeg else None,
                coding_noise=(1.23,) * (len(noise[0]) if noise else min(16, conv.n_bands)),
            )  # fmt: skip
            header_bytes = len(header_from_profile(profile, **fields, coding=stand_in.to_header()).to_json().encode()) + 4
            budget = target_bytes * expansion + correction - sum(map(len, encoded)) - header_bytes
            coder = TileCoder(settings, first)
            data, p = encode_to_size(coder, budget, params[0] if params else None)
            if is_jpeg:
                jpeg_step = p / STEP_RESOLUTION
            else:
                quality = p
        else:
            coder = TileCoder(settings, first)
            data = coder.encode(quality=quality) if not settings.lossless else b""
        tile_noise = [] if settings.lossless else [_coding_noise(first, data, stored, conv.n_bands)]
        final = dataclasses.replace(
            section, quality=None if settings.lossless or jpeg_step is not None else int(quality or 25),
            jpeg_step=jpeg_step, coding_noise=None if settings.lossless else tuple(
                float(v) for v in np.round(np.mean(tile_noise + noise, axis=0, dtype=np.float64), 2)
            ),
        )  # fmt: skip
        header = header_from_profile(profile, **fields, coding=final.to_header())
        try:
            CodingSection.from_header(header)  # what is written must read back
        except FormatError as exc:
            raise ParameterError(f"these settings would write a file that cannot be decoded: {exc}") from exc
        data = coder.encode_setting(p, metadata=header.to_json()) if by_step else coder.encode(
            quality=quality, metadata=header.to_json()
        )
        tiles = [data, *encoded]
        result = assemble(settings.format, tiles)
        if attempt + 1 < tries and abs(len(result) - target_bytes) > 0.02 * target_bytes:
            ratio = len(result) / max(sum(map(len, tiles)), 1)  # JPEG XL bytes per JPEG byte here
            correction += (target_bytes - len(result)) / ratio
            continue
        break
    out.write(result)
    return header


_SUBTYPES = {
    np.dtype(np.int16): "PCM_16", np.dtype(np.int32): "PCM_32", np.dtype(np.uint8): "PCM_U8",
    np.dtype(np.int8): "PCM_S8", np.dtype(np.float32): "FLOAT", np.dtype(np.float64): "DOUBLE",
}  # fmt: skip


def encode(
    audio: Any, sample_rate: int, *, settings: EncodeSettings | None = None, progress: Progress | None = None,
    tags: dict[str, str] | None = None, **options: Any,
) -> bytes:
    """Encode audio to image bytes.

    Parameters
    ----------
    audio : array_like, shape (n_samples,) or (channels, n_samples)
        Float audio in [-1, 1] or integer PCM, any sample rate.
    sample_rate : int
        Sample rate of ``audio`` in Hz.
    settings : EncodeSettings, optional
        All settings at once (default: :class:`EncodeSettings`'s: JPEG at 24 kbit/s mono or 48
        stereo, tilt by rate, mid-side, tiles of 4096 frames, bandwidth by rate, the profile for
        the input's rate, cell gains, band weights and noise filling on).
    **options
        Fields of :class:`EncodeSettings` (``format=``, ``bitrate=``, ``quality=``, ...) that
        change ``settings`` (``None`` leaves a field as it is).
    progress : callable, optional
        ``progress(samples_done, samples_total)`` after each block (source samples).
    tags : dict of str to str, optional
        Text tags stored in the file (``title``, ``artist``, ... :data:`~mdctcompand.io.TAG_NAMES`);
        :func:`~mdctcompand.codec.decode_file` writes them to the decoded file.

    Returns
    -------
    bytes
        The image file.

    Examples
    --------
    >>> import numpy as np
    >>> from mdctcompand.testing import make_signal
    >>> x = make_signal("mixture", 44100, sample_rate=44100)
    >>> data = encode(x, 44100, quality=60)
    >>> data[:2] == b"\\xff\\xd8"  # a JPEG
    True
    >>> y = decode(data)
    >>> y.sample_rate, y.audio.shape
    (44100, (44100,))
    """
    s = (settings or EncodeSettings()).replace(**options)
    subtype = _SUBTYPES.get(np.asarray(audio).dtype) if hasattr(audio, "dtype") else None
    x = as_float_audio(audio)
    if x.ndim > 2:
        raise ParameterError(f"audio of shape {x.shape} must be (n_samples,) or (channels, n_samples)")
    sample_rate = check_int(sample_rate, "sample_rate", minimum=1)
    source = x.reshape(1, -1) if x.ndim == 1 else x
    n = source.shape[1]
    blocks = (source[:, i : i + BLOCK].astype(np.float32) for i in range(0, n, BLOCK))
    buf = io.BytesIO()
    encode_stream(
        blocks, sample_rate=sample_rate, n_channels=source.shape[0], settings=s, out=buf, total=n,
        progress=progress, source_subtype=subtype, tags=tags,
    )  # fmt: skip
    return buf.getvalue()


# ---------------------------------------------------------------------- decoding
def _check_decoded_peak(block: np.ndarray, *, name: str) -> None:
    if block.size:
        peak = float(np.max(np.abs(block)))
        if not peak <= MAX_DECODED_PEAK:  # NaN fails too
            raise FormatError(
                f"{name} decodes to a peak of {peak:g}, beyond anything an encoder writes ({MAX_DECODED_PEAK:g}): "
                "a corrupt or hostile file"
            )


def read_source(source: Source) -> str | os.PathLike | bytes:
    """A path or bytes for :func:`~mdctcompand.containers.open_image_file` (file objects are read).

    Examples
    --------
    >>> read_source(io.BytesIO(b"abc"))
    b'abc'
    """
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            if Path(source).is_symlink():
                raise FormatError(f"{os.fspath(source)}: a symbolic link that leads nowhere (a loop, or no target)")
            raise FileNotFoundError(f"{os.fspath(source)}: no such file")
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    read = getattr(source, "read", None)
    if read is None:
        raise ParameterError(
            f"source of type {type(source).__name__} must be a path, bytes or a binary file object"
        )
    data = read(MAX_STREAM_BYTES + 1)  # a stream (stdin, a pipe) is read whole: at most this much
    if not isinstance(data, bytes):
        raise ParameterError("the file object must be opened in binary mode")
    if len(data) > MAX_STREAM_BYTES:
        raise FormatError(
            f"more than {MAX_STREAM_BYTES >> 20} MiB on a stream (no image of audio is that large); "
            "write it to a file and give its path"
        )
    return data


def open_encoded(source: Source) -> tuple[ImageFile, AudioImageHeader, CodingSection]:
    """Open an encoded file and validate its header; returns ``(ImageFile, header, its codec section)``.

    Examples
    --------
    >>> f, h, coding = open_encoded(encode(np.zeros(1000), 8000))
    >>> f.close(); h.source_sample_rate, coding.image_format
    (8000, 'jpeg')
    """
    f = open_image_file(read_source(source))  # type: ignore[arg-type]
    try:
        header = AudioImageHeader.from_dict(f.metadata)
        coding = CodingSection.from_header(header)
        if coding.image_format is not None and coding.image_format != f.format:
            raise FormatError(f"the header says {coding.image_format}; the file is {f.format}")
        if f.n_tiles != header.n_tiles:
            raise FormatError(
                f"the file holds {f.n_tiles} tile(s) but its header promises {header.n_tiles} (truncated?)"
            )
    except BaseException:
        f.close()
        raise
    return f, header, coding


def decode_stream(
    source: Source, *, decoder: str = "table", max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[AudioImageHeader, Iterator[np.ndarray]]:
    """The header and a generator of decoded ``(source channels, n)`` float32 blocks at the source rate.

    Everything that can be checked before decoding (header, profile, pixel budget, tile
    count) is checked before this returns.

    Examples
    --------
    >>> h, blocks = decode_stream(encode(np.zeros((2, 1000)), 8000))
    >>> np.concatenate(list(blocks), axis=1).shape
    (2, 1000)
    """
    if decoder not in _DECODERS:
        raise ParameterError(f"decoder={decoder!r} must be one of {_DECODERS}")
    max_pixels = check_int(max_pixels, "max_pixels", minimum=1)
    f, h, coding = open_encoded(source)
    try:
        h.check_pixel_budget(max_pixels)
        profile = h.resolve_profile()
        groups = "none" if h.band_gain_width is None else BandGains(relative_width=h.band_gain_width)
        conv = codec_converter(profile, h.tilt, h.rounding, h.stored_bands, groups)
        table = None
        if decoder == "mmse" and coding.coding_noise:
            table = conv.compander.posterior_mean_table(coding.coding_noise)
        tiles = TileDecoder(conv, h, table, coding=coding)
        resampler = ResampleStream(h.sample_rate, h.source_sample_rate, h.stored_channels, quality="HQ")
        layout = ChannelLayout.from_header_mode(h.stereo, h.arrangement)
    except BaseException:
        f.close()
        raise

    def blocks() -> Iterator[np.ndarray]:
        written = 0
        with f:
            for i, pixels in enumerate(f.tiles(rows=h.rows, max_width=h.tile_frames)):
                for part in tiles.push(pixels, i):
                    # Sub-blocks bound the memory of resampling (up to 32x) and of channel copies.
                    for start in range(0, part.shape[1], _SUB_BLOCK):
                        y = resampler.push(part[:, start : start + _SUB_BLOCK])
                        y = layout.inverse(y, h.source_channels)[:, : h.source_length - written]
                        _check_decoded_peak(y, name=f"tile {i + 1}")
                        written += y.shape[1]
                        if y.shape[1]:
                            yield y
            tiles.finish()
            y = layout.inverse(resampler.finish(), h.source_channels)[:, : h.source_length - written]
            _check_decoded_peak(y, name=f"tile {h.n_tiles}")
            written += y.shape[1]
            if y.shape[1]:
                yield y
            if written < h.source_length:  # resampler rounding: pad the last few samples
                yield np.zeros((h.source_channels, h.source_length - written), np.float32)

    return h, blocks()


def decode(
    source: Source,
    *,
    decoder: str = "table",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_samples: int = DEFAULT_MAX_SAMPLES,
) -> DecodedAudio:
    """Decode an encoded file (path, bytes or binary file object) to audio at the source's rate and length.

    Parameters
    ----------
    source : path, bytes or binary file object
    decoder : {"table", "mmse"}, default "table"
        ``"table"``: each code decodes to its reconstruction value. ``"mmse"``: the
        conditional mean given the image codec's measured noise (lossy files; lossless
        ones decode as ``"table"``): more SNR on some files, less on others (4 of 4 songs at the
        default rate lost 0.1-1.5 dB), slightly lower ViSQOL; measure on your material.
    max_pixels : int
        Refuse files whose tiles hold more pixels in all (a decompression-bomb guard).
    max_samples : int
        Refuse files whose audio has more values (samples x channels) than this: the
        result is held in memory (use :func:`decode_file` to stream long audio to a file).

    Returns
    -------
    DecodedAudio

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> x = make_signal("mixture", 32000, 16000)
    >>> y = decode(encode(x, 16000, format="png"))
    >>> y.sample_rate, y.audio.shape
    (16000, (32000,))
    """
    max_samples = check_int(max_samples, "max_samples", minimum=1)
    header, blocks = decode_stream(source, decoder=decoder, max_pixels=max_pixels)
    n_values = header.source_length * header.source_channels
    if n_values > max_samples:
        blocks.close()  # type: ignore[attr-defined]
        raise FormatError(
            f"the file holds {n_values} samples in all; decode() keeps at most {max_samples} in memory "
            "(max_samples; decode_file streams to a file)"
        )
    audio = np.empty((header.source_channels, header.source_length), dtype=np.float32)
    pos = 0
    for block in blocks:
        audio[:, pos : pos + block.shape[1]] = block
        pos += block.shape[1]
    return DecodedAudio(audio[0] if header.source_channels == 1 else audio, header.source_sample_rate, header)


def read_info(source: Source) -> CodecInfo:
    """Describe an encoded file without decoding its audio.

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> info = read_info(encode(make_signal("mixture", 240000), 24000, quality=50))
    >>> info.quality, info.n_tiles, 20 < info.bitrate_kbps < 60
    (50, 1, True)
    """
    data = read_source(source)
    f, h, _ = open_encoded(data)
    f.close()
    size = len(data) if isinstance(data, bytes) else Path(data).stat().st_size
    return CodecInfo(h, size)
