"""The transform's DCTs: scipy's pocketfft, without the cost of importing ``scipy.fft``.

``import scipy.fft`` takes about 200 ms of CPU (its array-API layer walks numpy's namespace,
which loads ``numpy.testing`` and ``numpy.f2py``; ``scipy.fft._fftlog`` loads ``scipy.special``),
more than the whole work of encoding a short clip (issue 26). The DCTs themselves are one C
extension, ``scipy.fft._pocketfft.pypocketfft``: :func:`dct` loads that extension alone (under
its own name, so a later ``import scipy.fft`` reuses it) and calls it exactly as ``scipy.fft.dct``
does, so every coefficient is bit-identical to ``scipy.fft.dct``'s (tested).

The extension is scipy's private module: it is used only after a probe transform, at load, gives
the textbook DCT-IV and DCT-II; otherwise (another scipy layout, another signature) and for any
input the fast call does not cover, :func:`dct` is ``scipy.fft.dct`` itself.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

_NAME = "scipy.fft._pocketfft.pypocketfft"
#: pocketfft's normalization codes, as scipy.fft passes them for a forward transform.
_NORMS = {None: 0, "backward": 0, "ortho": 1, "forward": 2}


def dct(
    x: np.ndarray,
    type: int = 2,
    *,
    norm: str | None = None,
    axis: int = -1,
    overwrite_x: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``scipy.fft.dct(x, type, norm=norm, axis=axis, overwrite_x=overwrite_x)``, bit for bit.

    ``out`` (same shape and dtype as ``x``, not overlapping it) receives the result, which is
    then returned: no array is allocated.

    Examples
    --------
    >>> x = np.arange(8.0)
    >>> from scipy import fft
    >>> np.array_equal(dct(x, 4, norm="ortho"), fft.dct(x, 4, norm="ortho"))
    True
    """
    engine = _engine()
    if (
        engine is None
        or not isinstance(x, np.ndarray)
        or x.dtype not in (np.float32, np.float64)
        or not x.dtype.isnative
        or not x.flags.aligned
        or x.ndim == 0
        or x.shape[axis] < 1
        or norm not in _NORMS
    ):
        from scipy import fft

        result = fft.dct(x, type=type, norm=norm, axis=axis, overwrite_x=overwrite_x)
        if out is None:
            return result
        out[...] = result
        return out
    if out is None and overwrite_x:
        out = x
    elif out is not None and (out.shape != x.shape or out.dtype != x.dtype):
        raise ValueError(f"out has shape {out.shape} and dtype {out.dtype}; expected {x.shape} and {x.dtype}")
    return engine.dct(x, type, (axis % x.ndim,), _NORMS[norm], out, 1, None)


@functools.cache
def _engine() -> Any:
    """scipy's pocketfft extension, loaded alone and checked on a probe; ``None`` where that fails."""
    try:
        spec = importlib.util.find_spec("scipy")
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations))) / "fft" / "_pocketfft"
        path = next(
            (
                folder / f"pypocketfft{s}"
                for s in importlib.machinery.EXTENSION_SUFFIXES
                if (folder / f"pypocketfft{s}").is_file()
            ),
            None,
        )
        if path is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(_NAME, str(path))
        extension = importlib.util.spec_from_loader(_NAME, loader)
        if extension is None:
            return None
        module = importlib.util.module_from_spec(extension)
        loader.exec_module(module)
        return module if _agrees(module) else None
    except Exception:  # another scipy: fall back to scipy.fft
        return None


def _agrees(module: Any) -> bool:
    """Whether the extension, called as :func:`dct` calls it, gives the textbook DCT-IV (orthonormal),
    DCT-II and DCT-III (unnormalized) of a probe, in place and not."""
    x = np.random.default_rng(26).standard_normal(6)
    n, k = np.arange(6)[:, None], np.arange(6)[None, :]
    dct4 = np.sqrt(2 / 6) * x @ np.cos(np.pi / 6 * (n + 0.5) * (k + 0.5))
    dct2 = 2 * x @ np.cos(np.pi / 6 * (n + 0.5) * k)
    dct3 = x[0] + 2 * x[1:] @ np.cos(np.pi / 6 * n[1:] * (k + 0.5))
    inplace = x.copy()
    got = (
        module.dct(x, 4, (0,), 1, None, 1, None),
        module.dct(x, 2, (0,), 0, None, 1, None),
        module.dct(x, 3, (0,), 0, None, 1, None),
        module.dct(inplace, 4, (0,), 1, inplace, 1, None),
    )
    want = (dct4, dct2, dct3, dct4)
    return all(np.allclose(g, w, rtol=0, atol=1e-12) for g, w in zip(got, want)) and np.shares_memory(
        got[3], inplace
    )
