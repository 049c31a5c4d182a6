"""Batches: directories, quoted globs, --output-dir, --jobs, collisions refused before any work, file modes."""

import os
import stat

import numpy as np
import pytest
import soundfile as sf

from mdctcompand.cli.wav2jpeg import main_decode, main_encode
from mdctcompand.testing import make_signal


def _write(path, seconds=0.5, rate=16000, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, make_signal("mixture", int(seconds * rate), rate, seed), rate)
    return path


@pytest.fixture
def tree(tmp_path):
    """music/a.wav, music/b.flac, music/live/a.wav (same stem as music/a.wav), music/.hidden.wav, notes.txt."""
    root = tmp_path / "music"
    _write(root / "a.wav", seed=1)
    _write(root / "b.flac", seed=2)
    _write(root / "live" / "a.wav", seed=3)
    _write(root / ".hidden.wav", seed=4)
    (root / "notes.txt").write_text("not audio")
    return root


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_directory_input_mirrors_the_tree(tree, tmp_path, capsys):
    out = tmp_path / "images"
    assert main_encode([str(tree), "--output-dir", str(out)]) == 0
    assert _files(out) == ["a.jpg", "b.jpg", "live/a.jpg"]  # no hidden files, no notes.txt
    assert capsys.readouterr().err.count("kbit/s") == 3
    # and back: image directories decode into NAME.wav under --output-dir
    back = tmp_path / "back"
    assert main_decode([str(out), "--output-dir", str(back), "-q"]) == 0
    assert _files(back) == ["a.wav", "b.wav", "live/a.wav"]
    assert sf.info(back / "live" / "a.wav").frames == 8000


def test_quoted_globs_are_expanded(tree, tmp_path):
    out = tmp_path / "g"
    assert main_encode([str(tree / "*.wav"), "--output-dir", str(out), "-q"]) == 0
    assert _files(out) == ["a.jpg"]
    out2 = tmp_path / "g2"
    assert main_encode([str(tree / "**" / "*.wav"), "--output-dir", str(out2), "-q"]) == 0
    assert _files(out2) == ["a.jpg", "live/a.jpg"]  # relative to the glob's fixed prefix
    assert main_encode([str(tree / "*.mp3")]) == 1


