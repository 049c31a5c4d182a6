"""The package's layers, read from its import statements (every one, function-local included).

- A module imports only from its own layer or the layers below (``LAYERS``, bottom first):
  nothing below ``codec/`` knows the codec, nothing but the CLI knows the CLI.
- No module uses another module's private name (``from x import _y`` or ``x._y``); private
  *modules* (``_validation``, ``_kernels``, ...) are the package's own helpers and export
  public names.
- Only ``transform`` and ``compand`` call the compiled kernels.
- The package imports nothing from the lab (``benchmarks/lab``) or the tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mdctcompand"

#: Bottom first: a module may import from its layer and those below it. The top-level names of
#: ``mdctcompand`` (first component after the package) decide a module's layer.
LAYERS = {
    "base": ["_version", "exceptions", "formats", "_validation", "_threads", "_cache", "_kernels", "windows", "ggd", "_pyav"],
    "core": [
        "reference", "transform", "compand", "stats", "profile", "fitting", "band_gains", "channels", "header",
        "io", "metrics", "converter", "containers", "parallel", "plotting", "testing",
    ],
    "products": ["codec", "dataset", "evaluation", "torch", "demo"],
    "generative": ["diffusion"],
    "cli": ["cli"],
}  # fmt: skip
_RANK = {name: i for i, names in enumerate(LAYERS.values()) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str) -> list[tuple[str, list[str], int]]:
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


def _layer(module: str) -> int:
    return _RANK[module.split(".")[1]]


def _package_modules_imported(name: str):
    for source, names, line in _imports(name):
        if not source.startswith("mdctcompand"):
            continue
        for target in [source] + [f"{source}.{n}" for n in names]:
            if target in MODULES and target != "mdctcompand":
                yield target, line


def test_every_module_has_a_layer():
    unplaced = sorted(n for n in MODULES if n != "mdctcompand" and n.split(".")[1] not in _RANK)
    assert not unplaced, f"place these modules in LAYERS: {unplaced}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "mdctcompand"))
def test_no_import_from_a_higher_layer(name):
    upward = [
        f"line {line}: {target}"
        for target, line in _package_modules_imported(name)
        if _layer(target) > _layer(name)
    ]
    assert not upward, f"{name} ({_layer(name)}) imports from a higher layer: {upward}"


def test_no_private_name_across_modules():
    found = []
    for name, path in MODULES.items():
        aliases = {}
        for source, names, line in _imports(name):
            if not source.startswith("mdctcompand"):
                continue
            for n in names:
                if f"{source}.{n}" in MODULES:
                    aliases[n] = f"{source}.{n}"
                elif n.startswith("_") and not n.startswith("__"):
                    found.append(f"{name}:{line} imports {source}.{n}")
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not found, found


def test_only_the_transform_and_the_compander_call_the_kernels():
    callers = {
        name
        for name in MODULES
        if not name.startswith("mdctcompand._kernels")
        for target, _ in _package_modules_imported(name)
        if target.startswith("mdctcompand._kernels")
    }
    assert callers == {"mdctcompand.transform", "mdctcompand.compand"}


def test_the_package_imports_nothing_from_the_lab_or_the_tests():
    found = [
        f"{name}:{line} {source}"
        for name in MODULES
        for source, _, line in _imports(name)
        if source.split(".")[0] in ("lab", "benchmarks", "tests", "golden", "fuzzing")
    ]
    assert not found, found


def test_the_checker_sees_what_it_checks():
    """The graph is read: known edges are found (a test that found nothing would pass vacuously)."""
    edges = {t for t, _ in _package_modules_imported("mdctcompand.codec.core")}
    assert {"mdctcompand.converter", "mdctcompand.header", "mdctcompand.codec.ratecontrol"} <= edges
    assert _layer("mdctcompand.codec.core") > _layer("mdctcompand.header") > _layer("mdctcompand.exceptions")
    assert len(MODULES) > 50
