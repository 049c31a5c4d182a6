"""mdctcompand._fft: scipy's pocketfft without importing scipy.fft, bit-identical to scipy.fft.dct."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import fft

from mdctcompand import _fft


def test_the_extension_loads_and_passes_its_probe():
    assert _fft._engine() is not None, (
        "scipy's pocketfft extension did not load: every DCT goes through scipy.fft"
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 70),
    rows=st.integers(1, 5),
    dct_type=st.sampled_from([2, 3, 4]),
    norm=st.sampled_from([None, "ortho", "backward", "forward"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    axis=st.sampled_from([0, -1]),
    strided=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_bit_identical_to_scipy_fft_dct(n, rows, dct_type, norm, dtype, axis, strided, seed):
    x = np.random.default_rng(seed).standard_normal((rows, 2 * n if strided else n)).astype(dtype)
    if strided:
        x = x[:, ::2]
    want = fft.dct(x, type=dct_type, norm=norm, axis=axis)
    got = _fft.dct(x, dct_type, norm=norm, axis=axis)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    # in place, as the transform calls it: the input holds the result
    y = x.copy()
    out = _fft.dct(y, dct_type, norm=norm, axis=axis, overwrite_x=True)
    assert np.array_equal(out, want) and np.shares_memory(out, y)
    # into a given array, as the inverse transform calls it
    target = np.empty_like(want)
    assert _fft.dct(x, dct_type, norm=norm, axis=axis, out=target) is target
    assert np.array_equal(target, want)


def test_inputs_the_fast_call_does_not_cover_go_through_scipy_fft():
    x = np.arange(12, dtype=np.float64)
    for odd in (x.astype(">f8"), x.astype(np.int64), x.astype(np.float16), list(x)):
        assert np.array_equal(_fft.dct(odd, 4, norm="ortho"), fft.dct(odd, 4, norm="ortho"))
    with pytest.raises(ValueError):
        _fft.dct(x, 4, norm="sideways")


def test_without_the_extension_every_call_is_scipy_fft(monkeypatch):
    monkeypatch.setattr(_fft, "_engine", lambda: None)
    x = np.random.default_rng(1).standard_normal((3, 16)).astype(np.float32)
    assert np.array_equal(_fft.dct(x, 4, norm="ortho"), fft.dct(x, 4, norm="ortho"))
    target = np.empty_like(x)
    assert _fft.dct(x, 4, norm="ortho", out=target) is target
    assert np.array_equal(target, fft.dct(x, 4, norm="ortho"))


def test_an_out_of_the_wrong_shape_or_dtype_is_refused():
    x = np.zeros((2, 8), np.float32)
    for bad in (np.empty((2, 7), np.float32), np.empty((2, 8), np.float64)):
        with pytest.raises(ValueError, match="out has shape"):
            _fft.dct(x, 4, norm="ortho", out=bad)


def test_a_probe_that_disagrees_refuses_the_extension():
    class Wrong:
        @staticmethod
        def dct(x, type, axes, norm, out, workers, ortho):
            return fft.dct(x, type=2 if type == 4 else type, axis=axes[0])  # another signature's meaning

    assert not _fft._agrees(Wrong)


def test_a_short_encode_and_decode_load_neither_scipy_fft_nor_scipy_special(tmp_path):
    """Issue 26: importing scipy.fft (and scipy.special through it) cost more CPU than the work of a
    short clip. The codec path needs neither."""
    import soundfile as sf

    from mdctcompand.testing import make_signal

    sf.write(tmp_path / "a.wav", make_signal("mixture", 22050, 22050, seed=0), 22050)
    code = (
        "import sys\n"
        "from mdctcompand.cli.wav2jpeg import main_encode, main_decode\n"
        f"assert main_encode([{str(tmp_path / 'a.wav')!r}, '-q', '--force']) == 0\n"
        f"assert main_decode([{str(tmp_path / 'a.jpg')!r}, '-q', '--force']) == 0\n"
        "print(sorted(m for m in ('scipy.fft', 'scipy.special', 'numpy.testing', 'numpy.f2py') if m in sys.modules))\n"
    )
    # the first run fills the compander's table cache (computing the tables needs scipy.special)
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
