"""Shared command-line plumbing: error reporting, exit codes, messages, progress, common options.

Conventions of every command: data (an image or audio written with ``-o -``) is the only
thing on stdout; every message, warning, error and progress bar goes to stderr. Errors
are one line, name the file they concern and speak in command-line flags
(``--stereo mono``), never in Python keywords (``stereo='mono'``).

This module imports only the standard library, so ``--help`` and argument errors are fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .._threads import BLAS_THREAD_VARIABLES
from .._version import __version__
from ..exceptions import MdctCompandError, ParameterError, ProfileMismatchError

#: Exit status when the work failed: an input missing, unreadable or foreign, an output that
#: exists (without ``--force``), a full disk, a file of a batch that could not be converted.
EXIT_ERROR = 1
#: Exit status when the command line itself is wrong: an unknown flag or a bad value (argparse's
#: own status), flags that contradict each other. Nothing was read or written.
EXIT_USAGE = 2
#: Exit status after Ctrl-C.
EXIT_INTERRUPTED = 130
#: A progress bar appears once work has run this long (seconds); the environment
#: variable ``MDCTCOMPAND_PROGRESS_DELAY`` overrides it (tests use 0).
PROGRESS_DELAY_S = 2.0


def single_threaded_blas() -> None:
    """The codec commands' thread policy: BLAS runs on one thread unless the user's environment says
    otherwise (``OPENBLAS_NUM_THREADS=4 wav2jpeg ...``).

    The codec's matrix products are small (8x8 JPEG blocks, band groups): a BLAS pool only adds the
    CPU time its threads spend starting and spinning, 28 % of an encode's CPU (60 s of 44.1 kHz
    stereo: 1.16 s against 0.84, the same wall time; and 60 ms of numpy's own import). Worker
    processes (``--jobs``, ``--workers``) inherit the setting, so N processes use N cores. Set
    before numpy is imported (later it changes nothing in this process); the diffusion and
    evaluation commands, whose products are large, keep the default.
    """
    if "numpy" not in sys.modules:
        for name in BLAS_THREAD_VARIABLES:
            os.environ.setdefault(name, "1")


class CLIError(MdctCompandError):
    """An error reported to the user as one line; the command exits with :data:`EXIT_ERROR`."""


class UsageError(CLIError):
    """A command line that cannot run as written (a flag's value, flags that conflict): :data:`EXIT_USAGE`."""


def exit_status(exc: BaseException) -> int:
    """The exit status an error ends a command with: :data:`EXIT_USAGE` for what the user typed, else
    :data:`EXIT_ERROR`.

    A library :class:`~mdctcompand.exceptions.ParameterError` that reaches the command (not wrapped
    with a file's name) comes from checking the flags' values; a profile that does not match a
    file is the file's problem.

    Examples
    --------
    >>> exit_status(UsageError("--jobs -1 must be >= 0")), exit_status(CLIError("a.jpg: not an image"))
    (2, 1)
    >>> exit_status(ParameterError("tilt=-1 must be > 0")), exit_status(FileNotFoundError("x.wav"))
    (2, 1)
    """
    if isinstance(exc, UsageError) or (
        isinstance(exc, ParameterError) and not isinstance(exc, (CLIError, ProfileMismatchError))
    ):
        return EXIT_USAGE
    return EXIT_ERROR


def quiet_parent() -> argparse.ArgumentParser:
    """Parent parser giving a (sub)command ``-q/--quiet``."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parent


def verbosity_parent() -> argparse.ArgumentParser:
    """Parent parser giving ``-q/--quiet`` and ``-v/--verbose`` (``args.verbosity``: 0, 1 or 2)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", dest="verbosity", action="store_const", const=0, default=1,
        help="print only errors and warnings (no progress bar, no summary lines)",
    )  # fmt: skip
    group.add_argument(
        "-v", "--verbose", dest="verbosity", action="store_const", const=2,
        help="also print the settings, timings and speed of every file",
    )  # fmt: skip
    return parent


