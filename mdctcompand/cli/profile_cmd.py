"""``mdctcompand profile``: list, fit, show and plot per-band GGD profiles."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._common import CLIError, Console, Formatter, UsageError, blame, quiet_parent

# Spelled here, not imported from mdctcompand.fitting (numpy): tests/test_cli_options.py checks
# it equals fitting.DEFAULT_MIN_SHAPE.
DEFAULT_MIN_SHAPE = 0.4

FIT_EXAMPLES = """\
examples:
  # fit on a directory of music at its own rate (44.1 kHz files: frame 2048, 1024 bands, full
  # band, as the shipped `44k` profile; 24 kHz and below: frame 1024), 10 s clips, all cores
  mdctcompand profile fit music/ -o my_profile.json --workers -1

  # the paper's geometry (24 kHz, 512 bands: everything above 12 kHz is cut)
  mdctcompand profile fit music/ -o my_24k.json --sample-rate 24000 --frame-length 1024

  # MusicCaps clips fetched with `mdctcompand dataset fetch`
  mdctcompand profile fit musiccaps/audio/ -o musiccaps.json --name musiccaps

  # keep the statistics, add more data later, merge across machines
  mdctcompand profile fit part1/ -o p.json --save-statistics s1.json
  mdctcompand profile fit part2/ -o p.json --statistics s1.json
