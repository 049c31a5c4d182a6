"""The lab's evaluation report (``python -m lab.report``) end to end, on one short generated clip.

The report once ran 20 minutes and then died calling a function the codec comparison no longer
had; this runs the same path (every pipeline, the figures, the rate-distortion rows and figure)
in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mdctcompand.testing import make_signal

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_report_writes_every_table_and_figure(tmp_path, capsys):
    pytest.importorskip("librosa")
    pytest.importorskip("matplotlib")
    sf = pytest.importorskip("soundfile")
    from lab import report

    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "a.wav", make_signal("mixture", 24000, 24000, seed=1).astype(np.float32), 24000)
    out = tmp_path / "reports"
    args = ["--audio", str(audio), "--clips", "1", "--seconds", "1", "--no-visqol", "--repeat", "1"]
    assert report.main([*args, "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "1 clips of 1 s" in text and "companded MDCT 8-bit" in text and "Griffin-Lim" in text
    for name in ("spectrograms.png", "speed.png", "rate_distortion.png"):
        assert (out / name).stat().st_size > 1000, name
    assert "wrote" in capsys.readouterr().out


def test_rate_distortion_rows_come_from_the_codec_comparison():
    from lab import codec

    x = make_signal("mixture", 24000, 24000, seed=2).astype(np.float32)
    rows = codec.rate_distortion([x], rates=(16, 32))
    ours = [r for r in rows if r["codec"] == "wav2jpeg JPEG"]
    assert [r["target"] for r in ours] == [16, 32]
    assert ours[0]["kbps"] < ours[1]["kbps"] and ours[0]["lsd"] > ours[1]["lsd"]
    assert all(np.isnan(r["visqol"]) for r in rows)  # no ViSQOL clips asked for


def test_report_runs_as_documented_from_the_benchmarks_directory():
    run = subprocess.run(
        [sys.executable, "-m", "lab.report", "--help"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "python -m lab.report" in run.stdout and "--out" in run.stdout


@pytest.mark.parametrize("pinned", [None, "numpy"])
def test_steady_state_kernels_pins_numba_only_while_it_runs(monkeypatch, pinned):
    """A lab run inside the test process once left MDCTCOMPAND_KERNELS=numba behind, and later
    start-up tests (subprocesses) loaded Numba."""
    from lab.timing import steady_state_kernels

    if pinned is None:
        monkeypatch.delenv("MDCTCOMPAND_KERNELS", raising=False)
    else:
        monkeypatch.setenv("MDCTCOMPAND_KERNELS", pinned)
    with pytest.raises(RuntimeError, match="inside"):
        with steady_state_kernels():
            assert os.environ["MDCTCOMPAND_KERNELS"] == (pinned or "numba")  # a caller's pin wins
            raise RuntimeError("inside")
    assert os.environ.get("MDCTCOMPAND_KERNELS") == pinned