def add_version(parser: argparse.ArgumentParser) -> None:
    """``--version`` on a top-level command."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


# ------------------------------------------------------------------ error messages
#: Python keyword of the library -> the command-line flag a user typed for it.
FLAGS = {
    "overwrite": "--force",
    "format": "--format",
    "quality": "--quality",
    "bitrate": "--bitrate",
    "tilt": "--tilt",
    "stereo": "--stereo",
    "bandwidth": "--bandwidth",
    "profile": "--profile",
    "tile_frames": "--tile-frames",
    "qtable": "--qtable",
    "jpeg_deadzone": "--jpeg-deadzone",
    "gain_strength": "--gain-strength",
    "band_slope": "--band-slope",
    "subtype": "--subtype",
    "decoder": "--decoder",
    "rounding": "--rounding",
    "frames": "--frames",
    "workers": "--workers",
    "jobs": "--jobs",
}


def _keyword_pattern(names: Sequence[str]) -> re.Pattern:
    return re.compile(
        r"\b(?P<name>" + "|".join(names) + r")=(?:'(?P<s>[^']*)'|\"(?P<d>[^\"]*)\"|(?P<v>[^\s,;:)\]]+))"
    )


_KEYWORD = _keyword_pattern(list(FLAGS))


def flag_message(message: str, flags: dict[str, str] | None = None) -> str:
    """Rewrite the library's ``name=value`` spellings as the flags a command-line user typed.

    Examples
    --------
    >>> flag_message("3 channels: only mono and stereo are stored (use stereo='mono')")
    '3 channels: only mono and stereo are stored (use --stereo mono)'
    >>> flag_message("out.jpg exists (use --force, or overwrite=True, to replace it)")
    'out.jpg exists (use --force to replace it)'
    >>> flag_message("tile_frames=100 must be a multiple of 16, >= 16")
    '--tile-frames 100 must be a multiple of 16, >= 16'
    >>> flag_message("3 channels: stereo='mono' downmixes any number (channels='mono' in AudioImageConverter)")
    '3 channels: --stereo mono downmixes any number'
    """
    table = FLAGS if flags is None else flags
    pattern = _KEYWORD if flags is None else _keyword_pattern(list(table))

    def repl(m: re.Match) -> str:
        flag = table.get(m["name"])
        if flag is None:
            return m[0]
        value = next(v for v in (m["s"], m["d"], m["v"]) if v is not None)
        return flag if value == "True" else f"{flag} {value}"

    text = pattern.sub(repl, message) if table else message
    text = re.sub(r" \([^()]* in [A-Z][A-Za-z]+\)", "", text)  # hints for API users ("(x='y' in Class)")
    return re.sub(r"(--[\w-]+), or \1,", r"\1", text)  # "use --force, or --force, to" -> "use --force to"


def with_file(name: str, message: str) -> str:
    """``"NAME: message"`` unless the message already names the file."""
    return message if name and name in message else f"{name}: {message}"


def describe_error(exc: BaseException) -> str:
    """One line for an exception, in flags (see :func:`flag_message`)."""
    msg = str(exc) or type(exc).__name__
    if isinstance(exc, FileExistsError) and "--force" not in msg:
        msg += " (use --force to overwrite)"
    if (
        isinstance(exc, OSError)
        and exc.filename
        and exc.strerror
        and (str(exc.filename) not in msg or msg.startswith("[Errno"))
    ):
        msg = f"{exc.filename}: {exc.strerror}"
    return flag_message(msg)


@contextlib.contextmanager
def blame(
    flag: str | None = None, value: object = None, *, keywords: dict[str, str] | None = None, file: bool = False
) -> Iterator[None]:
    """Errors raised inside become one-line :class:`CLIError` s that name the flag (and file) at fault.

    A bad value (:class:`~mdctcompand.exceptions.ParameterError`) becomes a :class:`UsageError`,
    unless ``file``: the flag names a file (a caption list, statistics), and what is wrong
    with it is the file's fault (exit status 1, as for any input).

    ``flag`` and ``value`` (what the user typed, usually a file) start the message unless it
    already names the flag; ``keywords`` maps more of the library's ``name=value`` spellings
    to this command's flags (see :func:`flag_message`).

    Examples
    --------
    >>> with blame("--captions", "caps.csv"):
    ...     raise ValueError("caps.csv: line 3 needs a caption")
    Traceback (most recent call last):
    ...
    mdctcompand.cli._common.CLIError: --captions caps.csv: line 3 needs a caption
    >>> with blame("--embedding", "bad"):
    ...     raise ValueError("embedding 'bad' is unknown")
    Traceback (most recent call last):
    ...
    mdctcompand.cli._common.CLIError: --embedding bad: embedding 'bad' is unknown
    >>> with blame(keywords={"frame_length": "--frame-length"}):
    ...     raise ValueError("frame_length=1001 must be even")
    Traceback (most recent call last):
    ...
    mdctcompand.cli._common.CLIError: --frame-length 1001 must be even
    """
    try:
        yield
    except (CLIError, BrokenPipeError):  # a closed pipe ends the command quietly (see run)
        raise
    except (MdctCompandError, OSError, ValueError) as exc:
        msg = flag_message(describe_error(exc), keywords or {})
        if flag is not None and not re.search(rf"(^|\s){re.escape(flag)}\b", msg):
            text = "" if value is None else str(value)
            if text and msg.startswith(text):
                msg = f"{flag} {msg}"
            else:
                msg = f"{flag} {text}: {msg}" if text else f"{flag}: {msg}"
        raise (UsageError if exit_status(exc) == EXIT_USAGE and not file else CLIError)(msg) from exc


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None, prog: str) -> int:
    """Call ``main(argv)``; turn library and OS errors into one-line messages and exit codes."""
    try:
        status = main(argv)
    except BrokenPipeError:  # `mdctcompand ... | head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (MdctCompandError, OSError, ValueError) as exc:
        print(f"{prog}: error: {describe_error(exc)}", file=sys.stderr)
        return exit_status(exc)
    return int(status or 0)


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Help text keeps its examples' layout and shows each real default once.

    No "(default: ...)" is added when the help already says what the default is, nor for
    options without one (``None``) and flags.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text.lower()
            or action.default in (None, False, argparse.SUPPRESS)
            or isinstance(action, argparse._StoreConstAction)  # -q/-v share a dest: no default to show
        ):
            return text
        return super()._get_help_string(action)


# ------------------------------------------------------------------ messages and progress
class Console:
    """Messages on stderr at a verbosity (0 quiet, 1 normal, 2 verbose), and progress bars.

    A bar (tqdm, imported only when one can appear) is shown only when stderr is a
    terminal and not quiet, and only after :data:`PROGRESS_DELAY_S` seconds of work, so
    short runs and logs stay clean. Messages printed while a bar runs go above it.
    """

    def __init__(self, prog: str, verbosity: int = 1, stream: Any = None) -> None:
        self.prog = prog
        self.verbosity = verbosity
        self.stream = stream if stream is not None else sys.stderr
        self._bar: Any = None

    def _write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def info(self, text: str) -> None:
        """A normal message (hidden by ``-q``)."""
        if self.verbosity >= 1:
            self._write(text)

    def detail(self, text: str) -> None:
        """A ``-v`` message."""
        if self.verbosity >= 2:
            self._write(text)

    def warn(self, text: str) -> None:
        """A warning (shown even with ``-q``)."""
        self._write(f"{self.prog}: warning: {text}")

    def error(self, text: str) -> None:
        self._write(f"{self.prog}: error: {text}")

    @property
    def interactive(self) -> bool:
        """Whether progress bars can appear."""
        try:
            return self.verbosity >= 1 and self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def bar(self, *, total: float, unit: str, desc: str | None = None, initial: float = 0) -> Any:
        """A progress bar with rate and ETA, or a no-op stand-in when bars cannot appear.

        Use as a context manager; ``.update(n)`` advances it.
        """
        if not self.interactive:
            return _NoBar()
        from tqdm import tqdm

        delay = float(os.environ.get("MDCTCOMPAND_PROGRESS_DELAY", PROGRESS_DELAY_S))
        try:  # a terminal that reports no size (a bare pty, some CI) would hide the bar
            known = os.get_terminal_size(self.stream.fileno()).lines > 0
        except (OSError, ValueError, AttributeError):
            known = False
        size = {} if known else {"ncols": 80, "nrows": 24}
        bar = tqdm(
            total=total, initial=initial, unit=unit, unit_scale=unit != "file", desc=desc, delay=delay, file=self.stream,
            leave=False, dynamic_ncols=known, **size,
        )  # fmt: skip
        return _BarScope(self, bar)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: float = 1) -> None:
        return None


class _BarScope:
    def __init__(self, console: Console, bar: Any) -> None:
        self.console = console
        self.bar = bar

    def __enter__(self) -> _BarScope:
        self.console._bar = self.bar
        return self

    def __exit__(self, *exc: object) -> None:
        self.console._bar = None
        self.bar.close()

    def update(self, n: float = 1) -> None:
        self.bar.update(n)


# ------------------------------------------------------------------ options from settings fields
def _number_or(words: tuple[str, ...]) -> Callable[[str], Any]:
    """An argparse type: a number, or one of ``words``."""

    def parse(text: str) -> Any:
        if text in words:
            return text
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number or one of {', '.join(words)}") from None

    return parse


def add_settings_arguments(parser: argparse.ArgumentParser, settings_class: type) -> None:
    """One option for every field of the dataclass ``settings_class`` whose metadata has ``help``
    (fields made with :func:`mdctcompand._fields.option`).

    The flag is the field's name (``--tile-frames``); its type, choices and default come from the
    field's annotation and default: a ``bool`` becomes ``--x/--no-x``, a ``Literal`` a choice, a
    number or words (``float | Literal["auto"]``) takes either, a field without a default is a
    required option. Metadata may add ``flags``, ``metavar``, ``choices``, ``type``, ``action``,
    ``group`` (a titled group of the help), ``exclusive`` (a group whose flags are given one at a
    time) and ``cli_default``. :func:`settings_from_arguments` reads them back.
    """
    import dataclasses
    import typing

    hints = typing.get_type_hints(settings_class)
    groups: dict[tuple[str, str], Any] = {}
    for f in dataclasses.fields(settings_class):
        meta = f.metadata
        if "help" not in meta:
            continue
        hint = hints[f.name]
        kinds = typing.get_args(hint) or (hint,)
        words = tuple(w for k in kinds if typing.get_origin(k) is typing.Literal for w in typing.get_args(k))
        if typing.get_origin(hint) is typing.Literal:
            words = kinds
        numbers = [k for k in kinds if k in (int, float)]
        kw: dict[str, Any] = {"help": meta["help"], "dest": f.name, "metavar": meta.get("metavar")}
        if f.default is not dataclasses.MISSING:
            kw["default"] = meta.get("cli_default", f.default)
        elif f.default_factory is not dataclasses.MISSING:
            kw["default"] = f.default_factory()
        else:
            kw["required"] = True
        if "action" in meta:
            kw["action"] = meta["action"]
            kw["metavar"] = kw["metavar"] or meta.get("flags", ("--" + f.name,))[-1].lstrip("-").replace("-", "_").upper()
        elif bool in kinds:
            kw["action"] = argparse.BooleanOptionalAction
            del kw["metavar"]
        if "type" in meta:
            kw["type"] = meta["type"]
        elif bool in kinds:
            pass
        elif numbers and words:
            kw["type"] = _number_or(words)
        elif numbers:
            kw["type"] = numbers[0]
        elif words or "choices" in meta:
            kw["choices"] = meta.get("choices", words)
        if kw.get("metavar") is None and "flags" in meta and "choices" not in kw and "action" not in kw:
            kw["metavar"] = meta["flags"][-1].lstrip("-").replace("-", "_").upper()  # the flag's name, not the field's
        target: Any = parser
        for kind in ("group", "exclusive"):
            if kind in meta and (kind, meta[kind]) not in groups:
                groups[kind, meta[kind]] = (
                    parser.add_argument_group(meta[kind]) if kind == "group" else parser.add_mutually_exclusive_group()
                )
            if kind in meta:
                target = groups[kind, meta[kind]]
        target.add_argument(*meta.get("flags", ("--" + f.name.replace("_", "-"),)), **kw)


def settings_from_arguments(args: argparse.Namespace, settings_class: type) -> dict[str, Any]:
    """The values of the options :func:`add_settings_arguments` added, by field name."""
    import dataclasses

    return {f.name: getattr(args, f.name) for f in dataclasses.fields(settings_class) if "help" in f.metadata}
