"""Full band at 44.1 and 48 kHz: quality budgets of the shipped profiles on generated music
with energy above 12 kHz, and the stereo tools of ``lab.fullband`` (benchmarks/lab)."""

import numpy as np
import pytest

from lab.corpus import Song, fit_channels, write_fit_corpus
from lab.fullband import StereoCoding, high_band_energy_db
from mdctcompand import AudioImageConverter, metrics
from mdctcompand.profile import load_profile, shipped_profile
from mdctcompand.testing import make_signal


def _high_band(n, sample_rate, seed):
    """Tones, band-limited noise and bright transients between 12 kHz and 20 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sample_rate
    x = np.zeros(n)
    for f, a in ((12500.0, 0.03), (14100.0, 0.02), (16300.0, 0.012), (18700.0, 0.006)):
        x += (
            a
            * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
            * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
        )
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    spec[(freqs < 12000) | (freqs > 20000)] = 0
    noise = np.fft.irfft(spec, n)
    x += 0.01 * noise / noise.std() * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
    return x


def _lowpass(x, sample_rate, cutoff):
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1 / sample_rate)
    spec *= np.clip((cutoff + 1000 - f) / 2000, 0, 1)  # 2 kHz linear taper around the cutoff
    return np.fft.irfft(spec, x.size)


def full_band_stereo(sample_rate, seconds=6.0, seed=0, high_band_db=(-24.0, -30.0)):
    """(2, n) music-like stereo: a shared and a separate part below 10 kHz, and a high band
    (12-20 kHz) ``high_band_db`` below each channel's power, like real recordings (-18 to -60 dB)."""
    n = int(seconds * sample_rate)
    common = make_signal("mixture", n, sample_rate, seed)
    channels = []
    for i, own in enumerate(
        (make_signal("mixture", n, sample_rate, seed + 1), make_signal("tone", n, sample_rate))
    ):
        low = _lowpass(common + 0.3 * own, sample_rate, 10000)
        high = _high_band(n, sample_rate, seed + 7 * i)
        high *= np.sqrt(np.mean(low**2) / np.mean(high**2) * 10 ** (high_band_db[i] / 10))
        channels.append(low + high)
    x = np.stack(channels)
    return (0.9 * x / np.abs(x).max()).astype(np.float32)


def test_generated_signal_has_real_high_band():
    for rate in (44100, 48000):
        x = full_band_stereo(rate)
        spec = np.abs(np.fft.rfft(x.astype(np.float64), axis=-1)) ** 2
        f = np.fft.rfftfreq(x.shape[-1], 1 / rate)
        share = 10 * np.log10(spec[:, f >= 12000].sum(-1) / spec.sum(-1))
        np.testing.assert_allclose(share, [-24, -30], atol=0.3)


# Budgets: measured on these signals (seeds 0-2: SNR 39.4-39.8 dB, LSD 1.11-1.26 dB, high band
# within 0.02 dB), with margin (resampy style). The LSD is higher than on real music (0.5 dB):
# the generated partials sit on a white floor 40 dB down, where the 8-bit noise shows.
@pytest.mark.parametrize(
    "name, rate, min_snr, max_lsd, max_hf_db",
    [("44k", 44100, 38.5, 1.35, 0.1), ("48k", 48000, 38.5, 1.3, 0.1)],
)
def test_quality_budget_per_channel(name, rate, min_snr, max_lsd, max_hf_db):
    conv = AudioImageConverter(load_profile(name))
    assert conv.sample_rate == rate and conv.n_bands == 1024
    x = full_band_stereo(rate)
    enc = conv.codes_from_audio(x)  # (2, n): each channel its own gain
    assert enc.codes.shape[:2] == (2, 1024)
    y = conv.audio_from_codes(enc)
    assert y.shape == x.shape and y.dtype == np.float32
    snr = metrics.snr(x, y)
    lsd = metrics.log_spectral_distance(x, y)
    hf = high_band_energy_db(x, y, rate)
    assert np.all(snr >= min_snr), snr
    assert np.all(lsd <= max_lsd), lsd
    assert np.all(np.abs(hf) <= max_hf_db), hf


@pytest.mark.parametrize("name", ["44k", "48k"])
def test_paper_profile_loses_the_high_band_and_full_band_keeps_it(name):
    from mdctcompand.io import resample

    profile = load_profile(name)
    rate = profile.sample_rate
    x = full_band_stereo(rate, seconds=3.0)[0]
    paper = AudioImageConverter(load_profile("paper"))
    y_paper = resample(paper.audio_from_codes(paper.codes_from_audio(resample(x, rate, 24000))), 24000, rate)
    y_paper = y_paper[: x.size]
    full = AudioImageConverter(profile)
    y_full = full.audio_from_codes(full.codes_from_audio(x))
    assert high_band_energy_db(x, y_paper, rate) < -40  # nothing above 12 kHz survives 24 kHz
    assert abs(high_band_energy_db(x, y_full, rate)) < 0.5
    assert metrics.snr(x, y_full) > metrics.snr(x, y_paper) + 10


