"""Integrated loudness (ITU-R BS.1770-4, LUFS) and loudness normalization, in numpy/scipy.

K-weighting is the standard's two biquads (a high shelf of about +4 dB above 1.5 kHz and a
high-pass at 38 Hz), designed for any sample rate from their analog parameters as in
libebur128 (at 48 kHz they are the coefficients printed in the standard). The integrated
loudness averages the K-weighted mean square over 400 ms blocks overlapping by 75 %,
keeping blocks above -70 LUFS (absolute gate) and then those above the mean minus 10 LU
(relative gate). Channels are summed with weight 1 (mono, left, right, centre); the
evaluation embeds mono mixes, so its loudness is that of the mix.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from scipy.signal import lfilter

from ..exceptions import ParameterError

__all__ = ["integrated_loudness", "k_weighting", "normalize_loudness"]

_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0


@functools.lru_cache(maxsize=16)
def k_weighting(sample_rate: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting biquads ``((b_shelf, a_shelf), (b_highpass, a_highpass))`` at ``sample_rate``.

    Examples
    --------
    >>> (b, a), _ = k_weighting(48000)
    >>> np.round(b, 8).tolist()  # ITU-R BS.1770-4, table 1
    [1.53512486, -2.69169619, 1.19839281]
    """
    if sample_rate < 8000:
        raise ParameterError(f"sample_rate={sample_rate} is too low for K-weighting (>= 8000 Hz)")
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (
        np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]),
        np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]),
    )
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / sample_rate)
    a0 = 1 + k / q + k * k
    highpass = (np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    return shelf, highpass


def integrated_loudness(audio: Any, sample_rate: int) -> float:
    """Integrated loudness in LUFS of ``audio`` ``(n_samples,)`` or ``(channels, n_samples)``.

    Clips shorter than one 400 ms block are measured as a single block. Silence gives
    ``-inf``.

    Examples
    --------
    >>> t = np.arange(48000 * 3) / 48000
    >>> round(integrated_loudness(np.sin(2 * np.pi * 997 * t), 48000), 2)  # 0 dBFS sine: -3.01 LUFS
    -3.01
    """
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.ndim != 2 or x.shape[-1] == 0:
        raise ParameterError(
            f"audio of shape {np.shape(audio)} must be (n_samples,) or (channels, n_samples)"
        )
    (bs, as_), (bh, ah) = k_weighting(int(sample_rate))
    y = lfilter(bh, ah, lfilter(bs, as_, x, axis=-1), axis=-1)
    block, hop = int(round(0.4 * sample_rate)), int(round(0.1 * sample_rate))
    n = y.shape[-1]
    if n < block:
        z = np.mean(y**2, axis=-1, keepdims=True)
    else:
        power = np.cumsum(np.pad(y**2, ((0, 0), (1, 0))), axis=-1)
        starts = np.arange(0, n - block + 1, hop)
        z = (power[:, starts + block] - power[:, starts]) / block  # (channels, blocks)
    total = z.sum(axis=0)
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(total)
    keep = loud > _ABSOLUTE_GATE
    if not keep.any():
        return float("-inf")
    relative = -0.691 + 10 * np.log10(total[keep].mean()) + _RELATIVE_GATE
    keep &= loud > relative
    return float(-0.691 + 10 * np.log10(total[keep].mean()))


def normalize_loudness(audio: Any, sample_rate: int, *, target_lufs: float = -23.0) -> np.ndarray:
    """``audio`` scaled to ``target_lufs`` integrated loudness (float64; silence is returned as is).

    No limiter: samples may exceed 1 (the evaluation works on floats).

    Examples
    --------
    >>> x = 0.01 * np.random.default_rng(0).standard_normal(48000)
    >>> round(integrated_loudness(normalize_loudness(x, 48000), 48000), 6)
    -23.0
    """
    x = np.asarray(audio, dtype=np.float64)
    current = integrated_loudness(x, sample_rate)
    if not np.isfinite(current):
        return x.copy()
    return x * 10 ** ((target_lufs - current) / 20)
