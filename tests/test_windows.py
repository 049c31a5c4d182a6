import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdctcompand import ParameterError, check_princen_bradley, get_window
from mdctcompand.windows import kbd_window, princen_bradley_error, sine_window, vorbis_window, window_name

frame_lengths = st.integers(1, 4096).map(lambda m: 2 * m)


@given(frame_lengths, st.sampled_from(["sine", "vorbis", "kbd", "kbd:1", "kbd:10", ("kbd", 6.5)]))
def test_named_windows_satisfy_princen_bradley(n, spec):
    w = get_window(spec, n)
    assert w.shape == (n,)
    assert princen_bradley_error(w) < 1e-12
    assert np.all(w >= 0) and np.all(w <= 1 + 1e-15)
    assert not w.flags.writeable


def test_window_formulas_match_closed_forms():
    n = 16
    k = np.arange(n)
    np.testing.assert_allclose(sine_window(n), np.sin(np.pi * (k + 0.5) / n), rtol=0, atol=1e-16)
    np.testing.assert_allclose(
        vorbis_window(n), np.sin(np.pi / 2 * np.sin(np.pi * (k + 0.5) / n) ** 2), rtol=0, atol=1e-16
    )
    # KBD: cumulative sums of a Kaiser window of length M + 1, square-rooted and mirrored.
    m = n // 2
    kaiser = np.kaiser(m + 1, np.pi * 4)
    half = np.sqrt(np.cumsum(kaiser[:m]) / kaiser.sum())
    np.testing.assert_allclose(kbd_window(n, 4), np.concatenate([half, half[::-1]]), atol=1e-12)


def test_user_window_accepted_when_valid_and_rejected_otherwise():
    w = sine_window(64)
    np.testing.assert_array_equal(get_window(w, 64), w)
    with pytest.raises(ParameterError, match="Princen-Bradley"):
        get_window(np.hanning(64), 64)
    with pytest.raises(ParameterError, match="must have shape"):
        get_window(w, 32)
    bad = w.copy()
    bad[3] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        check_princen_bradley(bad)
    # Power complementary (w[n]^2 + w[n+M]^2 = 1) but not symmetric: rejected too.
    first = np.linspace(0.1, 0.9, 32)
    asym = np.concatenate([first, np.sqrt(1 - first**2)])
    assert np.allclose(asym[:32] ** 2 + asym[32:] ** 2, 1)
    with pytest.raises(ParameterError, match="Princen-Bradley"):
        check_princen_bradley(asym)


@pytest.mark.parametrize("bad", [0, 3, -4, 7.0, True, "1024"])
def test_bad_frame_lengths(bad):
    with pytest.raises(ParameterError, match="frame_length"):
        get_window("sine", bad)


@pytest.mark.parametrize("bad", ["hann", "kbd:x", ("kbd", 1, 2), 5, ("vorbis", 3)])
def test_bad_window_specs(bad):
    with pytest.raises((ParameterError, ValueError)):
        get_window(bad, 64)


def test_window_names_are_canonical():
    assert window_name("Sine") == "sine"
    assert window_name(("kbd", 4.0)) == "kbd:4"
    assert window_name("kbd") == "kbd:4"
    assert window_name(sine_window(8)) is None
