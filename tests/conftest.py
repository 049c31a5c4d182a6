"""Shared fixtures: seeded random numbers and small generated signals (never downloads)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261124)


# ---------------------------------------------------------------------- the diffusion extra
# Shared by tests/test_diffusion*.py: they opt in with
# ``pytestmark = [pytest.mark.diffusion, pytest.mark.usefixtures("diffusion_offline")]``.


@pytest.fixture(scope="module")
def diffusion_offline():
    """Hub libraries offline, torch on one thread (tiny models gain nothing from more on a shared machine)."""
    import torch

    mp = pytest.MonkeyPatch()
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        mp.setenv(name, "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    mp.undo()


@pytest.fixture(scope="module")
def ws(diffusion_offline):
    """The tiny mono workspace (8 kHz, 32 bands; mdctcompand.diffusion.testing), built once per process."""
    from mdctcompand.diffusion.testing import tiny_workspace

    return tiny_workspace()


@pytest.fixture(scope="module")
def stereo_ws(diffusion_offline):
    """The tiny full-band stereo workspace (44k profile, left-right planes), built once per process."""
    from mdctcompand.diffusion.testing import tiny_stereo_workspace

    return tiny_stereo_workspace()


@pytest.fixture(scope="module")
def tiny_pipe(ws):
    """A pipeline on the tiny mono model, on the CPU."""
    from mdctcompand.diffusion import load_pipeline

    return load_pipeline(ws.model, converter=ws.converter(), device="cpu")
