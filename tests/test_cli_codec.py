"""wav2jpeg / jpeg2wav / mdctcompand info through subprocess."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from mdctcompand.containers import available_formats
from mdctcompand.testing import make_signal


def wav2jpeg(*args):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from mdctcompand.cli.wav2jpeg import main_encode; sys.exit(main_encode())",
            *args,
        ],
        capture_output=True,
        text=True,
    )


def jpeg2wav(*args):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from mdctcompand.cli.wav2jpeg import main_decode; sys.exit(main_decode())",
            *args,
        ],
        capture_output=True,
        text=True,
    )


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
    assert "kbit/s" in r.stdout
    out = tmp_path / f"back_{fmt}.wav"
    r = jpeg2wav(str(img), "-o", str(out))
    assert r.returncode == 0, r.stderr
    info = sf.info(out)
    assert info.samplerate == 44100 and info.channels == 2 and info.frames == 44100 * 2 + 17


def test_defaults_quiet_force_and_info(wav, tmp_path):
    r = wav2jpeg(str(wav), "-q")
    assert r.returncode == 0 and r.stdout == ""
    img = wav.with_suffix(".jpg")
    assert img.exists()
    again = wav2jpeg(str(wav))
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert wav2jpeg(str(wav), "--force", "--bitrate", "20", "-q").returncode == 0
    info = mdctcompand("info", str(img))
    assert info.returncode == 0 and "kbit/s" in info.stdout and "44100 Hz" in info.stdout
    meta = json.loads(mdctcompand("info", "--json", str(img)).stdout)
    assert meta["source_length"] == 44100 * 2 + 17 and meta["bitrate_kbps"] < 25
    # jpeg2wav default output beside the input
    wav.unlink()
    assert jpeg2wav(str(img), "-q").returncode == 0 and wav.exists()


def test_umbrella_encode_decode(wav, tmp_path):
    out = tmp_path / "x.webp"
    if "webp" not in available_formats():
        pytest.skip("no WebP in this Pillow")
    assert mdctcompand("encode", str(wav), "-o", str(out), "--quality", "60", "-q").returncode == 0
    assert mdctcompand("decode", str(out), "-o", str(tmp_path / "x.flac"), "-q").returncode == 0
    assert sf.info(tmp_path / "x.flac").frames == 44100 * 2 + 17


def test_errors_exit_nonzero_without_partial_outputs(tmp_path, wav):
    missing = wav2jpeg(str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    r = wav2jpeg(str(junk))
    assert r.returncode == 2 and "cannot read audio" in r.stderr and not junk.with_suffix(".jpg").exists()
    foreign = tmp_path / "photo.jpg"
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(foreign)
    r = jpeg2wav(str(foreign))
    assert (
        r.returncode == 2
        and "not an mdctcompand file" in r.stderr
        and not foreign.with_suffix(".wav").exists()
    )
    r = wav2jpeg(str(wav), str(junk), "-o", str(tmp_path / "one.jpg"))
    assert r.returncode == 2 and "single input" in r.stderr
    # several inputs: the good one is written, the bad one reported, exit 2
    r = wav2jpeg(str(wav), str(junk), "--force")
    assert r.returncode == 2 and wav.with_suffix(".jpg").exists() and "junk.wav" in r.stderr
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []


def test_help_and_version():
    r = wav2jpeg("--help")
    assert r.returncode == 0 and "examples:" in r.stdout and "--bitrate" in r.stdout
    assert jpeg2wav("--version").stdout.startswith("jpeg2wav ")
