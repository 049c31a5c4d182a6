"""The 8-bit representation on every genre, leave-one-package-out: ``python -m lab.genres``.

Scores the lossless 8-bit round trip (:class:`~mdctcompand.AudioImageConverter`, PNG-exact
codes) on the test clips of every package of the multi-genre corpus
(:mod:`lab.genre_corpus`): 10 s clips, the middles of 8 tracks per package.
Every figure is leave-one-package-out: a *fit* package is scored with a profile fitted on
the train clips of the six other fit packages, a *held-out* package (another rock band, an
electronic soundtrack, recorded voices, synthetic speech) with one fitted on all seven. The
fit is the one ``mdctcompand profile fit`` makes (MLE, shapes >= 0.4, smoothing 9, 48 dB/octave
roll-off limit), on the mono mix at 24 kHz and on left and right as separate clips at 44.1 kHz.

Settings (``--settings``): ``24k`` (24 kHz mono, frame 1024), ``44k-ms`` (44.1 kHz stereo,
frame 2048, mid/side: the default layout) and ``44k-lr`` (left/right). Designs
(``--designs``):

``shipped-v1``
    The profiles shipped before the multi-genre corpus (one rock band), tilt 5.5, no band
    gains: what files of mdctcompand <= 0.4 hold.
``fixed``
    The leave-one-out profile at tilt 4 without band gains (``band_gains="none"``): no side
    information, the representation a model's images decode with.
``clip``
    The leave-one-out profile with per-clip band-group gains at tilt 3 (the default).
``codec-png``
    ``wav2jpeg -f png`` with its defaults (the shipped profile, band gains per tile, tilt 3),
    held-out packages only (the shipped profile is fitted on every fit package).

Columns per package: median and worst clip SNR (dB, all channels of a clip pooled), median LSD
(dB, mean over channels), the share of codes at
0 or 255 (overload), PNG size (kbit/s, Pillow, compress level 6) and the side information
of the band gains (bytes of header JSON per 10 s). The targets the defaults were chosen by:
median >= 38 dB and worst clip >= 34 dB on every package, speech median >= 35 dB, median
LSD <= 0.5 dB. Install the packages with the hint in :mod:`~lab.genre_corpus`;
``--corpus`` reuses a corpus directory (built on the fly otherwise, about 3 minutes).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdctcompand import metrics
from mdctcompand.converter import METADATA_KEY, AudioImageConverter
from mdctcompand.fitting import DEFAULT_MIN_SHAPE
from mdctcompand.ggd import SHAPE_BRACKET
from mdctcompand.io import resample
from mdctcompand.profile import GGDProfile, LevelSpec, shipped_profile
from mdctcompand.stats import BandStatistics
from mdctcompand.transform import MDCT

from .genre_corpus import FIT_PACKAGES, HOLDOUT_PACKAGES, INSTALL_HINT, SHORT, Clip, build_corpus, load_corpus

__all__ = ["DESIGNS", "SETTINGS", "Row", "Setting", "fit_statistics", "lopo_profiles", "run", "score_clip"]

SPEECH = ("boswars-data", "espeak-ng")
#: The profiles shipped before the multi-genre corpus, by rate (kept in ``data/profiles``).
SHIPPED_V1 = {24000: "29e5040e2e0f16ed", 44100: "84078931b428042b"}


@dataclass(frozen=True)
class Setting:
    """A rate, frame length and channel layout to score."""

    name: str
    sample_rate: int
    frame_length: int
    layout: str  # "mono", "mid-side" or "left-right"

    def audio(self, clip: Clip) -> np.ndarray:
        """The clip at this setting: ``(n,)`` mono at 24 kHz, ``(2, n)`` otherwise."""
        if self.layout == "mono":
            return resample(clip.audio.mean(axis=0), 44100, self.sample_rate).astype(np.float32)
        return clip.audio if self.sample_rate == 44100 else resample(clip.audio, 44100, self.sample_rate)


SETTINGS = {
    "24k": Setting("24k", 24000, 1024, "mono"),
    "44k-ms": Setting("44k-ms", 44100, 2048, "mid-side"),
    "44k-lr": Setting("44k-lr", 44100, 2048, "left-right"),
}
#: design -> (profile: "v1" or "lopo", tilt, band gains)
DESIGNS = {
    "shipped-v1": ("v1", 5.5, "none"),
    "fixed": ("lopo", 4.0, "none"),
    "clip": ("lopo", 3.0, "clip"),
    "codec-png": ("shipped", None, "codec"),
}


@dataclass(frozen=True)
class Row:
    """One package under one setting and design: per-clip figures."""

    setting: str
    design: str
    package: str
    snr: tuple[float, ...]
    lsd: tuple[float, ...]
    edge: tuple[float, ...]
    png_kbps: tuple[float, ...]
    side_bytes: tuple[int, ...]


def fit_statistics(clips: list[Clip], setting: Setting) -> BandStatistics:
    """Band statistics of train clips as ``mdctcompand profile fit`` gathers them (per mono clip, level-normalized)."""
    mdct = MDCT(setting.frame_length)
    level = LevelSpec.parse("rms:-20")
    stats = BandStatistics(mdct.n_bins)
    for clip in clips:
        x = setting.audio(clip)
        for channel in x.reshape(-1, x.shape[-1]):  # mono; or left and right as separate clips
            stats.update(mdct.forward(channel * np.float32(level.gain(channel))))
    return stats


def _fit(stats: list[BandStatistics], setting: Setting, name: str) -> GGDProfile:
    return GGDProfile.from_statistics(
        stats[0].merge(*stats[1:]), sample_rate=setting.sample_rate, frame_length=setting.frame_length,
        method="mle", smoothing=9, bracket=(DEFAULT_MIN_SHAPE, SHAPE_BRACKET[1]), name=name,
    )  # fmt: skip


def lopo_profiles(train: dict[str, list[Clip]], setting: Setting) -> dict[str, GGDProfile]:
    """Leave-one-package-out profiles: each fit package's from the others; ``"all"`` from every one."""
    stats = {p: fit_statistics(train[p], setting) for p in FIT_PACKAGES if p in train}
    out = {p: _fit([s for q, s in stats.items() if q != p], setting, f"lopo-{SHORT[p]}") for p in stats}
    out["all"] = _fit(list(stats.values()), setting, "all-fit-packages")
    return out


