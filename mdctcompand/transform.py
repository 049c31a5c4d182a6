"""The modified discrete cosine transform (MDCT) and its inverse.

Definition (orthonormal TDAC). With hop ``M``, frame length ``N = 2M``, window ``w`` and
the input zero-padded by ``M`` samples on the left (and enough on the right),

.. math::

    X[k, t] = \\sqrt{2/M} \\sum_{n=0}^{2M-1} w[n]\\, x[tM + n - M]
              \\cos\\Big(\\frac{\\pi}{M}\\big(n + \\tfrac12 + \\tfrac M2\\big)\\big(k + \\tfrac12\\big)\\Big),

for bins ``k = 0 .. M-1`` and frames ``t = 0 .. ceil(n_samples / M)``. With a
Princen-Bradley window the lapped transform is orthogonal: the inverse (the transpose,
windowed and overlap-added) reconstructs every sample, edges included, and the
coefficient energy equals the signal energy (Parseval), so coefficient magnitudes are
comparable across frame sizes.

Implementation: for an even hop, a Numba kernel windows and folds each frame (TDAC),
``scipy.dct(type=4)`` transforms, and a second kernel unfolds, windows and
overlap-adds. An odd hop takes a plain-numpy fold with a DCT-III (correct, slower).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._validation import all_finite, as_float_audio, check_int, check_workers
from .exceptions import ParameterError
from .windows import WindowSpec, get_window, window_name

__all__ = ["MDCT", "FrameGeometry", "MDCTAnalyzer", "MDCTSynthesizer", "mdct", "imdct"]

# Chunks handed to threads hold at least this many coefficients (thread hand-off costs ~20 us).
_PARALLEL_MIN_VALUES = 1 << 16
# Both directions work through blocks of frames of about this many bytes, which stay in L2
# cache between the fold (or the DCT) and the next step (256 frames of 1024 float32 values).
_SUBBLOCK_BYTES = 1 << 20


@functools.lru_cache(maxsize=32)
def _fold_map(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Folding map of the MDCT for hop ``m``: frame sample ``n`` feeds ``v[index[n]] * sign[n]``.

    ``sign`` is 0 where the basis function vanishes (odd ``m`` only). The folded ``v`` is
    transformed by a DCT-IV (even ``m``) or DCT-III (odd ``m``).
    """
    n = np.arange(2 * m)
    # Twice the phase n + 1/2 + M/2, reduced with the symmetries of cos(pi p (k+1/2) / M):
    # f(-p) = f(p), f(2M - p) = -f(p), f(p + 2M) = -f(p).
    p2 = 2 * n + 1 + m
    sign = np.ones(2 * m, dtype=np.int8)
    wrap = p2 >= 4 * m
    p2 = np.where(wrap, p2 - 4 * m, p2)
    sign[wrap] *= -1
    mirror = p2 > 2 * m
    p2 = np.where(mirror, 4 * m - p2, p2)
    sign[mirror] *= -1
    sign[p2 == 2 * m] = 0
    index = np.minimum(p2 // 2, m - 1)
    return index, sign


def _frames_view(x: np.ndarray, m: int, n_frames: int, start: int | None = None) -> np.ndarray:
    """Zero-padded frames ``(..., n_frames, 2m)`` of ``x``; frame ``t`` starts at sample ``start + t*m``.

    The default ``start = -m`` is the transform's one hop of left padding.
    """
    start = -m if start is None else start
    n = x.shape[-1]
    stop = start + (n_frames + 1) * m
    left, right = max(0, -start), max(0, stop - n)
    padded = np.pad(x[..., max(0, start) : min(n, stop)], [(0, 0)] * (x.ndim - 1) + [(left, right)])
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * m, axis=-1)[..., ::m, :]


@functools.lru_cache(maxsize=32)
def _fold_sources(m: int) -> tuple[np.ndarray, np.ndarray]:
    """For each folded bin ``v[j]``, its (at most) two source samples and signs: ``(2, m)`` each."""
    index, sign = _fold_map(m)
    src = np.zeros((2, m), dtype=np.intp)
    sgn = np.zeros((2, m), dtype=np.int8)
    slot = np.zeros(m, dtype=np.intp)
    for n in np.flatnonzero(sign):
        j = index[n]
        src[slot[j], j] = n
        sgn[slot[j], j] = sign[n]
        slot[j] += 1
    return src, sgn


