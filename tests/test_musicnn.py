"""mdctcompand.evaluation.musicnn: the checkpoint reader, the front-end against librosa and the
network against TensorFlow's, from fixtures made once with TensorFlow by
``benchmarks/lab/musicnn_check.py --make-fixture`` (no TensorFlow needed here)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mdctcompand.evaluation import musicnn
from mdctcompand.evaluation.embeddings import Embedding
from mdctcompand.evaluation.musicnn import (
    MusicnnEmbedding,
    crc32c,
    log_mel_patches,
    mel_filterbank,
    melspectrogram,
    read_checkpoint,
)
from mdctcompand.exceptions import FormatError, ParameterError

DATA = Path(__file__).parent / "data"
CHECKPOINT = DATA / "tf_checkpoint"
#: embeddings from musicnn's front-end + TensorFlow graph measured within 5e-6 of ours (relative to
#: the largest magnitude); the budget leaves room for other BLAS and summation orders
NETWORK_BUDGET = 1e-4
HAS_WEIGHTS = importlib.util.find_spec("musicnn") is not None


def reference_signal() -> np.ndarray:
    """The fixture's signal, as ``reference_signal`` in benchmarks/lab/musicnn_check.py: 6 s at 16 kHz."""
    t = np.arange(96000) / 16000
    chirp = 0.1 * np.sin(2 * np.pi * (110 * t + 400 * t**2))
    gated = 0.05 * np.sin(2 * np.pi * 880 * t) * (t % 0.5 < 0.1)
    return (chirp + gated).astype(np.float32)


def _slow_crc32c(data: bytes) -> int:
    state = 0xFFFFFFFF
    for byte in data:
        state ^= byte
        for _ in range(8):
            state = (state >> 1) ^ 0x82F63B78 if state & 1 else state >> 1
    return state ^ 0xFFFFFFFF


# ---------------------------------------------------------------- the checkpoint reader


def test_crc32c_matches_the_standard_vectors_and_a_bitwise_reference():
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 (iSCSI) test vectors
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    data = np.random.default_rng(0).integers(0, 256, 70001, dtype=np.uint8).tobytes()
    for n in (1, 63, 64, 65, 1000, 65536, 70001):  # around the chunking thresholds
        assert crc32c(data[:n]) == _slow_crc32c(data[:n]), n
    assert crc32c(data[1000:], crc32c(data[:1000])) == crc32c(data)


def test_the_reader_matches_tensorflow_on_every_dtype():
    got = read_checkpoint(CHECKPOINT / "ckpt")
    expected = dict(np.load(CHECKPOINT / "expected.npz"))
    assert sorted(got) == sorted(expected)
    for name, want in expected.items():
        if want.dtype.kind == "S":  # strings (the TF2 object graph, a string variable)
            assert got[name].dtype == object and got[name].tolist() == want.tolist(), name
        else:  # bfloat16 is stored (and read) as float32
            assert got[name].dtype == want.dtype and got[name].shape == want.shape, name
            np.testing.assert_array_equal(got[name], want, err_msg=name)
    assert got["f16/.ATTRIBUTES/VARIABLE_VALUE"].dtype == np.float16
    assert got["empty/.ATTRIBUTES/VARIABLE_VALUE"].shape == (0, 3)
    assert got["s/.ATTRIBUTES/VARIABLE_VALUE"].tolist() == [b"musicnn", b"", b"\x00bytes"]


def test_the_reader_reads_only_the_selected_variables():
    got = read_checkpoint(CHECKPOINT / "ckpt", lambda name: name.startswith("layer_"))
    assert len(got) == 6 and all(name.startswith("layer_") for name in got)
    np.testing.assert_array_equal(got["layer_03/.ATTRIBUTES/VARIABLE_VALUE"], [3.0, 3.0])


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


