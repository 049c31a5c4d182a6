"""``.. cli-help:: module:function``: the --help text of an argparse parser and all its subcommands.

The parser is built by calling ``function()`` from the library, so the reference can never
drift from the code.
"""

from __future__ import annotations

import argparse
import importlib

from docutils import nodes
from docutils.parsers.rst import Directive


def _walk(parser: argparse.ArgumentParser, name: str):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _walk(sub, f"{name} {sub_name}")


class CliHelp(Directive):
    required_arguments = 1
    optional_arguments = 1  # the program name

    def run(self):
        module, func = self.arguments[0].split(":")
        parser = getattr(importlib.import_module(module), func)()
        prog = self.arguments[1] if len(self.arguments) > 1 else parser.prog
        result = []
        for name, sub in _walk(parser, prog):
            section = nodes.section(ids=[nodes.make_id(name)])
            section += nodes.title(text=name)
            sub.prog = name
            text = sub.format_help()
            section += nodes.literal_block(text, text)
            result.append(section)
        return result


def setup(app):
    app.add_directive("cli-help", CliHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
