"""Does the evaluation rank audio like a listener? A degradation ladder on held-out music.

Degradations whose order nobody disputes, applied to a set of 12 clips (GEN), each scored
against the clean GEN (the same clips) and against a disjoint reference set (REF):

- additive white noise at 30 / 20 / 10 dB SNR;
- low-pass at 8 / 4 / 2 kHz (8th-order Butterworth, zero phase), then white noise;
- ``wav2jpeg`` at 48 / 24 / 16 / 8 kbit/s (44.1 kHz stereo);
- MP3 (LAME, CBR) at 48 / 24 / 16 / 8 kbit/s;
- time smearing: convolution with a random all-pass filter (flat magnitude response, so no
  colouring) whose impulse response decays with a time constant of 30 / 100 / 300 ms;
- log-mel + Griffin-Lim (32 iterations; 512 mel bands, n_fft 2048, hop 512 at 24 kHz), silence.

Clip sets (10 s, 44.1 kHz stereo, from :mod:`lab.genre_corpus`, distinct tracks within a set):

- ``holdout``: GEN = nexuiz-music (8) + fretsonfire-songs-sectoid (4), REF = hyperrogue-music (8)
  + singularity-music (4), all test clips; the figures of the report;
- ``tune``: GEN = train clips of fretsonfire-songs-muldjord, ufoai-music, wesnoth-1.16-music
  (4 each), REF = train clips of asc-music, fb-music-high, hyperrogue-music (4 each); used to
  choose the weights of ``mel-mdct-v2`` (none of its packages is in the hold-out GEN).

Uncertainty is the evaluation's clip bootstrap (:func:`mdctcompand.evaluation.compare`); a step
of a ladder is *resolved* when the 95 % interval of the paired bootstrap difference to the
previous step (the same resampled clips on both sides) lies above zero.

``python -m lab.evaluation /work/corpus --cache /tmp/ladder`` prints the table and the checks
(degraded audio and each embedding's features are cached under ``--cache``; delete an
embedding's folder there after changing it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdctcompand.evaluation import EmbeddedSet, compare, embed_clips, get_embedding

RATE = 44100

#: (package, split, clip indices) of each set.
SETS: dict[str, dict[str, list[tuple[str, str, tuple[int, ...]]]]] = {
    "holdout": {
        "gen": [
            ("nexuiz-music", "test", tuple(range(8))),
            ("fretsonfire-songs-sectoid", "test", (0, 2, 4, 6)),
        ],
        "ref": [("hyperrogue-music", "test", tuple(range(8))), ("singularity-music", "test", (0, 2, 4, 6))],
    },
    "tune": {
        "gen": [
            ("fretsonfire-songs-muldjord", "train", (0, 1, 2, 3)),
            ("ufoai-music", "train", (0, 1, 2, 3)),
            ("wesnoth-1.16-music", "train", (0, 1, 2, 3)),
        ],
        "ref": [
            ("asc-music", "train", (0, 1, 2, 3)),
            ("fb-music-high", "train", (0, 1, 2, 3)),
            ("hyperrogue-music", "train", (0, 1, 2, 3)),
        ],
    },
}


@dataclass(frozen=True)
class Condition:
    """One rung: ``family`` ladders are ordered by ``step`` (0 = the clean set's side)."""

    name: str
    family: str
    step: int
    apply: Callable[[np.ndarray, int, np.random.Generator], tuple[np.ndarray, int]]


def _noise(snr_db: float) -> Callable:
    def apply(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        power = float(np.mean(x**2))
        return x + rng.standard_normal(x.shape) * np.sqrt(power * 10 ** (-snr_db / 10)), sr

    return apply


def _lowpass(cutoff: float) -> Callable:
    def apply(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        from scipy.signal import butter, sosfiltfilt

        return sosfiltfilt(butter(8, cutoff, fs=sr, output="sos"), x, axis=-1), sr

    return apply


def _wav2jpeg(kbps: int) -> Callable:
    def apply(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        from mdctcompand.codec import decode, encode

        return decode(encode(x.astype(np.float32), sr, bitrate=kbps)).audio, sr

    return apply


def _mp3(kbps: int) -> Callable:
    def apply(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        from .peers import mp3_roundtrip

        return mp3_roundtrip(x.astype(np.float32), sr, bitrate_kbps=kbps)[0], sr

    return apply


def _smear(decay_s: float) -> Callable:
    def apply(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        from scipy.signal import fftconvolve

        n = int(5 * decay_s * sr)
        h = rng.standard_normal(n) * np.exp(-np.arange(n) / (decay_s * sr))
        spectrum = np.fft.rfft(h, 4 * n)
        h = np.fft.irfft(spectrum / np.maximum(np.abs(spectrum), 1e-12), 4 * n)  # all-pass: |H| = 1
        return fftconvolve(x, h[None, :], axes=-1)[:, : x.shape[1]], sr

    return apply


def _griffin_lim(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    from mdctcompand.io import resample

    from .baselines import LMMSGriffinLim

    mono = resample(x.mean(axis=0), sr, 24000).astype(np.float32)
    return LMMSGriffinLim(sample_rate=24000, n_iter=32).roundtrip(mono), 24000


def _white(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    return rng.standard_normal(x.shape) * 0.1, sr


def _silence(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    return np.zeros_like(x), sr


CONDITIONS: list[Condition] = [
    Condition("clean", "clean", 0, lambda x, sr, rng: (x, sr)),
    *(Condition(f"noise {d} dB", "noise", i + 1, _noise(d)) for i, d in enumerate((30, 20, 10))),
    *(Condition(f"low-pass {k} kHz", "low-pass", i + 1, _lowpass(k * 1000)) for i, k in enumerate((8, 4, 2))),
    Condition("white noise", "low-pass", 4, _white),
    *(
        Condition(f"wav2jpeg {k} kbit/s", "wav2jpeg", i + 1, _wav2jpeg(k))
        for i, k in enumerate((48, 24, 16, 8))
    ),
    *(Condition(f"mp3 {k} kbit/s", "mp3", i + 1, _mp3(k)) for i, k in enumerate((48, 24, 16, 8))),
    *(Condition(f"smear {m} ms", "smear", i + 1, _smear(m / 1000)) for i, m in enumerate((30, 100, 300))),
    Condition("log-mel + Griffin-Lim", "griffin-lim", 1, _griffin_lim),
    Condition("silence", "silence", 1, _silence),
]


def load_set(corpus: Path, which: str, role: str) -> list[tuple[str, np.ndarray]]:
    """``[(name, (2, n) float64 audio at 44.1 kHz)]`` of a set."""
    import soundfile as sf

    out = []
    for package, split, indices in SETS[which][role]:
        files = sorted((corpus / split / package).glob("*.flac"))
        if not files:
            raise SystemExit(f"{corpus / split / package}: no clips (python -m lab.genre_corpus {corpus})")
        for i in indices:
            x, sr = sf.read(str(files[i]), dtype="float64", always_2d=True)
            assert sr == RATE, (files[i], sr)
            out.append((f"{package}/{files[i].stem}", x.T.copy()))
    return out


def degraded(
    corpus: Path, cache: Path, which: str, condition: Condition
) -> list[tuple[str, np.ndarray, int]]:
    """The GEN clips of a set under one condition (mono), cached as ``.npz``."""
    path = cache / which / f"{condition.name.replace(' ', '_').replace('/', '')}.npz"
    if path.exists():
        with np.load(path) as z:
            names = [str(n) for n in z["names"]]
            return [(n, z[f"a{i}"], int(z["rate"])) for i, n in enumerate(names)]
    rng = np.random.default_rng(1234)
    out = []
    for name, x in load_set(corpus, which, "gen"):
        y, sr = condition.apply(x, RATE, rng)
        y = np.asarray(y, dtype=np.float32)
        out.append((name, y.mean(axis=0) if y.ndim == 2 else y, sr))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, names=[n for n, _, _ in out], rate=out[0][2], **{f"a{i}": a for i, (_, a, _) in enumerate(out)}
    )
    return out


def embed_conditions(
    corpus: Path, cache: Path, which: str, embedding: str
) -> tuple[dict[str, EmbeddedSet], EmbeddedSet]:
    """Embedded GEN under every condition, and the embedded REF."""
    emb = get_embedding(embedding)
    folder = cache / which / "embedded" / embedding.replace(":", "-")

    def cached(label: str, make: Callable[[], list[tuple[str, np.ndarray, int]]]) -> EmbeddedSet:
        path = folder / f"{label.replace(' ', '_').replace('/', '')}.npz"
        if path.exists():
            with np.load(path) as z:
                return EmbeddedSet(
                    z["features"], tuple(str(n) for n in z["clips"]), tuple(int(f) for f in z["frames"]),
                    str(z["embedding"]), int(z["rate"]), -23.0, label, (), str(z["kid_scaling"]),
                )  # fmt: skip
        s = embed_clips(make(), embedding=emb, name=label)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(path, features=s.features, clips=list(s.clips), frames=list(s.frames), embedding=s.embedding,
                 rate=s.sample_rate, kid_scaling=s.kid_scaling)  # fmt: skip
        return s

    sets = {c.name: cached(c.name, lambda c=c: degraded(corpus, cache, which, c)) for c in CONDITIONS}
    ref = cached("REF", lambda: [(n, x.mean(axis=0), RATE) for n, x in load_set(corpus, which, "ref")])
    return sets, ref


def ladder(
    sets: dict[str, EmbeddedSet], ref: EmbeddedSet, *, bootstrap: int = 200, seed: int = 0
) -> list[dict]:
    """One row per condition and side: FD, KID, their intervals and the bootstrap replicates."""
    rows = []
    for against, other in (("clean", sets["clean"]), ("REF", ref)):
        for c in CONDITIONS:
            e = compare(sets[c.name], other, bootstrap=bootstrap, seed=seed, kid_subsets=20)
            rows.append({
                "condition": c.name, "family": c.family, "step": c.step, "against": against,
                "fd": e.frechet_distance, "fd_interval": e.frechet_distance_interval,
                "fd_infinity": e.frechet_distance_infinity,
                "kid": e.kernel_distance, "kid_interval": e.kernel_distance_interval,
                "_fd_boot": e.bootstrap["frechet_distance"], "_kid_boot": e.bootstrap["kernel_distance"],
            })  # fmt: skip
    return rows


#: The ordering targets: (family sequence as condition names, both metrics).
ORDERS = [
    ["noise 30 dB", "noise 20 dB", "noise 10 dB"],
    ["low-pass 8 kHz", "low-pass 4 kHz", "low-pass 2 kHz", "white noise"],
    ["wav2jpeg 48 kbit/s", "wav2jpeg 24 kbit/s", "wav2jpeg 16 kbit/s", "wav2jpeg 8 kbit/s"],
    ["mp3 48 kbit/s", "mp3 24 kbit/s", "mp3 16 kbit/s", "mp3 8 kbit/s"],
    ["smear 30 ms", "smear 100 ms", "smear 300 ms"],
]


def checks(rows: list[dict]) -> list[dict]:
    """Every adjacent pair of every ladder, per metric and side: ordered? resolved (paired 95 % above 0)?"""
    by = {(r["condition"], r["against"]): r for r in rows}
    out = []
    for against in ("clean", "REF"):
        for order in ORDERS + [["wav2jpeg 24 kbit/s", "log-mel + Griffin-Lim"]]:
            if against == "REF" and order[-1] == "log-mel + Griffin-Lim":
                continue
            if any((name, against) not in by for name in order):
                continue
            for a, b in zip(order, order[1:]):
                for metric in ("fd", "kid"):
                    ra, rb = by[(a, against)], by[(b, against)]
                    diff = np.asarray(rb[f"_{metric}_boot"]) - np.asarray(ra[f"_{metric}_boot"])
                    lo, hi = np.quantile(diff, [0.025, 0.975])
                    out.append({
                        "against": against, "metric": metric, "lower": a, "higher": b,
                        "ordered": bool(rb[metric] > ra[metric]), "resolved": bool(lo > 0),
                        "difference": float(rb[metric] - ra[metric]), "interval": [float(lo), float(hi)],
                    })  # fmt: skip
    return out


def _table(rows: list[dict]) -> str:
    lines = [
        "| condition | FD vs clean [95 %] | KID vs clean | FD vs REF [95 %] | KID vs REF |",
        "|---|---:|---:|---:|---:|",
    ]
    by = {(r["condition"], r["against"]): r for r in rows}
    for c in CONDITIONS:
        cells = []
        for against in ("clean", "REF"):
            r = by[(c.name, against)]
            lo, hi = r["fd_interval"]
            cells += [f"{r['fd']:,.1f} [{lo:,.1f}, {hi:,.1f}]", f"{r['kid']:.4f}"]
        lines.append(f"| {c.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path, help="a corpus written by python -m lab.genre_corpus")
    parser.add_argument(
        "--cache", type=Path, default=Path("ladder-cache"), help="degraded audio is kept here"
    )
    parser.add_argument("--set", default="holdout", choices=sorted(SETS))
    parser.add_argument("--embedding", default="mel-mdct-v2")
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write rows and checks here")
    args = parser.parse_args(argv)
    t0 = time.process_time()
    sets, ref = embed_conditions(args.corpus, args.cache, args.set, args.embedding)
    rows = ladder(sets, ref, bootstrap=args.bootstrap)
    found = checks(rows)
    print(f"embedding {get_embedding(args.embedding).name}; set {args.set}; 12 + 12 clips of 10 s\n")
    print(_table(rows))
    print(
        "\n| against | metric | step | ordered | resolved | difference [95 %] |\n|---|---|---|---|---|---:|"
    )
    for f in found:
        lo, hi = f["interval"]
        print(f"| {f['against']} | {f['metric']} | {f['lower']} < {f['higher']} | {'yes' if f['ordered'] else 'NO'} | "
              f"{'yes' if f['resolved'] else 'NO'} | {f['difference']:.4g} [{lo:.4g}, {hi:.4g}] |")  # fmt: skip
    ordered = sum(f["ordered"] for f in found)
    resolved = sum(f["resolved"] for f in found)
    print(f"\n{ordered}/{len(found)} steps ordered, {resolved}/{len(found)} resolved; "
          f"{time.process_time() - t0:.0f} s CPU")  # fmt: skip
    if args.json:
        keep = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        args.json.write_text(json.dumps({"rows": keep, "checks": found}, indent=1))
    return 0 if ordered == len(found) else 1


if __name__ == "__main__":
    sys.exit(main())
