"""Objective audio quality metrics.

All functions take ``reference`` and ``estimate`` arrays of the same shape ``(..., n)``
(the last axis is time) and return floats (or arrays over the leading axes).

========================================  =============================================
:func:`snr`                               signal-to-noise ratio, dB
:func:`si_sdr`                            scale-invariant SDR (Le Roux et al. 2019), dB
:func:`segmental_snr`                     mean of per-frame SNRs clamped to [-10, 35] dB
:func:`log_spectral_distance`             RMS difference of log power spectra, dB
:func:`multi_resolution_stft_distance`    spectral convergence + log-magnitude L1
:func:`mel_cepstral_distortion`           MCD of 13 MFCCs (c0 excluded), dB
:func:`visqol`                            ViSQOL v3 MOS-LQO (needs ``visqol-python``)
========================================  =============================================
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np

from .exceptions import ParameterError

__all__ = [
    "log_spectral_distance",
    "mel_cepstral_distortion",
    "mel_filterbank",
    "multi_resolution_stft_distance",
    "segmental_snr",
    "si_sdr",
    "snr",
    "visqol",
]

_EPS = 1e-20
#: Where :func:`log_spectral_distance` puts its floor.
FloorReference = Literal["full-scale", "peak"]


def _pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(reference, dtype=np.float64)
    e = np.asarray(estimate, dtype=np.float64)
    if r.shape != e.shape:
        raise ParameterError(f"reference {r.shape} and estimate {e.shape} must have the same shape")
    if r.ndim == 0 or r.shape[-1] == 0:
        raise ParameterError("signals must have at least one sample along the last axis")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(e))):
        raise ParameterError("signals contain NaN or infinite values")
    return r, e


def snr(reference: Any, estimate: Any) -> Any:
    """Signal-to-noise ratio ``10 log10(sum(r^2) / sum((r - e)^2))`` in dB (``inf`` if identical).

    Examples
    --------
    >>> r = np.array([1.0, -1.0, 1.0, -1.0])
    >>> round(float(snr(r, 0.9 * r)), 6)  # error 0.1 r: 20 dB
    20.0
    """
    r, e = _pair(reference, estimate)
    num = np.sum(r**2, axis=-1)
    den = np.sum((r - e) ** 2, axis=-1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(num / den) if np.ndim(num) else float(10 * np.log10(num / den))


def si_sdr(reference: Any, estimate: Any) -> Any:
    """Scale-invariant signal-to-distortion ratio in dB (both signals made zero-mean).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = rng.standard_normal(1000)
    >>> bool(abs(si_sdr(r, 3.0 * r)) > 200)  # a pure gain is not distortion
    True
    """
    r, e = _pair(reference, estimate)
    r = r - r.mean(axis=-1, keepdims=True)
    e = e - e.mean(axis=-1, keepdims=True)
    alpha = np.sum(e * r, axis=-1, keepdims=True) / (np.sum(r**2, axis=-1, keepdims=True) + _EPS)
    target = alpha * r
    val = 10 * np.log10((np.sum(target**2, axis=-1) + _EPS) / (np.sum((e - target) ** 2, axis=-1) + _EPS))
    return val if np.ndim(val) else float(val)


def segmental_snr(
    reference: Any,
    estimate: Any,
    *,
    frame_length: int = 512,
    hop_length: int = 256,
    clamp: tuple[float, float] = (-10.0, 35.0),
) -> Any:
    """Mean over frames of the per-frame SNR, each clamped to ``clamp`` dB (silent frames skipped).

    Examples
    --------
    >>> r = np.ones(2048)
    >>> e = r.copy(); e[:1024] *= 0.9  # 20 dB in the first half, perfect in the second (-> 35)
    >>> round(float(segmental_snr(r, e, hop_length=512)), 3)
    27.5
    """
    r, e = _pair(reference, estimate)
    if r.shape[-1] < frame_length:
        frame_length = r.shape[-1]
        hop_length = frame_length
    fr = np.lib.stride_tricks.sliding_window_view(r, frame_length, axis=-1)[..., ::hop_length, :]
    fe = np.lib.stride_tricks.sliding_window_view(e, frame_length, axis=-1)[..., ::hop_length, :]
    sig = np.sum(fr**2, axis=-1)
    err = np.sum((fr - fe) ** 2, axis=-1)
    with np.errstate(divide="ignore"):
        seg = np.clip(10 * np.log10(sig / np.maximum(err, _EPS)), *clamp)
    active = sig > _EPS
    val = np.sum(np.where(active, seg, 0.0), axis=-1) / np.maximum(np.sum(active, axis=-1), 1)
    return val if np.ndim(val) else float(val)


def _stft_power(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Power spectra (..., frames, n_fft//2 + 1), Hann window, scaled so a full-scale sine peaks at 0 dB."""
    from scipy.signal import get_window

    window = get_window("hann", n_fft)
    pad = n_fft // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)])
    if padded.shape[-1] < n_fft:
        padded = np.pad(padded, [(0, 0)] * (x.ndim - 1) + [(0, n_fft - padded.shape[-1])])
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[..., ::hop, :]
    spec = np.fft.rfft(frames * window, axis=-1)
    return np.abs(spec) ** 2 * (2.0 / window.sum()) ** 2


