"""Image files that carry audio: one or more 8-bit tiles plus JSON metadata.

Every tile is encoded on its own by Pillow's standard encoder. A file with one tile is a
plain image; longer audio becomes the format's own multi-image container, assembled
here from the tiles' bytes so that memory stays bounded by one tile plus the compressed
output and no tile is re-encoded:

=======  ==============================  ==========================================
format   metadata                        several tiles
=======  ==============================  ==========================================
JPEG     COM segment(s)                  MPO (CIPA DC-007 multi-picture JPEG)
PNG      iTXt chunk ``mdctcompand``      APNG (each frame replaces the canvas)
WebP     XMP chunk                       animated WebP (no blending, no disposal)
AVIF     XMP                             one tile only
JPEG XL  the JPEG's                      the JPEG file (or MPO) losslessly recompressed
=======  ==============================  ==========================================

JPEG XL (``"jxl"``, needs ``pip install pillow-jxl-plugin``) is JPEG XL's lossless JPEG
recompression of the JPEG file: about 5 % fewer bytes, and the exact JPEG bytes come back
on reading (the tiles are JPEG tiles).

Viewers show the first tile of a multi-tile file. Reading goes through Pillow too. JPEG
metadata longer than one COM segment (64 KB; version-3 codec files carry their side
information in it) is split over consecutive COM segments, joined again when read.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import FormatError, ParameterError
from .formats import FORMATS, JXL_HINT
from .header import MAX_TILE_PIXELS, parse_json

__all__ = [
    "ImageFile",
    "assemble",
    "decode_tile",
    "encode_tile",
    "from_jxl",
    "open_image_file",
    "to_jxl",
]

_JXL_SIGNATURES = (b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")
_XMP_NS = "https://mdctcompand.readthedocs.io/ns/1.0/"
_MAX_JPEG_MARKER = 65533


def to_jxl(jpeg: bytes) -> bytes:
    """A JPEG (or MPO) file losslessly recompressed by JPEG XL (:func:`from_jxl` gives the same bytes back).

    Examples
    --------
    >>> jpeg = encode_tile(np.zeros((16, 16), np.uint8), "jpeg", metadata="{}")
    >>> from_jxl(to_jxl(jpeg)) == jpeg  # doctest: +SKIP
    True
    """
    if not FORMATS["jxl"].available:
        raise ParameterError(JXL_HINT)
    from pillow_jxl import Encoder

    # The plugin's stub (1.3.8) lists only five of the keywords its Encoder takes.
    enc = Encoder(  # type: ignore[call-arg]
        mode="L", lossless=True, quality=100, decoding_speed=0, effort=7, use_container=True,
        use_original_profile=False, num_threads=1,
    )  # fmt: skip
    return bytes(enc(jpeg, 1, 1, jpeg_encode=True))


def from_jxl(data: bytes) -> bytes:
    """The JPEG bytes inside a JPEG XL file made by :func:`to_jxl` (others are a :class:`FormatError`).

    Examples
    --------
    >>> from_jxl(b"not a JPEG XL file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.FormatError: ...
    """
    if not FORMATS["jxl"].available:
        raise FormatError(f"this file is JPEG XL; {JXL_HINT}")
    from pillow_jxl import Decoder

    try:
        reconstructed, _, jpeg, *_ = Decoder(num_threads=1)(data)
    except Exception as exc:  # the binding raises several types on corrupt data
        raise FormatError(f"corrupt JPEG XL file ({type(exc).__name__}: {exc})") from exc
    if not reconstructed:
        raise FormatError("not an mdctcompand file (a JPEG XL image that is not a recompressed JPEG)")
    return bytes(jpeg)


def _check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in FORMATS:
        raise ParameterError(f"format={fmt!r} must be one of {sorted(FORMATS)}")
    if not FORMATS[fmt].available:
        raise ParameterError(f"format {fmt!r} is not available here: {FORMATS[fmt].install_hint}")
    return fmt


# ---------------------------------------------------------------------- encoding
def _xmp_packet(text: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:mdctcompand="{_XMP_NS}" mdctcompand:params="{escape(text, quote=True)}"/>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _from_xmp(xmp: bytes | str) -> str | None:
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    m = re.search(r'mdctcompand:params="([^"]*)"', text)
    return unescape(m.group(1)) if m else None


def encode_tile(
    pixels: np.ndarray,
    fmt: str,
    *,
    quality: int = 50,
    metadata: str | None = None,
    qtables: list[list[int]] | None = None,
    effort: int | None = None,
) -> bytes:
    """Encode one grayscale tile.

    Parameters
    ----------
    pixels : np.ndarray of uint8, shape (height, width)
    fmt : {"jpeg", "png", "webp", "avif"}
    quality : int
        Lossy quality 1..100 (ignored for PNG).
    metadata : str, optional
        JSON text stored in the format's metadata slot.
    qtables : list of 64-entry lists, optional
        JPEG quantization table(s) in natural order (``quality`` is then unused); the codec
        builds them (:mod:`mdctcompand.codec.jpeg`). Default: libjpeg's standard luminance
        table scaled to ``quality``.
    effort : int, optional
        Encoder effort (WebP method 0-6, AVIF speed 0-10, PNG compression 0-9).

    Examples
    --------
    >>> data = encode_tile(np.zeros((8, 8), np.uint8), "jpeg", quality=90, metadata='{"x": 1}')
    >>> data[:2]
    b'\\xff\\xd8'
    """
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    fmt = _check_format(fmt)
    if fmt == "jxl":
        fmt = "jpeg"  # JPEG XL files are JPEG files recompressed (see assemble)
    if pixels.dtype != np.uint8 or pixels.ndim != 2:
        raise ParameterError(f"tile must be a 2-D uint8 array; got {pixels.dtype} {pixels.shape}")
    image = Image.fromarray(pixels, mode="L")
    buf = io.BytesIO()
    if fmt == "jpeg":
        kw: dict[str, Any] = {"quality": int(quality), "optimize": True}
        if qtables is not None:
            kw = {"qtables": qtables, "optimize": True}
        comment = b"" if metadata is None else metadata.encode("utf-8")
        if 0 < len(comment) <= _MAX_JPEG_MARKER:
            kw["comment"] = comment
        image.save(buf, "JPEG", **kw)
        if len(comment) > _MAX_JPEG_MARKER:  # consecutive COM segments after the leading ones
            data = buf.getvalue()
            at = _jpeg_segments_end(data)
            segments = b"".join(
                b"\xff\xfe" + struct.pack(">H", len(part) + 2) + part
                for part in (comment[i : i + _MAX_JPEG_MARKER] for i in range(0, len(comment), _MAX_JPEG_MARKER))
            )
            return data[:at] + segments + data[at:]
    elif fmt == "png":
        info = PngInfo()
        if metadata is not None:
            info.add_itxt("mdctcompand", metadata, zip=True)
        image.save(buf, "PNG", pnginfo=info, compress_level=6 if effort is None else int(effort))
    elif fmt == "webp":
        kw = {"quality": int(quality), "method": 4 if effort is None else int(effort)}
        if metadata is not None:
            kw["xmp"] = _xmp_packet(metadata)
        image.convert("RGB").save(buf, "WEBP", **kw)
    else:  # avif
        kw = {"quality": int(quality), "speed": 6 if effort is None else int(effort), "subsampling": "4:0:0"}
        if metadata is not None:
            kw["xmp"] = _xmp_packet(metadata)
        image.save(buf, "AVIF", **kw)
    return buf.getvalue()


# ---------------------------------------------------------------------- assembly
def assemble(fmt: str, tiles: list[bytes]) -> bytes:
    """Join independently encoded tiles (the first one carrying the metadata) into one file.

    Examples
    --------
    >>> tiles = [encode_tile(np.zeros((16, 16), np.uint8), "jpeg", metadata="{}")] + [
    ...     encode_tile(np.zeros((16, 16), np.uint8), "jpeg") for _ in range(2)]
    >>> data = assemble("jpeg", tiles)  # an MPO: three JPEGs in one file
    >>> open_image_file(data).n_tiles
    3
    """
    fmt = _check_format(fmt)
    if not tiles:
        raise ParameterError("no tiles to assemble")
    if fmt == "jxl":
        return to_jxl(assemble("jpeg", tiles))
    if len(tiles) == 1:
        return tiles[0]
    if fmt == "jpeg":
        return _assemble_mpo(tiles)
    if fmt == "png":
        return _assemble_apng(tiles)
    if fmt == "webp":
        return _assemble_animated_webp(tiles)
    raise ParameterError(f"format {fmt!r} holds a single tile; use jpeg, png or webp for longer audio")


def _jpeg_segments_end(data: bytes) -> int:
    """Offset just after the leading APP0/APPn/COM segments of a JPEG (where APP2 may go)."""
    if data[:2] != b"\xff\xd8":
        raise FormatError("tile is not a JPEG stream")
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] in (0xE0, 0xE1, 0xFE):
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return pos


def _assemble_mpo(tiles: list[bytes]) -> bytes:
    from PIL import TiffImagePlugin

    n = len(tiles)

    # MP index IFD: version, number of images, MP entries (16 bytes each).
    def app2(entries: bytes) -> bytes:
        ifd = TiffImagePlugin.ImageFileDirectory_v2()
        ifd[0xB000] = b"0100"
        ifd[0xB001] = n
        ifd[0xB002] = entries
        body = b"MPF\x00" + b"II\x2a\x00" + struct.pack("<I", 8) + ifd.tobytes(8)
        return b"\xff\xe2" + struct.pack(">H", len(body) + 2) + body

    first = tiles[0]
    insert_at = _jpeg_segments_end(first)
    segment_len = len(app2(b"\x00" * 16 * n))
    mp_offset = insert_at + 4 + 4  # marker + length + "MPF\0": the TIFF header starts here
    sizes = [len(first) + segment_len] + [len(t) for t in tiles[1:]]
    entries = b""
    position = 0
    for i, size in enumerate(sizes):
        attribute = 0x030000 if i == 0 else 0x000000  # baseline primary image / undefined
        offset = 0 if i == 0 else position - mp_offset
        entries += struct.pack("<IIIHH", attribute, size, offset, 0, 0)
        position += size
    segment = app2(entries)
    assert len(segment) == segment_len
    return first[:insert_at] + segment + first[insert_at:] + b"".join(tiles[1:])


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise FormatError("tile is not a PNG stream")
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 12 + length


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def _assemble_apng(tiles: list[bytes]) -> bytes:
    chunks = list(_png_chunks(tiles[0]))
    ihdr = dict(chunks)[b"IHDR"]
    width, height = struct.unpack(">II", ihdr[:8])
    seq = 0

    def fctl() -> bytes:
        nonlocal seq
        body = struct.pack(">IIIIIHHBB", seq, width, height, 0, 0, 1, 1, 0, 0)  # dispose none, blend source
        seq += 1
        return _png_chunk(b"fcTL", body)

    out = [
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", ihdr),
        _png_chunk(b"acTL", struct.pack(">II", len(tiles), 0)),
    ]
    first_idat = True
    for kind, body in chunks:
        if kind in (b"IHDR", b"IEND"):
            continue
        if kind == b"IDAT" and first_idat:
            out.append(fctl())
            first_idat = False
        out.append(_png_chunk(kind, body))
    for tile in tiles[1:]:
        parts = list(_png_chunks(tile))
        if dict(parts)[b"IHDR"] != ihdr:
            raise ParameterError("APNG tiles must share size and pixel format")
        out.append(fctl())
        for kind, body in parts:
            if kind == b"IDAT":
                out.append(_png_chunk(b"fdAT", struct.pack(">I", seq) + body))
                seq += 1
    out.append(_png_chunk(b"IEND", b""))
    return b"".join(out)


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise FormatError("tile is not a WebP stream")
    out = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        out.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length + (length & 1)
    return out


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _assemble_animated_webp(tiles: list[bytes]) -> bytes:
    from PIL import Image

    width, height = Image.open(io.BytesIO(tiles[0])).size
    xmp = b""
    frames = []
    for i, tile in enumerate(tiles):
        chunks = _riff_chunks(tile)
        image_data = b"".join(_riff_chunk(k, b) for k, b in chunks if k in (b"ALPH", b"VP8 ", b"VP8L"))
        if i == 0:
            xmp = dict(chunks).get(b"XMP ", b"")
        header = (
            (0).to_bytes(3, "little")  # x offset / 2
            + (0).to_bytes(3, "little")  # y offset / 2
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
            + (100).to_bytes(3, "little")  # duration (ms)
            + bytes([0b10])  # do not blend, do not dispose
        )
        frames.append(_riff_chunk(b"ANMF", header + image_data))
    flags = 0b10 | (0b100 if xmp else 0)  # animation, XMP
    vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    anim = struct.pack("<IH", 0xFFFFFFFF, 0)  # background colour, loop forever
    body = b"WEBP" + _riff_chunk(b"VP8X", vp8x) + _riff_chunk(b"ANIM", anim) + b"".join(frames)
    if xmp:
        body += _riff_chunk(b"XMP ", xmp)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# ---------------------------------------------------------------------- reading
def decode_tile(data: bytes) -> np.ndarray:
    """Decode one tile's bytes (as written by :func:`encode_tile`) to a 2-D uint8 array.

    Examples
    --------
    >>> decode_tile(encode_tile(np.full((8, 8), 200, np.uint8), "png")).max()
    np.uint8(200)
    """
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.array(image.convert("L") if image.mode != "L" else image)


@dataclass
class ImageFile:
    """An opened image file: its format, our metadata and its tiles (read lazily).

    Examples
    --------
    >>> data = assemble("png", [encode_tile(np.zeros((8, 16), np.uint8), "png", metadata='{"a": 1}')])
    >>> with open_image_file(data) as f:
    ...     f.format, f.metadata, f.n_tiles
    ('png', {'a': 1}, 1)
    """

    format: str
    metadata: dict[str, Any]
    n_tiles: int
    _image: Any
    _file: Any = None  # the file the image reads from, where it is ours to close

    def tiles(self, *, rows: int | None = None, max_width: int | None = None) -> Iterator[np.ndarray]:
        """Yield each tile as a 2-D uint8 array (colour images are converted to luminance).

        A frame is checked before its pixels are decoded: at most ``max_width`` columns,
        exactly ``rows`` rows (when given) and at most :data:`MAX_TILE_PIXELS` pixels;
        anything else (and any decoder error) is a :class:`~mdctcompand.FormatError`.

        Examples
        --------
        >>> tiles = [encode_tile(np.full((8, 16), v, np.uint8), "png", metadata="{}" if v == 0 else None) for v in (0, 7)]
        >>> with open_image_file(assemble("png", tiles)) as f:
        ...     [int(t.max()) for t in f.tiles(rows=8)]
        [0, 7]
        """
        for i in range(self.n_tiles):
            where = f"tile {i + 1} of {self.n_tiles}"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: we check sizes here
                    self._image.seek(i)
                    width, height = self._image.size
                    if width * height > MAX_TILE_PIXELS or (max_width is not None and width > max_width):
                        raise FormatError(f"{where} is {width} x {height} pixels: too large")
                    if rows is not None and height != rows:
                        raise FormatError(f"{where} has {height} rows; the header says {rows}")
                    frame = self._image.convert("L") if self._image.mode != "L" else self._image
                    yield np.array(frame)
            except FormatError:
                raise
            except MemoryError:
                raise
            except Exception as exc:  # Pillow raises many types on corrupt data
                raise FormatError(f"{where} is truncated or corrupt ({type(exc).__name__}: {exc})") from exc

    def close(self) -> None:
        """Close the underlying image file.

        Examples
        --------
        >>> f = open_image_file(encode_tile(np.zeros((8, 8), np.uint8), "jpeg", metadata="{}"))
        >>> f.close()
        """
        self._image.close()
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> ImageFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _metadata_text(image: Any) -> str | None:
    info = image.info
    if "mdctcompand" in info:  # PNG iTXt
        return info["mdctcompand"]
    if "comment" in info:  # JPEG COM (one or several segments)
        parts = [v for k, v in getattr(image, "applist", []) if k == "COM"]
        comment = b"".join(parts) if len(parts) > 1 else info["comment"]
        return comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)
    if "xmp" in info:  # WebP, AVIF
        return _from_xmp(info["xmp"])
    return None


def open_image_file(source: str | Path | bytes) -> ImageFile:
    """Open an image file (path or bytes) written by :func:`assemble`.

    Raises
    ------
    FormatError
        Not an image, an image without mdctcompand metadata, or corrupt metadata.

    Examples
    --------
    >>> f = open_image_file(encode_tile(np.zeros((8, 8), np.uint8), "webp", metadata='{"k": "v"}'))
    >>> f.format, f.metadata
    ('webp', {'k': 'v'})
    >>> f.close()
    """
    from PIL import Image

    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)
    fh: Any = None  # a path is opened once (a fifo or a pipe can be read only once)
    data: Any = source  # the bytes (fh is None) or the open file
    if not isinstance(source, (bytes, bytearray)):
        data = _open_once(source, name)
        if not isinstance(data, (bytes, bytearray)):
            fh = data
    if fh is None:
        head = bytes(data[:12])
    else:
        head = fh.read(12)
        fh.seek(0)
    jxl = any(head.startswith(sig) for sig in _JXL_SIGNATURES)
    if jxl:
        if not FORMATS["jxl"].available:  # say so before reading a byte more
            if fh is not None:
                fh.close()
            raise FormatError(f"{name}: this file is JPEG XL; {JXL_HINT}")
        if fh is not None:
            data = fh.read(MAX_STREAM_BYTES + 1)
            fh.close()
            fh = None
            if len(data) > MAX_STREAM_BYTES:
                raise FormatError(f"{name}: a JPEG XL file of more than {MAX_STREAM_BYTES >> 20} MiB")
        data = from_jxl(bytes(data))
    fp = io.BytesIO(data) if fh is None else fh
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: sizes are checked below
            image = Image.open(fp)
    except MemoryError:
        if fh is not None:
            fh.close()
        raise
    except Exception as exc:  # UnidentifiedImageError, DecompressionBombError, struct.error, ...
        if fh is not None:
            fh.close()
        reason = "no format Pillow reads" if "cannot identify image file" in str(exc) else str(exc)
        raise FormatError(f"{name}: not an image file ({reason})") from exc
    try:
        pillow = "JPEG" if image.format == "MPO" else image.format  # MPO: a multi-tile JPEG
        fmt = next((s.name for s in FORMATS.values() if s.pillow == pillow), None)
        if jxl and fmt == "jpeg":
            fmt = "jxl"
        width, height = image.size
        if width * height > MAX_TILE_PIXELS:
            raise FormatError(
                f"{name}: {width} x {height} pixels per image exceed the limit of {MAX_TILE_PIXELS}"
            )
        text = _metadata_text(image)
        if fmt is None or text is None:
            raise FormatError(
                f"{name}: not an mdctcompand file (no mdctcompand metadata in this {image.format} image)"
            )
        metadata = parse_json(text)
        if not isinstance(metadata, dict):
            raise FormatError(f"{name}: corrupt mdctcompand metadata (not a JSON object)")
        n_tiles = int(getattr(image, "n_frames", 1))
    except FormatError:
        image.close()
        if fh is not None:
            fh.close()
        raise
    except Exception as exc:
        image.close()
        if fh is not None:
            fh.close()
        raise FormatError(f"{name}: corrupt image ({type(exc).__name__}: {exc})") from exc
    return ImageFile(fmt, metadata, n_tiles, image, fh)


#: Largest stream (fifo, pipe, process substitution) read into memory; files are read as needed.
MAX_STREAM_BYTES = 256 << 20


def _open_once(path: str | Path, name: str) -> Any:
    """The open file of ``path`` (seekable), or the bytes of a stream (read once, at most
    :data:`MAX_STREAM_BYTES`); special paths are :class:`FormatError` s that say what they are."""
    try:
        fh = open(path, "rb")  # closed by the ImageFile, or below on error
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise FormatError(f"{name}: is a directory, not an image file") from None
    except OSError as exc:  # a symlink loop, permissions, a device
        raise FormatError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if fh.seekable():
        return fh
    with fh:
        data = fh.read(MAX_STREAM_BYTES + 1)
    if len(data) > MAX_STREAM_BYTES:
        raise FormatError(
            f"{name}: a stream of more than {MAX_STREAM_BYTES >> 20} MiB (a fifo or a pipe); write it to a file "
            "and read that"
        )
    return data
