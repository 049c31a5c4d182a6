"""The ``mdctcompand`` umbrella command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import dataset_cmd, diffusion_cmd, evaluate_cmd, profile_cmd, wav2jpeg
from ._common import Formatter, add_version, run, single_threaded_blas

DESCRIPTION = """\
mdctcompand: audio as an invertible 8-bit image (MDCT + generalized-Gaussian companding).

Subcommands group the library's jobs; `wav2jpeg` and `jpeg2wav` are the codec's own commands.
"""

EXAMPLES = """\
examples:
  mdctcompand encode song.wav -o song.jpg       # same as wav2jpeg
  mdctcompand info song.jpg                     # what the file holds, bit rate
  mdctcompand decode song.jpg -o song.wav       # same as jpeg2wav
  mdctcompand profile show                      # the shipped default profile
  mdctcompand profile fit music/ -o mine.json   # fit a profile on your corpus
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdctcompand", description=DESCRIPTION, epilog=EXAMPLES, formatter_class=Formatter
    )
    add_version(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")
    wav2jpeg.register(sub)
    profile_cmd.register(sub)
    dataset_cmd.register(sub)
    diffusion_cmd.register(sub)
    evaluate_cmd.register(sub)
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


#: Subcommands that run the codec's small kernels (see :func:`single_threaded_blas`).
SINGLE_THREADED_BLAS = {"encode", "decode", "info", "profile", "dataset"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mdctcompand`` console script."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words and words[0] in SINGLE_THREADED_BLAS:
        single_threaded_blas()
    return run(_main, argv, "mdctcompand")


if __name__ == "__main__":
    sys.exit(main())
