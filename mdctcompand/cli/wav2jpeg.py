"""``wav2jpeg`` and ``jpeg2wav``: the codec's command-line tools (also ``mdctcompand encode|decode|info``).

Inputs are files, directories (searched recursively), quoted globs (``'takes/**/*.wav'``,
expanded here) or ``-`` for stdin; ``-o -`` writes to stdout. Every output name is worked
out, and checked (no two inputs may map to one output, no existing file is replaced
without ``--force``), before any work starts. ``--jobs N`` runs N processes.

Start-up matters for a command called once per file: this module imports only the
standard library at import time; the codec (numpy, scipy, Pillow, soundfile) is imported
when work starts, and the compiled kernels only for large inputs.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..formats import FORMATS, format_from_path
from ._common import (
    EXIT_ERROR,
    EXIT_USAGE,
    CLIError,
    Console,
    Formatter,
    UsageError,
    add_settings_arguments,
    add_version,
    describe_error,
    exit_status,
    quiet_parent,
    run,
    settings_from_arguments,
    single_threaded_blas,
    verbosity_parent,
    with_file,
)

ENCODE_EXAMPLES = """\
examples:
  wav2jpeg song.flac                           # -> song.jpg beside it (24 kbit/s mono, 48 stereo)
  wav2jpeg song.wav -o song.webp               # format from the extension
  wav2jpeg song.mp3 --bitrate 32               # a target bit rate (default 24 mono, 48 stereo)
  wav2jpeg song.wav -f png                     # lossless 8-bit transform
  wav2jpeg music/ --output-dir images/ -j 4    # a whole tree (mirrored under images/), 4 processes
  wav2jpeg 'takes/**/*.wav' --output-dir out/  # a quoted glob, expanded here (** is recursive)
  sox in.aiff -t wav - | wav2jpeg - -o - > song.jpg   # '-' is stdin or stdout
