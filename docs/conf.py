"""Sphinx configuration: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
# The lab (benchmarks/lab, imported as ``lab``): some gallery examples compare with its baselines.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import mdctcompand

project = "mdctcompand"
author = "the mdctcompand developers"
copyright = "2026, the mdctcompand developers"
version = release = mdctcompand.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "cliref",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"  # numpydoc renders the types from the docstrings
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# The diffusion extra (torch, diffusers, ...) is documented even where it is not installed.
_EXTRA = ("torch", "diffusers", "peft", "transformers", "accelerate")
autodoc_mock_imports = [m for m in _EXTRA if importlib.util.find_spec(m) is None]

# A mocked module stays in sys.modules for the whole autosummary pass, and libraries that look for
# torch there take it for the real one: scipy's array-API helpers call issubclass(cls, torch.Tensor)
# (first when scipy.stats is imported), a TypeError on the mock. So every module that needs no extra
# is imported now, before anything is mocked; only the extras' subpackages ever see the mocks.
_NEEDS_EXTRA = ("torch", "diffusion")  # mdctcompand.torch, mdctcompand.diffusion
for _module in pkgutil.walk_packages(mdctcompand.__path__, "mdctcompand."):
    if _module.name.split(".")[1] not in _NEEDS_EXTRA:
        importlib.import_module(_module.name)


def _online(host: str = "numpy.org") -> bool:
    if os.environ.get("MDCTCOMPAND_DOCS_OFFLINE"):
        return False
    try:
        socket.create_connection((host, 443), timeout=1.5).close()
        return True
    except OSError:
        return False


# Inventories come from the web; offline builds (CI) skip them instead of warning.
intersphinx_mapping = (
    {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "PIL": ("https://pillow.readthedocs.io/en/stable", None),
    }
    if _online()
    else {}
)
# diffusers' documentation is not built with Sphinx (no inventory): plain links instead.
extlinks_detect_hardcoded_links = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

templates_path: list[str] = []
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
html_theme = "pydata_sphinx_theme"
html_title = f"mdctcompand {release}"
html_static_path: list[str] = []
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
