"""Inputs that are not regular files: fifos (read once, capped), directories, symlink loops."""

import os
import threading

import numpy as np
import pytest

from mdctcompand import FormatError, codec, containers
from mdctcompand.testing import make_signal

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")


def _feed(path, data):
    def write():
        try:
            with open(path, "wb") as f:
                f.write(data)
        except BrokenPipeError:  # the reader stopped at its limit
            pass

    t = threading.Thread(target=write, daemon=True)
    t.start()
    return t


def test_a_fifo_is_read_once_and_decodes(tmp_path):
    x = make_signal("mixture", 8000, 8000).astype(np.float32)
    data = codec.encode(x, 8000, format="png")
    fifo = tmp_path / "in.png"
    os.mkfifo(fifo)
    writer = _feed(fifo, data)
    y = codec.decode(fifo).audio  # the path is opened once: a second open would wait forever
    writer.join(timeout=10)
    np.testing.assert_array_equal(y, codec.decode(data).audio)


def test_an_endless_fifo_stops_at_the_stream_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(containers, "MAX_STREAM_BYTES", 1 << 16)
    fifo = tmp_path / "zeros"
    os.mkfifo(fifo)
    writer = _feed(fifo, bytes(1 << 18))
    with pytest.raises(FormatError, match="a stream of more than 0 MiB"):
        codec.decode(fifo)
    writer.join(timeout=10)


def test_directories_and_symlink_loops_are_format_errors(tmp_path):
    with pytest.raises(FormatError, match="is a directory"):
        codec.decode(tmp_path)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(FormatError, match="symbolic link that leads nowhere"):
        codec.read_info(tmp_path / "a")
    with pytest.raises(FormatError, match="cannot be read"):  # below the codec's own check
        containers.open_image_file(tmp_path / "a")


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path):
    """``jpeg2wav x.jpg -o - | head -c 1000`` printed "[Errno 32] Broken pipe" and exited 2."""
    import subprocess
    import sys

    x = make_signal("mixture", 48000 * 20, 48000).astype(np.float32)
    (tmp_path / "x.jpg").write_bytes(codec.encode(x, 48000))
    script = (
        "import sys; from mdctcompand.cli.wav2jpeg import main_decode; sys.exit(main_decode(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "x.jpg"), "-o", "-", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert len(proc.stdout.read(1000)) == 1000
    proc.stdout.close()  # the reader leaves
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "Broken pipe" not in err and "Traceback" not in err


def test_stdin_is_capped_with_a_limit_the_user_can_raise(tmp_path):
    import subprocess
    import sys

    script = "import sys; from mdctcompand.cli.wav2jpeg import main_encode; sys.exit(main_encode(sys.argv[1:]))"
    env = {**os.environ, "MDCTCOMPAND_MAX_STDIN_MB": "1"}
    run = subprocess.run(
        [sys.executable, "-c", script, "-", "-o", str(tmp_path / "x.jpg")],
        input=bytes(3 << 20), capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    err = run.stderr.decode()
    assert run.returncode == 1 and "input - (stdin): more than 1 MiB" in err and "MDCTCOMPAND_MAX_STDIN_MB" in err
    assert not list(tmp_path.iterdir())
    bad = subprocess.run(
        [sys.executable, "-c", script, "-", "-o", str(tmp_path / "x.jpg")],
        input=b"", capture_output=True, env={**os.environ, "MDCTCOMPAND_MAX_STDIN_MB": "lots"}, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "must be a whole number of MiB" in bad.stderr.decode()


def test_an_output_name_without_extension_takes_the_format_of_f(tmp_path, capsys):
    """`-o noext -f jpeg` was refused with "(or -f)" though -f was given."""
    import soundfile as sf

    from mdctcompand.cli.wav2jpeg import main_decode, main_encode

    sf.write(tmp_path / "a.wav", make_signal("mixture", 8000, 8000), 8000)
    assert main_encode([str(tmp_path / "a.wav"), "-o", str(tmp_path / "noext"), "-f", "png", "-q"]) == 0
    assert (tmp_path / "noext").read_bytes()[:4] == b"\x89PNG"
    assert main_decode([str(tmp_path / "noext"), "-o", str(tmp_path / "back"), "-f", "flac", "-q"]) == 0
    assert (tmp_path / "back").read_bytes()[:4] == b"fLaC"
    assert main_encode([str(tmp_path / "a.wav"), "-o", str(tmp_path / "other")]) == 2
    assert "or say the format with -f" in capsys.readouterr().err


def test_streams_and_jpeg_xl_lookalikes_are_capped_before_they_are_read_whole(tmp_path, monkeypatch):
    """stdin took 2 GB of RAM for 2 GB of zeros; a file starting with JPEG XL's 2-byte signature 4 GB."""
    import io

    from mdctcompand import FormatError, codec, containers, formats
    from mdctcompand.codec import core

    monkeypatch.setattr(containers, "MAX_STREAM_BYTES", 1 << 16)
    monkeypatch.setattr(core, "MAX_STREAM_BYTES", 1 << 16)
    with pytest.raises(FormatError, match="on a stream"):
        codec.read_info(io.BytesIO(b"\x00" * (1 << 17)))
    lookalike = tmp_path / "x.jxl"
    lookalike.write_bytes(b"\xff\x0a" + b"\x00" * (1 << 17))
    if not formats.FORMATS["jxl"].available:
        with pytest.raises(FormatError, match="pillow-jxl-plugin"):
            codec.read_info(lookalike)
    else:
        with pytest.raises(FormatError, match="JPEG XL file of more than"):
            codec.read_info(lookalike)
    junk = tmp_path / "t.img"
    junk.write_bytes(b"hello")
    with pytest.raises(FormatError) as err:
        codec.read_info(junk)
    assert "not an image file (no format Pillow reads)" in str(err.value) and "_io." not in str(err.value)
