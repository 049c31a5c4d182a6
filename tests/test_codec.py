"""wav2jpeg codec: round trips, metadata, containers, bad input."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mdctcompand import FormatError, MdctCompandError, ParameterError, UnsupportedVersionError, codec, metrics
from mdctcompand.containers import encode_tile, open_image_file
from mdctcompand.formats import available_formats
from mdctcompand.testing import make_signal

DATA = Path(__file__).parent / "data"
FORMATS = available_formats()


def _stereo(n, sr, seed=0):
    return np.stack(
        [make_signal("mixture", n, sr, seed), 0.3 * make_signal("mixture", n, sr, seed + 1)]
    ).astype(np.float32)


# SNR (dB) against the input (full band: the profile is chosen from the rate, so 44.1 and
# 48 kHz keep everything; 8 and 24 kHz use the paper's 24 kHz profile), quality 60; measured
# when written: jpeg 15.0 15.2 14.7 15.1, png 36.7 36.8 23.0 36.5, webp 11.2 11.9 10.4 11.6,
# avif 15.7 14.8 11.4 14.6.
_BUDGETS = {
    "jpeg": (14.0, 14.6, 13.6, 14.5),
    "png": (39.5, 39.0, 22.5, 39.2),  # its defaults (band gains, tilt 3): 40.2, 39.6, 23.1, 39.9 measured
    "webp": (10.2, 11.2, 9.4, 10.9),
    "avif": (14.7, 14.2, 10.4, 13.9),
    "jxl": (14.0, 14.6, 13.6, 14.5),  # the JPEG, losslessly recompressed
}
_CASES = [(24000, 1), (44100, 2), (8000, 1), (48000, 2)]
#: The version-2 pipeline (quality mode, tilt 8, no coding tools): what the budgets below measure.
V2 = dict(tilt=8.0, cell_gains=False, band_slope=0.0, noise_fill=False)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", range(4))
def test_round_trip_keeps_rate_channels_length_and_quality(fmt, case):
    sample_rate, channels = _CASES[case]
    n = int(1.3 * sample_rate) + 7
    x = (
        _stereo(n, sample_rate)
        if channels == 2
        else make_signal("mixture", n, sample_rate).astype(np.float32)
    )
    # lossy formats: the version-2 pipeline; PNG: the 8-bit representation with its defaults
    data = codec.encode(x, sample_rate, format=fmt, **(dict(quality=60, **V2) if fmt != "png" else {}))
    y = codec.decode(data)
    assert y.sample_rate == sample_rate and y.audio.shape == x.shape and y.audio.dtype == np.float32
    assert metrics.snr(x.ravel(), y.audio.ravel()) > _BUDGETS[fmt][case]
    info = codec.read_info(data)
    assert info.source_length == n and info.source_channels == channels and info.format == fmt
    assert info.source_subtype == "FLOAT" and y.header == info.header


@pytest.mark.parametrize("fmt", [f for f in ("jpeg", "png", "webp") if f in FORMATS])
def test_multi_tile_containers(fmt):
    x = _stereo(24000 * 3 + 123, 24000)
    data = codec.encode(x, 24000, format=fmt, tile_frames=32, quality=80)
    info = codec.read_info(data)
    assert info.n_tiles == 5  # 143 frames / 32
    with open_image_file(data) as f:
        assert f.n_tiles == 5
        assert all(t.shape == (1024, 32) for t in f.tiles())
    one = codec.decode(codec.encode(x, 24000, format=fmt, quality=80)).audio
    many = codec.decode(data).audio
    # Tiling changes only the per-tile gains, not the quality.
    assert abs(metrics.snr(x.ravel(), many.ravel()) - metrics.snr(x.ravel(), one.ravel())) < 2.0


def test_png_is_the_lossless_8bit_transform():
    x = make_signal("mixture", 48000, seed=2).astype(np.float32)
    y = codec.decode(codec.encode(x, 24000, format="png", tilt=5.0)).audio
    assert metrics.snr(x, y) > 34.5  # the 8-bit transform alone: 35.4 dB measured (see test_compand)


# Measured on this 10 s signal: q25 18.2 kbit/s, 7.7 dB, LSD 10.8; q50 35.5, 13.5, 8.4; q85 74.7, 23.0, 4.6.
@pytest.mark.parametrize(
    "quality, max_kbps, min_snr, max_lsd",
    [(25, 22.0, 6.5, 11.5), (50, 40.0, 12.0, 9.0), (85, 85.0, 21.0, 5.2)],
)
def test_jpeg_quality_budgets(quality, max_kbps, min_snr, max_lsd):
    x = make_signal("mixture", 240000, seed=1).astype(np.float32)
    data = codec.encode(x, 24000, quality=quality, **V2)
    y = codec.decode(data).audio
    assert codec.read_info(data).bitrate_kbps < max_kbps
    assert metrics.snr(x, y) > min_snr
    assert metrics.log_spectral_distance(x, y) < max_lsd


def test_mmse_decoder_raises_snr():
    x = make_signal("mixture", 120000, seed=4).astype(np.float32)
    data = codec.encode(x, 24000, quality=25, **V2)
    table, mmse = codec.decode(data).audio, codec.decode(data, decoder="mmse").audio
    assert metrics.snr(x, mmse) > metrics.snr(x, table) + 0.3


def test_bitrate_target():
    x = make_signal("mixture", 240000, seed=5)
    for target in (16, 32):
        info = codec.read_info(codec.encode(x, 24000, bitrate=target))
        assert 0.7 * target < info.bitrate_kbps < 1.1 * target


def test_bandwidth_drops_high_bands():
    x = make_signal("noise", 48000).astype(np.float32)
    data = codec.encode(x, 24000, bandwidth=6000, quality=80, noise_fill=False)
    meta = codec.read_info(data).metadata
    assert meta["stored_bands"] == 256
    y = codec.decode(data).audio
    spec = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(y.size, 1 / 24000)
    assert spec[freqs > 7000].mean() < 0.02 * spec[freqs < 5000].mean()


def test_custom_profile_travels_in_the_file():
    from mdctcompand.profile import GGDProfile

    p = codec.codec_profile_for_rate(24000, lossless=False)
    custom = GGDProfile(p.shape, p.scale * 1.5, sample_rate=24000, frame_length=1024, name="louder")
    x = make_signal("mixture", 24000).astype(np.float32)
    data = codec.encode(x, 24000, profile=custom, quality=25, **V2)
    info = codec.read_info(data)
    assert info.profile_name == "louder" and info.profile_id == custom.id
    assert info.header.profile == custom  # embedded by value
    assert metrics.snr(x, codec.decode(data).audio) > 4.5  # 5.6 dB measured


def test_previous_version_fixtures_decode():
    """Files written by codec version 1 (tests/data) must always decode."""
    y = codec.decode(DATA / "codec_v1_mono_24k.jpg")
    x = make_signal("mixture", 12000, seed=3)
    assert y.sample_rate == 24000 and y.audio.shape == (12000,)
    assert metrics.snr(x, y.audio) > 12  # 13.8 dB when written
    z = codec.decode(DATA / "codec_v1_stereo_22k_tiles.png")
    x2 = np.stack([make_signal("mixture", 22050, 22050, 4), 0.1 * make_signal("noise", 22050, 22050, 5)])
    assert z.sample_rate == 22050 and z.audio.shape == (2, 22050)
    assert codec.read_info(DATA / "codec_v1_stereo_22k_tiles.png").n_tiles == 3
    assert metrics.snr(x2.ravel(), z.audio.ravel()) > 24  # 25.7 dB when written


def _with_metadata(meta: dict, fmt: str = "jpeg") -> bytes:
    pixels = np.full((512, 16), 128, np.uint8)
    return encode_tile(pixels, fmt, quality=90, metadata=json.dumps(meta))


def _valid_meta():
    data = codec.encode(make_signal("tone", 3000), 24000)
    return codec.read_info(data).metadata


def test_newer_version_and_foreign_files():
    meta = _valid_meta()
    with pytest.raises(UnsupportedVersionError, match="upgrade"):
        codec.decode(_with_metadata({**meta, "version": codec.CODEC_VERSION + 1}))
    buf = io.BytesIO()
    Image.new("L", (16, 16)).save(buf, "PNG")
    with pytest.raises(FormatError, match="not an mdctcompand file"):
        codec.decode(buf.getvalue())
    with pytest.raises(FormatError, match="not an image"):
        codec.decode(b"RIFF....WAVEfmt " + bytes(100))
    with pytest.raises(FormatError, match="unknown metadata format"):
        codec.decode(_with_metadata({"format": "something-else"}))
    with pytest.raises(FormatError, match="not available"):
        codec.decode(_with_metadata({**meta, "profile": {"id": "abcdef0123456789", "name": "gone"}}))
    with pytest.raises(FileNotFoundError):
        codec.decode("/nonexistent/file.jpg")


@pytest.mark.parametrize("fmt", [f for f in ("jpeg", "png", "webp") if f in FORMATS])
def test_truncated_files(fmt):
    x = make_signal("mixture", 24000 * 3)
    data = codec.encode(x, 24000, format=fmt, tile_frames=32)
    for cut in (len(data) // 2, len(data) - 50):
        with pytest.raises(MdctCompandError):
            codec.decode(data[:cut])


@given(
    st.dictionaries(
        st.sampled_from(["version", "n_tiles", "gains", "length", "source_length", "tilt", "stored_bands", "stereo",
                         "stored_channels", "tile_frames", "coding_noise", "profile", "source_sample_rate", "format"]),
        st.one_of(st.none(), st.integers(-5, 10**9), st.floats(allow_nan=True), st.text(max_size=5),
                  st.lists(st.floats(allow_nan=True), max_size=3), st.lists(st.lists(st.integers(-1, 3), max_size=3), max_size=3)),
        max_size=4,
    )
)  # fmt: skip
def test_metadata_fuzz_only_raises_format_errors(changes):
    meta = {**_VALID, **changes}
    try:
        codec.decode(_with_metadata(meta))
    except MdctCompandError:
        pass


_VALID = {  # the version 1 schema
    "format": codec.CODEC_FORMAT, "version": 1, "source_sample_rate": 24000, "source_channels": 1,
    "source_length": 3000, "sample_rate": 24000, "length": 3000, "stereo": "none", "stored_channels": 1,
    "frame_length": 1024, "window": "sine", "level": "rms:-20", "reconstruction": "midpoint",
    "stored_bands": 512, "tile_frames": 4096, "n_tiles": 1, "tilt": 8.0, "gains": [[1.0]], "coding_noise": None,
    "profile": {"id": __import__("mdctcompand").default_profile().id, "name": "default"},
}  # fmt: skip


def test_fuzz_base_metadata_is_valid():
    y = codec.decode(_with_metadata(_VALID))
    assert y.audio.shape == (3000,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: codec.encode(np.array([]), 24000), "0 samples"),
        (lambda: codec.encode(np.array([0.0, np.nan]), 24000), "NaN"),
        (lambda: codec.encode(np.zeros((3, 100)), 24000), "stereo only"),
        (lambda: codec.encode(np.zeros((2, 2, 100)), 24000), "must be"),
        (lambda: codec.encode(np.zeros(100), 0), "sample_rate"),
        (lambda: codec.encode(np.zeros(100), 24000, quality=0), "quality"),
        (lambda: codec.encode(np.zeros(100), 24000, format="gif"), "format"),
        (lambda: codec.encode(np.zeros(100), 24000, format="png", bitrate=10), "lossless"),
        (lambda: codec.encode(np.zeros(10**6), 24000, format="avif", tile_frames=64), "one tile"),
    ],
)
def test_encode_bad_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_three_channels_downmix_with_mono_mode():
    x = np.stack([make_signal("tone", 4800)] * 3)
    y = codec.decode(codec.encode(x, 48000, stereo="mono"))
    assert y.audio.shape == (3, 4800)
    np.testing.assert_allclose(y.audio[0], y.audio[2])


@pytest.mark.parametrize(("rate", "profile"), [(24000, None), (8000, None), (44100, None), (768000, "48k")])
def test_silence_and_tiny_inputs(rate, profile):
    for n in (1, 2, 3, 100, 511, 512, 513):
        y = codec.decode(codec.encode(np.zeros(n), rate, profile=profile)).audio
        # silence decodes to silence (code 128 is exactly zero)
        assert y.shape == (n,) and np.all(np.abs(y) < 1e-6)


def test_files_are_written_atomically(tmp_path):
    import soundfile as sf

    src = tmp_path / "in.wav"
    sf.write(src, make_signal("mixture", 24000), 24000)
    out = tmp_path / "out.jpg"
    info = codec.encode_file(src, out)
    assert info.duration == pytest.approx(1.0) and out.exists()
    with pytest.raises(FileExistsError):
        codec.encode_file(src, out)
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    with pytest.raises(MdctCompandError):
        codec.encode_file(tmp_path / "bad.wav", tmp_path / "bad.jpg")
    assert not (tmp_path / "bad.jpg").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left
    codec.decode_file(out, tmp_path / "back.flac", subtype="PCM_24")
    back, sr = sf.read(tmp_path / "back.flac")
    assert sr == 24000 and back.shape == (24000,)


# ---------------------------------------------------------------------- refused up front
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bandwidth": 1e-9}, "bandwidth"),
        ({"tile_frames": 2**21}, "tile_frames"),
        ({"tile_frames": 16384, "format": "webp"}, "at most 16368"),
        ({"tilt": 1e-9}, "tilt"),
        ({"bitrate": 1e-9}, "bitrate"),
        ({"resample_quality": "best"}, "resample_quality"),
    ],
)
def test_settings_that_would_write_undecodable_files_are_refused(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        codec.EncodeSettings(**kwargs)


def test_encoder_refuses_before_any_work(monkeypatch):
    calls = []
    monkeypatch.setattr(codec.core.TileEncoder, "push", lambda *a: calls.append(1) or iter(()))
    with pytest.raises(ParameterError, match="peak 1e\\+30"):
        codec.encode(np.full(1000, 1e30), 24000)
    if "avif" in FORMATS:
        with pytest.raises(ParameterError, match=r"one tile.*needs 9376 frames"):
            codec.encode(np.zeros(24000 * 200, np.float32), 24000, format="avif")
    with pytest.raises(ParameterError, match="sample_rate"):
        codec.encode(np.zeros(100), 10**7)
    assert calls == []


def test_source_sample_format_travels_and_is_kept(tmp_path):
    import soundfile as sf

    x = 0.5 * make_signal("mixture", 24000)
    for subtype in ("PCM_24", "FLOAT"):
        sf.write(
            tmp_path / "in.flac" if subtype == "PCM_24" else tmp_path / "in.wav", x, 24000, subtype=subtype
        )
    info = codec.encode_file(tmp_path / "in.flac", tmp_path / "a.png")
    assert info.source_subtype == "PCM_24" and "PCM_24" in info.summary()
    assert codec.decode_file(tmp_path / "a.png", tmp_path / "a.wav").subtype == "PCM_24"
    assert sf.info(tmp_path / "a.wav").subtype == "PCM_24"
    codec.encode_file(tmp_path / "in.wav", tmp_path / "b.png")
    assert codec.decode_file(tmp_path / "b.png", tmp_path / "b.flac").subtype == "PCM_16"  # FLAC has no FLOAT
    assert codec.decode_file(tmp_path / "b.png", tmp_path / "b.wav").subtype == "FLOAT"
    assert codec.decode_file(tmp_path / "b.png", tmp_path / "c.wav", subtype="PCM_16").subtype == "PCM_16"
    with pytest.raises(ParameterError, match="subtype"):
        codec.decode_file(tmp_path / "b.png", tmp_path / "d.flac", subtype="FLOAT")
    assert not (tmp_path / "d.flac").exists()


def test_clipped_samples_are_counted(tmp_path):
    x = np.sin(np.arange(24000) / 5.0) * np.where(np.arange(24000) < 12000, 0.5, 1.6)
    data = codec.encode(x, 24000, format="png")
    loud = int(np.count_nonzero(np.abs(codec.decode(data).audio) > 1))
    assert loud > 1000
    assert codec.decode_file(data, tmp_path / "a.wav", subtype="PCM_16").clipped_samples == loud
    assert codec.decode_file(data, tmp_path / "a.flac").clipped_samples == loud
    assert codec.decode_file(data, tmp_path / "b.wav", subtype="FLOAT").clipped_samples == 0


@given(
    st.lists(st.floats(-1.5, 1.5, width=32), min_size=1, max_size=200),
    st.sampled_from([("PCM_16", 16), ("PCM_24", 24)]),
    st.sampled_from([np.float32, np.float64]),
)
def test_float_to_pcm_rounds_to_nearest_and_clips(values, subtype_bits, dtype):
    from mdctcompand.io import float_to_pcm

    subtype, bits = subtype_bits
    x = np.array(values, dtype=dtype).reshape(1, -1)
    x = np.concatenate([x, -x])  # two channels
    top = 2.0 ** (bits - 1)
    want = np.clip(np.round(x.astype(np.float64) * top), -top, top - 1).T  # (n, channels), ties to even
    got = float_to_pcm(x, subtype).astype(np.int64)
    if bits == 24:
        got = got >> 8
    np.testing.assert_array_equal(got, want.astype(np.int64))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
def test_float_to_pcm_in_blocks_equals_the_whole_array_formula(channels, subtype, monkeypatch):
    from mdctcompand import io as audio_io

    monkeypatch.setattr(audio_io, "_PCM_BLOCK_VALUES", 7 * channels)  # 7 samples per block
    rng = np.random.default_rng(channels)
    x = (1.2 * rng.standard_normal((channels, 1000))).astype(np.float32)  # clips in places
    bits = 16 if subtype == "PCM_16" else 24
    top = 2.0 ** (bits - 1)
    want = np.clip(np.round(x.astype(np.float64) * top), -top, top - 1).T.astype(np.int64)
    got = audio_io.float_to_pcm(x, subtype).astype(np.int64) >> (0 if bits == 16 else 8)
    np.testing.assert_array_equal(got, want)
    x[-1, 990] = np.inf  # in the last block
    with pytest.raises(ParameterError, match="NaN or infinite"):
        audio_io.float_to_pcm(x, subtype)


def test_float_to_pcm_and_save_audio_errors_and_round_trip(tmp_path):
    import soundfile as sf

    from mdctcompand.io import float_to_pcm, save_audio

    with pytest.raises(ParameterError, match="subtype='PCM_U8'"):
        float_to_pcm(np.zeros((1, 4)), "PCM_U8")
    with pytest.raises(ParameterError, match="float array"):
        float_to_pcm(np.zeros(4), "PCM_16")
    with pytest.raises(ParameterError, match="NaN"):
        float_to_pcm(np.array([[0.0, np.nan]]), "PCM_16")
    pcm = np.array([-32768, -1, 0, 1, 32767], np.int16)
    save_audio(tmp_path / "a.wav", pcm, 8000, subtype="PCM_16")  # integer PCM: kept exactly
    assert np.array_equal(sf.read(tmp_path / "a.wav", dtype="int16")[0], pcm)
    save_audio(tmp_path / "b.flac", np.array([[0.25, 1.0], [-1.0, 0.5 / 32768]]), 8000)
    assert sf.read(tmp_path / "b.flac", dtype="int16")[0].tolist() == [[8192, -32768], [32767, 0]]


@pytest.mark.parametrize(
    ("subtype", "suffix"), [("PCM_16", "wav"), ("PCM_24", "wav"), ("PCM_16", "flac"), ("PCM_24", "flac")]
)
def test_pcm_outputs_hold_the_decoded_audio_rounded_to_nearest(tmp_path, subtype, suffix):
    import soundfile as sf

    x = 1.3 * make_signal("mixture", 30000, 24000)  # loud enough to clip in places
    data = codec.encode(x, 24000, format="png")
    audio = codec.decode(data).audio
    codec.decode_file(data, tmp_path / f"a.{suffix}", subtype=subtype)
    written, _ = sf.read(tmp_path / f"a.{suffix}", dtype="int32")
    bits = 16 if subtype == "PCM_16" else 24
    top = 2.0 ** (bits - 1)
    reference = np.clip(np.round(audio.astype(np.float64) * top), -top, top - 1)
    np.testing.assert_array_equal(written >> (32 - bits), reference.astype(np.int64))


def test_progress_is_reported_per_block(tmp_path):
    import soundfile as sf

    n = 3 * codec.core.BLOCK + 5
    sf.write(tmp_path / "in.wav", np.zeros((n, 2)), 48000)
    seen = []
    codec.encode_file(
        tmp_path / "in.wav", tmp_path / "a.jpg", progress=lambda done, total: seen.append((done, total))
    )
    assert [d for d, _ in seen] == [codec.core.BLOCK, 2 * codec.core.BLOCK, 3 * codec.core.BLOCK, n]
    assert {t for _, t in seen} == {n}
    back = []
    codec.decode_file(
        tmp_path / "a.jpg", tmp_path / "a.wav", progress=lambda done, total: back.append((done, total))
    )
    assert back[-1] == (n, n) and all(a <= b for (a, _), (b, _) in zip(back, back[1:]))


def test_file_objects_in_and_out(tmp_path):
    import soundfile as sf

    x = make_signal("mixture", 16000, 16000)
    sf.write(tmp_path / "in.wav", x, 16000)
    out = io.BytesIO()
    with open(tmp_path / "in.wav", "rb") as f:
        info = codec.encode_file(f, out, format="png")
    assert info.format == "png" and info.size_bytes == len(out.getvalue())

    class Pipe(io.RawIOBase):  # a stream that cannot seek, like stdin
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self._data.readinto(b)

    audio = io.BytesIO()
    result = codec.decode_file(Pipe(out.getvalue()), audio, format="flac")
    y, sr = sf.read(io.BytesIO(audio.getvalue()))
    assert sr == 16000 and y.shape == (16000,) and result.format == "FLAC"
    np.testing.assert_allclose(y, codec.decode(out.getvalue()).audio, atol=1e-4)
    wav = io.BytesIO()
    codec.encode_file(io.BytesIO((tmp_path / "in.wav").read_bytes()), wav)  # JPEG by default
    assert wav.getvalue()[:2] == b"\xff\xd8"


def test_input_is_never_the_output(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "in.wav", make_signal("tone", 8000), 8000)
    (tmp_path / "link.wav").symlink_to(tmp_path / "in.wav")
    before = (tmp_path / "in.wav").read_bytes()
    for target in (tmp_path / "in.wav", tmp_path / "link.wav", tmp_path / "." / "in.wav"):
        with pytest.raises(ParameterError, match="is the input file"):
            codec.encode_file(tmp_path / "in.wav", target, overwrite=True, format="png")
    codec.encode_file(tmp_path / "in.wav", tmp_path / "a.png")
    (tmp_path / "b.png").hardlink_to(tmp_path / "a.png")
    with pytest.raises(ParameterError, match="is the input file"):
        codec.decode_file(tmp_path / "a.png", tmp_path / "b.png", overwrite=True, format="wav")
    assert (tmp_path / "in.wav").read_bytes() == before


def test_outputs_take_the_umask_mode(tmp_path):
    import os

    import soundfile as sf

    sf.write(tmp_path / "in.wav", make_signal("tone", 8000), 8000)
    old = os.umask(0o027)
    try:
        codec.encode_file(tmp_path / "in.wav", tmp_path / "a.jpg")
        codec.decode_file(tmp_path / "a.jpg", tmp_path / "b.wav")
    finally:
        os.umask(old)
    assert (tmp_path / "a.jpg").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "b.wav").stat().st_mode & 0o777 == 0o640


def test_nothing_is_written_when_decoding_fails(tmp_path):
    x = make_signal("mixture", 24000 * 3)
    data = codec.encode(x, 24000, format="png", tile_frames=32)
    (tmp_path / "cut.png").write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(MdctCompandError):
        codec.decode_file(tmp_path / "cut.png", tmp_path / "out.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.png"]


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_killed_encode_leaves_nothing(tmp_path, signum):
    import os
    import signal
    import subprocess
    import sys

    import soundfile as sf

    sf.write(tmp_path / "in.wav", np.zeros((44100 * 120, 2), np.int16), 44100)
    script = (
        "import sys, time; from mdctcompand import codec\n"
        "def tick(done, total):\n    print(done, flush=True)\n    time.sleep(120)\n"
        f"codec.encode_file({str(tmp_path / 'in.wav')!r}, {str(tmp_path / 'out' / 'a.jpg')!r}, progress=tick)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    # The first block is encoded and the temporary file exists; the callback then waits for the
    # signal (without the wait, a loaded machine let the encode finish before the signal came).
    assert proc.stdout.readline()
    assert next((tmp_path / "out").iterdir()).name.endswith(".part")
    proc.send_signal(getattr(signal, signum))
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert list((tmp_path / "out").iterdir()) == []


def test_decode_budgets(tmp_path):
    data = codec.encode(make_signal("mixture", 24000 * 2), 24000, format="png")
    with pytest.raises(FormatError, match="max_pixels"):
        codec.decode(data, max_pixels=1000)
    with pytest.raises(FormatError, match="max_samples"):
        codec.decode(data, max_samples=1000)
    with pytest.raises(FormatError, match="max_pixels"):
        codec.decode_file(data, tmp_path / "a.wav", max_pixels=1000)
    assert codec.decode(data).audio.shape == (48000,)


def test_codec_info_is_a_view_of_the_header():
    data = codec.encode(_stereo(24000, 24000), 24000, quality=50, bandwidth=6000)
    info = codec.read_info(data)
    h = info.header
    # the cut moves up to the next band-group edge of the noise filling (280 bands, 6562.5 Hz)
    assert (info.stereo, info.quality, info.bandwidth, info.n_tiles) == ("mid-side", 50, 6562.5, 1)
    assert h.stored_bands == 280 and h.rows == 560 and h.version == codec.CODEC_VERSION
    assert info.metadata == h.to_dict() and json.loads(h.to_json()) == h.to_dict()
    assert info.bitrate_kbps == pytest.approx(len(data) * 8 / 1000)


def test_encode_takes_any_settings_field_as_a_keyword_and_refuses_others():
    x = make_signal("mixture", 24000, 24000)
    assert codec.encode(x, 24000, resample_quality="VHQ", quality=40) == codec.encode(
        x, 24000, settings=codec.EncodeSettings(resample_quality="VHQ", quality=40)
    )
    with pytest.raises(ParameterError, match=r"unknown encode setting\(s\) \['bitrat'\]"):
        codec.encode(x, 24000, bitrat=24)


TAGS = {"title": "Song T", "artist": "Ärtist A", "album": "Alb", "date": "2021", "tracknumber": "4"}


@pytest.mark.parametrize("fmt", ["FLAC", "OGG", "WAV"])
def test_text_tags_travel_from_the_source_to_the_decoded_file(tmp_path, fmt):
    import soundfile as sf

    src = tmp_path / f"song.{fmt.lower()}"
    with sf.SoundFile(src, "w", 44100, 2, format=fmt) as f:
        for k, v in TAGS.items():
            setattr(f, k, v)
        f.write(make_signal("mixture", 44100, 44100)[:, None].repeat(2, axis=1))
    info = codec.encode_file(src, tmp_path / "song.jpg")
    assert info.tags == TAGS and "tags:         title=Song T" in info.summary()
    out = tmp_path / f"back.{fmt.lower()}"
    codec.decode_file(tmp_path / "song.jpg", out)
    with sf.SoundFile(out) as f:
        assert {k: v for k, v in f.copy_metadata().items() if k in TAGS} == TAGS
    codec.decode_file(tmp_path / "song.jpg", tmp_path / "bare.flac", tags=False)
    assert not {k for k in sf.SoundFile(tmp_path / "bare.flac").copy_metadata() if k in TAGS}


def test_tags_given_replace_or_join_the_sources(tmp_path):
    import soundfile as sf

    src = tmp_path / "a.flac"
    with sf.SoundFile(src, "w", 8000, 1, format="FLAC") as f:
        f.title, f.artist = "Old", "Someone"
        f.write(np.zeros(8000))
    joined = codec.encode_file(src, tmp_path / "a.jpg", tags={"title": "New", "genre": "jazz"})
    assert joined.tags == {"title": "New", "artist": "Someone", "genre": "jazz"}
    alone = codec.encode_file(src, tmp_path / "b.jpg", tags={"title": "New"}, source_tags=False)
    assert alone.tags == {"title": "New"}
    with pytest.raises(ParameterError, match="tag 'mood' is not one of"):
        codec.encode(np.zeros(8000), 8000, tags={"mood": "calm"})
    assert codec.read_info(codec.encode(np.zeros(8000), 8000)).tags == {}


@pytest.mark.parametrize("tags, message", [("x", "tags"), ({"title": 3}, "tags.title"), ({"title": "x" * 2000}, "tags.title")])
def test_hostile_tags_are_format_errors(tags, message):
    from mdctcompand.codec.section import CodingSection

    info = codec.read_info(codec.encode(np.zeros(8000), 8000, tags={"title": "t"}))
    bad = info.header.replace(coding={**info.header.coding, "tags": tags})
    with pytest.raises(FormatError, match=message):
        CodingSection.from_header(bad)


def test_tags_in_a_foreign_encoding_are_left_out_not_fatal(tmp_path):
    """A RIFF INFO title in Latin-1 (not UTF-8) made soundfile raise; the audio still encodes."""
    import struct

    import soundfile as sf

    path = tmp_path / "latin.wav"
    sf.write(path, np.zeros(8000, np.float32), 8000, subtype="PCM_16")
    data = path.read_bytes()
    info = b"INFO" + b"INAM" + struct.pack("<I", 6) + b"Caf\xe9\x00\x00"
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    path.write_bytes(data[:4] + struct.pack("<I", len(data) - 8 + len(chunk)) + data[8:] + chunk)
    info = codec.encode_file(path, tmp_path / "latin.jpg")
    assert info.duration == 1.0 and set(info.tags) <= {"title"}


@pytest.mark.parametrize(("sample_rate", "n"), [(24000, 24000), (24000, 1023), (44100, 50000), (16000, 7)])
def test_decode_stream_yields_no_empty_blocks_and_the_exact_length(sample_rate, n):
    x = make_signal("mixture", n, sample_rate).astype(np.float32)
    header, blocks = codec.decode_stream(codec.encode(x, sample_rate, format="png"))
    sizes = [b.shape[1] for b in blocks]
    assert all(size > 0 for size in sizes), sizes
    assert sum(sizes) == header.source_length == n
