"""Lines of code of the package, without docstrings, comments or blank lines: ``python -m lab.code_lines``.

The measure of the architecture issue's size target (issue 23): every ``.py`` file under
``mdctcompand/`` (the lab and the tests are outside it), a line counted when a token other
than a comment starts or continues on it, docstrings (the first string of a module, class or
function) excluded. ``-v`` lists the files, largest last.
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from pathlib import Path

SKIPPED = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def code_lines(source: str) -> int:
    """Lines of ``source`` that hold code.

    Examples
    --------
    >>> code_lines("'''Doc.'''\\n\\nx = 1  # one\\n# none\\ndef f():\\n    'Doc.'\\n    return x\\n")
    3
    """
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in SKIPPED:
            lines.update(n for n in range(tok.start[0], tok.end[0] + 1) if n not in docstrings)
    return len(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "package", nargs="?", default=str(Path(__file__).resolve().parents[2] / "mdctcompand")
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every file")
    args = parser.parse_args(argv)
    counts = {p: code_lines(p.read_text()) for p in sorted(Path(args.package).rglob("*.py"))}
    if args.verbose:
        for path, n in sorted(counts.items(), key=lambda kv: kv[1]):
            print(f"{n:6d} {path}")
    print(f"{sum(counts.values())} lines of code in {len(counts)} files of {args.package}")


if __name__ == "__main__":
    main()