"""


_PROFILE_HELP = "a shipped profile's name (paper, 44k, 48k: see `profile list`) or a profile JSON file"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile", help="list, fit, show and plot per-band GGD profiles", formatter_class=Formatter,
        description="Per-band generalized-Gaussian profiles: list the shipped ones, fit one on your audio, "
        "print one, plot one.",
    )  # fmt: skip
    psub = p.add_subparsers(
        dest="profile_command", required=True, metavar="{list,fit,show,plot}", help="what to do"
    )

    listing = psub.add_parser(
        "list",
        help="the shipped profiles: names, aliases, rates, geometry and ids",
        description="The shipped profiles; `profile show NAME` and every --profile option take these names.",
        formatter_class=Formatter,
    )
    listing.set_defaults(func=cmd_list)

    fit = psub.add_parser(
        "fit",
        parents=[quiet_parent()],
        help="fit a profile on audio files or directories",
        description="Fit per-band GGD shapes and scales on a corpus of audio.",
        epilog=FIT_EXAMPLES,
        formatter_class=Formatter,
    )
    fit.add_argument("inputs", nargs="+", help="audio files or directories (searched recursively)")
    fit.add_argument("-o", "--output", required=True, help="profile JSON to write")
    fit.add_argument("--force", action="store_true", help="overwrite the output")
    fit.add_argument(
        "--sample-rate", type=int,
        help="resample to this rate (Hz); default: the inputs' (the highest, if they differ)",
    )  # fmt: skip
    fit.add_argument(
        "--frame-length", type=int,
        help="MDCT frame length (bands = half); default: 1024 up to 24 kHz, 2048 above (bands of 21-23 Hz)",
    )  # fmt: skip
    fit.add_argument("--window", default="sine", help="MDCT window: sine, vorbis, kbd, kbd:ALPHA")
    fit.add_argument(
        "--level", default="rms:-20", help="per-clip level normalization: rms:DB, peak:DB or none"
    )
    fit.add_argument("--clip-seconds", type=float, default=10.0, help="clip length")
    fit.add_argument("--method", choices=("moments", "mle"), default="mle", help="per-band estimator")
    fit.add_argument("--smoothing", type=int, default=9, help="across-band smoothing width (0: none)")
    fit.add_argument(
        "--min-shape",
        type=float,
        default=DEFAULT_MIN_SHAPE,
        help="smallest GGD shape of a band (mostly empty bands otherwise fit ~0.1; 0.05: unconstrained)",
    )
    fit.add_argument("--name", default="custom", help="profile name")
    fit.add_argument("--description", default="", help="free text stored in the profile")
    fit.add_argument("--workers", type=int, default=-1, help="processes (-1: all cores)")
    fit.add_argument(
        "--scheduler",
        help="Dask scheduler (tcp://host:port, or 'local' for a LocalCluster of --workers processes)",
    )
    fit.add_argument("--statistics", help="statistics JSON to merge with (from an earlier run)")
    fit.add_argument("--save-statistics", help="write the merged statistics JSON here")
    fit.set_defaults(func=cmd_fit)

    show = psub.add_parser(
        "show",
        parents=[quiet_parent()],
        help="print a profile's geometry and a band summary",
        description="Print a profile's geometry, provenance and a summary of its bands (or all of it as JSON).",
        formatter_class=Formatter,
    )
    show.add_argument("profile", nargs="?", default="paper", help=_PROFILE_HELP)
    show.add_argument("--json", action="store_true", help="print the whole profile as JSON")
    show.set_defaults(func=cmd_show)

    plot = psub.add_parser(
        "plot",
        parents=[quiet_parent()],
        help="plot shape and scale per band (needs matplotlib)",
        description="Plot a profile's shape and scale per band to an image file (needs matplotlib).",
        formatter_class=Formatter,
    )
    plot.add_argument("profile", nargs="?", default="paper", help=_PROFILE_HELP)
    plot.add_argument("-o", "--output", required=True, help="image file to write (png, svg, pdf)")
    plot.add_argument("--force", action="store_true", help="overwrite the output")
    plot.set_defaults(func=cmd_plot)


def _load(spec: str):
    from ..profile import load_profile

    return load_profile(spec)


def cmd_list(args: argparse.Namespace) -> int:
    from ..profile import load_profile, shipped_aliases, shipped_profiles

    aliases = shipped_aliases()
    print(
        f"{'name':<6} {'aliases':<20} {'rate':>6} {'frame':>6} {'bands':>6} {'Hz/band':>8}  {'id':<16}  profile name"
    )
    for name in shipped_profiles():
        p = load_profile(name)
        print(
            f"{name:<6} {', '.join(aliases[name]) or '-':<20} {p.sample_rate:>6} {p.frame_length:>6} {p.n_bands:>6} "
            f"{p.sample_rate / p.frame_length:>8.1f}  {p.id:<16}  {p.name}"
        )
    return 0


#: The library's keywords -> ``profile fit``'s flags, for messages.
_FIT_FLAGS = {"sample_rate": "--sample-rate", "frame_length": "--frame-length", "window": "--window",
              "clip_seconds": "--clip-seconds", "method": "--method", "smoothing": "--smoothing",
              "min_shape": "--min-shape", "workers": "--workers"}  # fmt: skip


def cmd_fit(args: argparse.Namespace) -> int:
    from ..fitting import FitConfig, fit_profile
    from ..profile import LevelSpec
    from ..stats import BandStatistics

    console = Console("mdctcompand", 0 if args.quiet else 1)
    out = Path(args.output)
    if out.exists() and not args.force:
        raise CLIError(f"-o {out}: exists (use --force to overwrite)")
    # every check that can fail runs before the first file is read
    with blame("--level", args.level):
        LevelSpec.parse(args.level)
    sample_rate, frame_length, notes = _fit_geometry(args)
    with blame(keywords=_FIT_FLAGS):
        config = FitConfig(
            sample_rate=sample_rate,
            frame_length=frame_length,
            window=args.window,
            level=args.level,
            clip_seconds=args.clip_seconds,
        )

    start = None
    if args.statistics:
        with blame("--statistics", args.statistics, file=True):
            try:
                start = BandStatistics.load(args.statistics)
            except (UnicodeDecodeError, KeyError, TypeError) as exc:  # not a statistics JSON at all
                raise CLIError(f"--statistics {args.statistics}: not a statistics JSON ({exc})") from exc
    with blame(keywords=_FIT_FLAGS):
        profile, stats = fit_profile(
            args.inputs,
            config=config,
            method=args.method,
            smoothing=args.smoothing,
            name=args.name,
            description=args.description,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=console.interactive,
            statistics=start,
            min_shape=args.min_shape,
        )
    with blame("-o", out):
        profile.save(out)
    if args.save_statistics:
        with blame("--save-statistics", args.save_statistics, file=True):
            stats.save(args.save_statistics)
    for level, text in notes:  # the rate chosen (after the fit: every setting is valid)
        (console.warn if level == "warn" else console.info)(text)
    console.info(f"wrote {out}: {profile.n_bands} bands from {stats.n_clips} clips, id {profile.id}")
    at_floor = int((profile.shape <= args.min_shape * (1 + 1e-9)).sum())
    text = f"{at_floor} of {profile.n_bands} bands at the shape floor (--min-shape {args.min_shape:g})"
    if at_floor > profile.n_bands // 2:
        console.warn(
            f"{text}: most bands are sparser than the floor allows (tonal or near-empty music, or too few "
            "clips); the profile is fitted, but fit on more (and more varied) music if you can"
        )
    else:
        console.info(text)
    return 0


def _fit_geometry(args: argparse.Namespace) -> tuple[int, int, list[tuple[str, str]]]:
    """``--sample-rate`` (default: the inputs' highest rate), ``--frame-length`` (default by rate)
    and the notes to print: the rate chosen, a warning when the rate would cut the inputs' band.

    Missing or unreadable inputs are left to the fit, which reports them."""
    from ..fitting import audio_files
    from ..io import audio_info

    rates = set()
    try:
        files = audio_files(args.inputs)
    except Exception:  # reported by the fit, after the settings are checked
        files = []
    for path in files:
        try:
            rates.add(audio_info(path).sample_rate)
        except Exception:  # an unreadable file: the fit skips and reports it
            continue
    highest = max(rates) if rates else None
    rate = args.sample_rate if args.sample_rate is not None else highest or 24000
    notes = []
    if args.sample_rate is None and highest is not None:
        more = " (the highest of them)" if len(rates) > 1 else ""
        notes.append(("info", f"fitting at {rate} Hz, the inputs' rate{more}"))
    if highest is not None and isinstance(rate, int) and 0 < rate < highest:
        notes.append((
            "warn",
            f"--sample-rate {rate} cuts the inputs' band above {rate / 2:g} Hz (files at {highest} Hz): "
            f"leave --sample-rate out (or pass {highest}) to keep it",
        ))  # fmt: skip
    frame_length = args.frame_length
    if frame_length is None:
        frame_length = 1024 if not isinstance(rate, int) or rate <= 24000 else 2048
    return rate, frame_length, notes


def cmd_show(args: argparse.Namespace) -> int:
    import numpy as np

    p = _load(args.profile)
    if args.json:
        json.dump(p.to_dict(), sys.stdout, indent=1)
        print()
        return 0
    f = p.band_frequencies()
    print(p)
    print(f"description: {p.description or '-'}")
    print(
        f"fitted on {p.n_clips} clips ({p.n_values} values per band, method {p.fit_method}, smoothing {p.smoothing})"
    )
    print(f"{'band':>6} {'Hz':>8} {'shape':>7} {'scale':>10} {'std':>10}")
    for k in np.unique(np.linspace(0, p.n_bands - 1, 12).round().astype(int)):
        print(f"{k:6d} {f[k]:8.0f} {p.shape[k]:7.3f} {p.scale[k]:10.3g} {p.std[k]:10.3g}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from ..io import atomic_output

    p = _load(args.profile)
    out = Path(args.output)
    fmt = out.suffix.lstrip(".").lower() or "png"
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError as exc:
        raise CLIError("profile plot needs matplotlib: pip install matplotlib") from exc
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise UsageError(f"-o {out}: format {fmt!r} is not supported ({', '.join(sorted(supported))})")
    from ..plotting import plot_profile

    with blame("-o", out), atomic_output(out, overwrite=args.force) as tmp:
        fig = plot_profile(p)
        fig.savefig(tmp, format=fmt, dpi=120, bbox_inches="tight")
    if not args.quiet:
        Console("mdctcompand").info(f"wrote {out}")
    return 0