def log_spectral_distance(
    reference: Any,
    estimate: Any,
    *,
    n_fft: int = 2048,
    hop_length: int = 512,
    floor_db: float = -80.0,
    floor_reference: FloorReference = "full-scale",
) -> Any:
    """Log-spectral distance in dB.

    ``LSD = mean_t sqrt(mean_f (L_r[t, f] - L_e[t, f])^2)`` with ``L = max(10 log10 P, floor)``,
    ``P`` the Hann-windowed STFT power scaled so that a full-scale sine peaks at 0 dB. The
    floor keeps inaudible, near-silent bins from dominating.

    Parameters
    ----------
    reference, estimate : array_like, shape (..., n)
    n_fft, hop_length : int
        STFT size and hop (defaults 2048 and 512).
    floor_db : float, default -80
        Floor in dB, relative to ``floor_reference``.
    floor_reference : {"full-scale", "peak"}, default "full-scale"
        ``"full-scale"``: the floor is ``floor_db`` dBFS. ``"peak"``: it is ``floor_db`` below
        the reference's loudest STFT bin (per leading index), so that a clip's quiet passages
        count the same whatever its level.

    Examples
    --------
    >>> t = np.arange(24000) / 24000
    >>> x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.random.default_rng(0).standard_normal(t.size)
    >>> float(log_spectral_distance(x, x))
    0.0
    >>> round(float(log_spectral_distance(x, 2 * x)), 2)  # +6.02 dB in every bin above the floor
    6.02
    >>> a = float(log_spectral_distance(x, 0.5 * x, floor_reference="peak"))
    >>> b = float(log_spectral_distance(1e-3 * x, 0.5e-3 * x, floor_reference="peak"))
    >>> round(a, 6) == round(b, 6)  # the same at any level
    True
    """
    if floor_reference not in ("full-scale", "peak"):
        raise ParameterError(f"floor_reference={floor_reference!r} must be 'full-scale' or 'peak'")
    r, e = _pair(reference, estimate)
    lr = 10 * np.log10(_stft_power(r, n_fft, hop_length) + _EPS)
    le = 10 * np.log10(_stft_power(e, n_fft, hop_length) + _EPS)
    floor = np.asarray(floor_db, dtype=np.float64)
    if floor_reference == "peak":
        floor = floor + np.max(lr, axis=(-2, -1), keepdims=True)
    lr, le = np.maximum(lr, floor), np.maximum(le, floor)
    val = np.mean(np.sqrt(np.mean((lr - le) ** 2, axis=-1)), axis=-1)
    return val if np.ndim(val) else float(val)


def multi_resolution_stft_distance(
    reference: Any, estimate: Any, *, fft_sizes: tuple[int, ...] = (512, 1024, 2048), hop_ratio: float = 0.25
) -> Any:
    """Multi-resolution STFT distance (Yamamoto et al. 2020): mean over resolutions of
    spectral convergence ``||S_r - S_e||_F / ||S_r||_F`` plus mean ``|log S_r - log S_e|`` (magnitudes).

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(8000)
    >>> float(multi_resolution_stft_distance(x, x))
    0.0
    """
    r, e = _pair(reference, estimate)
    total = 0.0
    for n_fft in fft_sizes:
        hop = max(1, int(n_fft * hop_ratio))
        sr = np.sqrt(_stft_power(r, n_fft, hop))
        se = np.sqrt(_stft_power(e, n_fft, hop))
        conv = np.sqrt(np.sum((sr - se) ** 2, axis=(-2, -1))) / (np.sqrt(np.sum(sr**2, axis=(-2, -1))) + _EPS)
        logmag = np.mean(np.abs(np.log(sr + 1e-7) - np.log(se + 1e-7)), axis=(-2, -1))
        total = total + conv + logmag
    val = total / len(fft_sizes)
    return val if np.ndim(val) else float(val)


