"""Parallel runs survive dead workers: the others finish, the culprit is named."""

import os
import signal
import sys

import pytest

from mdctcompand.dataset import process_item as _REAL_PROCESS_ITEM
from mdctcompand.exceptions import WorkerLostError
from mdctcompand.parallel import imap_unordered

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL of a forked worker")


def _work(item):
    if item == "die":
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    if item == "fail":
        raise ValueError("a plain failure")
    return item * 2


def test_a_killed_worker_loses_only_its_own_item():
    items = [1, 2, "die", 3, 4, 5, "fail", 6, 7, 8]
    results = dict(imap_unordered(_work, items, workers=2, in_flight=4))
    assert sorted(results) == list(range(len(items)))  # every item is accounted for
    assert isinstance(results[2], WorkerLostError) and "died" in str(results[2])
    assert isinstance(results[6], ValueError)
    assert {i: v for i, v in results.items() if i not in (2, 6)} == {
        i: x * 2 for i, x in enumerate(items) if i not in (2, 6)
    }


def test_two_deaths_and_an_early_stop():
    items = ["die", 1, "die", 2, 3]
    results = dict(imap_unordered(_work, items, workers=2))
    assert [i for i, v in sorted(results.items()) if isinstance(v, WorkerLostError)] == [0, 2]
    first = next(imap_unordered(_work, list(range(50)), workers=2))  # the caller stops: no hang
    assert first[1] == 2 * first[0]


def _convert(job, options):
    from mdctcompand.cli.wav2jpeg import Outcome

    if "killed" in job.source:
        os.kill(os.getpid(), signal.SIGKILL)
    return Outcome(job, f"{job.source} -> {job.target}", 1.0, 0.01)


def test_wav2jpeg_jobs_survive_a_dead_worker(capsys):
    """`wav2jpeg dir/ -j 2` with one worker killed reported all 29 remaining files failed."""
    from mdctcompand.cli._common import Console
    from mdctcompand.cli.wav2jpeg import Job, run_jobs

    jobs = [Job(f"in{i}.wav" if i != 7 else "killed.wav", f"out{i}.jpg") for i in range(30)]
    status = run_jobs(Console("wav2jpeg", 1), jobs, _convert, None, 2)
    err = capsys.readouterr().err
    assert status == 1 and "1 of 30 files failed" in err
    assert "killed.wav: its worker process died" in err
    assert err.count(" -> ") == 29  # every other file converted


def _kill_the_doomed(job):
    """dataset.process_item, except that the worker of doomed.wav is killed (picklable: module level)."""
    if job[0].audio.name == "doomed.wav":
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_PROCESS_ITEM(job)


def test_dataset_build_survives_a_dead_worker(tmp_path, monkeypatch):
    """One clip's worker killed (OOM): the other clips are built, the metadata and the log are written."""
    import json

    import numpy as np
    import soundfile as sf

    from mdctcompand import dataset
    from mdctcompand.testing import make_signal

    for name in ("a", "b", "doomed", "c"):
        sf.write(tmp_path / f"{name}.wav", make_signal("mixture", 24000, 24000, seed=len(name)), 24000)
    (tmp_path / "captions.csv").write_text(
        "audio,caption\n" + "".join(f"{n}.wav,clip {n}\n" for n in ("a", "b", "doomed", "c"))
    )
    monkeypatch.setattr(dataset, "process_item", _kill_the_doomed)
    specs, log = dataset.read_captions(tmp_path / "captions.csv")
    report = dataset.build_dataset(
        specs, tmp_path / "out", config=dataset.BuildConfig(frames=64), workers=2, progress=False, log=log
    )
    assert report.clips == 3 and [r["status"] for r in report.skipped] == ["failed"]
    assert "died" in report.skipped[0]["reason"]
    rows = [
        json.loads(line)
        for p in (tmp_path / "out").glob("*/metadata.jsonl")
        for line in p.read_text().splitlines()
    ]
    assert sorted({r["file_name"].split("/")[-1].split("-")[0].split("_")[0] for r in rows}) == [
        "a.wav",
        "b.wav",
        "c.wav",
    ]
    assert "died" in (tmp_path / "out" / "build_log.jsonl").read_text()
    assert np.all([not p.name.endswith(".part") for p in (tmp_path / "out").rglob("*")])
