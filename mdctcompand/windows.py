"""MDCT windows and the Princen-Bradley condition.

An MDCT with hop ``M`` and frame length ``N = 2M`` reconstructs perfectly (time-domain
alias cancellation, TDAC) when the same window ``w`` is used for analysis and synthesis
and ``w`` satisfies the Princen-Bradley condition:

.. math::

    w[n]^2 + w[n + M]^2 = 1, \\qquad w[n] = w[N - 1 - n], \\qquad 0 \\le n < M.

This module builds the usual windows (sine, Kaiser-Bessel derived, Vorbis), parses the
window specifications accepted across the library and checks the condition.
"""

from __future__ import annotations

from typing import Union

import numpy as np

from .exceptions import ParameterError

__all__ = [
    "WindowSpec",
    "sine_window",
    "vorbis_window",
    "kbd_window",
    "get_window",
    "window_name",
    "princen_bradley_error",
    "check_princen_bradley",
]

#: A window given by name (``"sine"``, ``"vorbis"``, ``"kbd"``, ``"kbd:4"``), by a tuple
#: ``("kbd", alpha)`` or as an explicit array of length ``frame_length``.
WindowSpec = Union[str, tuple, np.ndarray]  # noqa: UP007 (a runtime alias)

_DEFAULT_KBD_ALPHA = 4.0
_PB_TOLERANCE = 1e-10


def _check_frame_length(frame_length: int) -> int:
    if isinstance(frame_length, (bool, np.bool_)) or not isinstance(frame_length, (int, np.integer)):
        raise ParameterError(f"frame_length={frame_length!r} must be an integer")
    frame_length = int(frame_length)
    if frame_length < 2 or frame_length % 2:
        raise ParameterError(f"frame_length={frame_length} must be an even integer >= 2")
    return frame_length


def sine_window(frame_length: int) -> np.ndarray:
    """Sine window ``sin(pi (n + 1/2) / N)``, the default MDCT window.

    Parameters
    ----------
    frame_length : int
        Even window length ``N``.

    Returns
    -------
    window : np.ndarray, shape (frame_length,), float64

    Examples
    --------
    >>> w = sine_window(8)
    >>> bool(abs(w[0] ** 2 + w[4] ** 2 - 1) < 1e-15)
    True
    """
    n = _check_frame_length(frame_length)
    return np.sin(np.pi * (np.arange(n) + 0.5) / n)


def vorbis_window(frame_length: int) -> np.ndarray:
    """Vorbis power-complementary window ``sin(pi/2 sin^2(pi (n + 1/2) / N))``.

    Parameters
    ----------
    frame_length : int
        Even window length ``N``.

    Returns
    -------
    window : np.ndarray, shape (frame_length,), float64

    Examples
    --------
    >>> w = vorbis_window(16)
    >>> round(float(w.max()), 6)
    1.0
    """
    n = _check_frame_length(frame_length)
    return np.sin(0.5 * np.pi * np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 2)


def kbd_window(frame_length: int, alpha: float = _DEFAULT_KBD_ALPHA) -> np.ndarray:
    """Kaiser-Bessel derived window (AAC, AC-3) with shape parameter ``alpha``.

    Parameters
    ----------
    frame_length : int
        Even window length ``N``.
    alpha : float, default 4
        Kaiser shape parameter; the Kaiser ``beta`` is ``pi * alpha``. Larger values give
        more stop-band attenuation and a wider main lobe.

    Returns
    -------
    window : np.ndarray, shape (frame_length,), float64

    Examples
    --------
    >>> w = kbd_window(1024, alpha=4)
    >>> float(princen_bradley_error(w)) < 1e-12
    True
    """
    from scipy.signal.windows import kaiser_bessel_derived

    n = _check_frame_length(frame_length)
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise ParameterError(f"alpha={alpha} must be a finite number >= 0")
    return np.asarray(kaiser_bessel_derived(n, np.pi * alpha), dtype=np.float64)


def _parse_spec(window: str | tuple) -> tuple[str, tuple]:
    if isinstance(window, tuple):
        if not window or not isinstance(window[0], str):
            raise ParameterError(f"window={window!r}: a tuple must be (name, *parameters)")
        name, params = window[0].lower(), tuple(window[1:])
    else:
        name, _, arg = window.lower().partition(":")
        params = (float(arg),) if arg else ()
    if name in ("sine", "sin") and not params:
        return "sine", ()
    if name == "vorbis" and not params:
        return "vorbis", ()
    if name in ("kbd", "kaiser_bessel_derived") and len(params) <= 1:
        return "kbd", (float(params[0]) if params else _DEFAULT_KBD_ALPHA,)
    raise ParameterError(
        f"window={window!r} is not a known window; use 'sine', 'vorbis', 'kbd', 'kbd:ALPHA', "
        "('kbd', alpha) or an array"
    )


