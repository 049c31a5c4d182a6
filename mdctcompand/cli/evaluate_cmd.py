"""``mdctcompand evaluate``: Fréchet and kernel distances between a generated and a reference audio folder."""

from __future__ import annotations

import argparse
import json

from ._common import CLIError, Console, Formatter, UsageError, blame, quiet_parent

EXAMPLES = """\
examples:
  mdctcompand evaluate samples/ --reference musiccaps_test/            # a table
  mdctcompand evaluate samples/ --reference musiccaps_test/ --json     # {"frechet_distance": ..., ...}
  mdctcompand evaluate samples/ --reference ref/ --embedding musicnn     # needs: pip install --no-deps musicnn==0.1.0
  mdctcompand evaluate samples/ --reference ref/ --embedding clap:/models/larger_clap_music
  mdctcompand evaluate samples/ --reference ref/ --embedding fadtk:encodec-emb

The default embedding, mel-mdct-v2, needs no weights: per 42.7 ms frame at 24 kHz, 64 log-mel
energies over a floor 30 dB under the clip's mean band power, and 16 MDCT band groups' flatness,
energy change and phase coherence, after normalizing every clip to -23 LUFS (mel-mdct-v1, the
previous version, stays available). Intervals are 95 % clip-bootstrap intervals; FD_inf is the
Fréchet distance corrected for set size. Quote figures with the embedding, sample rate and
loudness (all printed); they are not comparable with published FAD (VGGish) figures.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        parents=[quiet_parent()],
        help="how close generated audio is to reference audio (Fréchet and kernel distances)",
        description="Embed every clip of two audio folders frame by frame and compare the two sets.",
        epilog=EXAMPLES,
        formatter_class=Formatter,
    )
    p.add_argument("generated", help="folder (searched recursively) or file of generated audio")
    p.add_argument("--reference", required=True, help="folder or file of reference audio")
    p.add_argument(
        "--json", action="store_true", help="print a JSON object (key frechet_distance: the headline)"
    )
    p.add_argument(
        "--embedding", default="mel-mdct-v2",
        help="mel-mdct-v2, mel-mdct-v1, musicnn[:MODEL] (MTT_musicnn, MSD_musicnn, MTT_vgg, MSD_vgg) or musicnn:FOLDER "
        "(a folder of one model's weights, named after it), clap:PATH or fadtk:MODEL",
    )  # fmt: skip
    p.add_argument("--loudness", type=float, default=-23.0, help="normalize each clip to this LUFS")
    p.add_argument("--no-loudness", action="store_true", help="keep the clips' levels")
    p.add_argument("--max-seconds", type=float, help="read at most this much of each file")
    p.add_argument("--kid-subsets", type=int, default=100, help="random subsets averaged by the kernel distance")
    p.add_argument(
        "--kid-subset-size", type=int, default=1000, help="frames per kernel-distance subset (capped at the set size)"
    )
    p.add_argument("--bootstrap", type=int, default=200, help="clip-bootstrap replicates for the intervals (0: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the KID subsets and of the bootstrap")
    p.add_argument(
        "--strict", action="store_true",
        help="stop at the first file that cannot be read or embedded (default: skip it and name it on stderr)",
    )  # fmt: skip
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    # checks that can fail run before any clip is embedded
    if not Path(args.generated).exists():
        raise CLIError(f"{args.generated}: no such file or folder")
    if not Path(args.reference).exists():
        raise CLIError(f"--reference {args.reference}: no such file or folder")
    for flag, value in (("--kid-subsets", args.kid_subsets), ("--kid-subset-size", args.kid_subset_size)):
        if value < 1:
            raise UsageError(f"{flag} {value} must be >= 1")
    if args.bootstrap < 0 or args.bootstrap == 1:
        raise UsageError(f"--bootstrap {args.bootstrap} must be 0 (no intervals) or >= 2")
    if args.max_seconds is not None and not args.max_seconds > 0:
        raise UsageError(f"--max-seconds {args.max_seconds:g} must be > 0")
    from ..evaluation import SmallSetWarning, compare, embed_files, get_embedding

    with blame("--embedding", args.embedding):
        embedding = get_embedding(args.embedding)
    loudness = None if args.no_loudness else args.loudness
    options = dict(
        embedding=embedding, loudness_lufs=loudness, max_seconds=args.max_seconds,
        on_error="raise" if args.strict else "skip",
    )  # fmt: skip
    with blame(keywords=_FLAGS):
        generated = embed_files(args.generated, **options)
    with blame("--reference", args.reference, keywords=_FLAGS, file=True):
        reference = embed_files(args.reference, **options)
    console = Console("mdctcompand", 0 if args.quiet else 1)
    for which, s in (("generated", generated), ("reference", reference)):
        for _, why in s.skipped:
            console.warn(f"skipped ({which}): {why}")
        if s.skipped:
            console.warn(f"{len(s.skipped)} {which} file(s) skipped, {len(s.clips)} used (--strict stops instead)")
    import warnings

    with blame(keywords=_FLAGS), warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSetWarning)  # printed below, from result.warnings
        result = compare(
            generated, reference, kid_subsets=args.kid_subsets, kid_subset_size=args.kid_subset_size,
            bootstrap=args.bootstrap, seed=args.seed,
        )  # fmt: skip
    if args.json:  # the table prints them itself
        for note in result.warnings:
            console.warn(note)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    elif not args.quiet:
        print(f"{args.generated} vs {args.reference}\n")
        print(result.table())
    return 0


#: The library's keywords -> this command's flags, for messages.
_FLAGS = {"subsets": "--kid-subsets", "subset_size": "--kid-subset-size", "max_seconds": "--max-seconds",
          "loudness_lufs": "--loudness", "seed": "--seed", "bootstrap": "--bootstrap",
          "replicates": "--bootstrap"}  # fmt: skip
