"""Shared command-line plumbing: error reporting, exit codes, common options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .._version import __version__
from ..exceptions import MdctCompandError

#: Exit status for bad input (unreadable or foreign files, bad arguments).
EXIT_ERROR = 2
#: Exit status after Ctrl-C.
EXIT_INTERRUPTED = 130


class CLIError(MdctCompandError):
    """An error reported to the user as one line, with a non-zero exit."""


def quiet_parent() -> argparse.ArgumentParser:
    """Parent parser giving a (sub)command ``-q/--quiet``."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parent


def add_version(parser: argparse.ArgumentParser) -> None:
    """``--version`` on a top-level command."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None, prog: str) -> int:
    """Call ``main(argv)``; turn library and OS errors into one-line messages and exit codes."""
    try:
        status = main(argv)
    except BrokenPipeError:  # `mdctcompand ... | head`: stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (MdctCompandError, OSError, ValueError) as exc:
        msg = str(exc) or type(exc).__name__
        if isinstance(exc, FileExistsError) and "--force" not in msg:
            msg += " (use --force to overwrite)"
        print(f"{prog}: error: {msg}", file=sys.stderr)
        return EXIT_ERROR
    return int(status or 0)


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Help text keeps its examples' layout and shows defaults."""
