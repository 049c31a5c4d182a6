"""Outputs: no-clobber that holds under races, temporary names for any legal name, stale parts."""

import os
import subprocess
import sys
import threading

import pytest

from mdctcompand import codec
from mdctcompand.io import atomic_output
from mdctcompand.testing import make_signal


def test_a_file_created_during_the_write_is_never_replaced(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(FileExistsError, match="created by someone else while this file was written"):
        with atomic_output(target) as tmp:
            tmp.write_text("mine")
            target.write_text("PRECIOUS")  # another process wins the name meanwhile
    assert target.read_text() == "PRECIOUS"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left
    with atomic_output(target, overwrite=True) as tmp:  # --force replaces it
        tmp.write_text("mine")
    assert target.read_text() == "mine"


def test_sixteen_concurrent_writers_of_one_name(tmp_path):
    target = tmp_path / "race.bin"
    barrier = threading.Barrier(16)
    outcomes = []

    def write(i):
        try:
            with atomic_output(target) as tmp:
                tmp.write_bytes(bytes([i]) * 1000)
                barrier.wait(timeout=20)  # everyone has passed the up-front check
        except FileExistsError:
            outcomes.append("refused")
        else:
            outcomes.append("written")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 15 + ["written"]
    data = target.read_bytes()
    assert len(data) == 1000 and len(set(data)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["race.bin"]


def test_output_names_of_255_bytes(tmp_path):
    for name in ("a" * 251 + ".png", "é" * 125 + ".png"):  # 255 and 254 bytes
        target = tmp_path / name
        data = codec.encode(make_signal("mixture", 4000, 8000), 8000, format="png")
        with atomic_output(target) as tmp:
            tmp.write_bytes(data)
        assert target.read_bytes() == data


def test_temporary_files_of_killed_writers_are_removed(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    stale = tmp_path / f".song.jpg.{pid}.abcd1234.part"
    stale.write_bytes(b"x" * 100)
    alive = tmp_path / f".song.jpg.{os.getppid()}.efgh5678.part"  # a writer still running: kept
    alive.write_bytes(b"y")
    other = tmp_path / f".other.jpg.{pid}.abcd1234.part"  # another output's, its writer dead too
    other.write_bytes(b"z")
    foreign = tmp_path / ".notes.part"  # not one of ours
    foreign.write_bytes(b"w")
    with atomic_output(tmp_path / "song.jpg") as tmp:
        tmp.write_bytes(b"done")
    assert not stale.exists() and not other.exists() and alive.exists() and foreign.exists()
    assert (tmp_path / "song.jpg").read_bytes() == b"done"


@pytest.mark.parametrize(
    "free, writable, expected",
    [(1000, True, "no space left on the device"), (1 << 30, False, "no permission to write"), (1 << 30, True, "could not be written")],
)
def test_a_writers_bare_system_error_is_explained(tmp_path, monkeypatch, free, writable, expected):
    """libsndfile reports a full disk or a refused write as "System error."; the user is told which."""
    import collections
    import os
    import shutil

    from mdctcompand.io import atomic_output

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(1 << 31, 0, free))
    monkeypatch.setattr(os, "access", lambda p, mode: writable)
    target = tmp_path / "out.wav"
    with pytest.raises(OSError, match=expected):
        with atomic_output(target):
            raise RuntimeError("Error opening 'x': System error.")
    assert list(tmp_path.iterdir()) == []  # nothing published, no part left
    with pytest.raises(RuntimeError, match="Unsupported"), atomic_output(target):
        raise RuntimeError("Unsupported format")  # other errors pass unchanged
