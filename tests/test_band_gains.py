"""Band-group gains: measurement against a plain reference, the header, and what they buy."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdctcompand import FormatError, ParameterError, codec, load_profile
from mdctcompand.band_gains import BAND_GAIN_RANGE_DB, BandGains, band_gain_edges, band_gain_factors
from mdctcompand.converter import METADATA_KEY, AudioImageConverter
from mdctcompand.header import AudioImageHeader, header_from_profile
from mdctcompand.testing import make_signal


def _reference_gains(X, std, edges, bg):
    """Plain loops: group power per frame, mean vs loudest frame, dB, quantized, clipped."""
    out = np.zeros(X.shape[:-2] + (len(edges) - 1,))
    for idx in np.ndindex(X.shape[:-2]):
        for j in range(len(edges) - 1):
            a, b = edges[j], edges[j + 1]
            frame_power = [sum(float(X[idx][k, f]) ** 2 for k in range(a, b)) for f in range(X.shape[-1])]
            reference = sum(float(s) ** 2 for s in std[a:b])
            level = max(np.mean(frame_power), max(frame_power) / 10 ** (bg.peak_db / 10), reference * 1e-30)
            db = 10 * np.log10(reference / level)
            steps = min(
                max(round(db / bg.step_db), -int(BAND_GAIN_RANGE_DB / bg.step_db)),
                int(bg.max_boost_db / bg.step_db),
            )
            out[idx + (j,)] = steps * bg.step_db
    return out


@pytest.mark.parametrize(
    "bg", [BandGains(), BandGains(relative_width=0.2, step_db=1.0, peak_db=6.0, max_boost_db=0.0)]
)
def test_measure_matches_the_plain_reference(bg, rng):
    p = load_profile("paper")
    edges = bg.group_edges(p.n_bands, sample_rate=p.sample_rate)
    # groups at very different levels: quiet, at the profile, loud, one loud frame
    X = rng.standard_normal((2, p.n_bands, 12)).astype(np.float32) * p.std[:, None].astype(np.float32)
    X[0, edges[2] : edges[3]] *= 1e-3
    X[1, edges[5] : edges[6]] *= 300.0
    X[1, edges[7] : edges[8], 4] *= 1e4
    got = bg.measure(X, p.std, sample_rate=p.sample_rate)
    np.testing.assert_array_equal(got, _reference_gains(X, p.std, edges, bg))
    assert got[1, 5] < -40 and got[0, 2] == bg.max_boost_db


@settings(max_examples=40, deadline=None)
@given(
    db=st.lists(st.floats(-60, 12), min_size=11, max_size=11),
    frames=st.integers(1, 40),
)
def test_a_group_scaled_by_its_gain_measures_at_the_profile_level(db, frames):
    """Coefficients with the profile's power per group, scaled by 10**(-g/20), measure as gain g."""
    p = load_profile("paper")
    bg = BandGains(peak_db=60.0)  # a stationary signal: the mean decides
    edges = bg.group_edges(p.n_bands, sample_rate=p.sample_rate)
    g = np.round(np.asarray(db) / bg.step_db) * bg.step_db
    X = np.repeat(p.std[:, None], frames, axis=1) / band_gain_factors(g, edges)[:, None]
    np.testing.assert_allclose(bg.measure(X, p.std, sample_rate=p.sample_rate), g, atol=1e-9)


def test_edges_factors_and_settings():
    assert band_gain_edges(1024, sample_rate=44100, relative_width=0.5, stored_bands=300).tolist() == [
        0, 8, 16, 24, 40, 56, 88, 136, 200, 296, 300,
    ]  # fmt: skip
    f = band_gain_factors([[6.0, -20.0]], np.array([0, 2, 5]))
    np.testing.assert_allclose(f, [[10**0.3] * 2 + [0.1] * 3])
    with pytest.raises(ParameterError, match="do not match 2 band groups"):
        band_gain_factors([1.0, 2.0, 3.0], np.array([0, 2, 5]))
    for bad in (
        dict(relative_width=0.0),
        dict(step_db=float("nan")),
        dict(peak_db=-1),
        dict(max_boost_db=True),
    ):
        with pytest.raises(ParameterError):
            BandGains(**bad)
    with pytest.raises(ParameterError, match="must be 'clip', 'none'"):
        BandGains.parse("auto")
    assert BandGains.from_dict(BandGains(step_db=1.0).to_dict()) == BandGains(step_db=1.0)


