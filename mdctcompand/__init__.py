"""mdctcompand: audio as an invertible, image-like 8-bit representation.

The transform is an MDCT followed by per-band generalized-Gaussian (GGD) companding and
uniform 8-bit quantization; on top of it sit the ``wav2jpeg`` codec, a captioned image
dataset builder and an optional diffusion extra (``mdctcompand.diffusion``).

``import mdctcompand`` is nearly free: every public name and submodule (``mdctcompand.io``,
``mdctcompand.codec``, ...) is imported on first use (PEP 562, served from the names listed once in
``__init__.pyi`` by ``lazy_loader``), so a command imports only
what it needs. numpy and scipy load with the first function that uses them, the compiled
kernels only for large inputs (see ``mdctcompand._kernels``), torch never.
"""

import lazy_loader

from ._version import __version__ as __version__

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
#: ``mdctcompand.io`` stays an attribute, out of ``from mdctcompand import *`` (it would shadow the stdlib's io).
__all__ = [name for name in __all__ if name != "io"]
