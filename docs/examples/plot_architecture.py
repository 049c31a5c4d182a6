"""
The package's layers, drawn from its imports
============================================

Every module of ``mdctcompand`` belongs to one layer; a module imports only from its own layer
and those below it (``tests/test_architecture.py`` fails otherwise). This picture is drawn from
the same table and the code's actual import statements: each box is a module or subpackage
(with its number of modules), each arrow an import from one layer into a lower one. See :doc:`/architecture`.
"""

import sys
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt

try:
    here = Path(__file__).resolve().parent
except NameError:  # run by sphinx-gallery from the examples folder
    here = Path.cwd()
sys.path.insert(0, str(here.parents[1] / "tests"))
from architecture import LAYERS, MODULES, layer, package_modules_imported


def unit(module: str) -> str:
    """The box a module is drawn in: its top-level module or subpackage."""
    return module.split(".")[1]


edges = Counter()
for name in MODULES:
    if name == "mdctcompand":
        continue
    for target, _ in package_modules_imported(name):
        if target != "mdctcompand" and unit(target) != unit(name):
            edges[unit(name), unit(target)] += 1
upward = [e for e in edges if layer(f"mdctcompand.{e[1]}") > layer(f"mdctcompand.{e[0]}")]
print(f"{len(MODULES)} modules, {len(edges)} dependencies between units, {len(upward)} upward")

fig, ax = plt.subplots(figsize=(14, 6.5), layout="constrained")
position = {}
for y, (layer_name, units) in enumerate(LAYERS.items()):
    shown = [u for u in units if any(m.split(".")[1] == u for m in MODULES if m != "mdctcompand")]
    for x, u in enumerate(shown):
        position[u] = ((x + 0.5) / len(shown), y)
    ax.axhspan(y - 0.42, y + 0.42, color=f"C{y}", alpha=0.08)
    ax.text(-0.02, y, layer_name, ha="right", va="center", fontsize=11, weight="bold")
for (src, dst), n in edges.items():
    (x0, y0), (x1, y1) = position[src], position[dst]
    if y0 == y1:  # within a layer: counted, not drawn
        continue
    color = "red" if (src, dst) in upward else "0.55"
    ax.annotate("", (x1, y1 + 0.18), (x0, y0 - 0.18), arrowprops={"arrowstyle": "-|>", "color": color, "lw": 0.4 + 0.15 * n, "alpha": 0.5})
for u, (x, y) in position.items():
    lines = sum(1 for m in MODULES if m != "mdctcompand" and unit(m) == u)
    ax.text(x, y, u if lines == 1 else f"{u}/ ({lines})", ha="center", va="center", fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "ec": f"C{int(y)}"})  # fmt: skip
ax.set_xlim(-0.12, 1.0)
ax.set_ylim(-0.6, len(LAYERS) - 0.4)
ax.axis("off")
ax.set_title(f"mdctcompand: {len(position)} units in {len(LAYERS)} layers, {len(upward)} upward imports")
plt.show()
