"""The transform on PyTorch tensors: any device, differentiable, torch.compile-compatible.

Install the ``torch`` extra (``python -m pip install '.[torch]'`` in the source tree) or the ``diffusion`` extra. ``import
mdctcompand`` never imports torch; importing this subpackage does, and says what is missing.

Mirrors the numpy API on tensors, with the same conventions and results (tested against it):

- :func:`mdct` / :func:`imdct` and :class:`MDCT` (an ``nn.Module``): the orthonormal lapped
  transform, coefficients ``(..., n_bins, n_frames)``, every window of
  :func:`mdctcompand.get_window`;
- :class:`Compander`: continuous companding and expansion (differentiable) and 8-bit
  encode/decode with the numpy compander's tables (a straight-through option for gradients);
- :class:`AudioImageConverter` and :class:`CodeImage`: audio <-> 8-bit images with level gain,
  for batches and channels in one call.

What is guaranteed: for equal coefficients the codes and decoded values are the numpy
compander's exactly (its own tables). From audio, the two MDCTs (torch's FFT, scipy's) differ
by float32 rounding, so a coefficient within rounding of a code threshold can land one code
away: every difference is +-1, on 99.998 % agreement at 24 kHz and 99.9996 % at 44.1 kHz stereo
(measured in issue 28); numpy's own float32 and float64 paths disagree as often.
``torch.compile`` pays on the GPU; on the CPU it slowed the transform down (compiled/eager
1.9-6.6x, issue 28), so compile there only for a fused graph you measured.

Everything runs on the device of its input (CPU, CUDA, MPS; modules move with ``.to``), in
float32 or float64 (half types are computed in float32), without host round trips:
finiteness checks run on CPU tensors only unless ``check_finite=True``.

Examples
--------
>>> import torch
>>> from mdctcompand.torch import mdct, imdct
>>> x = torch.randn(4, 2, 24000, dtype=torch.float64, requires_grad=True)
>>> X = mdct(x, frame_length=1024)
>>> X.shape
torch.Size([4, 2, 512, 48])
>>> y = imdct(X, length=24000)
>>> bool((y - x).abs().max() < 1e-12)
True
>>> y.square().sum().backward()  # differentiable end to end
"""

from __future__ import annotations

import importlib.util

try:
    _found = importlib.util.find_spec("torch") is not None
except (ImportError, ValueError):  # e.g. sys.modules["torch"] is None
    _found = False
if not _found:
    raise ImportError("mdctcompand.torch needs PyTorch (not installed): pip install torch (or the 'torch' extra)")

from .compand import Compander
from .converter import AudioImageConverter, CodeImage, ValueRange
from .transform import MDCT, imdct, mdct

__all__ = ["MDCT", "AudioImageConverter", "CodeImage", "Compander", "ValueRange", "imdct", "mdct"]
