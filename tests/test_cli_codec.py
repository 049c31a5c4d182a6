"""wav2jpeg / jpeg2wav / mdctcompand info: single files, messages on stderr, errors in flags."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from mdctcompand import codec
from mdctcompand.cli.wav2jpeg import main_decode, main_encode
from mdctcompand.formats import available_formats
from mdctcompand.testing import make_signal


def wav2jpeg(*args, **kw):
    return subprocess.run(
        [sys.executable, "-c", "import sys; from mdctcompand.cli.wav2jpeg import main_encode; sys.exit(main_encode())", *args],
        capture_output=True, text=True, **kw,
    )  # fmt: skip


def jpeg2wav(*args, **kw):
    return subprocess.run(
        [sys.executable, "-c", "import sys; from mdctcompand.cli.wav2jpeg import main_decode; sys.exit(main_decode())", *args],
        capture_output=True, text=True, **kw,
    )  # fmt: skip


def mdctcompand(*args):
    return subprocess.run(
        [sys.executable, "-m", "mdctcompand.cli.main", *args], capture_output=True, text=True
    )


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "song.wav"
    x = np.stack(
        [
            make_signal("mixture", 44100 * 2 + 17, 44100, 1),
            0.5 * make_signal("mixture", 44100 * 2 + 17, 44100, 2),
        ]
    )
    sf.write(path, x.T, 44100, subtype="PCM_16")
    return path


@pytest.mark.parametrize("fmt", available_formats())
def test_round_trip_per_format(wav, tmp_path, fmt):
    ext = {"jpeg": "jpg"}.get(fmt, fmt)
    img = tmp_path / f"song.{ext}"
    r = wav2jpeg(str(wav), "-o", str(img))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and "kbit/s" in r.stderr  # messages on stderr only
    out = tmp_path / f"back_{fmt}.wav"
    r = jpeg2wav(str(img), "-o", str(out))
    assert r.returncode == 0 and r.stdout == "", r.stderr
    info = sf.info(out)
    assert info.samplerate == 44100 and info.channels == 2 and info.frames == 44100 * 2 + 17


def test_defaults_quiet_force_and_info(wav, tmp_path, capsys):
    assert main_encode([str(wav), "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    img = wav.with_suffix(".jpg")
    assert img.exists()
    assert main_encode([str(wav)]) == 1
    err = capsys.readouterr().err
    assert "song.jpg" in err and "exist" in err and "--force" in err
    assert main_encode([str(wav), "--force", "--bitrate", "20", "-q"]) == 0
    info = mdctcompand("info", str(img))
    assert info.returncode == 0 and "kbit/s" in info.stdout and "44100 Hz" in info.stdout
    meta = json.loads(mdctcompand("info", "--json", str(img)).stdout)
    assert meta["source_length"] == 44100 * 2 + 17 and meta["bitrate_kbps"] < 25
    # jpeg2wav's default output sits beside the image and never takes the original's name
    original = wav.read_bytes()
    assert main_decode([str(img), "-q"]) == 0
    assert wav.read_bytes() == original
    assert sf.info(tmp_path / "song.decoded.wav").frames == 44100 * 2 + 17


def test_verbose_reports_settings_and_speed(wav, tmp_path, capsys):
    assert main_encode([str(wav), "-o", str(tmp_path / "v.webp"), "-v"]) == 0
    err = capsys.readouterr().err
    assert "webp 24 kbit/s mono, 48 stereo" in err and "tilt auto" in err and "x real time" in err


def test_umbrella_encode_decode(wav, tmp_path):
    out = tmp_path / "x.webp"
    if "webp" not in available_formats():
        pytest.skip("no WebP in this Pillow")
    assert mdctcompand("encode", str(wav), "-o", str(out), "--quality", "60", "-q").returncode == 0
    assert mdctcompand("decode", str(out), "-o", str(tmp_path / "x.flac"), "-q").returncode == 0
    assert sf.info(tmp_path / "x.flac").frames == 44100 * 2 + 17


def test_errors_exit_nonzero_without_partial_outputs(tmp_path, wav, capsys):
    assert main_encode([str(tmp_path / "nope.wav")]) == 1
    assert "nope.wav: no such file" in capsys.readouterr().err
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    assert main_encode([str(junk)]) == 1
    assert "junk.wav" in (err := capsys.readouterr().err) and "cannot read audio" in err
    assert not junk.with_suffix(".jpg").exists()
    foreign = tmp_path / "photo.jpg"
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(foreign)
    assert main_decode([str(foreign)]) == 1
    err = capsys.readouterr().err
    assert "photo.jpg" in err and "not an mdctcompand file" in err
    assert not (tmp_path / "photo.decoded.wav").exists()
    assert main_encode([str(wav), str(junk), "-o", str(tmp_path / "one.jpg")]) == 2
    assert "--output-dir" in capsys.readouterr().err
    # several inputs: the good one is written, the bad one reported by name, exit 2
    assert main_encode([str(wav), str(junk), "--force"]) == 1
    err = capsys.readouterr().err
    assert wav.with_suffix(".jpg").exists() and "junk.wav" in err and "1 of 2 files failed" in err
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []


def test_errors_speak_in_flags_and_name_the_file(tmp_path, capsys):
    three = tmp_path / "three.wav"
    sf.write(three, np.zeros((4800, 3), np.float32), 48000)
    assert main_encode([str(three)]) == 1
    err = capsys.readouterr().err
    assert "three.wav" in err and "--stereo mono" in err and "stereo=" not in err
    assert main_encode([str(three), "--tile-frames", "100"]) == 2
    err = capsys.readouterr().err
    assert "--tile-frames 100" in err and "tile_frames" not in err
    assert main_encode([str(three), "-o", str(tmp_path / "x.png"), "-f", "jpeg"]) == 2
    assert "--format jpeg does not match -o" in capsys.readouterr().err
    assert main_encode([str(three), "-o", str(tmp_path / "x.bmp")]) == 2
    assert "-o " in (err := capsys.readouterr().err) and "unknown image extension" in err
    assert main_encode([str(three), "--profile", str(tmp_path / "missing.json")]) == 2
    assert "--profile" in capsys.readouterr().err
    assert main_encode([str(three), "--stereo", "mono", "-q"]) == 0
    img = tmp_path / "three.jpg"
    assert main_decode([str(img), "--subtype", "PCM_99"]) == 2
    err = capsys.readouterr().err
    assert "--subtype PCM_99" in err and "PCM_24" in err
    assert main_decode([str(img), "-o", str(tmp_path / "x.flac"), "--subtype", "float"]) == 2
    assert "not available for FLAC" in capsys.readouterr().err
    assert main_decode([str(img), "-f", "nonsense"]) == 2
    assert "--format nonsense" in capsys.readouterr().err


def test_clipping_reported_and_float_kept(tmp_path, capsys):
    loud = tmp_path / "loud.wav"
    x = 2.0 * make_signal("tone", 24000, 24000)  # peaks at 1.4
    sf.write(loud, x, 24000, subtype="FLOAT")
    assert main_encode([str(loud), "-f", "png", "-q"]) == 0
    assert (
        main_decode([str(tmp_path / "loud.png"), "-o", str(tmp_path / "pcm.wav"), "--subtype", "PCM_16"]) == 0
    )
    err = capsys.readouterr().err
    assert "loud.png" in err and "samples" in err and "clipped" in err and "--subtype FLOAT" in err
    assert (
        main_decode([str(tmp_path / "loud.png"), "-o", str(tmp_path / "float.wav"), "--subtype", "FLOAT"])
        == 0
    )
    assert "clipped" not in capsys.readouterr().err
    y, _ = sf.read(tmp_path / "float.wav")
    assert abs(np.abs(y).max() - np.abs(x).max()) < 0.1  # lossless PNG, float output: the peaks survive


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_decode_keeps_the_source_sample_format(tmp_path, subtype):
    src = tmp_path / "src.wav"
    sf.write(src, 0.5 * make_signal("mixture", 12000, 24000), 24000, subtype=subtype)
    assert main_encode([str(src), "-q"]) == 0
    assert main_decode([str(tmp_path / "src.jpg"), "-q"]) == 0
    assert sf.info(tmp_path / "src.decoded.wav").subtype == subtype


@pytest.mark.parametrize(("source", "write"), [("song.mp3", {"format": "MP3"}), ("song.ogg", {"format": "OGG"})])
def test_compressed_sources_decode_to_a_sample_format(tmp_path, source, write):
    """An MP3 or Ogg Vorbis source's subtype is a codec, not a sample format: WAV output gets
    PCM_16 (libsndfile's check_format accepted MP3-in-WAV, then failed to write it)."""
    if write["format"] not in sf.available_formats():
        pytest.skip(f"libsndfile without {write['format']}")
    x = 0.3 * make_signal("mixture", 48000, 24000)
    sf.write(tmp_path / source, np.stack([x, x], axis=1), 24000, **write)
    assert main_encode([str(tmp_path / source), "-q"]) == 0
    image = tmp_path / (source.rsplit(".", 1)[0] + ".jpg")
    assert main_decode([str(image), "-o", str(tmp_path / "out.wav"), "-q"]) == 0
    info = sf.info(tmp_path / "out.wav")
    assert (info.subtype, info.channels, info.samplerate) == ("PCM_16", 2, 24000)
    y, _ = sf.read(tmp_path / "out.wav")
    src, _ = sf.read(tmp_path / source)
    n = min(len(y), len(src))
    snr = 10 * np.log10(np.sum(src[:n] ** 2) / np.sum((src[:n] - y[:n]) ** 2))
    assert snr > 12.0, snr  # measured 13.4 dB (MP3 source), 16.1 dB (Vorbis) at the default 48 kbit/s


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to make an m4a")
def test_m4a_through_pyav_or_a_hint(tmp_path, capsys, monkeypatch):
    m4a = tmp_path / "song.m4a"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=440:duration=2", "-ac", "2", "-c:a", "aac", str(m4a)],
        check=True,
    )  # fmt: skip
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    assert main_encode([str(m4a), "-q"]) == 1
    err = capsys.readouterr().err
    assert "song.m4a" in err and "pip install av" in err
    monkeypatch.delitem(sys.modules, "av")
    pytest.importorskip("av")
    assert main_encode([str(m4a), "-q"]) == 0
    assert abs(codec.read_info(tmp_path / "song.jpg").duration - 2.0) < 0.05