def _truncate(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: _truncate(d / "ckpt.index", 600), "bad footer magic"),
        (lambda d: _truncate(d / "ckpt.index", 0), "bad footer magic"),
        (lambda d: _flip(d / "ckpt.index", 20), "checksum mismatch in the block"),
        (lambda d: _flip(d / "ckpt.index", os.path.getsize(d / "ckpt.index") - 1), "bad footer magic"),
        (lambda d: _flip(d / "ckpt.data-00000-of-00001", 100), "checksum mismatch in its data"),
        (lambda d: _truncate(d / "ckpt.data-00000-of-00001", 1000), "truncated"),
        (lambda d: (d / "ckpt.data-00000-of-00001").unlink(), "cannot read"),
        (lambda d: (d / "ckpt.index").write_bytes(b"not a checkpoint" * 8), "bad footer magic"),
    ],
    ids=[
        "truncated-index",
        "empty-index",
        "index-byte",
        "index-magic",
        "data-byte",
        "truncated-data",
        "no-data",
        "foreign",
    ],
)
def test_a_damaged_checkpoint_raises_format_error(tmp_path, damage, message):
    for path in CHECKPOINT.glob("ckpt.*"):
        shutil.copy(path, tmp_path / path.name)
    damage(tmp_path)
    with pytest.raises(FormatError, match=message):
        read_checkpoint(tmp_path / "ckpt")


def test_a_directory_is_read_as_the_checkpoint_with_an_empty_prefix(tmp_path):
    shutil.copy(CHECKPOINT / "ckpt.index", tmp_path / ".index")
    shutil.copy(CHECKPOINT / "ckpt.data-00000-of-00001", tmp_path / ".data-00000-of-00001")
    got, want = read_checkpoint(tmp_path), read_checkpoint(CHECKPOINT / "ckpt")
    assert sorted(got) == sorted(want)


