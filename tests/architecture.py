"""The package's import graph and its layers: what tests/test_architecture.py checks and
docs/examples/plot_architecture.py draws (one table for both)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "mdctcompand"

#: Bottom first: a module may import from its layer and those below it. The top-level names of
#: ``mdctcompand`` (first component after the package) decide a module's layer.
LAYERS = {
    "base": ["_version", "exceptions", "formats", "_fields", "_validation", "_threads", "_cache", "_kernels", "_fft", "windows", "ggd", "_pyav"],
    "core": [
        "reference", "transform", "compand", "stats", "profile", "fitting", "band_gains", "channels", "header",
        "io", "metrics", "converter", "containers", "parallel", "plotting", "testing",
    ],
    "products": ["codec", "dataset", "evaluation", "torch", "demo"],
    "generative": ["diffusion"],
    "cli": ["cli"],
}  # fmt: skip
RANK = {name: i for i, names in enumerate(LAYERS.values()) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, list[str], int]]:
    """``(module imported from, names taken, line)`` of every import in module ``name``."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            out.append((source, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
    return out


def layer(module: str) -> int:
    return RANK[module.split(".")[1]]


def package_modules_imported(name: str):
    for source, names, line in imports(name):
        if not source.startswith("mdctcompand"):
            continue
        for target in [source] + [f"{source}.{n}" for n in names]:
            if target in MODULES and target != "mdctcompand":
                yield target, line
