"""Dataset build speed: ``python -m lab.dataset [--clips 1000]``.

Writes ``--clips`` ten-second 44.1 kHz mono WAV files with captions (music-like generated
audio) to a temporary directory, builds the image dataset with 1 worker and with 2, and
prints seconds of audio processed per second of wall time, per core (target >= 300x),
and the speed-up from 1 to 2 workers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from mdctcompand.dataset import build_dataset, read_captions
from mdctcompand.testing import make_signal


def make_corpus(root: Path, n_clips: int, sample_rate: int = 44100, seconds: float = 10.0) -> Path:
    """``n_clips`` WAV files plus ``captions.jsonl``; returns the caption list's path."""
    import soundfile as sf

    root.mkdir(parents=True, exist_ok=True)
    base = make_signal("mixture", int(sample_rate * seconds), sample_rate, seed=0)
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n_clips):
        x = np.roll(base, int(rng.integers(0, base.size))) * rng.uniform(0.2, 0.9)
        sf.write(root / f"clip{i:05d}.wav", x.astype(np.float32), sample_rate, subtype="PCM_16")
        lines.append(json.dumps({"audio": f"clip{i:05d}.wav", "caption": f"generated clip {i}"}))
    path = root / "captions.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clips", type=int, default=200, help="number of 10 s clips (the target is stated for 1000)"
    )
    parser.add_argument("--keep", help="keep the generated corpus and datasets in this directory")
    args = parser.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mdct-bench-"))
    try:
        captions = make_corpus(root / "corpus", args.clips)
        specs, _ = read_captions(captions)
        build_dataset(specs[:4], root / "warmup", workers=1, progress=False)  # Numba cache, imports
        seconds_audio = 10.0 * len(specs)
        results = {}
        for workers in (1, 2):
            out = root / f"out{workers}"
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            report = build_dataset(specs, out, workers=workers, progress=False)
            results[workers] = time.perf_counter() - t0
            assert report.clips == len(specs), report.summary()
        one, two = results[1], results[2]
        print(f"### Dataset build: {len(specs)} clips of 10 s (44.1 kHz WAV in, 512 x 512 PNG out)\n")
        print("| workers | wall time (s) | x real time | x real time per core |")
        print("|---:|---:|---:|---:|")
        for w, t in results.items():
            print(f"| {w} | {t:.1f} | {seconds_audio / t:.0f} | {seconds_audio / t / w:.0f} |")
        print(f"\nspeed-up from 1 to 2 workers: {one / two:.2f}x (target: >= 300x real time per core)")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