def _mdct_numpy(x: np.ndarray, window: np.ndarray, n_frames: int, start: int | None = None) -> np.ndarray:
    """Plain-numpy fold + DCT: returns ``(..., n_frames, M)``. Any hop (even or odd).

    Frame ``t`` starts at sample ``start + t*M`` (default ``-M``, the transform's left padding).
    """
    from ._fft import dct

    m = window.size // 2
    src, sgn = _fold_sources(m)
    frames = _frames_view(x, m, n_frames, start) * window.astype(x.dtype)
    sgn = sgn.astype(x.dtype)
    v = frames[..., src[0]] * sgn[0] + frames[..., src[1]] * sgn[1]
    if m % 2 == 0:
        return dct(v, type=4, norm="ortho", axis=-1)
    # Odd hop: X[k] = sqrt(2/M) sum_j v[j] cos(pi j (k + 1/2) / M), a DCT-III.
    v[..., 1:] *= 0.5
    return (dct(v, type=3, axis=-1) * np.sqrt(2.0 / m)).astype(x.dtype, copy=False)


def _imdct_numpy(frames: np.ndarray, window: np.ndarray, length: int) -> np.ndarray:
    """Plain-numpy inverse of :func:`_mdct_numpy`: ``(..., n_frames, M)`` -> ``(..., length)``."""
    from ._fft import dct

    m = window.size // 2
    n_frames = frames.shape[-2]
    index, sign = _fold_map(m)
    if m % 2 == 0:
        g = dct(frames, type=4, norm="ortho", axis=-1)
    else:
        g = (dct(frames, type=2, axis=-1) * (0.5 * np.sqrt(2.0 / m))).astype(frames.dtype, copy=False)
    z = g[..., index] * (sign * window).astype(frames.dtype)  # (..., F, 2M)
    out = np.zeros(frames.shape[:-2] + ((n_frames + 1) * m,), dtype=frames.dtype)
    out[..., : n_frames * m] += z[..., :m].reshape(frames.shape[:-2] + (n_frames * m,))
    out[..., m:] += z[..., m:].reshape(frames.shape[:-2] + (n_frames * m,))
    return out[..., m : m + length]