def _hz_to_mel(f: Any) -> Any:
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def _mel_to_hz(m: Any) -> Any:
    return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)


@functools.lru_cache(maxsize=16)
def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int = 40, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Triangular HTK-mel filterbank ``(n_mels, n_fft // 2 + 1)`` with unit peak height.

    Examples
    --------
    >>> fb = mel_filterbank(16000, 512, 20)
    >>> fb.shape, float(fb.max())
    ((20, 257), 1.0)
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lower) / (centre - lower)
    down = (upper - freqs[None]) / (upper - centre)
    fb = np.maximum(0.0, np.minimum(up, down))
    fb /= np.maximum(fb.max(axis=1, keepdims=True), _EPS)
    fb.setflags(write=False)
    return fb


def mel_cepstral_distortion(
    reference: Any,
    estimate: Any,
    *,
    sample_rate: int,
    n_mfcc: int = 13,
    n_mels: int = 40,
    n_fft: int = 1024,
    hop_length: int = 256,
) -> Any:
    """Mel-cepstral distortion in dB: ``(10 / ln 10) sqrt(2 sum_{k=1}^{K} (c_k - c'_k)^2)``, averaged over frames.

    MFCCs from a log-mel spectrogram (natural log, HTK mel) and an orthonormal DCT-II;
    ``c0`` (overall level) is excluded, so a gain change alone gives 0. Frames where the
    reference is silent are skipped; no time warping (the signals are aligned).

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(16000)
    >>> round(float(mel_cepstral_distortion(x, 0.5 * x, sample_rate=16000)), 6)
    0.0
    """
    from scipy.fft import dct

    r, e = _pair(reference, estimate)
    fb = mel_filterbank(int(sample_rate), n_fft, n_mels)
    pr = _stft_power(r, n_fft, hop_length) @ fb.T
    pe = _stft_power(e, n_fft, hop_length) @ fb.T
    cr = dct(np.log(pr + 1e-10), type=2, norm="ortho", axis=-1)[..., 1 : n_mfcc + 1]
    ce = dct(np.log(pe + 1e-10), type=2, norm="ortho", axis=-1)[..., 1 : n_mfcc + 1]
    per_frame = (10.0 / np.log(10.0)) * np.sqrt(2.0 * np.sum((cr - ce) ** 2, axis=-1))
    active = pr.sum(axis=-1) > 1e-10 * max(pr.sum(axis=-1).max(), _EPS)
    val = np.sum(np.where(active, per_frame, 0.0), axis=-1) / np.maximum(np.sum(active, axis=-1), 1)
    return val if np.ndim(val) else float(val)


@functools.lru_cache(maxsize=1)
def _visqol_api() -> Any:
    try:
        from visqol import VisqolApi
    except ImportError as exc:
        raise ParameterError("ViSQOL needs visqol-python: pip install visqol-python (or the 'bench' extra)") from exc
    api = VisqolApi()
    api.create(mode="audio")
    return api


def visqol(reference: Any, estimate: Any, *, sample_rate: int) -> float:
    """ViSQOL v3 audio-mode MOS-LQO (1..5) through ``visqol-python``; signals resampled to 48 kHz.

    Mono signals only (average channels first).

    Examples
    --------
    >>> from mdctcompand.testing import make_signal
    >>> x = make_signal("mixture", 48000)
    >>> round(visqol(x, x, sample_rate=24000), 1)  # doctest: +SKIP
    4.7
    """
    from .io import resample

    r, e = _pair(reference, estimate)
    if r.ndim != 1:
        raise ParameterError(f"visqol takes mono signals; got shape {r.shape}")
    if int(sample_rate) != 48000:
        r = resample(r, sample_rate, 48000)
        e = resample(e, sample_rate, 48000)
    return float(_visqol_api().measure_from_arrays(r, e, sample_rate=48000).moslqo)
