"""Round-trip a generated signal and print the reconstruction error: ``python -m mdctcompand.demo``."""

from __future__ import annotations

import numpy as np

from . import MDCT


def example_signal(seconds: float = 5.0, sample_rate: int = 24000) -> np.ndarray:
    """A music-like test signal: harmonic partials with vibrato, a decaying pluck and noise."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    x = sum(
        0.25 / (k + 1) * np.sin(2 * np.pi * f * t + 0.4 * np.sin(2 * np.pi * 5 * t))
        for k, f in enumerate([196, 392, 588, 784, 1568])
    )
    x = (
        x
        + 0.5 * np.exp(-8 * (t % 0.5)) * np.sin(2 * np.pi * 1318.5 * t)
        + 0.005 * rng.standard_normal(t.size)
    )
    return (0.9 * x / np.abs(x).max()).astype(np.float32)


def main() -> None:
    x = example_signal()
    t = MDCT(1024)
    X = t.forward(x)
    y = t.inverse(X, length=x.size)
    err = float(np.max(np.abs(y - x)))
    print(f"MDCT round trip of {x.size / 24000:.1f} s: coefficients {X.shape}, max |error| = {err:.2e}")


if __name__ == "__main__":
    main()
