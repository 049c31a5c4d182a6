"""
Every genre, leave-one-package-out
==================================

The 8-bit round trip on the test clips of eleven Debian packages (rock stems, a tracker
module, game soundtracks of several genres, recorded voices, synthetic speech), each package
scored with a profile fitted without it. Dots are package medians, lines reach down to the
worst clip; dashed: the 38 dB target for medians, dotted: 34 dB for the worst clip.

``shipped-v1`` is the representation before band gains (profiles fitted on one rock band,
tilt 5.5); ``fixed`` the refitted profile without band gains at tilt 4 (what images a model
generates decode with); ``clip`` the default, per-clip band-group gains at tilt 3; and
``codec-png`` lossless ``wav2jpeg -f png`` (held-out packages only). The figures come from
``python -m lab.genres --summary ../docs/data/genres.json`` (from ``benchmarks/``; the corpus needs the
Debian packages, so the docs plot the stored summary instead of measuring at build time).
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

try:
    here = Path(__file__).resolve().parent
except NameError:  # run by sphinx-gallery from the examples directory
    here = Path.cwd()
rows = json.loads((here.parent / "data" / "genres.json").read_text())

settings = ["24k", "44k-ms"]
designs = ["shipped-v1", "fixed", "clip", "codec-png"]
packages = list(dict.fromkeys(r["package"] for r in rows))
short = {p: p.replace("fretsonfire-songs-", "").replace("-music", "").split("-1.")[0] for p in packages}
fig, axes = plt.subplots(1, len(settings), figsize=(11, 4), sharey=True, layout="constrained")
for ax, setting in zip(axes, settings):
    for k, design in enumerate(designs):
        by = {r["package"]: r for r in rows if r["setting"] == setting and r["design"] == design}
        xs = np.arange(len(packages)) + (k - 1.5) * 0.2
        med = [by[p]["snr_median"] if p in by else np.nan for p in packages]
        worst = [by[p]["snr_worst"] if p in by else np.nan for p in packages]
        ax.vlines(xs, worst, med, color=f"C{k}", alpha=0.6)
        ax.plot(xs, med, "o", color=f"C{k}", label=design, ms=4)
    ax.axhline(38, color="k", lw=0.7, ls="--")
    ax.axhline(34, color="k", lw=0.7, ls=":")
    ax.set_xticks(np.arange(len(packages)), [short[p] for p in packages], rotation=60, ha="right")
    ax.set_title({"24k": "24 kHz mono", "44k-ms": "44.1 kHz stereo, mid/side"}[setting])
    ax.set_ylim(5, 42)
    ax.grid(True, axis="y", alpha=0.3)
axes[0].set_ylabel("8-bit round-trip SNR (dB)")
axes[0].legend(loc="lower left", fontsize=8)
plt.show()
