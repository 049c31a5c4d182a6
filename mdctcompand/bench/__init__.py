"""Benchmarks and peer implementations (the ``bench`` extra).

Never imported by ``import mdctcompand``. Each module here that has a ``main`` runs as a
script and prints side-by-side medians and ratios measured in one process:

- ``python -m mdctcompand.bench.transform``: MDCT speed against the scipy DCT floor and a
  plain-numpy MDCT.
"""