def score_clip(
    conv: AudioImageConverter, x: np.ndarray, sample_rate: int
) -> tuple[float, float, float, float, int]:
    """SNR, LSD, edge-code share, PNG kbit/s and side-information bytes of one 8-bit round trip."""
    image = conv.image_from_audio(x, sample_rate=sample_rate)
    y = conv.audio_from_image(image)
    codes = np.asarray(image)
    edge = float(np.mean((codes == 0) | (codes == 255)))
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=6)
    seconds = x.shape[-1] / sample_rate
    header = json.loads(image.info[METADATA_KEY])
    side = (
        len(json.dumps(header.get("band_gains", []), separators=(",", ":"))) if "band_gains" in header else 0
    )
    return (
        float(metrics.snr(x.reshape(-1), y.reshape(-1))), float(np.mean(metrics.log_spectral_distance(x, y))), edge,
        len(buf.getvalue()) * 8 / seconds / 1000, round(side * 10 / seconds),
    )  # fmt: skip


def score_codec_png(x: np.ndarray, setting: Setting) -> tuple[float, float, float, float, int]:
    """As :func:`score_clip`, through ``codec.encode(format="png")`` with the codec's defaults."""
    from mdctcompand import codec
    from mdctcompand.containers import open_image_file

    data = codec.encode(
        x, setting.sample_rate, format="png", stereo=setting.layout if x.ndim == 2 else "mid-side"
    )
    y = codec.decode(data).audio
    with open_image_file(data) as f:
        codes = np.concatenate([np.asarray(t).ravel() for t in f.tiles()])
    header = codec.read_info(data).header
    seconds = x.shape[-1] / setting.sample_rate
    side = len(json.dumps([[list(r) for r in t] for t in header.band_gains or ()], separators=(",", ":")))
    return (
        float(metrics.snr(x.reshape(-1), y.reshape(-1))), float(np.mean(metrics.log_spectral_distance(x, y))),
        float(np.mean((codes == 0) | (codes == 255))), len(data) * 8 / seconds / 1000, round(side * 10 / seconds),
    )  # fmt: skip


def run(
    test: dict[str, list[Clip]],
    train: dict[str, list[Clip]],
    *,
    settings: list[str],
    designs: list[str],
    progress: bool = True,
) -> list[Row]:
    """Score every package under every setting and design."""
    rows = []
    for sname in settings:
        setting = SETTINGS[sname]
        profiles = lopo_profiles(train, setting)
        for design in designs:
            which, tilt, band_gains = DESIGNS[design]
            for package, clips in test.items():
                if which == "shipped":
                    if package in HOLDOUT_PACKAGES:
                        scores = np.array([score_codec_png(setting.audio(c), setting) for c in clips])
                        rows.append(Row(sname, design, package, *(tuple(col.tolist()) for col in scores.T)))
                    continue
                if which == "v1":
                    profile = shipped_profile(SHIPPED_V1[44100 if setting.sample_rate == 44100 else 24000])
                else:
                    profile = profiles.get(package, profiles["all"])
                conv = AudioImageConverter(
                    profile,
                    tilt=tilt,
                    band_gains=band_gains,
                    channels="mono" if setting.layout == "mono" else setting.layout,
                )
                scores = np.array([score_clip(conv, setting.audio(c), setting.sample_rate) for c in clips])
                rows.append(Row(sname, design, package, *(tuple(col.tolist()) for col in scores.T)))
            if progress:
                print(
                    summary_line([r for r in rows if r.setting == sname and r.design == design]), flush=True
                )
    return rows


