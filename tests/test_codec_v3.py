"""Format version 3: coding tools (cell gains, band weights, noise filling), side information,
rate control by fractional JPEG steps, hostile side information, old files."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from mdctcompand import FormatError, ParameterError, codec, default_profile, metrics
from mdctcompand.codec import EncodeSettings, cells, jpeg
from mdctcompand.codec import tools as coding
from mdctcompand.containers import assemble, encode_tile
from mdctcompand.formats import available_formats
from mdctcompand.testing import make_signal

DATA = Path(__file__).parent / "data"
V2 = dict(
    tilt=8.0, cell_gains=False, band_slope=0.0, noise_fill=False, bandwidth="full", rate_control="quality",
    jpeg_deadzone=0.0,
)  # fmt: skip
STEP = dict(V2, rate_control="step")

# Each lever alone (the bench's lever table) and the default. Measured on this 10 s mixture at
# 24 kbit/s when written: kbit/s, SNR dB, LSD dB.
LEVER_SETTINGS = {
    "v2": (V2, 23.5, 9.6, 12.2),
    "step": (STEP, 24.0, 9.7, 12.1),
    "cell gains": (dict(STEP, cell_gains=True), 24.0, 10.1, 15.8),
    "band weights": (dict(STEP, band_slope=-1.5), 24.0, 12.6, 12.2),
    "noise fill": (dict(STEP, noise_fill=True), 24.0, 9.1, 10.8),
    "noise fill + bandwidth": (dict(STEP, noise_fill=True, bandwidth="auto"), 24.0, 11.2, 9.1),
    "jpeg dead zone": (dict(STEP, jpeg_deadzone=0.05), 24.0, 10.3, 12.0),
    "default": ({}, 24.0, 11.55, 8.8),
}


@pytest.fixture(scope="module")
def mixture():
    return make_signal("mixture", 240000, 24000, seed=11).astype(np.float32)


@pytest.mark.parametrize("name", list(LEVER_SETTINGS))
def test_round_trip_at_each_lever(mixture, name):
    options, kbps, snr, lsd = LEVER_SETTINGS[name]
    data = codec.encode(mixture, 24000, bitrate=24, **options)
    info = codec.read_info(data)
    y = codec.decode(data).audio
    assert info.version == 4 and y.shape == mixture.shape and y.dtype == np.float32
    tools = info.coding.tools
    assert (tools is not None and tools.gain_strength > 0) == options.get("cell_gains", True)
    assert (tools is not None and tools.fills_noise) == options.get("noise_fill", True)
    assert (info.jpeg_step is not None) == (options.get("rate_control", "step") == "step")
    assert abs(info.bitrate_kbps - kbps) < 0.1 * 24
    assert metrics.snr(mixture, y) > snr - 1.0
    assert metrics.log_spectral_distance(mixture, y, floor_reference="peak") < lsd + 1.0


def test_lever_measurements_in_the_table_are_current(mixture):
    """The numbers above are what the code gives (within 0.6 dB), so the budgets stay ~1 dB under."""
    for name in ("v2", "default"):
        options, _, snr, lsd = LEVER_SETTINGS[name]
        y = codec.decode(codec.encode(mixture, 24000, bitrate=24, **options)).audio
        assert abs(metrics.snr(mixture, y) - snr) < 0.6, name
        assert abs(metrics.log_spectral_distance(mixture, y, floor_reference="peak") - lsd) < 0.6, name


def test_default_is_rate_control_at_24_and_48_kbps():
    s = codec.EncodeSettings()
    assert s.quality is None and s.bitrate is None and s.tilt == "auto"
    assert (s.target_bitrate(1), s.target_bitrate(2)) == (24.0, 48.0)
    assert s.replace(quality=40).target_bitrate(1) is None
    with pytest.raises(ParameterError, match="gain_strength"):
        codec.EncodeSettings(gain_strength=2.0)
    with pytest.raises(ParameterError, match="rate_control"):
        codec.EncodeSettings(rate_control="nope")
    with pytest.raises(ParameterError, match="noise_fill"):
        codec.EncodeSettings(noise_fill="yes")
    with pytest.raises(TypeError):
        codec.EncodeSettings(
            "jpeg", 25, 8.0, "mono", 4096, None, None, "HQ", "flat", None, "step"
        )  # keyword-only


def test_tilt_by_rate():
    """``tilt="auto"`` resolves by the target rate per stored channel; a given tilt stays."""
    x = make_signal("mixture", 24000, 24000)
    for options, want in [
        ({}, 5.5), ({"bitrate": 16}, 5.5), ({"bitrate": 28}, 4.75), ({"bitrate": 48}, 4.0), ({"bitrate": 96}, 4.0),
        ({"quality": 40}, 5.5), ({"bitrate": 48, "tilt": 7.0}, 7.0), ({"format": "png"}, 3.0),
    ]:  # fmt: skip
        assert codec.read_info(codec.encode(x, 24000, **options)).header.tilt == want, options
    stereo = np.stack([x, 0.5 * x])
    assert codec.read_info(codec.encode(stereo, 24000)).header.tilt == 5.5  # 48 kbit/s for two channels
    assert codec.read_info(codec.encode(stereo, 24000, bitrate=64)).header.tilt == 4.0
    full_band = make_signal("mixture", 44100, 44100)  # full band keeps 5.5
    assert codec.read_info(codec.encode(full_band, 44100, bitrate=48)).header.tilt == 5.5
    s = codec.EncodeSettings()
    assert s.for_input(24000, 1).tilt == 5.5 and s.replace(bitrate=40).for_input(24000, 1).tilt == 4.0
    for bad in ("high", True, 0.0, float("nan"), None):
        with pytest.raises(ParameterError, match="tilt"):
            codec.EncodeSettings(tilt=bad)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rate", [16, 24, 32, 48])
def test_rate_lands_within_10_percent_on_music_like_signals(seed, rate):
    sr = 24000
    x = make_signal("mixture", 8 * sr, sr, seed=20 + seed) * (0.3 + 0.2 * seed)
    info = codec.read_info(codec.encode(x, sr, bitrate=rate))
    assert abs(info.bitrate_kbps / rate - 1) < 0.10


def test_rate_lands_for_stereo_and_several_tiles():
    sr = 44100
    x = np.stack([make_signal("mixture", 6 * sr, sr, 1), 0.4 * make_signal("mixture", 6 * sr, sr, 2)])
    info = codec.read_info(codec.encode(x, sr))  # default: 48 kbit/s for stereo
    assert abs(info.bitrate_kbps / 48 - 1) < 0.10
    tiled = codec.encode(x, sr, bitrate=48, tile_frames=96)
    info = codec.read_info(tiled)
    assert info.n_tiles == 3 and len(info.coding.side_info) == 3
    assert abs(info.bitrate_kbps / 48 - 1) < 0.10
    y = codec.decode(tiled).audio
    one = codec.decode(codec.encode(x, sr, bitrate=48)).audio
    assert y.shape == x.shape
    lsd = [
        metrics.log_spectral_distance(x[c], z[c], floor_reference="peak") for z in (y, one) for c in (0, 1)
    ]
    assert max(lsd[:2]) < max(lsd[2:]) + 1.0  # tiling costs little


# SNR at the default settings (24 kbit/s mono), measured when written: 37.2, 36.9, 34.3, 37.0 dB
# (37.6, 37.0, 36.0, 37.2 dB without the JPEG dead zone).
_TONES = {
    "sine 440 Hz": (lambda t: 0.3 * np.sin(2 * np.pi * 440 * t), 36.5),
    "two tones": (lambda t: 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 1330 * t), 36.0),
    "sine 5 kHz": (lambda t: 0.3 * np.sin(2 * np.pi * 5000 * t), 33.5),
    "sparse notes": (
        lambda t: sum(
            0.2 * np.sin(2 * np.pi * f * t) * (((t * 2).astype(int) % 4) == i)
            for i, f in enumerate([262, 330, 392, 523])
        ),
        36.0,
    ),
}


@pytest.mark.parametrize("name", list(_TONES))
def test_tones_and_sparse_music_at_the_default(name):
    make, budget = _TONES[name]
    x = make(np.arange(240000) / 24000).astype(np.float32)
    y = codec.decode(codec.encode(x, 24000)).audio
    assert metrics.snr(x, y) > budget >= 25
    assert np.abs(y).max() < 1.1 * np.abs(x).max()


# ---------------------------------------------------------------------- side information
def _reference_levels(rel: np.ndarray, edges, fpg: int, step_db: float) -> np.ndarray:
    """Plain loops: RMS of every cell, quantized to ``step_db`` steps above -140 dB (0: silence)."""
    channels, _, n_frames = rel.shape
    cells = -(-n_frames // fpg)
    out = np.zeros((channels, len(edges) - 1, cells), np.int64)
    for c in range(channels):
        for g in range(len(edges) - 1):
            for t in range(cells):
                block = rel[c, edges[g] : edges[g + 1], t * fpg : (t + 1) * fpg]
                rms = np.sqrt(np.mean(block.astype(np.float64) ** 2))
                if rms > 0:
                    out[c, g, t] = np.clip(np.round((20 * np.log10(rms) + 140.0) / step_db), 0, 127)
    return out


def test_side_info_against_a_numpy_reference():
    profile = default_profile()
    tools = coding.CodingTools()
    rng = np.random.default_rng(3)
    frames = (rng.standard_normal((2, 512, 37)) * np.exp(rng.uniform(-6, 0, (2, 512, 1)))).astype(np.float32)
    frames[1, :, 10:14] = 0.0  # silence: index 0
    gain = 1.7
    info, data = coding.analyze(tools, profile, frames, gain)
    rel = frames.astype(np.float64) * gain / profile.std[:, None]
    ref = _reference_levels(rel, tools.edges(profile), tools.cell_frames, tools.level_step_db)
    got = np.round((20 * np.log10(np.maximum(info.levels, 1e-300)) + 140.0) / tools.level_step_db)
    got[info.levels == 0] = 0
    mismatch = got != ref
    # float32 analysis vs float64 reference: only values on a rounding boundary may differ, by one
    assert mismatch.mean() < 0.002 and np.all(np.abs(got - ref) <= 1)
    assert np.all(ref[1, :, 5:7] == 0)
    parsed = coding.parse_side_info(tools, profile, coding.side_info_text(data), 37, 2)
    assert np.array_equal(parsed.levels, info.levels) and np.array_equal(parsed.shape, info.shape)
    weights = coding.coding_weights(tools, profile, info, 2, 37)
    assert weights.shape == frames.shape and np.all(weights > 0)
    # weigh, a few hundred frames at a time and in place, is one multiplication by the weights
    for n_frames in (37, 300, 1000):
        x = rng.standard_normal((2, 512, n_frames)).astype(np.float32)
        side = coding.analyze(tools, profile, x, gain)[0]
        w = np.ones(x.shape, np.float32) * np.repeat(
            np.repeat(cells.normalizing_gains(
                np.sqrt(np.mean(side.levels**2, axis=0, keepdims=True)), strength=tools.gain_strength,
                range_db=tools.gain_range_db,
            ), np.diff(tools.edges(profile)), axis=-2), tools.cell_frames, axis=-1,
        )[..., :n_frames].astype(np.float32)  # fmt: skip
        if tools.band_slope_db:
            w *= coding._weights(profile, float(tools.band_slope_db))[:, None]
        assert np.array_equal(coding.weigh(tools, profile, side, x.copy()), x * w)
        assert np.array_equal(coding.weigh(tools, profile, side, x.copy(), divide=True), x / w)
        # the encoder's tile is frame-major (a transposed C array): the same values
        frame_major = np.swapaxes(np.ascontiguousarray(np.swapaxes(x, -1, -2)), -1, -2)
        assert np.array_equal(coding.weigh(tools, profile, side, frame_major), x * w)
        assert np.swapaxes(frame_major, -1, -2).flags.c_contiguous  # still in place


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 40),
    st.data(),
)
def test_pack_unpack_levels_exact(rows, cols, data):
    idx = np.array(
        data.draw(st.lists(st.integers(0, 127), min_size=rows * cols, max_size=rows * cols)), np.uint8
    ).reshape(rows, cols)
    text = coding.side_info_text(cells.pack_levels(idx))
    assert np.array_equal(cells.unpack_levels(coding.side_info_bytes(text), idx.shape), idx)
    assert set(text) <= set(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
    )


@given(st.binary(max_size=300))
def test_side_info_text_is_the_standard_base85(data):
    import base64

    text = coding.side_info_text(data)
    assert text == base64.b85encode(data).decode("ascii")
    assert coding.side_info_bytes(text) == data


@given(st.text(alphabet="0123456789ABCxyz~|{}!#;é \n", max_size=40))
def test_side_info_bytes_decodes_or_refuses_as_the_standard_does(text):
    import base64

    try:
        want = base64.b85decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        with pytest.raises(FormatError, match="corrupt side information") as got:
            coding.side_info_bytes(text)
        if not isinstance(exc, UnicodeEncodeError):
            assert str(exc) in str(got.value)  # the same position or hunk
    else:
        assert coding.side_info_bytes(text) == want


def _file_with(meta: dict, rows: int, width: int = 16) -> bytes:
    tile = encode_tile(np.full((rows, width), 128, np.uint8), "jpeg", quality=90, metadata=json.dumps(meta))
    return assemble("jpeg", [tile])


@pytest.fixture(scope="module")
def v3_meta():
    data = codec.encode(make_signal("mixture", 7000, 24000, 4), 24000, bitrate=48)
    return codec.read_info(data).metadata


@pytest.mark.parametrize(
    "change, message",
    [
        ({"side_info": ["!!!!!"]}, "side information"),
        ({"side_info": ["x" * 20_000]}, "at most"),
        ({"side_info": []}, "1 strings"),
        ({"cell_frames": 0}, "cell_frames"),
        ({"cell_frames": None}, "without cell_frames"),
        ({"gain_strength": 1.5}, "gain_strength"),
        ({"noise_fill": "yes"}, "noise_fill"),
        ({"group_width": 1e9}, "group_width"),
        (
            {
                "version": 2,
                "sample_rate": 24000,
                "frame_length": 1024,
                "window": "sine",
                "level": "rms:-20",
                "stored_channels": 1,
                "rounding": "round",
                "reconstruction": "midpoint",
            },
            "version-2",
        ),
    ],
)
def test_hostile_side_information_is_refused_before_pixels(v3_meta, change, message, monkeypatch):
    from mdctcompand.containers import ImageFile

    def no_pixels(*args, **kwargs):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile, "tiles", no_pixels)
    with pytest.raises(FormatError, match=message):
        codec.decode_stream(_file_with({**v3_meta, **change}, v3_meta["stored_bands"]))


def test_corrupt_levels_are_refused(v3_meta):
    side = coding.side_info_bytes(v3_meta["side_info"][0])
    n = int.from_bytes(side[:3], "big")
    bad = [
        side[:3] + b"\xff" * n + side[3 + n :],  # not deflate
        (n + 100).to_bytes(3, "big") + side[3:],  # declared length past the end
        side[:3] + cells.pack_levels(np.full((19, 7), 200 % 128, np.uint8)) + side[3 + n :],  # wrong count
        side + cells.pack_levels(np.zeros((3, 1), np.uint8)),  # extra bytes
    ]
    for data in bad:
        meta = {**v3_meta, "side_info": [coding.side_info_text(data)]}
        with pytest.raises(FormatError):
            codec.decode(_file_with(meta, v3_meta["stored_bands"]))


# ---------------------------------------------------------------------- old files, header size
# sha256 (first 32 hex digits) of the decoded float32 samples, as mdctcompand 0.1 with header
# version 2 (main at 0696695) decoded these files: decoding must stay bit-exact.
_FIXTURES = {
    "codec_v1_mono_24k.jpg": (1, "ddb1afe8b5d890dcf2d5e654ce70209c"),
    "codec_v1_stereo_22k_tiles.png": (1, "2a4d170f41c0a055c6dfa1b69f32da8c"),
    "codec_v2_mono_24k.jpg": (2, "83bb563c5287ecb6153c4094f6ae2a73"),
    "codec_v2_stereo_22k_tiles.webp": (2, "b2bc065966896774dd981d0bc095b193"),
    # version 3 as main at c282130 wrote and decoded them (2 s of make_signal("mixture"), 24 and 48 kbit/s)
    "codec_v3_mono_24k.jpg": (3, "b4b07c89598506e6119ab0001f37a4ed"),
    "codec_v3_stereo_44k.jpg": (3, "0c86b5e8d42eb932319e36adad5c52b8"),
}


@pytest.mark.parametrize("name", list(_FIXTURES))
def test_old_files_decode_bit_exactly(name):
    version, digest = _FIXTURES[name]
    if name.endswith(".webp") and "webp" not in available_formats():
        pytest.skip("no WebP in this Pillow")
    info = codec.read_info(DATA / name)
    assert info.version == version and (info.coding.tools is None) == (version < 3)
    y = np.ascontiguousarray(codec.decode(DATA / name).audio)
    assert hashlib.sha256(y.tobytes()).hexdigest()[:32] == digest


def test_version_3_header_is_smaller(v3_meta):
    from mdctcompand.containers import open_image_file
    from mdctcompand.header import AudioImageHeader

    with open_image_file(DATA / "codec_v2_mono_24k.jpg") as f:
        v2_text = json.dumps(f.metadata, separators=(",", ":"))
        h = AudioImageHeader.from_dict(f.metadata)
    v3_text = h.to_json()
    assert len(v3_text) < 0.85 * len(v2_text)  # 719 vs 898 bytes when written
    again = AudioImageHeader.from_json(v3_text)
    assert again == h.replace(version=4)
    # side information: about 1.8 kbit/s of levels at 24 kHz mono (2-frame cells, 19 groups)
    assert len(v3_meta["side_info"][0]) < 600


# ---------------------------------------------------------------------- containers
def test_jpeg_metadata_over_several_comment_segments():
    from mdctcompand.containers import open_image_file

    meta = json.dumps({"a": "x" * 200_000, "b": 1})
    tiles = [encode_tile(np.zeros((16, 16), np.uint8), "jpeg", metadata=meta, quality=50)]
    tiles += [encode_tile(np.full((16, 16), 200, np.uint8), "jpeg", quality=50) for _ in range(2)]
    for n in (1, 3):
        with open_image_file(assemble("jpeg", tiles[:n])) as f:
            assert f.metadata == json.loads(meta) and f.n_tiles == n
            assert [int(t.max()) > 150 for t in f.tiles()] == [False, True, True][:n]


def test_jxl_recompression(mixture):
    from mdctcompand import containers

    if "jxl" not in available_formats():
        pytest.skip("pillow-jxl-plugin is not installed")
    data = codec.encode(mixture, 24000, format="jxl")
    assert data.startswith(b"\x00\x00\x00\x0cJXL ")
    info = codec.read_info(data)
    assert info.format == "jxl" and abs(info.bitrate_kbps / 24 - 1) < 0.1
    jpeg = containers.from_jxl(data)  # the exact JPEG file back
    assert jpeg.startswith(b"\xff\xd8") and containers.to_jxl(jpeg) == data
    assert len(data) < 0.97 * len(jpeg)
    y = codec.decode(data).audio
    y_jpeg = codec.decode(codec.encode(mixture, 24000)).audio
    lsd = [metrics.log_spectral_distance(mixture, z, floor_reference="peak") for z in (y, y_jpeg)]
    assert lsd[0] < lsd[1] + 0.1  # 5 % more bytes for the image at the same rate


def test_jxl_missing_plugin_names_what_to_install(monkeypatch, tmp_path, capsys):
    import dataclasses

    from mdctcompand import containers, formats
    from mdctcompand.cli.wav2jpeg import main_encode

    missing = dataclasses.replace(formats.FORMATS["jxl"], feature="module:no_such_plugin_here")
    monkeypatch.setitem(formats.FORMATS, "jxl", missing)
    assert "jxl" not in formats.available_formats()
    with pytest.raises(ParameterError, match="pip install pillow-jxl-plugin"):
        codec.EncodeSettings(format="jxl")
    with pytest.raises(FormatError, match="pillow-jxl-plugin"):
        containers.from_jxl(b"\x00\x00\x00\x0cJXL \r\n\x87\n")
    wav = tmp_path / "a.wav"
    import soundfile as sf

    sf.write(wav, make_signal("mixture", 8000, 8000), 8000)
    assert main_encode([str(wav), "-f", "jxl", "-q"]) == 2
    err = capsys.readouterr().err
    assert "pip install pillow-jxl-plugin" in err and "AVIF" not in err
    assert not list(tmp_path.glob("*.jxl"))


def test_header_of_a_profile_kept_elsewhere_round_trips():
    """Dataset images name a profile stored beside them: the header keeps its geometry."""
    from mdctcompand.header import AudioImageHeader, header_from_profile
    from mdctcompand.profile import GGDProfile

    p = default_profile()
    custom = GGDProfile(p.shape, p.scale * 2, sample_rate=24000, frame_length=1024, name="beside")
    h = header_from_profile(
        custom, length=24000, gains=[[1.0]], tile_frames=64, embed_profile=False, rounding="floor"
    )
    text = h.to_json()
    assert '"sample_rate"' in text and '"rounding":"floor"' in text
    assert AudioImageHeader.from_json(text) == h


@pytest.mark.parametrize("sample_rate", [24000, 44100])
@settings(max_examples=25, deadline=None)
@given(bandwidth=st.floats(min_value=100.0, max_value=22050.0))
def test_a_given_bandwidth_moves_up_to_a_band_group_edge(sample_rate, bandwidth):
    s = EncodeSettings(bandwidth=bandwidth).for_input(sample_rate, 1)
    edges = s.tools.edges(s.resolved_profile)
    asked = EncodeSettings(bandwidth=bandwidth, noise_fill=False).for_input(sample_rate, 1).stored_bands
    assert s.stored_bands == min(e for e in edges[1:] if e >= asked)  # the next edge up, never fewer bands


def test_no_silent_gap_above_a_given_bandwidth():
    """Bands just above a given cut are noise-filled like every band above it (no hole at the cut)."""
    x = make_signal("noise", 24000 * 4, seed=3).astype(np.float32)
    y = codec.decode(codec.encode(x, 24000, bandwidth=6000)).audio  # 6000 Hz falls inside a band group
    f, p = scipy.signal.welch(y, fs=24000, nperseg=1024)
    _, p0 = scipy.signal.welch(x, fs=24000, nperseg=1024)
    # before the cut moved to a group edge, 6.0-6.56 kHz decoded 10.7 dB too quiet here
    for lo, hi in ((5000, 5400), (5600, 5950), (6100, 6500), (6700, 8000), (9500, 11000)):
        band = (f >= lo) & (f < hi)
        assert abs(10 * np.log10(p[band].mean() / p0[band].mean())) < 2.5, (lo, hi)


@pytest.mark.parametrize("quality", [1, 10, 25, 50, 75, 90, 100])
def test_libjpeg_luma_table_is_what_pillow_writes(quality):
    import io

    from PIL import Image

    from mdctcompand.codec.jpeg import libjpeg_luma_table

    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8), "L").save(buf, "JPEG", quality=quality)
    assert list(Image.open(io.BytesIO(buf.getvalue())).quantization[0]) == libjpeg_luma_table(quality)


def test_tile_coder_dead_zone():
    from mdctcompand.codec.ratecontrol import TileCoder
    from mdctcompand.containers import decode_tile

    rng = np.random.default_rng(0)
    x = np.clip(np.round(128 + 10 * rng.laplace(size=(64, 128))), 0, 255).astype(np.uint8)
    for qtable in ("standard", "flat"):
        sizes = {dz: len(TileCoder(EncodeSettings(qtable=qtable, jpeg_deadzone=dz), x).encode(quality=40)) for dz in (0.0, 0.1)}
        assert sizes[0.1] < 0.97 * sizes[0.0], qtable
    coded = TileCoder(EncodeSettings(jpeg_deadzone=0.1), x)
    assert np.abs(decode_tile(coded.encode(quality=40)).astype(int) - x).mean() < 8
    assert np.array_equal(coded.pixels(coded.table(step=100)), jpeg.prequantize_jpeg(x, coded.table(step=100), deadzone=0.1))
    webp = TileCoder(EncodeSettings(format="webp", quality=50), x)
    assert webp.table(quality=50) is None and webp.pixels(None) is x  # no dead zone outside JPEG
    with pytest.raises(ParameterError, match="only JPEG"):
        webp.encode(step=100)


def test_jpeg_deadzone_setting():
    x = make_signal("mixture", 48000, 24000)
    with_dz, without = (codec.encode(x, 24000, jpeg_deadzone=dz) for dz in (0.05, 0.0))
    assert with_dz != without  # the images differ; both land on the rate and decode
    for data in (with_dz, without):
        assert abs(codec.read_info(data).bitrate_kbps / 24 - 1) < 0.1
        assert codec.decode(data).audio.shape == x.shape
    for bad in (0.5, -0.01, "0.1", True):
        with pytest.raises(ParameterError, match="jpeg_deadzone"):
            EncodeSettings(jpeg_deadzone=bad)
