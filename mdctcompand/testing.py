"""Generated signals for tests, examples and benchmarks (no downloads).

Also :func:`speech`, which synthesizes a spoken sentence with espeak-ng when it is
installed (``apt-get install espeak-ng``) and returns ``None`` otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .exceptions import ParameterError

__all__ = ["make_signal", "speech"]

KINDS = ("tone", "chirp", "noise", "transients", "mixture")


def make_signal(kind: str, n: int, sample_rate: int = 24000, seed: int = 0) -> np.ndarray:
    """A generated test signal of ``n`` samples (float64, peak <= 1).

    Parameters
    ----------
    kind : {"tone", "chirp", "noise", "transients", "mixture"}
        Two sines; a linear chirp; clipped white noise; decaying noise bursts every
        quarter second; a music-like mixture of harmonic partials with vibrato, tremolo,
        bursts and a little noise.
    n : int
        Number of samples.
    sample_rate : int
        Sample rate in Hz.
    seed : int
        Seed of the random parts.

    Examples
    --------
    >>> x = make_signal("mixture", 24000)
    >>> x.shape, bool(np.abs(x).max() <= 1)
    ((24000,), True)
    """
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
        raise ParameterError(f"kind={kind!r} must be tone, chirp, noise, transients or mixture")
    return x


def speech(
    text: str = "The quick brown fox jumps over the lazy dog.", *, sample_rate: int = 24000
) -> np.ndarray | None:
    """Speech from espeak-ng resampled to ``sample_rate`` (float32), or ``None`` if espeak-ng is missing.

    Examples
    --------
    >>> x = speech("hello")
    >>> x is None or x.ndim == 1
    True
    """
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        return None
    from .io import load_audio

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-w", str(wav), text], check=True, capture_output=True)
        audio, _ = load_audio(wav, sample_rate=sample_rate, mono=True)
    return audio
