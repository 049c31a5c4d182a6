"""Small GGD profiles and band-wise samples shared by the compander tests (numpy and torch)."""

import numpy as np
from scipy.stats import gennorm

from mdctcompand.profile import GGDProfile


def small_profile(n_bands: int = 6) -> GGDProfile:
    """Shapes 0.35-2.5 and scales 0.3-0.003 over ``n_bands`` bands (8 kHz, frame ``2 n_bands``)."""
    return GGDProfile(
        shape=np.linspace(0.35, 2.5, n_bands),
        scale=np.geomspace(0.3, 0.003, n_bands),
        sample_rate=8000,
        frame_length=2 * n_bands,
    )


def ggd_samples(profile: GGDProfile, n: int, seed: int = 0) -> np.ndarray:
    """``(n_bands, n)`` GGD draws per band, 1.3x the profile's scale (so the tails are used)."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [
            gennorm.rvs(g, scale=a * 1.3, size=n, random_state=rng)
            for g, a in zip(profile.shape, profile.scale)
        ]
    )
