"""The command line in a terminal and in pipes: a progress bar only where a person watches, data alone on stdout."""

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest
import soundfile as sf

from mdctcompand.testing import make_signal

ENCODE = "import sys; from mdctcompand.cli.wav2jpeg import main_encode; sys.exit(main_encode())"
DECODE = "import sys; from mdctcompand.cli.wav2jpeg import main_decode; sys.exit(main_decode())"


def _in_terminal(code, *args, stdout_tty=False, size=(24, 100)):
    """Run ``python -c code args`` with stderr (and optionally stdout) on a pseudo-terminal; returns (rc, tty text, stdout)."""
    master, slave = pty.openpty()
    if size:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    env = dict(os.environ, MDCTCOMPAND_PROGRESS_DELAY="0")  # show the bar at once (default: after 2 s)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=subprocess.DEVNULL, stderr=slave,
        stdout=slave if stdout_tty else subprocess.PIPE, env=env,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out = b"" if stdout_tty else proc.stdout.read()
    rc = proc.wait()
    os.close(master)
    return rc, seen.decode("utf-8", "replace"), out


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.wav"
    x = np.stack([make_signal("mixture", 48000 * 12, 48000, 1), make_signal("mixture", 48000 * 12, 48000, 2)])
    sf.write(path, 0.5 * x.T, 48000, subtype="PCM_24")
    return path


@pytest.mark.parametrize("size", [(24, 100), None], ids=["sized", "no-size"])
def test_progress_bar_in_a_terminal(song, tmp_path, size):
    rc, tty, out = _in_terminal(ENCODE, str(song), "-o", str(tmp_path / "song.jpg"), size=size)
    assert rc == 0, tty
    assert out == b""
    assert "song.wav:" in tty and "%|" in tty and "sample/s" in tty  # tqdm: file, percentage, bar, rate
    assert "<" in tty  # elapsed<remaining (the ETA)
    assert "song.wav -> " in tty and "kbit/s" in tty  # the summary line stays after the bar
    rc, tty, _ = _in_terminal(DECODE, str(tmp_path / "song.jpg"), "-o", str(tmp_path / "back.flac"))
    assert rc == 0 and "%|" in tty and "song.jpg:" in tty


def test_no_bar_when_quiet_or_piped(song, tmp_path):
    rc, tty, _ = _in_terminal(ENCODE, str(song), "-o", str(tmp_path / "q.jpg"), "-q")
    assert rc == 0 and tty.strip() == ""
    piped = subprocess.run(
        [sys.executable, "-c", ENCODE, str(song), "-o", str(tmp_path / "p.jpg")],
        capture_output=True, text=True, env=dict(os.environ, MDCTCOMPAND_PROGRESS_DELAY="0"),
    )  # fmt: skip
    assert piped.returncode == 0 and "%|" not in piped.stderr and piped.stderr.count("\n") == 1


def test_pipe_round_trip_through_stdin_and_stdout(song):
    """cat song.wav | wav2jpeg - -o - -f png | jpeg2wav - -o - -f flac: data on stdout, messages on stderr."""
    enc = subprocess.run(
        [sys.executable, "-c", ENCODE, "-", "-o", "-", "-f", "png"],
        input=song.read_bytes(),
        capture_output=True,
    )
    assert enc.returncode == 0, enc.stderr
    assert enc.stdout[:8] == b"\x89PNG\r\n\x1a\n" and b"<stdin> -> <stdout>" in enc.stderr
    dec = subprocess.run(
        [sys.executable, "-c", DECODE, "-", "-o", "-", "-f", "flac", "--subtype", "PCM_24"],
        input=enc.stdout, capture_output=True,
    )  # fmt: skip
    assert dec.returncode == 0, dec.stderr
    y, rate = sf.read(io.BytesIO(dec.stdout))
    x, _ = sf.read(song)
    assert rate == 48000 and y.shape == x.shape
    # PNG stores the 8-bit transform losslessly; the rest is the transform's own error
    snr = 10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2))
    assert snr > 15


def test_stdio_refusals(song, tmp_path):
    rc, tty, _ = _in_terminal(ENCODE, str(song), "-o", "-", stdout_tty=True)
    assert rc == 2 and "terminal" in tty and "-o -" in tty
    r = subprocess.run([sys.executable, "-c", ENCODE, "-"], input=b"", capture_output=True, text=False)
    assert r.returncode == 2 and b"-o" in r.stderr
    r = subprocess.run(
        [sys.executable, "-c", ENCODE, "/dev/stdin"], stdin=open(song, "rb"), capture_output=True, text=True
    )
    assert r.returncode == 2 and "/dev/stdin" in r.stderr and "-o" in r.stderr
    assert not os.path.exists("/dev/stdin.jpg")
    r = subprocess.run(
        [sys.executable, "-c", ENCODE, "/dev/stdin", "-o", str(tmp_path / "fromdev.jpg")],
        stdin=open(song, "rb"), capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "fromdev.jpg").exists()
