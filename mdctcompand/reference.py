"""Slow reference implementations, straight from the definitions.

These are the test oracles for the fast kernels: the same API and conventions, written
for clarity (an explicit ``O(N^2)`` cosine matrix per frame, plain numpy and scipy), never
for speed. Use them to check results, not to process audio.
"""

from __future__ import annotations

import numpy as np

from .transform import MDCT
from .windows import WindowSpec, get_window

__all__ = ["mdct_matrix", "mdct", "imdct"]


def mdct_matrix(frame_length: int, window: WindowSpec = "sine") -> np.ndarray:
    """Windowed MDCT analysis matrix ``A`` of shape ``(M, 2M)``: one frame's coefficients are ``A @ frame``.

    ``A[k, n] = sqrt(2/M) w[n] cos(pi/M (n + 1/2 + M/2)(k + 1/2))``, float64.

    Examples
    --------
    >>> A = mdct_matrix(8)
    >>> A.shape
    (4, 8)
    """
    w = get_window(window, frame_length)
    m = frame_length // 2
    n = np.arange(2 * m)
    k = np.arange(m)
    basis = np.cos(np.pi / m * np.outer(k + 0.5, n + 0.5 + m / 2))
    return np.sqrt(2.0 / m) * basis * w


def mdct(x, *, frame_length: int = 1024, window: WindowSpec = "sine") -> np.ndarray:
    """MDCT by the definition, float64; same conventions as :func:`mdctcompand.mdct`.

    Examples
    --------
    >>> import numpy as np
    >>> import mdctcompand
    >>> x = np.random.default_rng(0).standard_normal(100)
    >>> bool(np.allclose(mdct(x, frame_length=16), mdctcompand.mdct(x, frame_length=16), atol=1e-12))
    True
    """
    x = np.asarray(x, dtype=np.float64)
    t = MDCT(frame_length, window=window)
    m = t.hop_length
    n = x.shape[-1]
    n_frames = t.n_frames(n)
    padded = np.zeros(x.shape[:-1] + ((n_frames + 1) * m,))
    padded[..., m : m + n] = x
    A = mdct_matrix(frame_length, window)
    out = np.empty(x.shape[:-1] + (m, n_frames))
    for f in range(n_frames):
        out[..., f] = padded[..., f * m : f * m + 2 * m] @ A.T
    return out


def imdct(coefficients, *, length: int, window: WindowSpec = "sine") -> np.ndarray:
    """Inverse MDCT by the definition (transpose of the analysis, overlap-added), float64.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal(50)
    >>> bool(np.allclose(imdct(mdct(x, frame_length=8), length=50), x))
    True
    """
    X = np.asarray(coefficients, dtype=np.float64)
    m = X.shape[-2]
    n_frames = X.shape[-1]
    A = mdct_matrix(2 * m, window)
    out = np.zeros(X.shape[:-2] + ((n_frames + 1) * m,))
    for f in range(n_frames):
        out[..., f * m : f * m + 2 * m] += X[..., :, f] @ A
    return out[..., m : m + length]