@pytest.mark.parametrize("layout", ["left-right", "mid-side", "left-right-mid", "mid-side-mid"])
def test_stereo_layouts_are_exact_without_quantization(layout):
    coding = StereoCoding(load_profile("44k"), layout=layout)
    x = np.random.default_rng(0).standard_normal((2, 1000))
    planes = coding.planes(x)
    assert planes.shape == (coding.n_planes, 1000)
    np.testing.assert_allclose(coding.stereo(planes), x, atol=1e-12)


@pytest.mark.parametrize(
    "layout, gain",
    [("left-right", "channel"), ("left-right", "joint"), ("mid-side", "joint"), ("mid-side", "joint-source"),
     ("left-right-mid", "joint")],
)  # fmt: skip
def test_stereo_coding_round_trip(layout, gain):
    x = full_band_stereo(44100, seconds=3.0)
    coding = StereoCoding(
        shipped_profile("84078931b428042b"), layout=layout, gain=gain
    )  # the one it measured
    y, codes = coding.roundtrip(x)
    assert codes.shape[:2] == (coding.n_planes, 1024) and codes.dtype == np.uint8
    assert np.all(metrics.snr(x, y) > 30)
    g = coding.gains(x, coding.planes(x))
    if gain == "channel":
        assert g[0] != g[1]
    else:
        assert np.all(g == g[0])
    noisy, _ = coding.roundtrip(x, code_noise=2.0)
    assert np.all(metrics.snr(x, noisy) < metrics.snr(x, y))


def test_stereo_coding_checks_profiles():
    p = load_profile("44k")
    with pytest.raises(ValueError, match="3 planes; got 2 profiles"):
        StereoCoding((p, p), layout="left-right-mid")


def test_high_band_energy_db():
    rate = 44100
    x = np.stack([make_signal("noise", rate, rate), make_signal("noise", rate, rate, seed=1)])
    lowpassed = np.fft.irfft(np.fft.rfft(x) * (np.fft.rfftfreq(rate, 1 / rate) < 12000), rate)
    hf = high_band_energy_db(x, x + lowpassed * 0, rate)
    np.testing.assert_allclose(hf, 0, atol=1e-9)
    assert np.all(high_band_energy_db(x, lowpassed, rate) < -100)
    assert high_band_energy_db(x[0], 2 * x[0], rate) == pytest.approx(6.0206, abs=1e-3)


def test_fit_channels():
    x = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    assert list(fit_channels(x, "mono")) == [""]
    np.testing.assert_array_equal(fit_channels(x, "mono")[""], [0.5, 0.5, 0.5])
    lr = fit_channels(x, "left-right")
    np.testing.assert_array_equal(lr["left"], x[0])
    np.testing.assert_array_equal(lr["right"], x[1])
    ms = fit_channels(x, "mid-side")
    np.testing.assert_array_equal(ms["mid"] + ms["side"], x[0])
    np.testing.assert_array_equal(ms["mid"] - ms["side"], x[1])
    with pytest.raises(ValueError, match="channels="):
        fit_channels(x, "surround")
    with pytest.raises(ValueError, match=r"shape \(2, n\)"):
        fit_channels(x[:1], "mid-side")


@pytest.mark.parametrize(
    "channels, suffixes",
    [("mono", [""]), ("left-right", [".left", ".right"]), ("mid-side", [".mid", ".side"])],
)
def test_write_fit_corpus(tmp_path, channels, suffixes):
    import soundfile as sf

    stems = []
    for i, kind in enumerate(("mixture", "chirp")):
        path = tmp_path / f"stem{i}.ogg"
        sf.write(
            path,
            np.stack([make_signal(kind, 22050, 22050), make_signal("noise", 22050, 22050, seed=i)]).T * 0.3,
            22050,
        )
        stems.append(path)
    song = Song("pack", "tune", tuple(stems))
    out = tmp_path / "out"
    out.mkdir()
    files = write_fit_corpus(out, sample_rate=44100, channels=channels, songs=[song])
    assert [f.name for f in files] == [f"tune{s}.flac" for s in suffixes]
    for f in files:
        info = sf.info(f)
        assert (info.samplerate, info.channels, info.subtype) == (44100, 1, "PCM_24")
        assert abs(info.frames - 44100) <= 1