def summary_line(rows: list[Row]) -> str:
    """Worst package median, worst clip, speech median, largest median LSD, median PNG rate."""
    music = [r for r in rows if r.package not in SPEECH]
    speech = [r for r in rows if r.package in SPEECH]
    return (
        f"{rows[0].setting:7s} {rows[0].design:11s} music median >= {min(np.median(r.snr) for r in music):5.1f} dB, "
        f"worst clip {min(min(r.snr) for r in rows):5.1f} dB, speech median >= "
        f"{min(np.median(r.snr) for r in speech) if speech else float('nan'):5.1f} dB, median LSD <= "
        f"{max(np.median(r.lsd) for r in rows):.2f} dB, PNG {np.median([v for r in rows for v in r.png_kbps]):.0f} kbit/s"
    )


def table(rows: list[Row]) -> str:
    """Markdown table: package x (setting, design)."""
    keys = sorted(
        {(r.setting, r.design) for r in rows},
        key=lambda k: (list(SETTINGS).index(k[0]), list(DESIGNS).index(k[1])),
    )
    packages = [p for p in FIT_PACKAGES + HOLDOUT_PACKAGES if any(r.package == p for r in rows)]
    by = {(r.setting, r.design, r.package): r for r in rows}
    lines = ["| package | " + " | ".join(f"{s} {d}" for s, d in keys) + " |", "|---|" + "---|" * len(keys)]
    for p in packages:
        cells = []
        for s, d in keys:
            r = by.get((s, d, p))
            cells.append(
                "" if r is None else
                f"{np.median(r.snr):.1f} / {min(r.snr):.1f} dB, LSD {np.median(r.lsd):.2f}, edge {100 * np.median(r.edge):.2f} %, "
                f"{np.median(r.png_kbps):.0f} kbit/s, {int(np.median(r.side_bytes))} B"
            )  # fmt: skip
        role = "held out" if p in HOLDOUT_PACKAGES else "fit (left out)"
        lines.append(f"| {SHORT[p]} ({role}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summarize(rows: list[Row]) -> list[dict]:
    """Per setting, design and package: median and worst SNR, median LSD, edge share, PNG rate, side bytes."""
    return [
        {
            "setting": r.setting,
            "design": r.design,
            "package": r.package,
            "clips": len(r.snr),
            "snr_median": round(float(np.median(r.snr)), 2),
            "snr_worst": round(min(r.snr), 2),
            "lsd_median": round(float(np.median(r.lsd)), 3),
            "edge_share": round(float(np.median(r.edge)), 6),
            "png_kbps": round(float(np.median(r.png_kbps)), 1),
            "side_bytes": int(np.median(r.side_bytes)),
        }
        for r in rows
    ]


def plot(rows: list[Row], path: Path) -> None:
    """Median and worst-clip SNR per package, one panel per setting, a marker per design."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = [s for s in SETTINGS if any(r.setting == s for r in rows)]
    packages = [p for p in FIT_PACKAGES + HOLDOUT_PACKAGES if any(r.package == p for r in rows)]
    fig, axes = plt.subplots(1, len(settings), figsize=(4.5 * len(settings), 4), sharey=True, squeeze=False)
    for ax, s in zip(axes[0], settings):
        for k, d in enumerate(d for d in DESIGNS if any(r.design == d for r in rows)):
            by = {r.package: r for r in rows if r.setting == s and r.design == d}
            xs = np.arange(len(packages)) + (k - 1) * 0.25
            med = [np.median(by[p].snr) if p in by else np.nan for p in packages]
            worst = [min(by[p].snr) if p in by else np.nan for p in packages]
            ax.vlines(xs, worst, med, color=f"C{k}", alpha=0.5)
            ax.plot(xs, med, "o", color=f"C{k}", label=d)
        ax.axhline(38, color="k", lw=0.6, ls="--")
        ax.axhline(34, color="k", lw=0.6, ls=":")
        ax.set_xticks(np.arange(len(packages)), [SHORT[p] for p in packages], rotation=60, ha="right")
        ax.set_title(s)
    axes[0][0].set_ylabel("8-bit round-trip SNR (dB): median (dot), worst clip (line end)")
    axes[0][0].legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, help="corpus directory (python -m lab.genre_corpus DIR)")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS))
    parser.add_argument("--json", type=Path, help="write the per-clip figures here")
    parser.add_argument(
        "--summary", type=Path, help="write the per-package summary here (what the docs plot)"
    )
    parser.add_argument("--figure", type=Path, help="write the SNR figure here (PNG/SVG; needs matplotlib)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(tmp)
            build_corpus(corpus, progress=None)
        test, train = load_corpus(corpus, "test"), load_corpus(corpus, "train")
    if not test or not train:
        print(f"the corpus is empty: install the packages ({INSTALL_HINT})", file=sys.stderr)
        return 0
    rows = run(test, train, settings=args.settings, designs=args.designs)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    if args.summary:
        args.summary.write_text(json.dumps(summarize(rows), indent=0) + "\n")
    if args.figure:
        plot(rows, args.figure)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
