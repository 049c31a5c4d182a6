"""The two builds of every private kernel (Numba, numpy) give bit-identical results.

Which build runs is a start-up optimisation (see :mod:`mdctcompand._kernels`): outputs must
not depend on it. Each kernel is crossed on random data, edge layouts and every dtype, and
the dispatch rule itself is checked.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdctcompand import Compander, _kernels, default_profile
from mdctcompand._kernels import _lapped_numba, _quantize_numba, lapped, quantize
from mdctcompand.reference import imdct as imdct_reference
from mdctcompand.reference import mdct as mdct_reference
from mdctcompand.windows import get_window


def _both(fn_numba, fn_numpy, make_out, *args):
    a, b = make_out(), make_out()
    fn_numba(*args, a)
    fn_numpy(*args, b)
    return a, b


@settings(max_examples=60, deadline=None)
@given(
    m=st.sampled_from([2, 4, 8, 32, 64]),
    n=st.integers(1, 400),
    rows=st.integers(1, 3),
    shift=st.integers(-3, 3),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_fold_builds_identical(m, n, rows, shift, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, n)).astype(dtype)
    w = get_window("sine", 2 * m).astype(dtype)
    start = -m + shift * m // 2 * 2  # even offsets around the transform's -M
    n_frames = -(-n // m) + 1
    a, b = _both(
        _lapped_numba.fold,
        lapped.fold_numpy,
        lambda: np.full((rows, n_frames, m), np.nan, dtype),
        x,
        start,
        w,
    )
    np.testing.assert_array_equal(a, b)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 300),
    dtype=st.sampled_from([np.float32, np.float64]),
    bad=st.sampled_from([None, np.nan, np.inf, -np.inf]),
    where=st.integers(0, 299),
    huge=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_all_finite_builds_agree_with_isfinite(n, dtype, bad, where, huge, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n).astype(dtype)
    if huge:  # finite values whose sum overflows: still finite
        a[:] = np.finfo(dtype).max
    if bad is not None:
        a[where % n] = bad
    want = bool(np.isfinite(a).all())
    assert _lapped_numba.all_finite(a) is want
    assert lapped.all_finite_numpy(a) is want


@settings(max_examples=60, deadline=None)
@given(
    m=st.sampled_from([2, 4, 8, 32]),
    n_frames=st.integers(1, 40),
    n=st.integers(1, 500),
    rows=st.integers(1, 3),
    first=st.integers(0, 45),
    count=st.integers(0, 45),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_overlap_add_builds_identical(m, n_frames, n, rows, first, count, dtype, seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((rows, n_frames, m)).astype(dtype)
    w = get_window("kbd", 2 * m).astype(dtype)
    first = min(first, n_frames)
    stop = min(first + count, n_frames + 1)  # block n_frames: the last frame's second half alone
    fill = rng.standard_normal((rows, n)).astype(dtype)  # blocks not written keep these values
    a, b = fill.copy(), fill.copy()
    _lapped_numba.overlap_add(g, -m, w, a, first, stop)
    lapped.overlap_add_numpy(g, -m, w, b, first, stop)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["numpy", "numba"])
def test_transform_matches_reference_in_each_build(mode, monkeypatch, rng):
    """Public MDCT through either build against the O(N^2) reference."""
    from mdctcompand import MDCT

    monkeypatch.setenv("MDCTCOMPAND_KERNELS", mode)
    x = rng.standard_normal((2, 3001))
    t = MDCT(64, window="sine")
    X = t.forward(x)
    np.testing.assert_allclose(X, mdct_reference(x, frame_length=64), atol=1e-12)
    np.testing.assert_allclose(t.inverse(X, length=3001), imdct_reference(X, length=3001), atol=1e-12)


def _probes(t, rng):
    """Values on, just above and just below every threshold, zeros, huge values and noise (frames, bands)."""
    edges = t[:, 1:].T
    up = np.nextafter(edges, np.asarray(np.inf, t.dtype))
    down = np.nextafter(edges, np.asarray(-np.inf, t.dtype))
    noise = rng.standard_normal((50, t.shape[0])) * np.logspace(-6, 2, 50)[:, None]
    extremes = np.array([[0.0], [-0.0], [1e30], [-1e30], [np.inf], [-np.inf]]) * np.ones((1, t.shape[0]))
    return np.concatenate([edges, up, down, noise, extremes]).astype(t.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("to_image", [False, True])
def test_encode_builds_identical(dtype, to_image, rng):
    c = Compander(default_profile(), tilt=8.0)
    t = c.thresholds32 if dtype == np.float32 else c.thresholds
    x = _probes(t, rng)
    x[3, 5] = np.nan  # NaN: code 0 in both builds
    shape = (x.shape[1], x.shape[0]) if to_image else x.shape
    a, b = np.empty(shape, np.uint8), np.empty(shape, np.uint8)
    _quantize_numba.encode_frame_major(x, t, a, to_image)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDCTCOMPAND_KERNELS", "numpy")
        quantize.encode_frame_major(x, t, b, to_image)
    np.testing.assert_array_equal(a, b)
    assert (a if not to_image else a[::-1].T)[3, 5] == 0
    xb = np.ascontiguousarray(x.T)
    a2, b2 = np.empty(xb.shape, np.uint8), np.empty(xb.shape, np.uint8)
    _quantize_numba.encode_band_major(xb, t, a2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDCTCOMPAND_KERNELS", "numpy")
        quantize.encode_band_major(xb, t, b2)
    np.testing.assert_array_equal(a2, b2)
    np.testing.assert_array_equal(a2, (a if not to_image else a[::-1].T).T)


@pytest.mark.parametrize("to_image", [False, True])
def test_bucketed_encode_builds_identical(to_image, rng):
    c = Compander(default_profile(), tilt=5.5)
    padded, table, base, shift, nk = c._buckets
    x = np.ascontiguousarray(_probes(c.thresholds32, rng)[:-2])  # finite values only
    shape = (x.shape[1], x.shape[0]) if to_image else x.shape
    a, b = np.empty(shape, np.uint8), np.empty(shape, np.uint8)
    _quantize_numba.encode_bucketed(x, x.view(np.uint32), padded, table, base, shift, nk, a, to_image)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDCTCOMPAND_KERNELS", "numpy")
        quantize.encode_bucketed(x, x.view(np.uint32), padded, table, base, shift, nk, b, to_image)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
def test_decode_builds_identical(out_dtype, rng):
    table = np.sort(rng.standard_normal((7, 256)), axis=1)
    codes = rng.integers(0, 256, (7, 300)).astype(np.uint8)
    flipped = codes[::-1]  # negative row stride, as a flipped image
    for src, tab in [(codes, table), (flipped, table[::-1].copy())]:
        a, b = np.empty(src.shape, out_dtype), np.empty(src.shape, out_dtype)
        _quantize_numba.decode_band_major(src, tab, a)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("MDCTCOMPAND_KERNELS", "numpy")
            quantize.decode_band_major(src, tab, b)
        np.testing.assert_array_equal(a, b)
    fm = np.ascontiguousarray(codes.T)
    a, b = np.empty(fm.shape, out_dtype), np.empty(fm.shape, out_dtype)
    _quantize_numba.decode_frame_major(fm, table, a)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDCTCOMPAND_KERNELS", "numpy")
        quantize.decode_frame_major(fm, table, b)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, table[np.arange(7), fm].astype(out_dtype))


def test_dispatch_rule(monkeypatch):
    """Numpy until its extra cost would have paid for loading Numba; Numba for calls that pay alone or
    once loaded; the env var pins."""
    monkeypatch.delenv("MDCTCOMPAND_KERNELS", raising=False)
    monkeypatch.setattr(_kernels, "jit_loaded", lambda: False)
    monkeypatch.setattr(_kernels, "_numpy_ns", 0.0)
    assert not _kernels.use_jit(1000, "fold")
    whole = int(_kernels.JIT_LOAD_NS / _kernels.NUMPY_EXTRA_NS["encode"])
    assert _kernels.use_jit(whole, "encode") and not _kernels.use_jit(whole, "fold")  # fold's extra cost is less
    monkeypatch.setattr(_kernels, "_numpy_ns", _kernels.JIT_LOAD_NS - 10 * _kernels.NUMPY_EXTRA_NS["decode"])
    assert not _kernels.use_jit(10, "decode") and _kernels.use_jit(1, "decode")
    monkeypatch.setattr(_kernels, "jit_loaded", lambda: True)
    assert _kernels.use_jit(1, "fold")
    monkeypatch.setenv("MDCTCOMPAND_KERNELS", "numpy")
    assert not _kernels.use_jit(1 << 30, "encode")
    monkeypatch.setenv("MDCTCOMPAND_KERNELS", "numba")
    monkeypatch.setattr(_kernels, "jit_loaded", lambda: False)
    assert _kernels.use_jit(1, "fold")


def test_codec_round_trip_same_bytes_in_both_builds(tmp_path, monkeypatch):
    """A whole encode gives the same file whichever build runs (the output never depends on start-up history)."""
    from mdctcompand import codec
    from mdctcompand.testing import make_signal

    x = make_signal("mixture", 48000, 24000)
    out = {}
    for mode in ("numpy", "numba"):
        monkeypatch.setenv("MDCTCOMPAND_KERNELS", mode)
        out[mode] = codec.encode(x, 24000, quality=50)
        y = codec.decode(out[mode]).audio
        out[mode + "_audio"] = y
    assert out["numpy"] == out["numba"]
    np.testing.assert_array_equal(out["numpy_audio"], out["numba_audio"])


def test_without_numba_every_call_runs_numpy(monkeypatch):
    """A platform without numba wheels: long inputs take the numpy build, not a ModuleNotFoundError."""
    import numpy as np

    import mdctcompand
    from mdctcompand import _kernels

    monkeypatch.setattr(_kernels, "numba_installed", lambda: False)
    monkeypatch.setenv("MDCTCOMPAND_KERNELS", "auto")
    monkeypatch.setattr(_kernels, "jit_loaded", lambda: False)
    monkeypatch.setattr(_kernels, "JIT_LOAD_NS", 1e3)  # every call would load Numba where it exists
    assert not _kernels.use_jit(1 << 30, "encode")
    x = np.random.default_rng(0).standard_normal(1 << 22).astype(np.float32)
    conv = mdctcompand.AudioImageConverter()
    y = conv.audio_from_codes(conv.codes_from_audio(x))
    assert y.shape == x.shape and np.isfinite(y).all()
