"""Private kernels: loops only, no validation, each in two builds with identical results.

This package is the only place that imports numba. :mod:`.lapped` (window + fold, unfold +
overlap-add) and :mod:`.quantize` (8-bit threshold search, table look-up) each expose one
set of functions; every call runs either the Numba build (``_lapped_numba``,
``_quantize_numba``: serial, ``cache=True``, ``nogil=True``) or a plain-numpy build of the
same arithmetic (same operations in the same order, so the outputs are bit-identical; the
tests check it).

Why two builds: importing numba and loading the cached machine code costs about 0.4-1 s of
CPU and 70 MB of memory, while a 10 s clip needs only milliseconds of work and the numpy
build is within a few per cent of Numba's speed on the codec's work. A
short-lived process (one ``wav2jpeg`` call) therefore runs numpy until the work it has done
would have paid for loading Numba, then switches (the "ski rental" rule, at most 2x the
better choice in hindsight):

- a call of at least :data:`JIT_MIN_VALUES` values loads Numba at once (long files, big batches);
- otherwise numpy runs until the process has pushed :data:`NUMPY_BUDGET_VALUES` values through it;
- once Numba is loaded (by any caller), every call uses it.

``MDCTCOMPAND_KERNELS=numba`` or ``=numpy`` in the environment (read at each call) pins
one build, e.g. for benchmarks; ``auto`` (the default) follows the rule above, and runs numpy
everywhere where numba is not installed.
Parallelism comes from running the kernels on chunks in threads (:mod:`mdctcompand._threads`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
import threading
from types import ModuleType

#: One call at least this large (values processed) loads Numba at once.
JIT_MIN_VALUES = 1 << 26
#: Values the numpy build may process in one process before Numba is loaded.
#:
#: Measured (issue 26, this project's 2-core machine, fresh ``wav2jpeg``/``jpeg2wav`` processes
#: on 10 min of 44.1 kHz stereo, about 1.1e8 kernel values each way): the numpy build took the
#: same CPU to encode (5.0 s against 5.0-5.3 with Numba) and less to decode (1.8-1.9 s against
#: 2.3-2.6: loading Numba and its cached code costs about 0.4 s), with 125 MB less peak memory
#: (174 against 300 MB encoding, 228 against 351 decoding); in one long process Numba saves
#: about 7 ns per value encoding. So Numba pays from a few times 1e8 values on.
NUMPY_BUDGET_VALUES = 1 << 28

_lock = threading.Lock()
_numpy_values = 0
_JIT_MODULES = {"lapped": f"{__name__}._lapped_numba", "quantize": f"{__name__}._quantize_numba"}


def jit_loaded() -> bool:
    """Whether the Numba build of any kernel module has been imported in this process."""
    return any(name in sys.modules for name in _JIT_MODULES.values())


@functools.cache
def numba_installed() -> bool:
    """Whether numba can be imported here (looked up once, not imported)."""
    return importlib.util.find_spec("numba") is not None


def use_jit(n_values: int) -> bool:
    """Whether a call processing ``n_values`` values should run the Numba build (see the module doc)."""
    global _numpy_values
    mode = os.environ.get("MDCTCOMPAND_KERNELS", "auto").strip().lower()
    if mode in ("numba", "jit"):
        return True
    if mode == "numpy" or not numba_installed():
        return False  # without numba (an optional speed-up where it cannot be installed) numpy runs everything
    if jit_loaded() or n_values >= JIT_MIN_VALUES:
        return True
    with _lock:
        if _numpy_values + n_values > NUMPY_BUDGET_VALUES:
            return True
        _numpy_values += n_values
    return False


def jit_module(kind: str) -> ModuleType:
    """The Numba build of ``kind`` (``"lapped"`` or ``"quantize"``), imported on first use."""
    return importlib.import_module(_JIT_MODULES[kind])
