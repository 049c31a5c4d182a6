"""MDCT/IMDCT: perfect reconstruction, agreement with the definition, orthonormality."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mdctcompand
from mdctcompand import MDCT, ParameterError, imdct, mdct, reference
from mdctcompand.transform import MDCTSynthesizer

WINDOWS = ["sine", "vorbis", "kbd:4"]


def _peak(x):
    return max(np.abs(x).max(), 1e-30)


@given(
    m=st.integers(2, 4096),
    frames=st.floats(0.01, 4.0),
    window=st.sampled_from(WINDOWS),
    dtype=st.sampled_from([np.float32, np.float64]),
    lead=st.sampled_from([(), (2,), (2, 3)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_perfect_reconstruction(m, frames, window, dtype, lead, seed):
    n_frame = 2 * m
    length = max(1, int(frames * n_frame))
    x = np.random.default_rng(seed).uniform(-1, 1, lead + (length,)).astype(dtype)
    t = MDCT(n_frame, window=window)
    X = t.forward(x)
    assert X.dtype == dtype
    assert X.shape == lead + (m, t.n_frames(length))
    y = t.inverse(X, length=length)
    assert y.dtype == dtype and y.shape == x.shape
    budget = 1e-5 if dtype == np.float32 else 1e-12
    assert np.max(np.abs(y - x)) < budget * _peak(x)


@pytest.mark.parametrize("frame_length", [4, 8, 16, 64, 512, 1024, 2048, 4096, 8192])
@pytest.mark.parametrize("window", WINDOWS)
def test_perfect_reconstruction_power_of_two_frames(frame_length, window, rng):
    for length in (1, 2, frame_length // 2 - 1, frame_length // 2, frame_length + 3, 5 * frame_length + 1):
        length = max(1, length)
        x = rng.standard_normal((2, length))
        y = imdct(mdct(x, frame_length=frame_length, window=window), length=length, window=window)
        assert np.max(np.abs(y - x)) < 1e-12 * _peak(x)


@given(
    m=st.integers(2, 300),
    length=st.integers(1, 2000),
    window=st.sampled_from(WINDOWS),
    seed=st.integers(0, 2**32 - 1),
)
def test_agrees_with_definition(m, length, window, seed):
    x = np.random.default_rng(seed).standard_normal(length)
    X = mdct(x, frame_length=2 * m, window=window)
    X_ref = reference.mdct(x, frame_length=2 * m, window=window)
    assert np.max(np.abs(X - X_ref)) < 1e-10 * max(1.0, np.abs(X_ref).max())
    y = imdct(X_ref, length=length, window=window)
    y_ref = reference.imdct(X_ref, length=length, window=window)
    assert np.max(np.abs(y - y_ref)) < 1e-10


def test_definition_formula_directly():
    """One coefficient written out from the textbook MDCT formula."""
    m = 6
    x = np.random.default_rng(3).standard_normal(20)
    X = mdct(x, frame_length=2 * m)
    padded = np.concatenate([np.zeros(m), x, np.zeros(4 * m)])
    w = np.sin(np.pi * (np.arange(2 * m) + 0.5) / (2 * m))
    t, k = 2, 4
    n = np.arange(2 * m)
    expect = np.sqrt(2 / m) * np.sum(
        w * padded[t * m : t * m + 2 * m] * np.cos(np.pi / m * (n + 0.5 + m / 2) * (k + 0.5))
    )
    assert abs(X[k, t] - expect) < 1e-13


@given(m=st.integers(2, 1024), length=st.integers(1, 5000), seed=st.integers(0, 2**32 - 1))
def test_parseval_and_linearity(m, length, seed):
    rng = np.random.default_rng(seed)
    x, z = rng.standard_normal((2, length))
    a, b = rng.uniform(-3, 3, 2)
    t = MDCT(2 * m)
    X, Z = t.forward(x), t.forward(z)
    energy = np.sum(x**2)
    assert abs(np.sum(X**2) - energy) < 1e-12 * energy * max(1, np.log2(m))
    assert np.max(np.abs(t.forward(a * x + b * z) - (a * X + b * Z))) < 1e-12 * np.abs(X).max() * 8


def test_orthonormal_basis_rows():
    """The full lapped analysis matrix has orthonormal rows (TDAC)."""
    m, length = 8, 40
    t = MDCT(2 * m, window="kbd:3")
    A = t.forward(np.eye(length)).reshape(length, -1).T  # (coefficients, samples)
    np.testing.assert_allclose(A.T @ A, np.eye(length), atol=1e-13)


def test_float32_and_integer_pcm(rng):
    x16 = (rng.uniform(-1, 1, 3000) * 32767).astype(np.int16)
    X = mdct(x16, frame_length=256)
    assert X.dtype == np.float32
    y = imdct(X, length=3000)
    np.testing.assert_allclose(y, x16 / 32768.0, atol=1e-6)
    u8 = np.array([0, 128, 255], dtype=np.uint8)
    np.testing.assert_allclose(imdct(mdct(u8, frame_length=4), length=3), [-1, 0, 127 / 128], atol=1e-6)


def test_batch_equals_loop(rng):
    x = rng.standard_normal((3, 2, 5000)).astype(np.float32)
    t = MDCT(512)
    X = t.forward(x)
    for i in range(3):
        for j in range(2):
            np.testing.assert_array_equal(X[i, j], t.forward(x[i, j]))


@pytest.mark.parametrize("workers", [2, -1])
def test_threads_match_serial(workers, rng):
    x = rng.standard_normal((3, 200_000)).astype(np.float32)
    serial, threaded = MDCT(1024), MDCT(1024, workers=workers)
    X = serial.forward(x)
    np.testing.assert_array_equal(threaded.forward(x), X)
    np.testing.assert_array_equal(threaded.inverse(X, length=200_000), serial.inverse(X, length=200_000))
    one_row = x[:1]
    np.testing.assert_array_equal(threaded.forward(one_row), serial.forward(one_row))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocks_smaller_than_the_signal(dtype, monkeypatch, rng):
    """The transform works through cache-sized blocks of frames: results and the finite checks
    do not depend on where the block edges fall."""
    from mdctcompand import transform

    x = rng.standard_normal((2, 5000)).astype(dtype)
    t = MDCT(64)
    X, y = t.forward(x), t.inverse(t.forward(x), length=5000)
    monkeypatch.setattr(transform, "_SUBBLOCK_BYTES", 7 * 32 * np.dtype(dtype).itemsize)  # 7 frames
    np.testing.assert_array_equal(t.forward(x), X)
    np.testing.assert_array_equal(t.inverse(X, length=5000), y)
    bad = x.copy()
    bad[1, 4321] = np.nan  # in a late block of the second row
    with pytest.raises(ValueError, match="NaN"):
        t.forward(bad)
    bad_coefficients = X.copy()
    bad_coefficients[1, 5, -20] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        t.inverse(bad_coefficients, length=5000)


def test_properties():
    t = MDCT(1024, window="kbd:5")
    assert (t.frame_length, t.hop_length, t.n_bins) == (1024, 512, 512)
    assert t.window_name == "kbd:5"
    assert t.n_frames(1) == 2 and t.n_frames(512) == 2 and t.n_frames(513) == 3
    assert t.n_frames(t.max_samples(512)) == 512
    f = t.bin_frequencies(24000)
    assert f[0] == pytest.approx(11.71875) and f[-1] == pytest.approx(12000 - 11.71875)
    assert t == MDCT(1024, window=("kbd", 5)) and t != MDCT(1024)
    assert "kbd:5" in repr(t)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mdct(np.array([]), frame_length=8), "0 samples"),
        (lambda: mdct(np.float64(1.0), frame_length=8), "scalar"),
        (lambda: mdct(np.array([1.0, np.nan, 0.0]), frame_length=8), "NaN"),
        (lambda: mdct(np.array([1.0, np.inf]), frame_length=8), "NaN or infinite"),
        (lambda: mdct(np.ones(10, dtype=complex), frame_length=8), "complex"),
        (lambda: mdct(np.ones(10), frame_length=7), "frame_length=7"),
        (lambda: mdct(np.ones(10), frame_length=8, workers=0), "workers=0"),
        (lambda: imdct(np.ones((4, 3)), length=100), "needs"),
        (lambda: imdct(np.ones((4, 3)), length=0), "length=0"),
        (lambda: imdct(np.ones(4), length=4), "must be"),
        (lambda: MDCT(8).inverse(np.ones((3, 4)), length=4), "n_bins=4"),
        (lambda: MDCT(8).inverse(np.full((4, 3), np.nan), length=8), "NaN"),
        (lambda: MDCT(8).inverse(np.ones((4, 3), dtype=complex), length=4), "complex"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_errors_are_value_errors():
    assert issubclass(ParameterError, ValueError)
    assert issubclass(ParameterError, mdctcompand.MdctCompandError)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, mdctcompand; print(','.join(m for m in ('numba', 'torch', 'scipy', 'PIL') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def _chunks(total, sizes):
    """Split range(total) at the cumulative sums of ``sizes`` (cycled); the last chunk takes the rest."""
    bounds, pos, i = [0], 0, 0
    while pos < total:
        pos = min(total, pos + sizes[i % len(sizes)])
        bounds.append(pos)
        i += 1
    return list(zip(bounds[:-1], bounds[1:]))


@given(
    m=st.sampled_from([2, 3, 4, 7, 16, 64, 512]),
    length=st.integers(1, 3000),
    sizes=st.lists(st.integers(0, 700), min_size=1, max_size=6).filter(any),
    dtype=st.sampled_from([np.float32, np.float64]),
    lead=st.sampled_from([(), (2,)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_streaming_analyzer_matches_forward(m, length, sizes, dtype, lead, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, lead + (length,)).astype(dtype)
    t = MDCT(2 * m)
    a = t.stream_analyzer()
    parts = [a.push(x[..., lo:hi]) for lo, hi in _chunks(length, sizes)]
    parts.append(a.finish())
    got = np.concatenate(parts, axis=-1)
    want = t.forward(x)
    assert got.shape == want.shape and got.dtype == dtype and a.n_frames_out == want.shape[-1]
    budget = 1e-6 if dtype == np.float32 else 1e-13
    assert np.max(np.abs(got - want)) <= budget * max(1.0, np.abs(want).max())


@given(
    m=st.sampled_from([2, 3, 4, 7, 16, 64, 512]),
    length=st.integers(1, 3000),
    sizes=st.lists(st.integers(0, 9), min_size=1, max_size=6).filter(any),
    dtype=st.sampled_from([np.float32, np.float64]),
    with_length=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_streaming_synthesizer_matches_inverse(m, length, sizes, dtype, with_length, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, (2, length)).astype(dtype)
    t = MDCT(2 * m)
    X = t.forward(x)
    s = t.stream_synthesizer(length=length if with_length else None)
    parts = [s.push(X[..., lo:hi]) for lo, hi in _chunks(X.shape[-1], sizes)]
    parts.append(s.finish())
    got = np.concatenate(parts, axis=-1)
    n = length if with_length else t.max_samples(X.shape[-1])
    want = t.inverse(X, length=length)
    assert got.shape == (2, n) and got.dtype == dtype
    budget = 1e-6 if dtype == np.float32 else 1e-13
    assert np.max(np.abs(got[:, :length] - want)) <= budget
    assert np.max(np.abs(got[:, :length] - x)) <= 10 * budget
    # push_blocks: the same samples, bit for bit, in blocks of at most _STEP frames
    s = t.stream_synthesizer(length=length if with_length else None)
    blocks = [b for lo, hi in _chunks(X.shape[-1], sizes) for b in s.push_blocks(X[..., lo:hi])]
    assert all(b.shape[-1] <= MDCTSynthesizer._STEP * m for b in blocks)
    assert np.array_equal(np.concatenate(blocks + [s.finish()], axis=-1), got)


def test_streaming_synthesizer_blocks_of_a_long_push():
    t = MDCT(16)
    X = t.forward(np.random.default_rng(0).standard_normal((2, 9000)))
    s = t.stream_synthesizer(length=9000)
    blocks = list(s.push_blocks(X))
    assert [b.shape[-1] for b in blocks] == [255 * 8] + [256 * 8] * 3 + [9000 - 1023 * 8]
    assert np.array_equal(np.concatenate(blocks, axis=-1), t.inverse(X, length=9000))
    bad = t.stream_synthesizer()
    with pytest.raises(ParameterError, match="n_bins=8"):
        bad.push_blocks(np.zeros((4, 3)))  # shapes: at once
    blocks = bad.push_blocks(np.full((8, 300), np.inf))
    with pytest.raises(ParameterError, match="NaN or infinite"):
        list(blocks)  # values: when their block is made


def test_streaming_errors():
    t = MDCT(8)
    a = t.stream_analyzer()
    with pytest.raises(ParameterError, match="no samples"):
        a.finish()
    a.push(np.zeros((2, 3)))
    with pytest.raises(ParameterError, match="do not continue"):
        a.push(np.zeros(3))
    with pytest.raises(ParameterError, match="NaN"):
        a.push(np.full((2, 9), np.nan))
    a = t.stream_analyzer()
    a.push(np.ones(4))
    a.finish()
    with pytest.raises(ParameterError, match="finished"):
        a.push(np.ones(4))
    s = t.stream_synthesizer(length=5)
    with pytest.raises(ParameterError, match="has 3"):
        s.push(np.zeros((4, 4)))
    with pytest.raises(ParameterError, match="n_bins=4"):
        s.push(np.zeros((3, 2)))
    s.push(np.zeros((4, 2)))
    with pytest.raises(ParameterError, match="needs 3"):
        s.finish()
    with pytest.raises(ParameterError, match="NaN"):
        t.stream_synthesizer().push(np.full((4, 3), np.inf))


@pytest.mark.parametrize("pushes", [[39], [1, 38], [17, 0, 22]])
def test_stream_synthesizer_works_through_a_push_in_steps(monkeypatch, pushes):
    """A push is synthesized a few hundred frames at a time (bounded memory, issue 26): the samples
    are those of one step per push, bit for bit."""
    from mdctcompand.transform import MDCTSynthesizer

    t = MDCT(16)
    x = np.random.default_rng(6).standard_normal((2, 8 * 38)).astype(np.float32)
    X = t.forward(x)
    assert X.shape[-1] == sum(pushes)

    def run(step):
        monkeypatch.setattr(MDCTSynthesizer, "_STEP", step)
        s = t.stream_synthesizer(length=x.shape[-1])
        bounds = np.cumsum([0, *pushes])
        out = np.concatenate([s.push(X[..., a:b]) for a, b in zip(bounds[:-1], bounds[1:])], axis=-1)
        s.finish()
        return out

    whole = run(10**9)
    assert np.array_equal(run(3), whole) and np.array_equal(run(1), whole)
    np.testing.assert_allclose(whole, x, atol=1e-5)
