"""The dataset, profile and evaluate commands: every error names the file and the flag, is
refused before any output is written, and status lines go to stderr (stdout is for data)."""

import json

import numpy as np
import pytest
import soundfile as sf

from mdctcompand import ParameterError
from mdctcompand.cli.main import main
from mdctcompand.dataset import ClipSpec, build_dataset, read_captions, read_musiccaps
from mdctcompand.testing import make_signal


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A folder with two short clips, caption lists (good and bad) and MusicCaps CSVs; cwd set to it."""
    monkeypatch.chdir(tmp_path)
    for i, name in enumerate(("a.wav", "b.wav")):
        sf.write(name, 0.3 * make_signal("mixture", 24000, 24000, seed=i), 24000)
    files = {
        "caps.csv": "audio,caption\na.wav,one\nb.wav,two\n",
        "dup.csv": "audio,caption\na.wav,one\nb.wav,two\na.wav,three\n",
        "dup.jsonl": '{"audio": "b.wav", "caption": "x"}\n\n{"audio": "b.wav", "caption": "y"}\n',
        # the first row's caption spans two lines: the bad row is on line 4 of the file
        "badsplit.csv": 'audio,caption,split\na.wav,"two\nlines",train\nb.wav,x,dev\n',
        "nocaption.csv": "audio,text\na.wav,one\n",
        "badjson.jsonl": '{"audio": "a.wav", "caption": "x"}\n{not json\n',
        "mc.csv": "ytid,start_s,end_s,caption\na,0,1,x\nb,0,1,y\n",
        "mcdup.csv": "ytid,start_s,end_s,caption\na,0,1,x\na,0,1,again\nb,zero,1,y\n",
        "notmc.csv": "ytid,caption\na,x\n",
        "stats.json": '{"something": "else"}\n',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# ----------------------------------------------------------------- duplicate clip ids
def test_repeated_audio_in_a_caption_list_names_the_file_and_lines(work, capsys):
    status, out, err = _run(capsys, "dataset", "build", "--captions", "dup.csv", "-o", "ds")
    assert status == 1 and out == ""
    assert "--captions dup.csv:" in err and "'a.wav' on lines 2, 4" in err
    assert not (work / "ds").exists()  # refused before anything is written
    with pytest.raises(ParameterError, match=r"dup.jsonl: .*'b.wav' on lines 1, 3"):
        read_captions("dup.jsonl")  # JSONL: blank lines counted


def test_build_dataset_names_duplicate_ids_and_their_files(work):
    specs = [
        ClipSpec("x", work / "a.wav", "one"),
        ClipSpec("y", work / "b.wav", "two"),
        ClipSpec("x", work / "b.wav", "three"),
    ]
    with pytest.raises(ParameterError) as info:
        build_dataset(specs, work / "ds", workers=1, progress=False)
    message = str(info.value)
    assert "clip ids are not unique: 'x' (clips 1 and 3:" in message
    assert str(work / "a.wav") in message and str(work / "b.wav") in message and "'y'" not in message
    assert not (work / "ds").exists()


def test_repeated_musiccaps_rows_are_logged_with_their_lines(work):
    specs, log = read_musiccaps("mcdup.csv", work)
    assert [s.id for s in specs] == ["a"] and specs[0].caption == "x"  # the first row of an id is used
    reasons = {r["id"]: r["reason"] for r in log}
    assert reasons["a"] == "mcdup.csv: line 3 repeats the ytid of line 2 (the first is used)"
    assert reasons["b"].startswith("mcdup.csv: line 4: bad start_s/end_s")


# ----------------------------------------------------------------- every error: flag, file, nothing written
#: (command line, what the message says, exit status)
ERRORS = [
    (["dataset", "build", "--captions", "badsplit.csv", "-o", "ds"], ["--captions badsplit.csv: line 4", "'dev'"], 1),
    (["dataset", "build", "--captions", "nocaption.csv", "-o", "ds"], ["--captions nocaption.csv: line 2"], 1),
    (["dataset", "build", "--captions", "badjson.jsonl", "-o", "ds"], ["--captions badjson.jsonl: line 2 is not JSON"], 1),
    (["dataset", "build", "--captions", "none.csv", "-o", "ds"], ["--captions none.csv: No such file"], 1),
    (["dataset", "build", "--musiccaps", "notmc.csv", "--audio-dir", ".", "-o", "ds"], ["--musiccaps notmc.csv: not a MusicCaps CSV"], 1),
    (["dataset", "build", "--musiccaps", "mc.csv", "-o", "ds"], ["--musiccaps needs --audio-dir"], 2),
    (["dataset", "build", "--musiccaps", "mc.csv", "--audio-dir", "nodir", "-o", "ds"], ["--audio-dir nodir: no such directory"], 1),
    (["dataset", "build", "--musiccaps", "mc.csv", "--audio-dir", "empty", "-o", "ds"],
     ["--musiccaps mc.csv: none of its 2 clip(s) has audio in --audio-dir empty"], 1),
    (["dataset", "build", "--captions", "caps.csv", "-o", "ds", "--profile", "nope.json"], ["--profile nope.json:"], 2),
    (["dataset", "build", "--captions", "caps.csv", "-o", "ds", "--frames", "0"], ["--frames 0 must be"], 2),
    (["dataset", "build", "--captions", "caps.csv", "-o", "ds", "--tilt", "-1"], ["--tilt -1"], 2),
    (["dataset", "build", "--captions", "caps.csv", "-o", "ds", "--workers", "0"], ["--workers 0"], 2),
    (["dataset", "build", "--captions", "caps.csv", "-o", "a.wav"], ["-o a.wav: exists and is not a directory"], 1),
    (["dataset", "fetch", "none.csv", "-o", "ds", "--downloader", "true"], ["none.csv: No such file"], 1),
    (["dataset", "fetch", "notmc.csv", "-o", "ds", "--downloader", "true"], ["notmc.csv: not a MusicCaps CSV"], 1),
    (["dataset", "fetch", "mc.csv", "-o", "ds", "--downloader", "no-such-tool"], ["--downloader no-such-tool: not installed"], 1),
    (["dataset", "fetch", "mc.csv", "-o", "ds", "--downloader", "true", "--skip-list", "none.txt"], ["--skip-list none.txt"], 1),
    (["profile", "fit", "a.wav", "-o", "p.json", "--window", "bad"], ["--window bad is not a known window"], 2),
    (["profile", "fit", "a.wav", "-o", "p.json", "--level", "bad"], ["--level bad:"], 2),
    (["profile", "fit", "a.wav", "-o", "p.json", "--sample-rate", "0"], ["--sample-rate 0 must be"], 2),
    (["profile", "fit", "a.wav", "-o", "p.json", "--frame-length", "1001"], ["--frame-length 1001 must be even"], 2),
    (["profile", "fit", "a.wav", "-o", "p.json", "--clip-seconds", "0"], ["--clip-seconds 0"], 2),
    (["profile", "fit", "a.wav", "-o", "p.json", "--smoothing", "-1"], ["--smoothing -1 must be >= 0"], 2),
    (["profile", "fit", "a.wav", "-o", "p.json", "--workers", "0"], ["--workers 0"], 2),
    (["profile", "fit", "a.wav", "-o", "p.json", "--statistics", "none.json"], ["--statistics none.json: No such file"], 1),
    (["profile", "fit", "a.wav", "-o", "p.json", "--statistics", "a.wav"], ["--statistics a.wav: not a statistics JSON"], 1),
    (["profile", "fit", "a.wav", "-o", "p.json", "--statistics", "stats.json"], ["--statistics stats.json:"], 1),
    (["profile", "fit", "a.wav", "-o", "p.json"], ["at least half of --clip-seconds 10 long", "(a.wav)"], 1),
    (["profile", "fit", "nope", "-o", "p.json"], ["nope: no such file"], 1),
    (["profile", "fit", "a.wav", "-o", "a.wav"], ["-o a.wav: exists (use --force"], 1),
    (["profile", "show", "nope.json"], ["'nope.json' is neither a shipped profile"], 2),
    (["evaluate", "nope", "--reference", "a.wav"], ["nope: no such file or folder"], 1),
    (["evaluate", "a.wav", "--reference", "nope"], ["--reference nope: no such file or folder"], 1),
    (["evaluate", "a.wav", "--reference", "mc.csv"], ["--reference mc.csv: cannot read audio"], 1),
    (["evaluate", "a.wav", "--reference", "b.wav", "--embedding", "bad"], ["--embedding bad:"], 2),
    (["evaluate", "a.wav", "--reference", "b.wav", "--max-seconds", "-1"], ["--max-seconds -1 must be > 0"], 2),
    (["evaluate", "a.wav", "--reference", "b.wav", "--kid-subsets", "0"], ["--kid-subsets 0 must be >= 1"], 2),
    (["evaluate", "a.wav", "--reference", "b.wav", "--bootstrap", "1"], ["--bootstrap 1 must be 0 (no intervals) or >= 2"], 2),
]  # fmt: skip


@pytest.mark.parametrize("argv, expected, code", ERRORS, ids=[" ".join(a[:2] + a[-2:]) for a, _, _ in ERRORS])
def test_errors_name_the_flag_and_the_file(work, capsys, argv, expected, code):
    """Exit status 2 for a wrong command line (a value, flags that conflict), 1 for a file at fault."""
    (work / "empty").mkdir()
    before = sorted(p.name for p in work.rglob("*"))
    status, out, err = _run(capsys, *argv)
    assert status == code and out == ""
    assert err.startswith("mdctcompand: error: ") and err.count("\n") == 1, err
    for text in expected:
        assert text in err, err
    assert sorted(p.name for p in work.rglob("*")) == before  # nothing written


# ----------------------------------------------------------------- status on stderr, -q
def test_dataset_build_status_goes_to_stderr_and_q_silences_it(work, capsys):
    status, out, err = _run(
        capsys, "dataset", "build", "--captions", "caps.csv", "-o", "ds", "--workers", "1"
    )
    assert status == 0 and out == ""
    assert "ds: 2 train images from 2 clips" in err
    assert (work / "ds" / "train" / "metadata.jsonl").is_file()
    status, out, err = _run(
        capsys, "dataset", "build", "--captions", "caps.csv", "-o", "ds", "-q", "--workers", "1"
    )
    assert status == 0 and out == "" and err == ""
    status, out, err = _run(capsys, "dataset", "build", "--captions", "caps.csv", "-o", "ds", "--tilt", "3")
    assert status == 2 and err.startswith("mdctcompand: error: -o ds holds a dataset built with other settings")


def test_profile_status_goes_to_stderr_data_to_stdout(work, capsys):
    fit = ["profile", "fit", "a.wav", "b.wav", "-o", "p.json", "--clip-seconds", "1", "--workers", "1"]
    status, out, err = _run(capsys, *fit)
    assert status == 0 and out == "" and "wrote p.json: 512 bands from 2 clips" in err
    assert err.startswith("fitting at 24000 Hz, the inputs' rate\n") and "bands at the shape floor" in err
    status, out, err = _run(capsys, *fit, "--force", "-q")
    assert status == 0 and out == "" and err == ""
    status, out, err = _run(capsys, "profile", "show", "p.json", "--json")
    assert status == 0 and err == "" and json.loads(out)["n_clips"] == 2
    status, out, err = _run(capsys, "profile", "list")
    assert status == 0 and err == "" and out.startswith("name")
    pytest.importorskip("matplotlib")
    status, out, err = _run(capsys, "profile", "plot", "p.json", "-o", "p.png")
    assert status == 0 and out == "" and err == "wrote p.png\n"
    status, out, err = _run(capsys, "profile", "plot", "p.json", "-o", "p.png", "--force", "-q")
    assert status == 0 and out == "" and err == ""


def test_evaluate_prints_its_result_on_stdout(work, capsys):
    status, out, err = _run(
        capsys, "evaluate", "a.wav", "--reference", "b.wav", "--json", "--kid-subsets", "3"
    )
    # the result alone on stdout; on stderr only the small-set warnings (one clip per side)
    assert status == 0 and err.count("mdctcompand: warning: the ") == 2 and err.count("\n") == 2
    result = json.loads(out)
    assert np.isfinite(result["frechet_distance"]) and result["generated"]["clips"] == 1
    assert len(result["warnings"]) == 2 and "1 clips (fewer than 10)" in result["warnings"][0]
