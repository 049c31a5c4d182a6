"""
The transform as an image
=========================

A clip becomes a 512-band x N-frame 8-bit image (low frequencies at the bottom, time left
to right), the representation the paper trains image diffusion models on. Here: speech from
espeak-ng if it is installed, otherwise a music-like test signal.
"""

import matplotlib.pyplot as plt
import numpy as np

import mdctcompand
from mdctcompand.testing import make_signal, speech

x = speech("Audio as an image: the modified discrete cosine transform, companded to eight bits.")
if x is None:
    x = make_signal("mixture", 24000 * 6).astype(np.float32)
conv = mdctcompand.AudioImageConverter()
enc = conv.codes_from_audio(x)
y = conv.audio_from_codes(enc)

fig, axes = plt.subplots(3, 1, figsize=(8, 7), layout="constrained", height_ratios=[1, 2, 1])
t = np.arange(x.size) / conv.sample_rate
axes[0].plot(t, x, lw=0.5)
axes[0].set(title="waveform (24 kHz)", xlabel="time (s)", xlim=(0, t[-1]))
mdctcompand.plotting.plot_codes(
    enc.codes,
    sample_rate=conv.sample_rate,
    hop_length=conv.hop_length,
    ax=axes[1],
    title=f"8-bit codes: {enc.codes.shape[0]} bands x {enc.codes.shape[1]} frames",
)
axes[2].plot(t, x - y, lw=0.5, color="C3")
axes[2].set(
    title=f"round-trip error (SNR {mdctcompand.metrics.snr(x, y):.1f} dB)", xlabel="time (s)", xlim=(0, t[-1])
)
plt.show()