def window_name(window: WindowSpec) -> str | None:
    """Canonical string for a named window (``"sine"``, ``"vorbis"``, ``"kbd:4"``).

    Returns ``None`` for an explicit window array, which has no name.

    Examples
    --------
    >>> window_name(("kbd", 5))
    'kbd:5'
    >>> window_name("SINE")
    'sine'
    """
    if isinstance(window, np.ndarray):
        return None
    if not isinstance(window, (str, tuple)):
        raise ParameterError(f"window={window!r} must be a name, a (name, parameter) tuple or an array")
    name, params = _parse_spec(window)
    if name == "kbd":
        return f"kbd:{params[0]:g}"
    return name


def princen_bradley_error(window: np.ndarray) -> float:
    """Largest deviation of ``window`` from the Princen-Bradley conditions.

    Returns the maximum over ``n < M`` of ``|w[n]^2 + w[n+M]^2 - 1|`` and of the
    symmetry error ``|w[n] - w[N-1-n]|``; zero for an exact perfect-reconstruction window.

    Examples
    --------
    >>> princen_bradley_error(sine_window(64)) < 1e-15
    True
    >>> princen_bradley_error(np.hanning(64)) > 0.1
    True
    """
    w = np.asarray(window, dtype=np.float64)
    if w.ndim != 1 or w.size < 2 or w.size % 2:
        raise ParameterError(f"window of shape {w.shape} must be one-dimensional with an even length")
    m = w.size // 2
    power = np.abs(w[:m] ** 2 + w[m:] ** 2 - 1.0)
    symmetry = np.abs(w - w[::-1])
    return float(max(power.max(), symmetry.max()))


def check_princen_bradley(window: np.ndarray, *, tolerance: float = _PB_TOLERANCE) -> None:
    """Raise :class:`ParameterError` unless ``window`` satisfies Princen-Bradley.

    Parameters
    ----------
    window : np.ndarray, shape (N,)
        Candidate MDCT window with ``N`` even.
    tolerance : float, default 1e-10
        Largest accepted deviation (see :func:`princen_bradley_error`).

    Examples
    --------
    >>> check_princen_bradley(vorbis_window(32))
    >>> check_princen_bradley(np.hanning(32))
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: window violates the Princen-Bradley condition ...
    """
    w = np.asarray(window)
    if not np.all(np.isfinite(w)):
        raise ParameterError("window contains NaN or infinite values")
    err = princen_bradley_error(w)
    if not err <= tolerance:
        raise ParameterError(
            f"window violates the Princen-Bradley condition (w[n]^2 + w[n+M]^2 = 1, symmetric) "
            f"by {err:.3g} > tolerance {tolerance:.3g}; it would not reconstruct perfectly"
        )


def get_window(window: WindowSpec, frame_length: int) -> np.ndarray:
    """Build (or check) an MDCT window of length ``frame_length``.

    Parameters
    ----------
    window : str, tuple or np.ndarray
        ``"sine"``, ``"vorbis"``, ``"kbd"`` (alpha 4), ``"kbd:ALPHA"``, ``("kbd", alpha)``, or an
        explicit array of length ``frame_length``.
    frame_length : int
        Even frame length.

    Returns
    -------
    window : np.ndarray, shape (frame_length,), float64, read-only
        Checked against the Princen-Bradley condition.

    Examples
    --------
    >>> get_window("kbd:6", 256).shape
    (256,)
    """
    n = _check_frame_length(frame_length)
    if isinstance(window, np.ndarray) or (isinstance(window, (list,)) and window):
        w = np.array(window, dtype=np.float64)
        if w.shape != (n,):
            raise ParameterError(f"window array of shape {w.shape} must have shape ({n},)")
    elif isinstance(window, (str, tuple)):
        name, params = _parse_spec(window)
        if name == "sine":
            w = sine_window(n)
        elif name == "vorbis":
            w = vorbis_window(n)
        else:
            w = kbd_window(n, params[0])
    else:
        raise ParameterError(f"window={window!r} must be a name, a (name, parameter) tuple or an array")
    check_princen_bradley(w)
    w.setflags(write=False)
    return w
