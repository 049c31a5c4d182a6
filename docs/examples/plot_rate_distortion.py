"""
wav2jpeg rate-distortion
========================

Bit rate against SNR and log-spectral distance for a sweep of JPEG qualities and WebP, and
LAME MP3 at 24 kbit/s when ``lameenc`` and the lab (``benchmarks/lab``) are there, on 10 s of
generated music-like audio. The same sweep on held-out real music (``python -m lab.codec``, from
``benchmarks/``) gives ViSQOL
4.10 at 22.6 kbit/s against 2.63 for MP3 at 24 kbit/s.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from mdctcompand import codec, metrics
from mdctcompand.formats import available_formats
from mdctcompand.testing import make_signal

x = make_signal("mixture", 240000, seed=3).astype(np.float32)
rows = {}
for fmt, qualities in [("jpeg", [10, 15, 20, 25, 35, 50, 75]), ("webp", [10, 20, 40, 60])]:
    if fmt not in available_formats():
        continue
    for q in qualities:
        data = codec.encode(x, 24000, format=fmt, quality=q)
        y = codec.decode(data).audio
        rows.setdefault(fmt, []).append(
            (len(data) * 8 / 10 / 1000, metrics.snr(x, y), metrics.log_spectral_distance(x, y))
        )
try:
    from lab.peers import mp3_roundtrip

    y, n_bytes = mp3_roundtrip(x, 24000)
    mp3 = (n_bytes * 8 / 10 / 1000, metrics.snr(x, y), metrics.log_spectral_distance(x, y))
except ImportError:
    mp3 = None

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for fmt, values in rows.items():
    kbps, snr, lsd = np.array(values).T
    ax1.plot(kbps, snr, "o-", label=f"wav2jpeg {fmt.upper()}")
    ax2.plot(kbps, lsd, "o-", label=f"wav2jpeg {fmt.upper()}")
if mp3 is not None:
    ax1.plot(mp3[0], mp3[1], "s", label="LAME MP3 24 kbit/s")
    ax2.plot(mp3[0], mp3[2], "s", label="LAME MP3 24 kbit/s")
ax1.set(xlabel="kbit/s", ylabel="SNR (dB)", xscale="log")
ax2.set(xlabel="kbit/s", ylabel="log-spectral distance (dB)", xscale="log")
for ax in (ax1, ax2):
    # plain numbers at octave steps; no labels on the minor ticks (they collide on a log axis)
    ax.xaxis.set_major_locator(FixedLocator([4, 8, 16, 32, 64, 128]))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, alpha=0.3)
ax1.legend()
plt.show()
