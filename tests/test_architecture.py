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

import pytest
from architecture import MODULES, RANK, imports, layer, package_modules_imported


def test_every_module_has_a_layer():
    unplaced = sorted(n for n in MODULES if n != "mdctcompand" and n.split(".")[1] not in RANK)
    assert not unplaced, f"place these modules in LAYERS: {unplaced}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "mdctcompand"))
def test_no_import_from_a_higher_layer(name):
    upward = [
        f"line {line}: {target}"
        for target, line in package_modules_imported(name)
        if layer(target) > layer(name)
    ]
    assert not upward, f"{name} ({layer(name)}) imports from a higher layer: {upward}"


def test_no_private_name_across_modules():
    found = []
    for name, path in MODULES.items():
        aliases = {}
        for source, names, line in imports(name):
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
        for target, _ in package_modules_imported(name)
        if target.startswith("mdctcompand._kernels")
    }
    assert callers == {"mdctcompand.transform", "mdctcompand.compand"}


def test_the_package_imports_nothing_from_the_lab_or_the_tests():
    found = [
        f"{name}:{line} {source}"
        for name in MODULES
        for source, _, line in imports(name)
        if source.split(".")[0] in ("lab", "benchmarks", "tests", "golden", "fuzzing")
    ]
    assert not found, found


def test_the_checker_sees_what_it_checks():
    """The graph is read: known edges are found (a test that found nothing would pass vacuously)."""
    edges = {t for t, _ in package_modules_imported("mdctcompand.codec.core")}
    assert {"mdctcompand.converter", "mdctcompand.header", "mdctcompand.codec.ratecontrol"} <= edges
    assert layer("mdctcompand.codec.core") > layer("mdctcompand.header") > layer("mdctcompand.exceptions")
    assert len(MODULES) > 50
