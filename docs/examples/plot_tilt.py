"""
Quantization error against the tilt c
=====================================

The compander uses the GGD CDF with scale ``a * c**(1/g)``. c = 1 (the paper) equalizes the
code histogram; larger c widens the range, shrinks overload at the tails and trades code
uniformity (entropy) for signal-to-noise ratio. On held-out real music the default c = 5.5
gives 39.5 dB median and 36.6 dB on the worst clip (c = 1: 18 dB / 9 dB); here, the same
sweep on generated signals with the shipped (music) profile.
"""

import matplotlib.pyplot as plt
import numpy as np

import mdctcompand
from mdctcompand.testing import make_signal

tilts = [1, 1.5, 2, 3, 4, 5, 6, 8, 12]
signals = {
    kind: make_signal(kind, 24000 * 5, seed=1).astype(np.float32)
    for kind in ("mixture", "transients", "tone")
}
fig, (ax_snr, ax_h) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
for name, x in signals.items():
    snr, entropy = [], []
    for c in tilts:
        conv = mdctcompand.AudioImageConverter(tilt=c)
        enc = conv.codes_from_audio(x)
        snr.append(mdctcompand.metrics.snr(x, conv.audio_from_codes(enc)))
        h = np.bincount(enc.codes.ravel(), minlength=256) / enc.codes.size
        entropy.append(-(h[h > 0] * np.log2(h[h > 0])).sum())
    ax_snr.plot(tilts, snr, "o-", label=name)
    ax_h.plot(tilts, entropy, "o-", label=name)
ax_snr.set(xlabel="tilt c", ylabel="round-trip SNR (dB)", xscale="log", title="quality")
ax_h.set(xlabel="tilt c", ylabel="code entropy (bits)", xscale="log", title="code uniformity")
for ax in (ax_snr, ax_h):
    ax.axvline(mdctcompand.DEFAULT_TILT, color="k", lw=0.8, ls=":")
    ax.grid(True, alpha=0.3)
ax_snr.legend()
plt.show()