class FrameGeometry:
    """The frame arithmetic of an MDCT of even frame length ``N`` and its window's name: what the
    numpy :class:`MDCT` and its torch twin (:class:`mdctcompand.torch.MDCT`) share.

    Examples
    --------
    >>> MDCT(1024).hop_length, MDCT(1024).n_bins, MDCT(256, window="kbd:5").window_name
    (512, 512, 'kbd:5')
    """

    def __init__(self, frame_length: int, window: WindowSpec) -> None:
        frame_length = check_int(frame_length, "frame_length", minimum=2)
        if frame_length % 2:
            raise ParameterError(f"frame_length={frame_length} must be even (hop = frame_length / 2)")
        self._frame_length = frame_length
        self._window_name = window_name(window)

    @property
    def frame_length(self) -> int:
        """Frame (window) length ``N``."""
        return self._frame_length

    @property
    def hop_length(self) -> int:
        """Hop between frames, ``N / 2``."""
        return self._frame_length // 2

    @property
    def n_bins(self) -> int:
        """Number of frequency bins per frame, ``N / 2``."""
        return self._frame_length // 2

    @property
    def window_name(self) -> str | None:
        """Canonical window name (``"sine"``, ``"kbd:4"``, ...) or ``None`` for a custom array."""
        return self._window_name

    def n_frames(self, n_samples: int) -> int:
        """Number of frames for a signal of ``n_samples`` samples: ``ceil(n_samples / hop) + 1``.

        Examples
        --------
        >>> MDCT(1024).n_frames(512 * 511)
        512
        """
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        return -(-n_samples // self.hop_length) + 1

    def max_samples(self, n_frames: int) -> int:
        """Largest signal length that fits in ``n_frames`` frames: ``(n_frames - 1) * hop``.

        Examples
        --------
        >>> MDCT(1024).max_samples(512)
        261632
        """
        n_frames = check_int(n_frames, "n_frames", minimum=2)
        return (n_frames - 1) * self.hop_length


class MDCT(FrameGeometry):
    """A lapped MDCT configured once and applied many times.

    Parameters
    ----------
    frame_length : int, default 1024
        Even frame (window) length ``N``; the hop and the number of bins are ``N / 2``.
    window : str, tuple or np.ndarray, default "sine"
        ``"sine"``, ``"vorbis"``, ``"kbd"``/``"kbd:ALPHA"``/``("kbd", alpha)`` or an array of
        length ``frame_length``; always checked against the Princen-Bradley condition.
    workers : int, default 1
        Threads for the kernels and the FFT. ``-1`` uses every core. Parallel kernels run
        only on inputs large enough to profit.

    Notes
    -----
    Input audio is ``(..., n_samples)``, float32 or float64 (dtype preserved; integer PCM is
    converted to float32, see :func:`mdctcompand.io.pcm_to_float`). Coefficients are
    ``(..., n_bins, n_frames)`` with ``n_frames = ceil(n_samples / hop) + 1``: the signal is
    padded with ``hop`` zeros on the left and up to a whole frame on the right, so every
    sample is covered by two frames and reconstructs exactly. The transform is orthonormal
    (``sum(X**2) == sum(x**2)`` up to rounding). The returned coefficient array is a
    transposed view of frame-major memory; ``np.ascontiguousarray`` gives a compact copy.

    Examples
    --------
    >>> import numpy as np
    >>> t = MDCT(1024)
    >>> x = np.random.default_rng(0).standard_normal(24000).astype(np.float32)
    >>> X = t.forward(x)
    >>> X.shape, X.dtype
    ((512, 48), dtype('float32'))
    >>> y = t.inverse(X, length=x.size)
    >>> bool(np.max(np.abs(y - x)) < 1e-5)
    True
    """

    def __init__(
        self, frame_length: int = 1024, *, window: WindowSpec = "sine", workers: int | None = 1
    ) -> None:
        super().__init__(frame_length, window)
        self._window = get_window(window, self.frame_length)
        self._workers = check_workers(workers)
        self._window_cache: dict[np.dtype, np.ndarray] = {}

    # ----------------------------------------------------------------- properties
    @property
    def window(self) -> np.ndarray:
        """The (read-only) analysis and synthesis window."""
        return self._window

    @property
    def workers(self) -> int:
        """Number of threads used for large inputs."""
        return self._workers

    def bin_frequencies(self, sample_rate: float) -> np.ndarray:
        """Centre frequency in Hz of every bin: ``(k + 1/2) * sample_rate / N``.

        Examples
        --------
        >>> MDCT(1024).bin_frequencies(24000)[:2]
        array([11.71875, 35.15625])
        """
        return (np.arange(self.n_bins) + 0.5) * float(sample_rate) / self._frame_length

    def frame_times(self, n_frames: int, sample_rate: float) -> np.ndarray:
        """Time in seconds (of the original signal) at the centre of every frame.

        Frame ``t`` is centred on sample ``t * hop`` of the input (the left padding is one hop).

        Examples
        --------
        >>> MDCT(8).frame_times(3, 4)
        array([0., 1., 2.])
        """
        n_frames = check_int(n_frames, "n_frames", minimum=0)
        return np.arange(n_frames) * self.hop_length / float(sample_rate)

    # ----------------------------------------------------------------- transforms
    def _typed_window(self, dtype: np.dtype) -> np.ndarray:
        w = self._window_cache.get(dtype)
        if w is None:
            w = self._window_cache[dtype] = np.ascontiguousarray(self._window, dtype=dtype)
        return w

    def forward(self, x: Any) -> np.ndarray:
        """MDCT of ``x``.

        Parameters
        ----------
        x : array_like, shape (..., n_samples)
            Audio, float32/float64 (dtype kept) or integer PCM (converted to float32).
            At least one sample; NaN and infinite values are rejected.

        Returns
        -------
        coefficients : np.ndarray, shape (..., n_bins, n_frames)
            ``n_frames = ceil(n_samples / hop) + 1``.

        Examples
        --------
        >>> MDCT(8).forward(np.ones(10)).shape
        (4, 4)
        """
        x = as_float_audio(x, finite=False)  # checked below, chunk by chunk, while in cache
        n = x.shape[-1]
        m = self.hop_length
        n_frames = self.n_frames(n)
        lead = x.shape[:-1]
        if m % 2:
            frames = _mdct_numpy(x, self._window.astype(x.dtype), n_frames)
            finite = all_finite(frames)
        else:
            rows = np.ascontiguousarray(x.reshape(-1, n))
            frames, finite = self._analyze(rows, -m, n_frames)
        if not finite:  # NaN/inf in, NaN/inf out; the exact count comes from the input
            as_float_audio(x)
        return np.swapaxes(frames.reshape(lead + (n_frames, m)), -1, -2)

    def inverse(self, coefficients: Any, *, length: int, check_finite: bool = True) -> np.ndarray:
        """Inverse MDCT: windowed overlap-add of the frames, trimmed to ``length`` samples.

        Parameters
        ----------
        coefficients : array_like, shape (..., n_bins, n_frames)
            MDCT coefficients, float32 or float64 (dtype kept).
        length : int
            Length of the original signal; ``n_frames`` must equal ``ceil(length / hop) + 1``.
        check_finite : bool, default True
            Raise on NaN or infinite coefficients (``False`` skips the check, as in scipy).

        Returns
        -------
        audio : np.ndarray, shape (..., length)

        Examples
        --------
        >>> t = MDCT(8)
        >>> x = np.arange(10.0)
        >>> np.allclose(t.inverse(t.forward(x), length=10), x)
        True
        """
        X = self._check_coefficients(coefficients)
        length = check_int(length, "length", minimum=1)
        n_frames = X.shape[-1]
        if n_frames != self.n_frames(length):
            raise ParameterError(
                f"coefficients have {n_frames} frames but length={length} needs "
                f"{self.n_frames(length)} (ceil(length / {self.hop_length}) + 1)"
            )
        m = self.hop_length
        lead = X.shape[:-2]
        frames = np.swapaxes(X, -1, -2)
        if m % 2:
            out = _imdct_numpy(frames, self._window.astype(X.dtype), length)
            if check_finite and not all_finite(out):
                raise ParameterError("coefficients contain NaN or infinite values")
            return out
        out = np.empty((int(np.prod(lead, dtype=np.int64)), length), dtype=X.dtype)
        if not self._synthesize(frames.reshape(-1, n_frames, m), -m, out, check_finite=check_finite):
            raise ParameterError("coefficients contain NaN or infinite values")
        return out.reshape(lead + (length,))

    def _check_coefficients(self, coefficients: Any) -> np.ndarray:
        X = np.asarray(coefficients)
        if X.dtype not in (np.float32, np.float64):
            if np.issubdtype(X.dtype, np.complexfloating) or not np.issubdtype(X.dtype, np.number):
                raise ParameterError(f"coefficients have dtype {X.dtype}; expected real float32 or float64")
            X = X.astype(np.float64)
        if X.ndim < 2 or X.shape[-2] != self.n_bins:
            raise ParameterError(
                f"coefficients of shape {X.shape} must be (..., n_bins={self.n_bins}, n_frames)"
            )
        if X.shape[-1] < 2:
            raise ParameterError(f"coefficients have {X.shape[-1]} frame(s); at least 2 are needed")
        return X

    # ----------------------------------------------------------------- streaming
    def stream_analyzer(self) -> MDCTAnalyzer:
        """A streaming forward transform: push samples in chunks, get the frames that are complete.

        The frames of all :meth:`MDCTAnalyzer.push` calls and of :meth:`MDCTAnalyzer.finish`,
        joined along the last axis, equal :meth:`forward` of the whole signal.

        Examples
        --------
        >>> t = MDCT(8)
        >>> x = np.arange(10.0)
        >>> a = t.stream_analyzer()
        >>> parts = [a.push(x[:3]), a.push(x[3:]), a.finish()]
        >>> [p.shape[-1] for p in parts]
        [0, 2, 2]
        >>> np.allclose(np.concatenate(parts, axis=-1), t.forward(x))
        True
        """
        return MDCTAnalyzer(self)

    def stream_synthesizer(self, *, length: int | None = None) -> MDCTSynthesizer:
        """A streaming inverse transform: push frames in chunks, get the samples that are final.

        With ``length`` the output stops after ``length`` samples (and :meth:`MDCTSynthesizer.finish`
        checks that the frames of such a signal arrived); without it, ``k`` frames give
        ``(k - 1) * hop`` samples (:meth:`max_samples`).

        Examples
        --------
        >>> t = MDCT(8)
        >>> x = np.arange(10.0)
        >>> X = t.forward(x)
        >>> s = t.stream_synthesizer(length=10)
        >>> y = np.concatenate([s.push(X[:, :1]), s.push(X[:, 1:]), s.finish()])
        >>> np.allclose(y, x)
        True
        """
        return MDCTSynthesizer(self, length=length)

    def _frames_at(self, rows: np.ndarray, start: int, n_frames: int) -> tuple[np.ndarray, bool]:
        """Frames ``(B, n_frames, M)`` of ``rows (B, n)``, frame t starting at sample ``start + t*M``; finite?"""
        if self.hop_length % 2 == 0:
            return self._analyze(np.ascontiguousarray(rows), start, n_frames)
        frames = _mdct_numpy(rows, self._typed_window(rows.dtype), n_frames, start)
        return frames, all_finite(frames)

    def _overlap(self, frames: np.ndarray, n_out: int) -> tuple[np.ndarray, bool]:
        """Samples ``(B, n_out)`` from ``frames (B, F, M)``: output sample 0 is the middle of frame 0."""
        m = self.hop_length
        if m % 2:
            out = _imdct_numpy(frames, self._typed_window(frames.dtype), n_out)
            return out, all_finite(out)
        out = np.empty((frames.shape[0], n_out), dtype=frames.dtype)
        return out, self._synthesize(frames, -m, out)

    # ----------------------------------------------------------------- kernels
    def _chunks(self, n_rows: int, n_frames: int) -> list[tuple[slice, slice]]:
        from ._threads import split_work

        return split_work(n_rows, n_frames, self._workers, min_items=_PARALLEL_MIN_VALUES // self.hop_length)

    def _analyze(self, rows: np.ndarray, start: int, n_frames: int) -> tuple[np.ndarray, bool]:
        """Frames ``(B, n_frames, M)`` of the MDCT of ``rows (B, n)``; frame t starts at ``start + t*M``.

        Also returns whether all coefficients are finite (checked per chunk while in cache).
        """
        from ._fft import dct
        from ._kernels import lapped
        from ._threads import run_chunks

        m = self.hop_length
        w = self._typed_window(rows.dtype)
        frames = np.empty((rows.shape[0], n_frames, m), dtype=rows.dtype)
        chunks = self._chunks(rows.shape[0], n_frames)
        finite = np.ones(len(chunks), dtype=bool)

        step = max(1, _SUBBLOCK_BYTES // (m * frames.itemsize))

        def work(i: int) -> None:
            # Block by block, so that the DCT and the check read the folded frames from cache.
            rs, fs = chunks[i]
            for r in range(rs.start, rs.stop):
                for f0 in range(fs.start, fs.stop, step):
                    part = frames[r : r + 1, f0 : min(f0 + step, fs.stop)]
                    lapped.fold(rows[r : r + 1], start + f0 * m, w, part)
                    # overwrite_x: pocketfft transforms the contiguous block in place (no copy).
                    dct(part, type=4, norm="ortho", axis=-1, overwrite_x=True)
                    finite[i] &= lapped.all_finite(part)

        run_chunks(work, range(len(chunks)), self._workers)
        return frames, bool(finite.all())

    def _synthesize(
        self, frames: np.ndarray, start: int, out: np.ndarray, *, check_finite: bool = True
    ) -> bool:
        """Overlap-add the inverse of ``frames (B, F, M)`` into ``out (B, n)``; frame t starts at ``start + t*M``.

        Returns whether all input frames were finite (checked per sub-block while in cache).

        Works through each chunk in cache-sized sub-blocks: the DCT-IV of frames
        ``f0-1 .. f1`` goes to a small scratch array and the output blocks ``f0 .. f1`` are
        written from it (block t needs frames t-1 and t, so one frame is transformed twice).
        """
        from ._fft import dct
        from ._kernels import lapped
        from ._threads import run_chunks

        m = self.hop_length
        n_frames = frames.shape[1]
        w = self._typed_window(frames.dtype)
        step = max(1, _SUBBLOCK_BYTES // (m * frames.itemsize))
        chunks = self._chunks(frames.shape[0], n_frames)
        finite = np.ones(len(chunks), dtype=bool)

        def work(i: int) -> None:
            rs, fs = chunks[i]
            scratch = np.empty((1, min(step, fs.stop - fs.start) + 1, m), dtype=frames.dtype)
            for r in range(rs.start, rs.stop):
                for f0 in range(fs.start, fs.stop, step):
                    f1 = min(f0 + step, fs.stop)
                    lo = max(f0 - 1, 0)
                    g = dct(
                        frames[r : r + 1, lo:f1], type=4, norm="ortho", axis=-1, out=scratch[:, : f1 - lo]
                    )
                    if check_finite:
                        finite[i] &= lapped.all_finite(g)
                    stop = f1 + 1 if f1 == n_frames else f1  # the last chunk also writes block F
                    lapped.overlap_add(g, start + lo * m, w, out[r : r + 1], f0 - lo, stop - lo)

        run_chunks(work, range(len(chunks)), self._workers)
        return bool(finite.all())

    # ----------------------------------------------------------------- misc
    def __repr__(self) -> str:
        win = self._window_name or "custom"
        return f"MDCT(frame_length={self._frame_length}, window={win!r}, workers={self._workers})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MDCT):
            return NotImplemented
        return self._frame_length == other._frame_length and np.array_equal(self._window, other._window)

    def __hash__(self) -> int:
        return hash((self._frame_length, self._window.tobytes()))


class MDCTAnalyzer:
    """Streaming forward MDCT (see :meth:`MDCT.stream_analyzer`).

    Every :meth:`push` of samples ``(..., n)`` returns the frames ``(..., n_bins, k)`` that
    the samples so far complete (frame ``t`` needs samples up to ``(t + 1) * hop``);
    :meth:`finish` returns the rest, zero-padded like :meth:`MDCT.forward`. The leading
    shape and dtype of the first push hold for the whole stream. Memory: one frame of samples.

    Examples
    --------
    >>> a = MDCT(8).stream_analyzer()
    >>> a.push(np.ones((2, 9))).shape, a.finish().shape, a.n_samples
    ((2, 4, 2), (2, 4, 2), 9)
    """

    def __init__(self, mdct: MDCT) -> None:
        self._mdct = mdct
        m = mdct.hop_length
        self._lead: tuple[int, ...] | None = None
        self._buf: np.ndarray | None = None  # (B, k) samples from _buf_start on
        self._buf_start = -m
        self._next = 0  # next frame to emit
        self._n = 0
        self._done = False

    @property
    def n_samples(self) -> int:
        """Samples pushed so far."""
        return self._n

    @property
    def n_frames_out(self) -> int:
        """Frames returned so far."""
        return self._next

    def push(self, samples: Any) -> np.ndarray:
        """Add samples ``(..., n)``; return the newly complete frames ``(..., n_bins, k)`` (``k >= 0``).

        Examples
        --------
        >>> a = MDCT(4).stream_analyzer()
        >>> [a.push(np.ones(3)).shape[-1] for _ in range(3)]
        [1, 2, 1]
        """
        if self._done:
            raise ParameterError("the stream is finished; start a new analyzer")
        x = as_float_audio(samples, min_length=0, finite=False)  # the frames are checked
        m = self._mdct.hop_length
        if self._lead is None:
            self._lead = x.shape[:-1]
            self._buf = np.zeros((int(np.prod(self._lead, dtype=np.int64)), m), dtype=x.dtype)
        elif x.shape[:-1] != self._lead:
            raise ParameterError(
                f"samples of shape {x.shape} do not continue a stream of shape {self._lead} + (n,)"
            )
        assert self._buf is not None
        rows = x.reshape(self._buf.shape[0], x.shape[-1]).astype(self._buf.dtype, copy=False)
        self._buf = np.concatenate([self._buf, rows], axis=1)
        self._n += x.shape[-1]
        return self._emit(self._n // m - self._next)

    def finish(self) -> np.ndarray:
        """Return the last frames (zero padding after the end); the stream then ends.

        Examples
        --------
        >>> a = MDCT(4).stream_analyzer()
        >>> _ = a.push(np.ones(5))
        >>> a.finish().shape  # ceil(5 / 2) + 1 = 4 frames in all
        (2, 2)
        """
        if self._n == 0:
            raise ParameterError("no samples were pushed; the MDCT needs at least one")
        frames = self._emit(self._mdct.n_frames(self._n) - self._next)
        self._done = True
        return frames

    def _emit(self, count: int) -> np.ndarray:
        m = self._mdct.hop_length
        assert self._buf is not None and self._lead is not None
        count = max(count, 0)
        frames, finite = self._mdct._frames_at(self._buf, (self._next - 1) * m - self._buf_start, count)
        if not finite:
            raise ParameterError("samples contain NaN or infinite values")
        self._next += count
        keep = (self._next - 1) * m - self._buf_start  # frame `next` starts here
        if keep > 0:
            self._buf = self._buf[:, keep:]
            self._buf_start += keep
        return np.swapaxes(frames.reshape(self._lead + (count, m)), -1, -2)


class MDCTSynthesizer:
    """Streaming inverse MDCT (see :meth:`MDCT.stream_synthesizer`).

    Every :meth:`push` of frames ``(..., n_bins, k)`` returns the samples that those frames
    complete: the first push of ``k`` frames gives ``(k - 1) * hop`` samples, later pushes
    ``k * hop``, never more than ``length``. Memory: one frame.

    Examples
    --------
    >>> t = MDCT(8)
    >>> s = t.stream_synthesizer()
    >>> s.push(np.zeros((4, 3))).shape, s.push(np.zeros((4, 2))).shape, s.n_samples
    ((8,), (8,), 16)
    """

    #: Frames synthesized at a time within one push.
    _STEP = 256

    def __init__(self, mdct: MDCT, *, length: int | None = None) -> None:
        self._mdct = mdct
        self._length = None if length is None else check_int(length, "length", minimum=1)
        self._prev: np.ndarray | None = None  # last frame pushed, (B, 1, M)
        self._lead: tuple[int, ...] | None = None
        self._frames = 0
        self._n = 0

    @property
    def n_samples(self) -> int:
        """Samples returned so far."""
        return self._n

    @property
    def n_frames_in(self) -> int:
        """Frames pushed so far."""
        return self._frames

    def push(self, coefficients: Any) -> np.ndarray:
        """Add frames ``(..., n_bins, k)``; return the samples they complete ``(..., s)``.

        Examples
        --------
        >>> s = MDCT(8).stream_synthesizer(length=5)
        >>> s.push(np.zeros((4, 3))).shape  # 2 hops complete, but the signal has 5 samples
        (5,)
        """
        lead, rows, pieces, n_out, dtype = self._start(coefficients)
        out = np.empty((rows, n_out), dtype=dtype)
        done = 0
        for part in pieces:
            out[:, done : done + part.shape[-1]] = part.reshape(rows, -1)
            done += part.shape[-1]
        return out.reshape(lead + (n_out,))

    def push_blocks(self, coefficients: Any) -> Iterator[np.ndarray]:
        """Like :meth:`push`, the samples in blocks of a few hundred frames ``(..., s_i)``, as they are made.

        Shapes are checked at once, NaN or infinite values when their block is made; each block
        is made when asked for (iterate to the end before the next push). Memory: one block,
        however many frames are pushed.

        Examples
        --------
        >>> s = MDCT(8).stream_synthesizer()
        >>> [b.shape for b in s.push_blocks(np.zeros((4, 600)))]  # 256-frame blocks
        [(1020,), (1024,), (352,)]
        """
        return self._start(coefficients)[2]

    def _start(self, coefficients: Any) -> tuple[tuple[int, ...], int, Iterator[np.ndarray], int, np.dtype]:
        """Check a push; its leading shape, rows, blocks (a generator), sample count and dtype."""
        X = np.asarray(coefficients)
        if X.dtype not in (np.float32, np.float64):
            X = self._mdct._check_coefficients(X)
        m = self._mdct.hop_length
        if X.ndim < 2 or X.shape[-2] != m:
            raise ParameterError(f"coefficients of shape {X.shape} must be (..., n_bins={m}, k)")
        lead, k = X.shape[:-2], X.shape[-1]
        if self._lead is None:
            self._lead = lead
        elif lead != self._lead:
            raise ParameterError(
                f"coefficients of shape {X.shape} do not continue a stream of shape {self._lead}"
            )
        if self._length is not None and self._frames + k > self._mdct.n_frames(self._length):
            raise ParameterError(
                f"{self._frames + k} frames pushed; a signal of length={self._length} has "
                f"{self._mdct.n_frames(self._length)}"
            )
        rows = int(np.prod(lead, dtype=np.int64))
        n_out = (k - (self._prev is None)) * m if k else 0
        if self._length is not None:
            n_out = min(n_out, self._length - self._n)
        n_out = max(n_out, 0)
        return lead, rows, self._blocks(X.reshape(rows, m, k), lead, n_out), n_out, X.dtype

    def _blocks(self, X: np.ndarray, lead: tuple[int, ...], n_out: int) -> Iterator[np.ndarray]:
        rows, m, k = X.shape
        done = 0
        # A few hundred frames at a time (each output block needs only its two frames): the
        # frame-major copy stays small whatever the push (a codec tile is tens of MB).
        for a in range(0, k, self._STEP):
            b = min(a + self._STEP, k)
            if a:  # the previous frame is in this push: a frame-major view, no copy
                frames = np.swapaxes(X[..., a - 1 : b], -1, -2)
            else:  # after the last frame of the previous push, if any
                first = 0 if self._prev is None else 1
                frames = np.empty((rows, first + b, m), dtype=X.dtype)
                if first:
                    frames[:, 0] = self._prev[:, 0]  # type: ignore[index]
                frames[:, first:] = np.swapaxes(X[..., :b], -1, -2)
            self._frames += b - a
            n = min((frames.shape[1] - 1) * m, n_out - done)
            if n > 0:
                part, finite = self._mdct._overlap(frames, n)
                if not finite:
                    raise ParameterError("coefficients contain NaN or infinite values")
                done += n
                self._n += n
                yield part.reshape(lead + (n,))
        if k:
            self._prev = np.swapaxes(X[..., k - 1 :], -1, -2).copy()

    def finish(self) -> np.ndarray:
        """End the stream: an empty array, after checking that ``length`` samples came out.

        Examples
        --------
        >>> s = MDCT(8).stream_synthesizer(length=10)
        >>> _ = s.push(np.zeros((4, 2)))
        >>> s.finish()
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.ParameterError: 2 frames pushed; length=10 needs 4
        """
        if self._length is not None and self._n < self._length:
            raise ParameterError(
                f"{self._frames} frames pushed; length={self._length} needs {self._mdct.n_frames(self._length)}"
            )
        return np.zeros(
            (self._lead or ()) + (0,), dtype=self._prev.dtype if self._prev is not None else np.float32
        )


def mdct(
    x: Any, *, frame_length: int = 1024, window: WindowSpec = "sine", workers: int | None = 1
) -> np.ndarray:
    """MDCT of ``x`` (see :class:`MDCT` for the definition and conventions).

    Parameters
    ----------
    x : array_like, shape (..., n_samples)
        Audio, float32/float64 or integer PCM.
    frame_length : int, default 1024
        Even frame length; hop and bin count are half of it.
    window : str, tuple or np.ndarray, default "sine"
        Window specification, see :func:`mdctcompand.windows.get_window`.
    workers : int, default 1
        Threads; ``-1`` for all cores.

    Returns
    -------
    coefficients : np.ndarray, shape (..., frame_length // 2, n_frames)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.linspace(0, 100, 4000))
    >>> X = mdct(x, frame_length=256)
    >>> X.shape
    (128, 33)
    >>> bool(np.allclose(imdct(X, length=4000), x))
    True
    """
    return MDCT(frame_length, window=window, workers=workers).forward(x)


def imdct(
    coefficients: Any,
    *,
    length: int,
    frame_length: int | None = None,
    window: WindowSpec = "sine",
    workers: int | None = 1,
) -> np.ndarray:
    """Inverse MDCT of ``coefficients`` trimmed to ``length`` samples.

    Parameters
    ----------
    coefficients : array_like, shape (..., n_bins, n_frames)
        MDCT coefficients.
    length : int
        Length of the original signal.
    frame_length : int, optional
        Defaults to ``2 * n_bins``; given explicitly it must agree with the coefficients.
    window : str, tuple or np.ndarray, default "sine"
        The window used by the forward transform.
    workers : int, default 1
        Threads; ``-1`` for all cores.

    Returns
    -------
    audio : np.ndarray, shape (..., length)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).standard_normal((2, 1000))
    >>> y = imdct(mdct(x, frame_length=64), length=1000)
    >>> bool(np.max(np.abs(y - x)) < 1e-12)
    True
    """
    X = np.asarray(coefficients)
    if X.ndim < 2:
        raise ParameterError(f"coefficients of shape {X.shape} must be (..., n_bins, n_frames)")
    if frame_length is None:
        frame_length = 2 * X.shape[-2]
    return MDCT(frame_length, window=window, workers=workers).inverse(X, length=length)