# ---------------------------------------------------------------- the front-end


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    t = np.arange(16000 * 7) / 16000
    return {
        "noise": (0.1 * rng.standard_normal(t.size)).astype(np.float32),
        "sine": (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
        "reference": reference_signal(),
        "short": (0.1 * rng.standard_normal(300)).astype(np.float32),  # shorter than n_fft
    }


@pytest.mark.filterwarnings("ignore:n_fft=512 is too large")
def test_the_mel_front_end_matches_librosa():
    """Tolerance: 1e-6 of the largest value (bit-identical with numpy 2.4 and librosa 0.11)."""
    librosa = pytest.importorskip("librosa")
    want = librosa.filters.mel(sr=16000, n_fft=512, n_mels=96)
    np.testing.assert_allclose(mel_filterbank(), want, rtol=0, atol=1e-6 * want.max())
    for name, x in _signals().items():
        want = librosa.feature.melspectrogram(y=x, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
        got = melspectrogram(x)
        assert got.shape == want.shape and got.dtype == np.float32, name
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * want.max(), err_msg=name)


def test_the_log_mel_patches_match_the_extractors_formula():
    """musicnn's ``batch_data``: float16 mel, float16 ``log10(10000 x + 1)``, 187-frame patches.

    Tolerance: at most 0.1 % of the cells one float16 step apart (rounding of a mel value that
    differs in its last float32 bit); identical with numpy 2.4 and librosa 0.11.
    """
    librosa = pytest.importorskip("librosa")
    x = _signals()["noise"]
    mel = librosa.feature.melspectrogram(y=x, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    want = np.log10(10000 * mel.astype(np.float16) + 1)
    want = np.stack([want[i : i + 187] for i in range(0, want.shape[0] - 187 + 1, 187)]).astype(np.float32)
    got = log_mel_patches(x)
    assert got.shape == want.shape == (2, 187, 96)
    assert np.mean(got != want) <= 1e-3
    assert np.abs(got - want).max() <= 2.0**-8  # one float16 step below 8


def test_patching_and_padding():
    assert log_mel_patches(np.zeros(47616)).shape == (1, 187, 96)  # exactly 187 frames
    x = np.random.default_rng(2).standard_normal(47000).astype(np.float32)
    np.testing.assert_array_equal(log_mel_patches(x), log_mel_patches(np.pad(x, (0, 616))))  # zero-padded
    assert log_mel_patches(np.zeros(100)).shape == (1, 187, 96)
    assert log_mel_patches(np.zeros(95487)).shape == (1, 187, 96)  # 373 frames
    assert log_mel_patches(np.zeros(95488)).shape == (2, 187, 96)  # 374 frames


@pytest.mark.parametrize("audio", [np.zeros(0), np.zeros((2, 50000)), np.full(50000, np.nan)])
def test_bad_audio_raises_parameter_error(audio):
    with pytest.raises(ParameterError, match="must be mono"):
        log_mel_patches(audio)


def test_float16_overflow_is_computed_in_float32():
    x = np.sin(2 * np.pi * 100 * np.arange(48000) / 16000).astype(np.float32)  # full scale: mel >> 6.55
    mel = melspectrogram(x)[:187].astype(np.float16)
    with np.errstate(over="ignore"):
        extractor = np.log10(10000 * mel + 1)
    got = log_mel_patches(x)[0]
    overflow = np.isinf(extractor)
    assert overflow.any() and np.isfinite(got).all()
    np.testing.assert_array_equal(got[~overflow], extractor[~overflow])
    want = np.log10(10000 * mel[overflow].astype(np.float32) + 1).astype(np.float16)
    np.testing.assert_array_equal(got[overflow], want)
    assert got.max() > np.log10(65504)
    assert np.isfinite(log_mel_patches(x * 1000)).all()  # beyond float16 in the mel itself


# ---------------------------------------------------------------- the embedding


def test_missing_weights_say_how_to_install_them(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        musicnn.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "musicnn" else find_spec(name, *a),
    )
    with pytest.raises(ParameterError) as info:
        MusicnnEmbedding()
    message = str(info.value)
    assert "pip install --no-deps musicnn==0.1.0" in message
    assert "numpy<1.17" in message and "weights=" in message


def test_a_folder_without_weights_and_an_unknown_model_raise(tmp_path):
    with pytest.raises(ParameterError, match=str(tmp_path)):
        MusicnnEmbedding(weights=tmp_path)
    with pytest.raises(ParameterError, match="MTT_musicnn"):
        MusicnnEmbedding("big", weights=tmp_path)


def test_it_follows_the_embedding_protocol(tmp_path):
    (tmp_path / ".index").write_bytes(b"")  # construction only looks for the file
    emb = MusicnnEmbedding("MSD_vgg", weights=tmp_path)
    assert isinstance(emb, Embedding)
    assert (emb.name, emb.sample_rate, emb.dim) == ("musicnn:MSD_vgg", 16000, 256)
    assert emb.describe().startswith("musicnn:MSD_vgg: flattened pool5 (256 values) per 3 s patch")


@pytest.mark.skipif(
    not HAS_WEIGHTS, reason="musicnn weights not installed (pip install --no-deps musicnn==0.1.0)"
)
@pytest.mark.parametrize("model", ["MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg"])
def test_the_network_matches_tensorflow(model):
    want = np.load(DATA / "musicnn_reference.npz")[model]
    emb = MusicnnEmbedding(model)
    got = emb.embed(reference_signal())
    assert got.shape == want.shape == (2, emb.dim) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=NETWORK_BUDGET * np.abs(want).max())
    assert emb.describe().startswith(f"musicnn:{model}: ")


@pytest.mark.skipif(
    not HAS_WEIGHTS, reason="musicnn weights not installed (pip install --no-deps musicnn==0.1.0)"
)
def test_short_audio_is_one_zero_padded_patch():
    emb = MusicnnEmbedding()
    short = emb.embed(np.zeros(1000))
    assert short.shape == (1, 200)
    np.testing.assert_array_equal(short, emb.embed(np.zeros(47616)))
