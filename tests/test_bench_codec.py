"""The codec comparison command's parts: peers, clip selection, the table and its verdict."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from lab import codec as bench
from lab import corpus, peers
from mdctcompand import metrics
from mdctcompand.testing import make_signal

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


@needs_ffmpeg
@pytest.mark.parametrize("roundtrip", [peers.opus_roundtrip, peers.aac_roundtrip])
@pytest.mark.parametrize("channels", [1, 2])
def test_ffmpeg_peers_round_trip_aligned(roundtrip, channels):
    x = make_signal("mixture", 48000, 24000).astype(np.float32)
    if channels == 2:
        x = np.stack([x, 0.5 * np.roll(x, 50)])
    y, n_bytes = roundtrip(x, 24000, bitrate_kbps=48)
    assert y.shape == x.shape and y.dtype == np.float32
    assert 2 * 48 * 1000 / 8 * 0.5 < n_bytes < 2 * 48 * 1000 / 8 * 2  # about 48 kbit/s over 2 s
    assert np.all(metrics.snr(x, y) > 5)  # aligned: the waveform matches


def test_mp3_peer_stereo():
    pytest.importorskip("lameenc")
    x = np.stack([make_signal("mixture", 48000, 24000), make_signal("tone", 48000, 24000)]).astype(np.float32)
    y, n_bytes = peers.mp3_roundtrip(x, 24000, bitrate_kbps=64)
    assert y.shape == x.shape and n_bytes > 0
    assert np.all(metrics.snr(x, y) > 5)


def test_spread_clips_cover_every_song_and_spread(tmp_path):
    sf = pytest.importorskip("soundfile")
    sr = 8000
    for i, name in enumerate(["a", "b", "c"]):
        d = tmp_path / "pack" / name
        d.mkdir(parents=True)
        t = np.arange(sr * 61) / sr
        # a marker per 10 s segment: the segment index as the amplitude of a tone
        audio = 0.05 * (1 + np.floor(t / 10)) * np.sin(2 * np.pi * (200 + 100 * i) * t)
        sf.write(d / "song.ogg", audio.astype(np.float32), sr)
    songs = corpus.fretsonfire_songs(root=tmp_path)
    assert [s.name for s in songs] == ["a", "b", "c"]
    clips = corpus.spread_clips(songs, 7, sample_rate=sr)
    names = [n for n, _ in clips]
    assert len(clips) == 7 and all(c.shape == (10 * sr,) for _, c in clips)
    assert [n.split("/")[1].split("@")[0] for n in names[:3]] == ["a", "b", "c"]  # songs take turns
    starts = sorted(int(n.split("@")[1][:-1]) for n in names if "/a@" in n)
    assert starts == [0, 20, 50]  # three of six segments, evenly spaced
    assert names[0].endswith("@20s")  # middle first
    stereo = corpus.spread_clips(songs, 2, sample_rate=sr, mono=False)
    assert stereo[0][1].ndim == 2


def _rows():
    rows = []
    for rate in (16, 24):
        rows += [
            dict(codec="wav2jpeg JPEG", target=rate, kbps=rate * 0.98, worst_miss=0.05, lsd=7.0, visqol=4.4),
            dict(codec="Opus", target=rate, kbps=rate * 1.05, worst_miss=0.2, lsd=7.2 if rate == 16 else 6.5, visqol=4.5),
            dict(codec="LAME MP3", target=rate, kbps=rate, worst_miss=0.01, lsd=15.0, visqol=2.7),
            dict(codec="AAC", target=rate, kbps=rate, worst_miss=0.05, lsd=12.0, visqol=float("nan")),
        ]
    return rows


def test_table_and_verdict():
    text = bench.table(_rows(), (16, 24))
    assert text.splitlines()[0] == "| asked for | wav2jpeg JPEG | Opus | LAME MP3 | AAC |"
    assert "| 16 kbit/s | 15.7, 7.00 dB, 4.40 | 16.8, 7.20 dB, 4.50 |" in text
    verdict = bench.verdict(_rows(), (16, 24), "wav2jpeg JPEG").splitlines()
    assert "LSD -0.20 dB vs Opus (ok)" in verdict[0] and "ViSQOL -0.10 vs Opus (ok)" in verdict[0]
    assert "LSD +0.50 dB vs Opus (MISS)" in verdict[1]
    assert "within 5% on every clip (ok)" in verdict[0]
    assert "ahead of LAME MP3" in verdict[0] and "ahead of AAC" in verdict[0]


def test_wav2jpeg_roundtrip_uses_the_public_codec():
    x = make_signal("mixture", 48000, 24000).astype(np.float32)
    y, n_bytes = bench.wav2jpeg_roundtrip(x, 24000, 32)
    assert y.shape == x.shape
    assert n_bytes * 8 / 2 / 1000 < 32 * 1.1
    assert bench._options(["tilt=6", "format=webp"]) == {"tilt": 6, "format": "webp"}


@needs_ffmpeg
def test_one_command_prints_every_section(tmp_path, monkeypatch, capsys):
    """The comparison command end to end on a small local corpus (two 44.1 kHz stereo songs)."""
    sf = pytest.importorskip("soundfile")
    pytest.importorskip("lameenc")
    sr = 44100
    for i, name in enumerate(["a", "b"]):
        d = tmp_path / "pack" / name
        d.mkdir(parents=True)
        x = make_signal("mixture", 12 * sr, sr, seed=i)
        sf.write(d / "song.ogg", np.stack([x, 0.6 * np.roll(x, 40)], axis=1).astype(np.float32), sr)
    monkeypatch.setattr(bench, "fretsonfire_songs", lambda held_out=True: corpus.fretsonfire_songs(root=tmp_path))
    bench.main(
        ["--clips", "1", "--stereo-clips", "1", "--rates", "24", "--stereo-rates", "48",
         "--full-band-mono-rates", "32", "--no-visqol", "--no-levers", "--no-speed"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "24 kHz mono" in out and "44.1 kHz stereo" in out and "44.1 kHz mono" in out
    for line in ("| 24 kbit/s | ", "| 48 kbit/s | ", "| 32 kbit/s | "):
        assert line in out
    assert out.count("- 24 kbit/s, wav2jpeg JPEG: rate lands within") == 1
    assert "- 48 kbit/s, wav2jpeg JPEG" in out and "- 32 kbit/s, wav2jpeg JPEG" in out
    assert "ahead of AAC" in out  # the verdict compares with every peer