def test_collisions_refused_before_any_output(tree, tmp_path, capsys):
    out = tmp_path / "flat"
    # music/a.wav and music/live/a.wav both map to flat/a.jpg when given as files
    code = main_encode([str(tree / "a.wav"), str(tree / "live" / "a.wav"), "--output-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "a.wav" in err and str(tree / "live" / "a.wav") in err and "a.jpg" in err
    assert not out.exists()
    # song.wav and song.flac beside each other both map to song.jpg
    _write(tree / "b.wav", seed=5)
    assert main_encode([str(tree / "b.wav"), str(tree / "b.flac")]) == 2
    err = capsys.readouterr().err
    assert "b.wav" in err and "b.flac" in err and "b.jpg" in err
    assert not (tree / "b.jpg").exists()


def test_existing_outputs_refused_before_any_work(tree, tmp_path, capsys):
    (tree / "live" / "a.jpg").write_bytes(b"keep me")
    assert main_encode([str(tree)]) == 1
    err = capsys.readouterr().err
    assert "live/a.jpg" in err and "--force" in err
    assert not (tree / "a.jpg").exists() and (tree / "live" / "a.jpg").read_bytes() == b"keep me"
    assert main_encode([str(tree), "--force", "-q"]) == 0
    assert (tree / "live" / "a.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_batch_decode_beside_the_images_never_replaces_originals(tree, capsys):
    originals = {p: p.read_bytes() for p in tree.rglob("*.wav")}
    assert main_encode([str(tree), "-q"]) == 0
    assert main_decode([str(tree / "*.jpg"), str(tree / "live")]) == 0
    assert {p: p.read_bytes() for p in originals} == originals
    assert (tree / "a.decoded.wav").exists() and (tree / "b.decoded.wav").exists()
    assert (tree / "live" / "a.decoded.wav").exists()
    assert capsys.readouterr().err.count("->") == 3


def test_output_dir_named_with_dash_o_is_redirected(tree, tmp_path, capsys):
    assert main_encode([str(tree / "a.wav"), "-o", str(tmp_path)]) == 2
    assert f"use --output-dir {tmp_path}" in capsys.readouterr().err


def test_jobs_2_gives_the_same_files_as_jobs_1(tmp_path):
    src = tmp_path / "clips"
    for i in range(6):
        _write(src / f"c{i}.wav", seconds=0.4, seed=i)
    assert main_encode([str(src), "--output-dir", str(tmp_path / "one"), "-q", "-j", "1"]) == 0
    assert main_encode([str(src), "--output-dir", str(tmp_path / "two"), "-q", "--jobs", "2"]) == 0
    for i in range(6):
        assert (tmp_path / "one" / f"c{i}.jpg").read_bytes() == (tmp_path / "two" / f"c{i}.jpg").read_bytes()
    assert main_decode([str(tmp_path / "two"), "--output-dir", str(tmp_path / "dec"), "-q", "-j", "2"]) == 0
    assert len(list((tmp_path / "dec").glob("*.wav"))) == 6


def test_jobs_report_each_failure_and_keep_going(tmp_path, capsys):
    src = tmp_path / "clips"
    for i in range(3):
        _write(src / f"c{i}.wav", seconds=0.3, seed=i)
    (src / "bad.wav").write_bytes(b"RIFF junk")
    assert main_encode([str(src), "-j", "2"]) == 1
    err = capsys.readouterr().err
    assert "bad.wav" in err and "1 of 4 files failed" in err
    assert len(list(src.glob("c*.jpg"))) == 3 and not (src / "bad.jpg").exists()
    assert main_encode([str(src), "--jobs", "-1"]) == 2
    assert "--jobs -1" in capsys.readouterr().err


def test_outputs_get_the_umask_mode(tmp_path):
    """Outputs are created like any other file: 0644 under umask 022 (not a private temp file's 0600)."""
    from mdctcompand.io import atomic_output

    old = os.umask(0o022)
    try:
        probe = tmp_path / "probe"
        with atomic_output(probe) as tmp:
            tmp.write_bytes(b"x")
        assert stat.S_IMODE(probe.stat().st_mode) == 0o644
        src = _write(tmp_path / "m.wav")
        assert main_encode([str(src), "-q"]) == 0
        assert main_decode([str(tmp_path / "m.jpg"), "-q"]) == 0
        for out in (tmp_path / "m.jpg", tmp_path / "m.decoded.wav"):
            assert stat.S_IMODE(out.stat().st_mode) == 0o644, out
        for i in range(3):  # written by --jobs worker processes
            _write(tmp_path / "batch" / f"c{i}.wav", seconds=0.3, seed=i)
        jpg, wav = tmp_path / "jpg", tmp_path / "wav"
        assert main_encode([str(tmp_path / "batch"), "--output-dir", str(jpg), "-q", "-j", "2"]) == 0
        assert main_decode([str(jpg), "--output-dir", str(wav), "-q", "-j", "2"]) == 0
        outputs = sorted(jpg.glob("*.jpg")) + sorted(wav.glob("*.wav"))
        assert len(outputs) == 6
        assert {stat.S_IMODE(p.stat().st_mode) for p in outputs} == {0o644}
        os.umask(0o077)  # a stricter umask is obeyed too
        assert main_encode([str(src), "-q", "-o", str(tmp_path / "private.jpg")]) == 0
        assert stat.S_IMODE((tmp_path / "private.jpg").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_outputs_identical_to_the_library(tmp_path):
    """The command line adds no processing of its own: same bytes as codec.encode on the same samples."""
    from mdctcompand import codec

    src = _write(tmp_path / "x.wav", seconds=0.7)
    assert main_encode([str(src), "-q", "-f", "png"]) == 0
    x, rate = sf.read(src, dtype="float32")
    y = codec.decode((tmp_path / "x.png").read_bytes()).audio
    z = codec.decode(codec.encode(x, rate, format="png")).audio
    np.testing.assert_array_equal(y, z)
