"""Private kernels: loops only, no validation, each in two builds with identical results.

This package is the only place that imports numba. :mod:`.lapped` (window + fold, unfold +
overlap-add) and :mod:`.quantize` (8-bit threshold search, table look-up) each expose one
set of functions; every call runs either the Numba build (``_lapped_numba``,
``_quantize_numba``: serial, ``cache=True``, ``nogil=True``) or a plain-numpy build of the
same arithmetic (same operations in the same order, so the outputs are bit-identical; the
tests check it).

Why two builds: importing numba and loading the cached machine code costs about 0.4-1 s of
CPU and 70 MB of memory, while a 10 s clip needs only milliseconds of work. A short-lived process (one ``wav2jpeg`` call) therefore runs numpy until the extra CPU the numpy
build has spent (each kernel's measured extra cost per value, :data:`NUMPY_EXTRA_NS`) would
have paid for loading Numba (:data:`JIT_LOAD_NS`), then switches (the "ski rental" rule, at
most 2x the better choice in hindsight):

- a call whose extra cost alone reaches the load cost loads Numba at once;
- otherwise numpy runs until the calls' extra costs add up to it (a 10-minute stereo file
  through the codec stays below; about 30 one-minute conversions with the 8-bit converter do not);
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

#: CPU that loading Numba and its cached machine code costs, in ns (0.35-0.65 s measured on this
#: project's 2-core machine, in a fresh process and in a codec run).
JIT_LOAD_NS = 5e8
#: Extra CPU per value of each kernel's numpy build over its Numba build, in ns (60 s at 24 kHz,
#: one thread, in-process, warm: MDCT fold 2.0, overlap-add 1.5, finite check 0.15 (in cache),
#: decode look-up 3.8; encode 24
#: in the converter's bulk call, 6 per value in the codec's encode, which is what is used: on
#: 10 min of 44.1 kHz stereo, fresh ``wav2jpeg`` processes took the same CPU with either build
#: and Numba 125 MB more memory, fresh ``jpeg2wav`` 0.4 s more CPU with Numba).
NUMPY_EXTRA_NS = {"fold": 2.0, "overlap_add": 1.5, "finite": 0.15, "encode": 6.0, "decode": 4.0}

_lock = threading.Lock()
_numpy_ns = 0.0  # the extra CPU the numpy build has spent so far (estimated)
_JIT_MODULES = {"lapped": f"{__name__}._lapped_numba", "quantize": f"{__name__}._quantize_numba"}


def jit_loaded() -> bool:
    """Whether the Numba build of any kernel module has been imported in this process."""
    return any(name in sys.modules for name in _JIT_MODULES.values())


@functools.cache
def numba_installed() -> bool:
    """Whether numba can be imported here (looked up once, not imported)."""
    return importlib.util.find_spec("numba") is not None


def use_jit(n_values: int, kernel: str) -> bool:
    """Whether a call of ``kernel`` (a key of :data:`NUMPY_EXTRA_NS`) processing ``n_values`` values
    should run the Numba build (see the module doc)."""
    global _numpy_ns
    mode = os.environ.get("MDCTCOMPAND_KERNELS", "auto").strip().lower()
    if mode in ("numba", "jit"):
        return True
    if mode == "numpy" or not numba_installed():
        return False  # without numba (an optional speed-up where it cannot be installed) numpy runs everything
    extra = n_values * NUMPY_EXTRA_NS[kernel]
    if jit_loaded() or extra >= JIT_LOAD_NS:
        return True
    with _lock:
        if _numpy_ns + extra > JIT_LOAD_NS:
            return True
        _numpy_ns += extra
    return False


def jit_module(kind: str) -> ModuleType:
    """The Numba build of ``kind`` (``"lapped"`` or ``"quantize"``), imported on first use."""
    return importlib.import_module(_JIT_MODULES[kind])
