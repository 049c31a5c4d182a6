"""Metrics against hand-computed cases."""

import numpy as np
import pytest

from mdctcompand import ParameterError, metrics


def test_snr_hand_computed():
    r = np.array([3.0, 4.0])  # energy 25
    e = r + np.array([0.3, -0.4])  # error energy 0.25
    assert metrics.snr(r, e) == pytest.approx(20.0)
    assert metrics.snr(r, r) == np.inf
    batch = metrics.snr(np.stack([r, r]), np.stack([e, r * 0.5]))
    np.testing.assert_allclose(batch, [20.0, 10 * np.log10(25 / 6.25)])


def test_si_sdr_hand_computed():
    r = np.array([1.0, -1.0, 1.0, -1.0])
    noise = np.array([1.0, 1.0, -1.0, -1.0]) * 0.1  # orthogonal to r, zero-mean
    # alpha = 1, target = r (energy 4), residual = noise (energy 0.04): 20 dB, whatever the gain
    assert metrics.si_sdr(r, r + noise) == pytest.approx(20.0, abs=1e-9)
    assert metrics.si_sdr(r, 5 * (r + noise)) == pytest.approx(20.0, abs=1e-9)


def test_segmental_snr_clamps_and_skips_silence():
    r = np.concatenate([np.ones(512), np.zeros(512), np.ones(512)])
    e = r.copy()
    e[:512] *= 0.9  # 20 dB
    # frames: [20 dB], [silent: skipped], [perfect: clamped to 35]
    assert metrics.segmental_snr(r, e, frame_length=512, hop_length=512) == pytest.approx(27.5)
    assert metrics.segmental_snr(r, -r, frame_length=512, hop_length=512) == pytest.approx(
        10 * np.log10(1 / 4)
    )


def test_log_spectral_distance_hand_computed():
    rng = np.random.default_rng(0)
    x = 0.3 * rng.standard_normal(24000)  # every bin far above the -80 dB floor
    assert metrics.log_spectral_distance(x, x) == 0.0
    # +9.54 dB in every bin (a few bins of the half-empty edge frames sit near the floor: 1e-3 budget)
    assert metrics.log_spectral_distance(x, 3 * x) == pytest.approx(20 * np.log10(3), abs=1e-3)
    # Full-scale sine peaks at 0 dB: its peak bin sits at 0 dB, others far lower.
    t = np.arange(48000) / 48000
    sine = np.sin(2 * np.pi * (43 * 48000 / 2048) * t)  # centred on bin 43: no scalloping loss
    power = metrics._stft_power(sine, 2048, 512)
    assert 10 * np.log10(power[10].max()) == pytest.approx(0.0, abs=1e-3)
    # Below the floor nothing counts: two different inaudible signals have LSD 0.
    assert metrics.log_spectral_distance(1e-7 * x, 1e-8 * rng.standard_normal(24000)) == 0.0


def test_log_spectral_distance_peak_floor_matches_numpy_reference():
    rng = np.random.default_rng(2)
    x = np.stack([0.5 * rng.standard_normal(6000), 1e-3 * rng.standard_normal(6000)])
    y = x + 1e-3 * rng.standard_normal(x.shape)
    got = metrics.log_spectral_distance(x, y, n_fft=256, hop_length=64, floor_db=-40, floor_reference="peak")
    # Plain reference: scipy STFT power, floor 40 dB below each channel's loudest reference bin.
    from scipy.signal import get_window

    w = get_window("hann", 256)
    for ch in range(2):
        spec = []
        for s in (x[ch], y[ch]):
            p = np.pad(s, 128)
            frames = np.array([p[i : i + 256] for i in range(0, p.size - 256 + 1, 64)])
            spec.append(10 * np.log10(np.abs(np.fft.rfft(frames * w)) ** 2 * (2 / w.sum()) ** 2 + 1e-20))
        floor = spec[0].max() - 40
        lr, le = np.maximum(spec[0], floor), np.maximum(spec[1], floor)
        want = np.mean(np.sqrt(np.mean((lr - le) ** 2, axis=-1)))
        assert got[ch] == pytest.approx(want, rel=1e-9)
    # The quiet channel: the noise (same level) is fully visible above its relative floor ...
    assert got[1] > 3.0
    # ... but lies under the absolute -40 dB floor, where it does not count.
    assert metrics.log_spectral_distance(x[1], y[1], n_fft=256, hop_length=64, floor_db=-40) == 0.0
    with pytest.raises(ParameterError, match="floor_reference='max'"):
        metrics.log_spectral_distance(x, y, floor_reference="max")


def test_mrstft_and_mcd():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(16000)
    assert metrics.multi_resolution_stft_distance(x, x) == 0.0
    # A gain of 2 changes every magnitude by ln 2 (log term) and spectral convergence by 1.
    assert metrics.multi_resolution_stft_distance(x, 2 * x) == pytest.approx(1.0 + np.log(2.0), rel=1e-4)
    assert metrics.mel_cepstral_distortion(x, 3 * x, sample_rate=16000) == pytest.approx(
        0.0, abs=1e-5
    )  # the 1e-10 log floor
    lowpassed = np.convolve(x, np.ones(8) / 8, mode="same")
    assert metrics.mel_cepstral_distortion(x, lowpassed, sample_rate=16000) > 3.0


def test_mel_filterbank_shape_and_peaks():
    fb = metrics.mel_filterbank(16000, 512, 10)
    assert fb.shape == (10, 257)
    np.testing.assert_allclose(fb.max(axis=1), 1.0)
    centres = np.argmax(fb, axis=1)
    assert np.all(np.diff(centres) > 0)


def test_visqol_identical_is_high_and_noise_is_lower():
    pytest.importorskip("visqol")
    from mdctcompand.testing import make_signal

    x = make_signal("mixture", 48000).astype(np.float64)
    clean = metrics.visqol(x, x, sample_rate=24000)
    noisy = metrics.visqol(x, x + 0.05 * np.random.default_rng(0).standard_normal(x.size), sample_rate=24000)
    assert clean > 4.5 and noisy < clean - 0.3


@pytest.mark.parametrize(
    "fn",
    [
        metrics.snr,
        metrics.si_sdr,
        metrics.segmental_snr,
        metrics.log_spectral_distance,
        metrics.multi_resolution_stft_distance,
    ],
)
def test_bad_inputs(fn):
    with pytest.raises(ParameterError, match="same shape"):
        fn(np.zeros(10), np.zeros(11))
    with pytest.raises(ParameterError, match="NaN"):
        fn(np.zeros(10), np.full(10, np.nan))
    with pytest.raises(ParameterError, match="at least one sample"):
        fn(np.zeros(0), np.zeros(0))
