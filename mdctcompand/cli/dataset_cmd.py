"""``mdctcompand dataset``: build captioned image datasets (MDCT-1k) and fetch MusicCaps audio.

Imports only the standard library at load (``mdctcompand --help`` and every other
subcommand load this module); the dataset builder is imported when a subcommand runs.
"""

from __future__ import annotations

import argparse

from ._common import (
    CLIError,
    Console,
    Formatter,
    UsageError,
    add_settings_arguments,
    blame,
    quiet_parent,
    settings_from_arguments,
)

BUILD_EXAMPLES = """\
examples:
  # MusicCaps ("MDCT-1k"): the CSV plus the clips fetched by `mdctcompand dataset fetch`
  mdctcompand dataset build --musiccaps musiccaps-public.csv --audio-dir musiccaps/ -o mdct1k/

  # any captioned audio: CSV or JSONL with columns audio (or file/path), caption[, split]
  mdctcompand dataset build --captions captions.jsonl -o my_dataset/ --workers -1

  # a killed build resumes: run the same command again
  # a cluster: mdctcompand dataset build ... --scheduler tcp://scheduler:8786
"""

FETCH_EXAMPLES = """\
examples:
  mdctcompand dataset fetch musiccaps-public.csv -o musiccaps/ --jobs 8
  mdctcompand dataset fetch musiccaps-public.csv -o musiccaps/ --skip-list unavailable.txt --retries 5
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dataset", help="build captioned image datasets, fetch MusicCaps", formatter_class=Formatter,
        description="Captioned image datasets of MDCT codes (MDCT-1k from MusicCaps, or your own captions).",
    )  # fmt: skip
    dsub = p.add_subparsers(dest="dataset_command", required=True, metavar="{build,fetch}", help="what to do")

    b = dsub.add_parser(
        "build",
        parents=[quiet_parent()],
        help="captioned audio -> imagefolder dataset of 8-bit MDCT images",
        description="Turn captioned clips into a Hugging Face imagefolder dataset (resumable, parallel).",
        epilog=BUILD_EXAMPLES,
        formatter_class=Formatter,
    )
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--musiccaps", metavar="CSV", help="MusicCaps-format CSV (needs --audio-dir)")
    src.add_argument("--captions", metavar="FILE", help="CSV or JSONL of (audio, caption[, split])")
    b.add_argument("--audio-dir", help="audio files: MusicCaps clips named YTID.wav (or .flac, ...)")
    b.add_argument("-o", "--output", required=True, help="dataset directory")
    from ..dataset import BuildConfig  # the image settings are its fields (numpy only)

    add_settings_arguments(b, BuildConfig)
    b.add_argument("--name", default="MDCT dataset", help="dataset name for the card (e.g. MDCT-1k)")
    b.add_argument("--limit", type=int, help="use only the first N clips")
    b.add_argument("--workers", type=int, default=-1, help="processes (-1: all cores)")
    b.add_argument("--scheduler", help="Dask scheduler (tcp://host:port, or 'local')")
    b.set_defaults(func=cmd_build)

    f = dsub.add_parser(
        "fetch",
        parents=[quiet_parent()],
        help="download MusicCaps clips with yt-dlp",
        description="Download each MusicCaps clip's 10 s section as OUT/YTID.wav (never twice).",
        epilog=FETCH_EXAMPLES,
        formatter_class=Formatter,
    )
    f.add_argument("csv", help="MusicCaps-format CSV")
    f.add_argument("-o", "--output", required=True, help="directory for the clips")
    f.add_argument("--downloader", default="yt-dlp", help="yt-dlp executable")
    f.add_argument("--retries", type=int, default=3, help="retries per clip")
    f.add_argument("--backoff", type=float, default=2.0, help="seconds before the first retry (doubles)")
    f.add_argument("--skip-list", help="file of ids to skip, one per line")
    f.add_argument("--retry-failed", action="store_true", help="retry ids recorded in fetch_failures.jsonl")
    f.add_argument("--jobs", type=int, default=4, help="parallel downloads")
    f.add_argument("--limit", type=int, help="only the first N rows")
    f.set_defaults(func=cmd_fetch)


#: The library's keywords -> this command's flags, for messages.
_BUILD_FLAGS = {"n_frames": "--frames", "frames": "--frames", "tilt": "--tilt", "rounding": "--rounding", "band_gains": "--band-gains",
                "stereo": "--stereo", "workers": "--workers", "profile": "--profile", "level": "--level",
                "silence_db": "--silence-db", "png_compression": "--png-compression"}  # fmt: skip


def cmd_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .._validation import check_workers
    from ..band_gains import TILT_WITH_BAND_GAINS, TILT_WITHOUT_BAND_GAINS
    from ..dataset import BuildConfig, build_dataset, read_captions, read_musiccaps
    from ..profile import load_profile

    console = Console("mdctcompand", 0 if args.quiet else 1)
    default_tilt = TILT_WITH_BAND_GAINS if args.band_gains == "clip" else TILT_WITHOUT_BAND_GAINS
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CLIError(f"-o {out}: exists and is not a directory (a dataset is a directory)")
    with blame(keywords=_BUILD_FLAGS):
        check_workers(args.workers)
    if args.audio_dir is not None and not Path(args.audio_dir).is_dir():
        raise CLIError(f"--audio-dir {args.audio_dir}: no such directory")
    # a bad profile or setting is refused before any file is read or written
    with blame("--profile", args.profile):
        load_profile(args.profile)
    options = settings_from_arguments(args, BuildConfig)
    if options["level"] is not None:
        from ..profile import LevelSpec

        with blame("--level", options["level"]):
            LevelSpec.parse(options["level"])
    options["tilt"] = default_tilt if options["tilt"] is None else options["tilt"]
    with blame(keywords=_BUILD_FLAGS):
        config = BuildConfig(**options)
        config.converter().max_samples(config.frames)
    if args.musiccaps:
        if not args.audio_dir:
            raise UsageError(
                "--musiccaps needs --audio-dir (where `mdctcompand dataset fetch` put the clips)"
            )
        flag, listing = "--musiccaps", args.musiccaps
        with blame(flag, listing, file=True):
            specs, log = read_musiccaps(listing, args.audio_dir)
    else:
        flag, listing = "--captions", args.captions
        with blame(flag, listing, file=True):
            specs, log = read_captions(listing, args.audio_dir)
    if args.limit is not None:
        specs = specs[: args.limit]
    if not specs:
        where = f"--audio-dir {args.audio_dir}" if args.audio_dir else f"the folder of {listing}"
        example = f" (e.g. {log[0]['reason']})" if log else ""
        raise CLIError(f"{flag} {listing}: none of its {len(log)} clip(s) has audio in {where}{example}")
    with blame("-o", out, keywords=_BUILD_FLAGS):  # e.g. a directory built with other settings
        report = build_dataset(
            specs, out, config=config, workers=args.workers, scheduler=args.scheduler,
            progress=console.interactive, log=log, name=args.name,
        )  # fmt: skip
    console.info(report.summary())
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from ..dataset import fetch_musiccaps

    console = Console("mdctcompand", 0 if args.quiet else 1)
    if shutil.which(args.downloader) is None:
        raise CLIError(
            f"--downloader {args.downloader}: not installed or not on PATH (pip install yt-dlp; it also needs ffmpeg)"
        )
    if args.skip_list is not None and not Path(args.skip_list).is_file():
        raise CLIError(f"--skip-list {args.skip_list}: no such file")
    with blame(
        keywords={"jobs": "--jobs", "retries": "--retries", "limit": "--limit"}, file=True
    ):  # the CSV's
        counts = fetch_musiccaps(
            args.csv, args.output, downloader=args.downloader, retries=args.retries, backoff_s=args.backoff,
            skip_list=args.skip_list, retry_failed=args.retry_failed, jobs=args.jobs, limit=args.limit,
            progress=console.interactive,
        )  # fmt: skip
    console.info(
        ", ".join(f"{v} {k}" for k, v in counts.items())
        + f" (failures in {args.output}/fetch_failures.jsonl)"
    )
    return 0 if counts["failed"] == 0 else 1
