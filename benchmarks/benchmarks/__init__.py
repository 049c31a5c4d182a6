"""The asv suite.

asv imports this package on its own, without its parent directory on ``sys.path``; the lab
(``benchmarks/lab``, the peers, corpora and baselines the benchmarks compare with) lives in
that directory, so it is put there first.
"""

import sys
from pathlib import Path

_BENCHMARKS = str(Path(__file__).resolve().parent.parent)
if _BENCHMARKS not in sys.path:
    sys.path.insert(0, _BENCHMARKS)