def _hot_clip(sample_rate, seconds=3.0):
    """Music-like noise plus what no profile expects: a sustained bass note 30 dB above the rest,
    and a tone as loud near the top of the band."""
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    x = 0.05 * make_signal("mixture", n, sample_rate, seed=4)
    x += 1.5 * np.sin(2 * np.pi * 55 * t) + 1.0 * np.sin(2 * np.pi * 0.8 * sample_rate / 2 * t)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def _snr(x, y):
    return float(
        10 * np.log10(np.sum(np.square(x, dtype=np.float64)) / np.sum(np.square(x - y, dtype=np.float64)))
    )


@pytest.mark.parametrize(
    "sample_rate, with_gains, without_gains",
    [(24000, 37.0, 25.0), (44100, 37.0, 25.0)],  # measured: 37.7 / 23.6 and 38.3 / 6.4 dB
)
def test_band_gains_keep_an_unusual_balance_from_overloading(sample_rate, with_gains, without_gains):
    x = _hot_clip(sample_rate)
    clip = AudioImageConverter.for_sample_rate(sample_rate)
    fixed = AudioImageConverter.for_sample_rate(sample_rate, band_gains="none")
    image = clip.image_from_audio(x, sample_rate=sample_rate)
    snr_clip = _snr(x, clip.audio_from_image(image))
    snr_fixed = _snr(x, fixed.audio_from_image(fixed.image_from_audio(x, sample_rate=sample_rate)))
    assert snr_clip > with_gains and snr_fixed < without_gains and snr_clip > snr_fixed + 8
    header = json.loads(image.info[METADATA_KEY])
    assert header["version"] == 4 and header["band_gain_width"] == 0.5
    assert len(header["band_gains"][0][0]) == len(clip.band_group_edges()) - 1
    assert len(json.dumps(header["band_gains"])) < 120  # tens of bytes per clip


def test_stereo_images_carry_gains_per_stored_channel():
    x = np.stack([_hot_clip(44100, 2.0), 0.3 * make_signal("noise", 88200, 44100, seed=1).astype(np.float32)])
    conv = AudioImageConverter.for_sample_rate(44100)
    image = conv.image_from_audio(x, sample_rate=44100)
    h = conv.read_header(image)
    assert np.shape(h.band_gains) == (1, 2, len(conv.band_group_edges()) - 1)
    assert _snr(x, conv.audio_from_image(image)) > 34  # 35.6 dB measured (white noise on the right)
    # the gains are honoured, not decorative: decoding with other gains gives other audio
    assert _snr(x, conv.audio_from_image(image, band_gains=np.zeros_like(h.band_gains[0]))) < 10


def test_header_validates_band_gains():
    p = load_profile("paper")
    good = header_from_profile(
        p, length=4800, gains=[[1.0]], tile_frames=16, band_gain_width=0.5, band_gains=[[[0.0] * 11]]
    )
    assert AudioImageHeader.from_json(good.to_json()) == good
    with pytest.raises(ParameterError, match="band_gains"):
        header_from_profile(
            p, length=4800, gains=[[1.0]], tile_frames=16, band_gain_width=0.5, band_gains=[[[0.0] * 10]]
        )
    data = good.to_dict()
    for change in (
        {"band_gains": [[[100.0] * 11]]},
        {"band_gains": [[["x"] * 11]]},
        {"band_gains": [[[float("nan")] * 11]]},
        {"band_gains": "loud"},
        {"band_gain_width": None},
        {"version": 3},
    ):
        with pytest.raises(FormatError):
            AudioImageHeader.from_dict({**data, **change})


def test_lossless_codec_files_carry_gains_per_tile():
    x = np.stack([_hot_clip(44100, 6.0), _hot_clip(44100, 6.0)[::-1].copy()])
    data = codec.encode(x, 44100, format="png", tile_frames=64)
    info = codec.read_info(data)
    assert info.n_tiles > 1 and np.shape(info.header.band_gains)[:2] == (info.n_tiles, 2)
    assert info.header.tilt == 3.0
    assert _snr(x, codec.decode(data).audio) > 37
    lossy = codec.read_info(codec.encode(x, 44100))  # lossy files even out levels with the coding tools
    assert (
        lossy.header.band_gains is None
        and lossy.profile_id == codec.codec_profile_for_rate(44100, lossless=False).id
    )