"""

DECODE_EXAMPLES = """\
examples:
  jpeg2wav song.jpg                            # -> song.decoded.wav beside it: the source's rate,
                                               #    channels, length and sample format (16/24-bit, float)
  jpeg2wav song.jpg -o song.flac --subtype PCM_24
  jpeg2wav images/*.jpg --output-dir decoded/  # -> decoded/<image name>.wav
  jpeg2wav song.jpg -o - -f flac | ffplay -    # to stdout
  jpeg2wav song.jpg --decoder mmse             # conditional-mean decoding (see --decoder)
"""

#: Extensions a directory is searched for. soundfile reads most; m4a/mp4/aac/wma/webm/mka need PyAV.
AUDIO_EXTENSIONS = (
    ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".caf", ".w64",
    ".m4a", ".mp4", ".aac", ".wma", ".webm", ".mka",
)  # fmt: skip
_AUDIO_FORMAT_OF = {"oga": "OGG", "opus": "OGG", "aif": "AIFF", "aifc": "AIFF"}
STDIO = "-"


# ------------------------------------------------------------------ arguments
def add_encode_arguments(p: argparse.ArgumentParser) -> None:
    from ..codec.settings import EncodeSettings

    p.add_argument(
        "inputs", nargs="+", metavar="INPUT",
        help="audio files (wav, flac, ogg, mp3, ...), directories (searched recursively), "
        "quoted globs, or - for stdin",
    )  # fmt: skip
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "-o", "--output", metavar="FILE",
        help="output image for a single input; - writes to stdout "
        "(default: each input's name with the format's extension, beside it)",
    )  # fmt: skip
    out.add_argument(
        "--output-dir", metavar="DIR",
        help="write the outputs here (directory inputs keep their sub-folders); created if missing",
    )  # fmt: skip
    add_settings_arguments(p, EncodeSettings)  # every field of the codec's settings, with its help
    p.add_argument(
        "--tag", action="append", default=[], metavar="NAME=VALUE",
        help="a text tag to store (title, artist, album, date, tracknumber, genre, comment, copyright, license), "
        "over the source's; repeat for several",
    )  # fmt: skip
    p.add_argument("--no-tags", action="store_true", help="do not keep the source's tags (Vorbis comments, ID3, ...)")
    _add_batch_arguments(p)


def add_decode_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT",
        help="images written by wav2jpeg, directories (searched recursively), quoted globs, or - for stdin",
    )  # fmt: skip
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "-o", "--output", metavar="FILE",
        help="output audio for a single input; - writes to stdout "
        "(default: NAME.decoded.wav beside the image NAME.jpg, never the original's name)",
    )  # fmt: skip
    out.add_argument(
        "--output-dir", metavar="DIR",
        help="write NAME.wav for each image NAME.jpg here (NAME.decoded.wav if DIR is the images' own "
        "folder); directory inputs keep their sub-folders; created if missing",
    )  # fmt: skip
    p.add_argument(
        "-f", "--format", metavar="FORMAT",
        help="audio format: wav, flac, ogg, aiff, ... (default: from -o's extension, else wav)",
    )  # fmt: skip
    p.add_argument(
        "--subtype", metavar="SUBTYPE",
        help="sample format: PCM_16, PCM_24, PCM_32, FLOAT, ... (default: the source's, as recorded "
        "in the image); PCM formats clip at full scale and the number of clipped samples is reported",
    )  # fmt: skip
    p.add_argument(
        "--decoder", choices=("table", "mmse"), default="table",
        help="code reconstruction: cell midpoints, or the conditional mean given the image codec's noise "
        "(not always better: it lowered the SNR of 4 of 4 songs coded at the default rate)",
    )  # fmt: skip
    p.add_argument("--no-tags", action="store_true", help="do not write the text tags the image carries")
    _add_batch_arguments(p)


def _add_batch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-y", "--force", action="store_true", help="overwrite existing outputs (-y as in ffmpeg)")
    p.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N",
        help="files processed in parallel, one process each (0: one per CPU core)",
    )  # fmt: skip


# ------------------------------------------------------------------ planning
@dataclass(frozen=True)
class Job:
    """One conversion: ``source`` and ``target`` are paths, or ``-`` for stdin / stdout."""

    source: str
    target: str

    @property
    def name(self) -> str:
        """How messages name the input."""
        return "<stdin>" if self.source == STDIO else self.source


@dataclass(frozen=True)
class _Input:
    path: Path | None  # None: stdin
    base: Path | None  # outputs in --output-dir mirror the path relative to this


def _has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def _glob_base(pattern: str) -> Path:
    """The leading directories of a glob pattern that hold no wildcard."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if _has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _scan(directory: Path, extensions: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(root) / f for f in sorted(files) if not f.startswith(".") and f.lower().endswith(extensions)
        )
    return found


def expand_inputs(arguments: Sequence[str], extensions: tuple[str, ...], what: str) -> list[_Input]:
    """Files, directories (recursive), quoted globs and ``-`` -> the list of inputs, in order, without repeats."""
    out: list[_Input] = []
    seen: set[str] = set()

    def add(path: Path | None, base: Path | None) -> None:
        key = STDIO if path is None else os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.append(_Input(path, base))

    for arg in arguments:
        if arg == STDIO:
            add(None, None)
            continue
        path = Path(arg)
        if path.is_dir():
            files = _scan(path, extensions)
            if not files:
                raise CLIError(f"{arg}: no {what} files ({', '.join(extensions[:6])}, ...) in this directory")
            for f in files:
                add(f, path)
        elif path.exists():
            add(path, path.parent)
        elif _has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise CLIError(f"{arg}: no files match this pattern")
            base = _glob_base(arg)
            for m in map(Path, matches):
                if m.is_dir():
                    for f in _scan(m, extensions):
                        add(f, base)
                else:
                    add(m, base)
        else:
            raise CLIError(f"{arg}: no such file or directory")
    return out


def _is_regular(path: Path) -> bool:
    """A file that an output can be named after (not /dev/stdin, a pipe, a device or /proc/self/fd/N)."""
    if Path(os.path.abspath(path)).parts[1:2] in (("dev",), ("proc",)):
        return False
    try:
        return path.is_file() and not path.is_char_device() and not path.is_fifo()
    except OSError:
        return False


def plan_jobs(
    inputs: list[_Input],
    *,
    output: str | None,
    output_dir: str | None,
    suffix: str,
    decoded: bool,
    force: bool,
) -> list[Job]:
    """Every job's target, checked before any work: one input per output, no input overwritten,
    no existing file replaced without ``force``.

    ``decoded``: targets beside their input are named ``NAME.decoded.SUFFIX`` (a decoded
    image must never take the name of the original it was encoded from).
    """
    if output is not None:
        if len(inputs) != 1:
            raise UsageError(
                f"-o/--output takes one input but {len(inputs)} were given; use --output-dir DIR for several"
            )
        src = inputs[0].path
        return _checked([Job(STDIO if src is None else str(src), output)], force)
    jobs = []
    out_dir = Path(output_dir) if output_dir is not None else None
    for item in inputs:
        if item.path is None:
            raise UsageError("input - (stdin) needs -o FILE, or -o - for stdout")
        if not _is_regular(item.path):
            raise UsageError(
                f"{item.path}: not a regular file (a pipe or device); name the output with -o FILE or -o -"
            )
        if out_dir is None:
            folder, stem = item.path.parent, item.path.stem
        else:
            rel = item.path.relative_to(item.base) if item.base is not None else Path(item.path.name)
            folder, stem = out_dir / rel.parent, rel.stem
        same_folder = os.path.normcase(os.path.abspath(folder)) == os.path.normcase(
            os.path.abspath(item.path.parent)
        )
        if decoded and same_folder:
            stem += ".decoded"
        jobs.append(Job(str(item.path), str(folder / f"{stem}{suffix}")))
    return _checked(jobs, force)


def _checked(jobs: list[Job], force: bool) -> list[Job]:
    def key(p: str) -> str:
        return os.path.normcase(os.path.realpath(p))

    sources = {key(j.source): j for j in jobs if j.source != STDIO}
    claimed: dict[str, Job] = {}
    existing = []
    for job in jobs:
        if job.target == STDIO:
            continue
        k = key(job.target)
        if k in sources:
            raise UsageError(
                f"{job.name}: the output {job.target} would overwrite the input {sources[k].source}"
            )
        if k in claimed:
            raise UsageError(
                f"{claimed[k].name} and {job.name} would both be written to {job.target}; "
                "give them distinct names or folders (e.g. directory inputs with --output-dir)"
            )
        claimed[k] = job
        if os.path.lexists(job.target):
            existing.append(job.target)
    if existing and not force:
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise CLIError(f"{', '.join(existing[:3])}{more} exist(s); use --force to overwrite")
    return jobs


def _n_jobs(value: int) -> int:
    if value < 0:
        raise UsageError(f"--jobs {value} must be >= 0 (0: one per CPU core)")
    if value == 0:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:
            return os.cpu_count() or 1
    return value


# ------------------------------------------------------------------ one conversion
@dataclass(frozen=True)
class EncodeOptions:
    settings: Any  # codec.EncodeSettings
    force: bool
    tags: dict[str, str]  # over the source's
    source_tags: bool


@dataclass(frozen=True)
class DecodeOptions:
    format: str  # soundfile format name, e.g. "WAV"
    subtype: str | None
    decoder: str
    force: bool
    tags: bool = True


@dataclass(frozen=True)
class Outcome:
    """What one finished job reports back (picklable: it crosses process boundaries)."""

    job: Job
    line: str
    audio_seconds: float
    wall_seconds: float
    n_clipped: int = 0
    n_samples: int = 0


@contextlib.contextmanager
def _opened_source(source: str) -> Iterator[Any]:
    """A path, or stdin spooled into a seekable file (audio and image readers seek)."""
    if source != STDIO:
        yield source
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("input - (stdin) is a terminal; pipe data in, e.g. `... | wav2jpeg - -o out.jpg`")
    limit = _stdin_limit()
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        copied = 0
        while chunk := sys.stdin.buffer.read(1 << 20):
            copied += len(chunk)
            if copied > limit:
                raise CLIError(
                    f"input - (stdin): more than {limit >> 20} MiB; write it to a file, or raise the limit with "
                    f"{STDIN_LIMIT_VARIABLE}=MIB"
                )
            try:
                spool.write(chunk)
            except OSError as exc:  # the spool went to disk, and the disk is full
                raise CLIError(
                    f"input - (stdin): the temporary directory {tempfile.gettempdir()} could not hold "
                    f"{copied >> 20} MiB ({exc.strerror or exc}); point TMPDIR at a larger one, or write the input "
                    "to a file"
                ) from None
        spool.seek(0)
        yield spool


#: Environment variable that raises the largest stdin input (MiB; default :data:`DEFAULT_STDIN_MB`).
STDIN_LIMIT_VARIABLE = "MDCTCOMPAND_MAX_STDIN_MB"
DEFAULT_STDIN_MB = 4096


def _stdin_limit() -> int:
    text = os.environ.get(STDIN_LIMIT_VARIABLE, "")
    try:
        mib = int(text) if text else DEFAULT_STDIN_MB
    except ValueError:
        raise UsageError(f"{STDIN_LIMIT_VARIABLE}={text!r} must be a whole number of MiB") from None
    if mib < 1:
        raise UsageError(f"{STDIN_LIMIT_VARIABLE}={text!r} must be at least 1 (MiB)")
    return mib << 20


@contextlib.contextmanager
def _opened_target(target: str) -> Iterator[Any]:
    """A path, or a seekable buffer copied to stdout only once the conversion succeeded."""
    if target != STDIO:
        yield target
        return
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        yield spool
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout.buffer)
        sys.stdout.buffer.flush()


def _tags(given: list[str]) -> dict[str, str]:
    """``--tag NAME=VALUE`` options as a dict, checked before any work."""
    from ..io import TAG_NAMES

    out = {}
    for item in given:
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in TAG_NAMES:
            raise UsageError(f"--tag {item}: write NAME=VALUE with NAME one of {', '.join(TAG_NAMES)}")
        out[name] = value
    return out


def encode_one(
    job: Job, options: EncodeOptions, progress: Callable[[int, int], None] | None = None
) -> Outcome:
    """Encode one file: the command line's only call into the codec's encoder."""
    from .. import codec

    start = time.perf_counter()
    with _opened_source(job.source) as src, _opened_target(job.target) as dst:
        info = codec.encode_file(
            src, dst, overwrite=options.force, settings=options.settings, progress=progress, tags=options.tags,
            source_tags=options.source_tags,
        )  # fmt: skip
    quality = "lossless" if info.quality is None else f"q{info.quality}"
    if info.jpeg_step is not None:
        quality = f"step {info.jpeg_step:g}"
    line = (
        f"{job.name} -> {job.target if job.target != STDIO else '<stdout>'}: {info.duration:.2f} s, "
        f"{info.bitrate_kbps:.1f} kbit/s ({info.format.upper()} {quality})"
    )
    return Outcome(job, line, info.duration, time.perf_counter() - start)


def decode_one(
    job: Job, options: DecodeOptions, progress: Callable[[int, int], None] | None = None
) -> Outcome:
    """Decode one file: the command line's only call into the codec's decoder."""
    from .. import codec

    start = time.perf_counter()
    with _opened_source(job.source) as src, _opened_target(job.target) as dst:
        result = codec.decode_file(
            src, dst, overwrite=options.force, subtype=options.subtype, decoder=options.decoder,
            format=options.format, progress=progress, tags=options.tags,
        )  # fmt: skip
    line = (
        f"{job.name} -> {job.target if job.target != STDIO else '<stdout>'}: {result.duration:.2f} s, "
        f"{result.source_channels} channel(s) at {result.source_sample_rate} Hz"
    )
    n_samples = round(result.duration * result.source_sample_rate) * result.source_channels
    return Outcome(job, line, result.duration, time.perf_counter() - start, int(result.clipped_samples), n_samples)


# ------------------------------------------------------------------ running the jobs
def _call(work: Callable[..., Outcome], job: Job, *, options: Any) -> Outcome:
    return work(job, options)


def run_jobs(
    console: Console, jobs: list[Job], work: Callable[..., Outcome], options: Any, n_jobs: int
) -> int:
    """Run every job (serially, or in ``n_jobs`` processes); report each; exit status 1 if any failed.

    One failing input is reported with its name and the others still run.
    """
    failures = 0

    def report(outcome: Outcome) -> None:
        speed = outcome.audio_seconds / max(outcome.wall_seconds, 1e-9)
        console.info(outcome.line)
        console.detail(f"  {outcome.wall_seconds:.2f} s wall, {speed:.0f}x real time")
        if outcome.n_clipped:
            share = 100 * outcome.n_clipped / max(outcome.n_samples, 1)
            console.warn(
                f"{outcome.job.name}: {outcome.n_clipped} samples ({share:.2g}%) clipped to [-1, 1]; "
                "--subtype FLOAT keeps them"
            )

    def failed(job: Job, exc: BaseException) -> None:
        nonlocal failures
        if isinstance(exc, (KeyboardInterrupt, SystemExit)) or not isinstance(exc, Exception):
            raise exc
        failures += 1
        console.error(with_file(job.name, describe_error(exc)))

    if len(jobs) == 1:
        holder: dict[str, Any] = {}

        def progress(done: int, total: int) -> None:
            if "bar" not in holder:
                holder["bar"] = stack.enter_context(
                    console.bar(total=total, unit="sample", desc=Path(jobs[0].name).name, initial=done)
                )
            else:
                holder["bar"].update(done - holder["done"])
            holder["done"] = done

        with contextlib.ExitStack() as stack:
            try:
                outcome = work(jobs[0], options, progress if console.interactive else None)
            except BrokenPipeError:  # `-o - | head`: the reader left; stop quietly
                raise
            except Exception as exc:
                stack.close()
                error = UsageError if isinstance(exc, UsageError) else CLIError  # a file's fault unless a flag's
                raise error(with_file(jobs[0].name, describe_error(exc))) from exc
        report(outcome)
        return 0

    n = min(n_jobs, len(jobs))
    if n <= 1:
        with console.bar(total=len(jobs), unit="file") as bar:
            for job in jobs:
                try:
                    report(work(job, options))
                except Exception as exc:
                    failed(job, exc)
                bar.update(1)
    else:
        import functools

        from ..parallel import imap_unordered

        # The first file runs here, before the workers fork: the caches it fills (the
        # compander's tables, about 1 s of CPU) are then inherited instead of rebuilt by
        # every worker, which matters where the cores are shared.
        try:
            report(work(jobs[0], options))
        except Exception as exc:
            failed(jobs[0], exc)
        rest = jobs[1:]
        # A dead worker (killed, out of memory) costs only its own file: the others finish
        # (imap_unordered retries what it took with it, one at a time).
        results = imap_unordered(functools.partial(_call, work, options=options), rest, workers=n, in_flight=2 * n)
        first = next(results, None)  # the workers start (fork) before tqdm's monitor thread does
        with console.bar(total=len(jobs), unit="file", initial=1) as bar:
            for index, result in itertools.chain([first] if first is not None else [], results):
                if isinstance(result, BaseException):
                    failed(rest[index], result)
                else:
                    report(result)
                bar.update(1)
    if failures:
        console.error(f"{failures} of {len(jobs)} files failed")
        return EXIT_ERROR
    return 0


# ------------------------------------------------------------------ commands
def _check_output(target: str | None) -> None:
    if target == STDIO and sys.stdout.isatty():
        raise UsageError("-o - would write binary data to a terminal; redirect stdout (e.g. `> out.jpg`)")
    if target not in (None, STDIO) and (Path(target).is_dir() or target.endswith(os.sep)):
        raise UsageError(f"-o {target} is a directory; use --output-dir {target}")


def _encode_settings(args: argparse.Namespace) -> tuple[Any, str]:
    """The encode settings, validated before any work; errors name the flag."""
    from ..codec import EncodeSettings

    fmt = args.format
    if args.output not in (None, STDIO):
        try:
            from_ext = format_from_path(args.output)
        except ValueError as exc:
            if fmt is None:  # a name without a known extension is fine where -f says the format
                raise UsageError(f"-o {args.output}: unknown image extension; {describe_error(exc).split('; ')[-1]}, or say the format with -f") from exc
            from_ext = fmt
        if fmt is not None and fmt != from_ext:
            raise UsageError(f"--format {fmt} does not match -o {args.output} (a {from_ext} name)")
        fmt = from_ext
    fmt = fmt or "jpeg"
    if not FORMATS[fmt].available:
        raise UsageError(f"--format {fmt} is not available: {FORMATS[fmt].install_hint}")
    options = settings_from_arguments(args, EncodeSettings)
    options.update(format=fmt, profile=None if args.profile == "auto" else args.profile)
    if options["profile"] is not None:
        from ..profile import load_profile

        try:
            options["profile"] = load_profile(options["profile"])
        except (ValueError, OSError) as exc:
            error = UsageError if exit_status(exc) == EXIT_USAGE else CLIError
            raise error(f"--profile {args.profile}: {describe_error(exc)}") from exc
    settings = EncodeSettings(**options)
    return settings, fmt


def cmd_encode(args: argparse.Namespace, prog: str = "wav2jpeg") -> int:
    console = Console(prog, args.verbosity)
    _check_output(args.output)
    n_jobs = _n_jobs(args.jobs)
    inputs = expand_inputs(args.inputs, AUDIO_EXTENSIONS, "audio")
    settings, fmt = _encode_settings(args)  # every setting is checked before any work
    tags = _tags(args.tag)
    jobs = plan_jobs(
        inputs, output=args.output, output_dir=args.output_dir, suffix=FORMATS[fmt].extensions[0], decoded=False,
        force=args.force,
    )  # fmt: skip
    q = (
        "lossless"
        if settings.lossless
        else (
            f"{settings.bitrate:g} kbit/s"
            if settings.bitrate
            else (f"quality {settings.quality}" if settings.quality else "24 kbit/s mono, 48 stereo")
        )
    )
    console.detail(
        f"{prog}: {len(jobs)} file(s), {fmt} {q}, tilt {settings.tilt}, {settings.stereo}, "
        f"{settings.tile_frames}-frame tiles, {min(n_jobs, len(jobs))} process(es)"
    )
    return run_jobs(console, jobs, encode_one, EncodeOptions(settings, args.force, tags, not args.no_tags), n_jobs)


def _audio_format(args: argparse.Namespace) -> str:
    import soundfile as sf

    known = sf.available_formats()
    fmt = args.format.upper() if args.format else None
    if fmt is not None and fmt not in known:
        raise UsageError(
            f"--format {args.format}: unknown audio format; choose one of {', '.join(sorted(known)).lower()}"
        )
    if args.output not in (None, STDIO):
        ext = Path(args.output).suffix.lstrip(".").lower()
        from_ext = _AUDIO_FORMAT_OF.get(ext, ext.upper())
        if from_ext not in known:
            if fmt is None:  # a name without a known extension is fine where -f says the format
                raise UsageError(
                    f"-o {args.output}: unknown audio extension; use .wav, .flac, .ogg, ..., or say the format with -f"
                )
            from_ext = fmt
        if fmt is not None and fmt != from_ext:
            raise UsageError(f"--format {args.format} does not match -o {args.output}")
        fmt = from_ext
    fmt = fmt or "WAV"
    if args.subtype is not None:
        subtype = args.subtype.upper()
        if not sf.check_format(fmt, subtype):
            raise UsageError(
                f"--subtype {args.subtype} is not available for {fmt}; choose one of "
                f"{', '.join(sf.available_subtypes(fmt))}"
            )
        args.subtype = subtype
    return fmt


def cmd_decode(args: argparse.Namespace, prog: str = "jpeg2wav") -> int:
    console = Console(prog, args.verbosity)
    _check_output(args.output)
    n_jobs = _n_jobs(args.jobs)
    inputs = expand_inputs(args.inputs, tuple(e for spec in FORMATS.values() for e in spec.extensions), "image")
    fmt = _audio_format(args)
    jobs = plan_jobs(
        inputs, output=args.output, output_dir=args.output_dir, suffix=f".{fmt.lower()}", decoded=True,
        force=args.force,
    )  # fmt: skip
    console.detail(
        f"{prog}: {len(jobs)} file(s) -> {fmt}, subtype {args.subtype or 'of the source'}, "
        f"{args.decoder} decoder, {min(n_jobs, len(jobs))} process(es)"
    )
    return run_jobs(
        console, jobs, decode_one, DecodeOptions(fmt, args.subtype, args.decoder, args.force, not args.no_tags), n_jobs
    )


def cmd_info(args: argparse.Namespace) -> int:
    import json

    from ..codec import read_info

    for i, name in enumerate(args.files):
        try:
            info = read_info(name)
        except (ValueError, OSError) as exc:
            raise CLIError(with_file(name, describe_error(exc))) from exc
        if args.json:
            print(json.dumps({"file": name, "bitrate_kbps": round(info.bitrate_kbps, 3), **info.metadata}))
            continue
        if i:
            print()
        print(f"{name}:")
        print(info.summary())
    return 0


ENCODE_DESCRIPTION = "Encode audio as an image of companded MDCT codes (a lossy codec; PNG is lossless)."
DECODE_DESCRIPTION = "Decode images written by wav2jpeg back to audio: the original's sample rate, channels, length and sample format."
INFO_DESCRIPTION = (
    "Describe encoded files without decoding them: duration, source rate and channels, image format and "
    "quality, tilt, bandwidth, profile, size and bit rate. Prints to stdout."
)


def _encode_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wav2jpeg", description=ENCODE_DESCRIPTION, epilog=ENCODE_EXAMPLES, formatter_class=Formatter,
        parents=[verbosity_parent()],
    )  # fmt: skip
    add_version(p)
    add_encode_arguments(p)
    return p


def _decode_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jpeg2wav", description=DECODE_DESCRIPTION, epilog=DECODE_EXAMPLES, formatter_class=Formatter,
        parents=[verbosity_parent()],
    )  # fmt: skip
    add_version(p)
    add_decode_arguments(p)
    return p


def main_encode(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``wav2jpeg``."""
    single_threaded_blas()
    return run(lambda a: cmd_encode(_encode_parser().parse_args(a)), argv, "wav2jpeg")


def main_decode(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jpeg2wav``."""
    single_threaded_blas()
    return run(lambda a: cmd_decode(_decode_parser().parse_args(a)), argv, "jpeg2wav")


def register(sub: argparse._SubParsersAction) -> None:
    """``mdctcompand encode``, ``decode`` and ``info``."""
    enc = sub.add_parser(
        "encode", parents=[verbosity_parent()], help="audio -> image (same as wav2jpeg)",
        description=ENCODE_DESCRIPTION, epilog=ENCODE_EXAMPLES, formatter_class=Formatter,
    )  # fmt: skip
    add_encode_arguments(enc)
    enc.set_defaults(func=lambda a: cmd_encode(a, "mdctcompand encode"))
    dec = sub.add_parser(
        "decode", parents=[verbosity_parent()], help="image -> audio (same as jpeg2wav)",
        description=DECODE_DESCRIPTION, epilog=DECODE_EXAMPLES, formatter_class=Formatter,
    )  # fmt: skip
    add_decode_arguments(dec)
    dec.set_defaults(func=lambda a: cmd_decode(a, "mdctcompand decode"))
    info = sub.add_parser(
        "info", parents=[quiet_parent()], help="what an encoded file holds, and its bit rate",
        description=INFO_DESCRIPTION, formatter_class=Formatter,
    )  # fmt: skip
    info.add_argument("files", nargs="+", metavar="FILE", help="images written by wav2jpeg")
    info.add_argument("--json", action="store_true", help="print each file's raw metadata as one JSON line")
    info.set_defaults(func=cmd_info)


if __name__ == "__main__":
    sys.exit(main_encode())