def test_help_and_version():
    r = wav2jpeg("--help")
    assert r.returncode == 0 and "examples:" in r.stdout and "--bitrate" in r.stdout and "--jobs" in r.stdout
    assert jpeg2wav("--version").stdout.startswith("jpeg2wav ")


def test_tag_options_and_info(tmp_path):
    import soundfile as sf

    src = tmp_path / "s.ogg"
    with sf.SoundFile(src, "w", 16000, 1, format="OGG") as f:
        f.title, f.artist = "Song", "Band"
        f.write(np.zeros(16000))
    r = mdctcompand("encode", str(src), "-o", str(tmp_path / "s.jpg"), "--tag", "album=LP", "-q")
    assert r.returncode == 0, r.stderr
    info = mdctcompand("info", str(tmp_path / "s.jpg"))
    assert "tags:         title=Song, artist=Band, album=LP" in info.stdout
    r = mdctcompand("encode", str(src), "-o", str(tmp_path / "n.jpg"), "--no-tags", "-q")
    assert r.returncode == 0 and "tags:" not in mdctcompand("info", str(tmp_path / "n.jpg")).stdout
    r = mdctcompand("encode", str(src), "-o", str(tmp_path / "m.jpg"), "--tag", "mood=calm")
    assert r.returncode == 2 and "--tag mood=calm" in r.stderr and not (tmp_path / "m.jpg").exists()
