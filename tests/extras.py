"""Skip a test module whose optional extra is not installed: one line per module, one list."""

from __future__ import annotations

import pytest

#: What the ``diffusion`` extra brings (tests/test_diffusion*.py need all of it).
DIFFUSION_PACKAGES = ("torch", "diffusers", "peft", "accelerate", "datasets")


def require(*packages: str) -> None:
    """``pytest.importorskip`` each package (at module level: the whole module is skipped)."""
    for name in packages:
        pytest.importorskip(name)


def require_diffusion_extra() -> None:
    """Skip the calling module unless the ``diffusion`` extra is installed."""
    require(*DIFFUSION_PACKAGES)
