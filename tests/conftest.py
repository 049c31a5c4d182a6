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


def make_signal(kind: str, n: int, sample_rate: int = 24000, seed: int = 0) -> np.ndarray:
    """Test signals: 'tone', 'chirp', 'noise', 'transients', 'mixture' (float64, peak <= 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sample_rate
    if kind == "tone":
        x = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 3150.0 * t)
    elif kind == "chirp":
        f0, f1 = 50.0, sample_rate / 2.5
        duration = max(t[-1], 1e-9)
        x = 0.6 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * duration)))
    elif kind == "noise":
        x = 0.25 * rng.standard_normal(n)
        x = np.clip(x, -1, 1)
    elif kind == "transients":
        x = np.zeros(n)
        for start in range(0, n, sample_rate // 4):
            length = min(n - start, sample_rate // 20)
            x[start : start + length] = 0.8 * np.exp(-np.arange(length) / 200.0) * rng.standard_normal(length)
        x = np.clip(x, -1, 1)
    elif kind == "mixture":  # music-like: harmonic partials with vibrato, decays, noise
        x = np.zeros(n)
        for k, f in enumerate([110.0, 220.0, 330.0, 495.0, 880.0, 1320.0, 2640.0]):
            x += 0.3 / (k + 1) * np.sin(2 * np.pi * f * t + 0.3 * np.sin(2 * np.pi * 5 * t))
        x *= 0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t) ** 2
        x += 0.01 * rng.standard_normal(n)
        x += make_signal("transients", n, sample_rate, seed + 1) * 0.5
        x = 0.9 * x / max(1e-9, np.abs(x).max())
    else:
        raise ValueError(kind)
    return x
