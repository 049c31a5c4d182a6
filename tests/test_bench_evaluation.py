"""The degradation-ladder bench (``python -m lab.evaluation``) on a small local corpus: its sets,
cache, table, checks and JSON (the figures on real music are in the lab's docstring and issue 27)."""

import json

import numpy as np
import pytest
import soundfile as sf

from lab import evaluation
from mdctcompand.testing import make_signal


@pytest.fixture
def small_corpus(tmp_path, monkeypatch):
    rate = evaluation.RATE
    for which in evaluation.SETS.values():
        for package, split, indices in which["gen"] + which["ref"]:
            folder = tmp_path / "corpus" / split / package
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(max(indices) + 1):
                x = make_signal("mixture", int(1.5 * rate), rate, seed=hash((package, i)) % 1000)
                sf.write(folder / f"{i:02d}-clip.flac", np.stack([x, 0.8 * x], axis=1) * 0.5, rate)
    keep = {"clean", "noise 30 dB", "noise 20 dB", "noise 10 dB", "low-pass 8 kHz", "low-pass 4 kHz",
            "low-pass 2 kHz", "white noise", "silence"}  # fmt: skip
    monkeypatch.setattr(evaluation, "CONDITIONS", [c for c in evaluation.CONDITIONS if c.name in keep])
    monkeypatch.setattr(
        evaluation, "ORDERS", [o for o in evaluation.ORDERS if o[0].startswith(("noise", "low"))]
    )
    return tmp_path / "corpus"


def test_ladder_bench_prints_the_table_and_checks_and_caches(small_corpus, tmp_path, capsys):
    out = tmp_path / "ladder.json"
    args = [str(small_corpus), "--cache", str(tmp_path / "cache"), "--bootstrap", "20", "--json", str(out)]
    status = evaluation.main(args)
    text = capsys.readouterr().out
    assert "| noise 10 dB |" in text and "steps ordered" in text
    result = json.loads(out.read_text())
    assert {r["condition"] for r in result["rows"]} == {c.name for c in evaluation.CONDITIONS}
    assert {r["against"] for r in result["rows"]} == {"clean", "REF"}
    checks = result["checks"]
    # 2 ladders (2 + 3 steps), 2 metrics, 2 sides
    assert len(checks) == 20 and all(c["lower"] != c["higher"] for c in checks)
    assert status == (0 if all(c["ordered"] for c in checks) else 1)
    clean = next(r for r in result["rows"] if r["condition"] == "clean" and r["against"] == "clean")
    assert (
        clean["fd"] == pytest.approx(0.0, abs=1e-6) and clean["fd_interval"][1] < 1e-3
    )  # paired: zero (rounding)
    cache = tmp_path / "cache" / "holdout"
    audio = sorted(p.name for p in cache.glob("*.npz"))
    embedded = sorted(p.name for p in (cache / "embedded" / "mel-mdct-v2").glob("*.npz"))
    assert "noise_10_dB.npz" in audio and len(audio) == len(evaluation.CONDITIONS)
    assert embedded == sorted(audio + ["REF.npz"])
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*.npz")}
    evaluation.main(args)  # the second run reads the cache
    assert before == {p: p.stat().st_mtime_ns for p in cache.rglob("*.npz")}
    assert json.loads(out.read_text())["rows"] == result["rows"]  # and gives the same figures
