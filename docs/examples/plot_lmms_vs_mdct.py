"""
Log-mel + Griffin-Lim against the companded MDCT
================================================

Spectrograms of a clip, of its 8-bit companded-MDCT round trip and of a log-mel spectrogram
(512 mels, hop 512) inverted with 32 Griffin-Lim iterations, the Riffusion / audio-diffusion
setting. The MDCT keeps the phase: the round trip is a copy of the input within 35-40 dB;
Griffin-Lim invents phases (SNR below 0 dB) and smears transients. The pipelines come from
the lab (``benchmarks/lab``, importable as ``lab`` from ``benchmarks/``; the docs build puts it on
``sys.path``) and need librosa (the ``bench`` extra).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.signal import spectrogram

from lab.baselines import CompandedMDCT, LMMSGriffinLim
from mdctcompand import metrics
from mdctcompand.testing import make_signal


def warm_time(fn, x, repeat=5, budget_s=2.0):
    """Output and best time of ``fn(x)`` over up to ``repeat`` calls (fewer once ``budget_s`` is
    spent), after one untimed call: first calls pay one-off costs (imports, tables, compilation)."""
    y = fn(x)
    times = []
    while len(times) < repeat and sum(times) < budget_s:
        t0 = time.perf_counter()
        y = fn(x)
        times.append(time.perf_counter() - t0)
    return y, min(times)


x = make_signal("mixture", 24000 * 5, seed=2).astype(np.float32)
results = {"original": (x, 0.0)}
for pipeline in (CompandedMDCT(), LMMSGriffinLim(hop_length=512)):
    results[pipeline.name] = warm_time(pipeline.roundtrip, x)

fig, axes = plt.subplots(len(results), 1, figsize=(8, 7), layout="constrained", sharex=True)
for ax, (name, (y, seconds)) in zip(axes, results.items()):
    # power spectrum per frame (Hann, 2048 points, hop 512); a full-scale sine is at -3 dB
    _, _, power = spectrogram(np.asarray(y, np.float64), fs=24000, window="hann", nperseg=2048, noverlap=1536,
                              scaling="spectrum")  # fmt: skip
    db = np.maximum(10 * np.log10(power + 1e-20), -80)
    ax.imshow(
        db, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0, extent=(0, y.size / 24000, 0, 12)
    )
    label = (
        name
        if name == "original"
        else (
            f"{name}: SNR {metrics.snr(x, y):.1f} dB, LSD {metrics.log_spectral_distance(x, y):.2f} dB, {seconds * 1e3:.1f} ms (warm)"
        )
    )
    ax.set_title(label, fontsize=9)
    ax.set_ylabel("kHz")
axes[-1].set_xlabel("time (s)")
plt.show()
