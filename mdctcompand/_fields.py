"""Settings fields that carry their command-line help: an option is spelled once, in its settings class.

:func:`option` is :func:`dataclasses.field` with the help, flags and argparse details in the
field's metadata; ``mdctcompand.cli._common.add_settings_arguments`` makes the options of a
command from them (:class:`~mdctcompand.codec.EncodeSettings`,
:class:`~mdctcompand.diffusion.TrainingConfig`). Standard library only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["option"]


def option(default: Any = dataclasses.MISSING, help: str = "", **cli: Any) -> Any:
    """A dataclass field with its command-line help.

    ``cli``: ``flags`` (default ``--field-name``), ``metavar``, ``choices``, ``type`` (a parser of
    the text), ``action`` (e.g. ``"append"``), ``group`` (a titled group of the help),
    ``exclusive`` (flags given one at a time), ``cli_default`` (the flag's default where it
    differs), ``default_factory`` and ``repr`` (of the field). No default: a required option.
    """
    factory = cli.pop("default_factory", dataclasses.MISSING)
    repr_ = cli.pop("repr", True)
    return dataclasses.field(
        default=default, default_factory=factory, repr=repr_, metadata={"help": help, **cli}
    )
