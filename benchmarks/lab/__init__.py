"""The measurement lab: benchmarks, peer implementations and evaluation reports.

Not part of the ``mdctcompand`` package (it is not in the wheel); it lives beside the asv suite
and needs the ``bench`` extra (``pip install -e ".[bench]"``). Each module here that has a
``main`` runs as a script, from ``benchmarks/``, and prints side-by-side medians and ratios
measured in one process:

- ``python -m lab.transform``: MDCT speed against the scipy DCT floor and a plain-numpy MDCT.
- ``python -m lab.compand``: 8-bit companding speed against scipy.stats.gennorm and round-trip
  quality on held-out music for a sweep of the tilt.
- ``python -m lab.codec``: wav2jpeg against Opus, LAME MP3 and AAC at 16-48 kbit/s
  (rate-distortion table, the issue's targets, ``--plot``), codec speed.
- ``python -m lab.headroom``: how much of its rate wav2jpeg would have to save to match Opus's
  LSD, against what a lossless re-coding of its own files could save (where the bytes go, the
  scan against the entropy of its levels, JPEG XL).
- ``python -m lab.fullband``: full band at 44.1 and 48 kHz: geometry, stereo layout and gain,
  the targets on held-out music, speed against log-mel + Griffin-Lim.
- ``python -m lab.genres``: the 8-bit round trip on every genre, leave-one-package-out.
- ``python -m lab.report --out reports``: every pipeline side by side against log-mel +
  Griffin-Lim, markdown table and figures.
"""
