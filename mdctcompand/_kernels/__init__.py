"""Private Numba kernels: loops only, no validation.

This package is the only place that imports numba. Public modules import it lazily,
at the first transform, so ``import mdctcompand`` stays fast. Every kernel has a
plain-numpy counterpart (``mdctcompand.reference`` or the public module itself) that
the tests use as an oracle. Kernels are serial, ``cache=True`` and ``nogil=True``;
parallelism comes from running them on chunks in threads (:mod:`mdctcompand._threads`).
"""
