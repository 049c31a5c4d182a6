"""Imported first by every module of the diffusion extra that needs its packages: says what is missing."""

from __future__ import annotations

import importlib.util

#: Needed by the extra; ``datasets`` (reading a built dataset for training) is checked where it is used.
REQUIRED = ("torch", "diffusers", "peft", "transformers", "accelerate")


def installed(name: str) -> bool:
    """Whether ``name`` can be imported (looked up, not imported)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # e.g. sys.modules[name] is None
        return False


MISSING = [name for name in REQUIRED if not installed(name)]
if MISSING:
    raise ImportError(
        f"mdctcompand.diffusion needs {', '.join(MISSING)} (not installed): pip install {' '.join(MISSING)}, "
        "or the 'diffusion' extra (python -m pip install '.[diffusion]' in the source tree); pin torch, "
        "e.g. torch==2.13.0, to keep a CPU build"
    )
