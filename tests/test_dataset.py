"""Dataset builder (MDCT-1k) and MusicCaps fetch, with a stand-in downloader."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mdctcompand import AudioImageConverter, ParameterError, metrics
from mdctcompand.dataset import BuildConfig, build_dataset, fetch_musiccaps, read_captions, read_musiccaps
from mdctcompand.profile import default_profile
from mdctcompand.testing import make_signal

N_CLIPS = 8


def _musiccaps(tmp_path: Path, n: int = N_CLIPS) -> tuple[Path, Path]:
    audio = tmp_path / "audio"
    audio.mkdir()
    rows = []
    for i in range(n):
        ytid = f"yt{i:03d}"
        x = 0.5 * make_signal("mixture", 44100 * 10, 44100, seed=i)
        if i == 2:
            x = np.zeros_like(x)  # silent: skipped
        if i != 3:  # no audio: logged as missing
            sf.write(audio / f"{ytid}.wav", np.stack([x, 0.8 * x]).T, 44100, subtype="PCM_16")
        rows.append({
            "ytid": ytid, "start_s": 30, "end_s": 40, "audioset_positive_labels": "/m/04rlf",
            "aspect_list": "['guitar', 'drums']", "caption": f"clip {i} with a guitar", "author_id": str(i % 3),
            "is_balanced_subset": "False", "is_audioset_eval": "True" if i % 4 == 0 else "False",
        })  # fmt: skip
    (audio / "yt005.wav").write_bytes(b"RIFF not really a wav file")  # unreadable: logged as failed
    path = tmp_path / "musiccaps.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, audio


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".build" not in p.parts
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mc")
    csv_path, audio = _musiccaps(tmp)
    specs, log = read_musiccaps(csv_path, audio)
    report = build_dataset(specs, tmp / "out", workers=1, progress=False, log=log)
    return tmp, csv_path, audio, report


def test_build_layout_metadata_and_log(built):
    tmp, _, _, report = built
    out = tmp / "out"
    assert report.images == {"train": 3, "test": 2} and report.clips == 5
    statuses = {r["id"]: r["status"] for r in report.skipped}
    assert statuses == {"yt002": "skipped", "yt003": "missing", "yt005": "failed"}
    rows = [json.loads(line) for line in (out / "train" / "metadata.jsonl").read_text().splitlines()]
    assert [r["file_name"] for r in rows] == ["yt001_00.png", "yt006_00.png", "yt007_00.png"]
    r = rows[0]
    assert (
        r["caption"] == "clip 1 with a guitar"
        and r["ytid"] == "yt001"
        and r["aspect_list"] == "['guitar', 'drums']"
    )
    assert r["length"] == 240000 and r["padding"] == 261632 - 240000 and r["segments"] == 1
    from PIL import Image

    with Image.open(out / "train" / "yt001_00.png") as img:
        assert img.size == (512, 512) and img.mode == "L" and "mdctcompand" in img.info
    card = (out / "README.md").read_text()
    assert "| train | 3 | 3 |" in card and "Clips not used: 3" in card
    assert json.loads((out / "mdctcompand.json").read_text())["build"]["frames"] == 512
    assert (out / "profile.json").is_file()


def test_images_decode_back_to_the_clips(built):
    tmp, _, audio, _ = built
    conv = AudioImageConverter(tmp / "out" / "profile.json", tilt=4)  # as the dataset card says
    from PIL import Image

    from mdctcompand.io import load_audio

    x, _ = load_audio(audio / "yt001.wav", sample_rate=24000, mono=True)
    with Image.open(tmp / "out" / "train" / "yt001_00.png") as img:
        y = conv.audio_from_image(img)
    assert y.shape == x.shape and metrics.snr(x, y) > 30


def test_loads_with_hugging_face_datasets(built, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tmp = built[0]
    ds = datasets.load_dataset("imagefolder", data_dir=str(tmp / "out"), cache_dir=str(tmp / "hf-cache"))
    assert set(ds) == {"train", "test"} and ds["train"].num_rows == 3 and ds["test"].num_rows == 2
    row = ds["train"][0]
    assert row["caption"] == "clip 1 with a guitar"
    conv = AudioImageConverter(tmp / "out" / "profile.json", tilt=4)
    y = conv.audio_from_image(row["image"])
    assert y.shape == (240000,) and np.all(np.isfinite(y))


def test_resume_after_interruption_gives_identical_output(built, tmp_path):
    tmp, csv_path, audio, _ = built
    specs, log = read_musiccaps(csv_path, audio)
    out = tmp_path / "resumed"
    build_dataset(specs, out, workers=1, progress=False, log=log)
    # Recreate what a kill leaves behind: items never started, one PNG written without its
    # record, a stale temporary file, no metadata or card yet.
    for ytid in ("yt006", "yt007"):
        (out / ".build" / "items" / f"{ytid}.json").unlink()
        (out / "train" / f"{ytid}_00.png").unlink()
    (out / ".build" / "items" / "yt004.json").unlink()  # its PNG stays (killed before the record)
    (out / "train" / ".yt006_00.png.abc.part").write_bytes(b"half a png")
    for name in ("train/metadata.jsonl", "test/metadata.jsonl", "README.md", "build_log.jsonl"):
        (out / name).unlink()
    # and the build was begun by version 0.1, which recorded the profile's exact-float64 id
    settings = json.loads((out / "mdctcompand.json").read_text())
    settings["converter"]["profile_id"] = default_profile()._hash("<f8")
    (out / "mdctcompand.json").write_text(json.dumps(settings))
    report = build_dataset(specs, out, workers=1, progress=False, log=log)
    assert report.reused == 2
    assert _tree(out) == _tree(tmp / "out")


def test_parallel_and_dask_builds_match_serial(built, tmp_path):
    tmp, csv_path, audio, _ = built
    specs, log = read_musiccaps(csv_path, audio)
    build_dataset(specs, tmp_path / "pool", workers=2, progress=False, log=log)
    assert _tree(tmp_path / "pool") == _tree(tmp / "out")
    pytest.importorskip("dask.distributed")
    build_dataset(specs, tmp_path / "dask", workers=2, scheduler="local", progress=False, log=log)
    assert _tree(tmp_path / "dask") == _tree(tmp / "out")


def test_killed_cli_build_resumes(built, tmp_path):
    tmp, csv_path, audio, _ = built
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "mdctcompand.cli.main", "dataset", "build", "--musiccaps", str(csv_path),
           "--audio-dir", str(audio), "-o", str(out), "--workers", "1", "-q"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    items = out / ".build" / "items"
    while time.time() < deadline and proc.poll() is None:
        if items.is_dir() and len(list(items.glob("*.json"))) >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert _tree(out) == _tree(tmp / "out")


def test_long_clips_split_and_captions_list(tmp_path):
    long = tmp_path / "song.flac"
    sf.write(long, 0.4 * make_signal("mixture", 24000 * 25, 24000), 24000)
    short = tmp_path / "short.wav"
    sf.write(short, 0.4 * make_signal("tone", 24000 * 3, 24000), 24000)
    (tmp_path / "caps.jsonl").write_text(
        json.dumps({"audio": "song.flac", "caption": "a long song"})
        + "\n"
        + json.dumps({"file": "short.wav", "caption": "a tone", "split": "test"})
        + "\n"
        + json.dumps({"audio": "gone.wav", "caption": "missing"})
        + "\n"
    )
    specs, log = read_captions(tmp_path / "caps.jsonl")
    assert len(specs) == 2 and log[0]["status"] == "missing"
    report = build_dataset(specs, tmp_path / "out", config=BuildConfig(frames=256), workers=1, progress=False)
    rows = [
        json.loads(line) for line in (tmp_path / "out" / "train" / "metadata.jsonl").read_text().splitlines()
    ]
    capacity = 255 * 512  # samples per 256-frame image; 25 s = 600000 samples -> 5 images
    assert [r["segment"] for r in rows] == [0, 1, 2, 3, 4] and rows[0]["segments"] == 5
    assert [r["length"] for r in rows] == [capacity] * 4 + [24000 * 25 - 4 * capacity]
    assert rows[-1]["padding"] == 5 * capacity - 24000 * 25
    assert report.images == {"train": 5, "test": 1}


def test_settings_conflict_and_bad_lists(tmp_path, built):
    tmp, csv_path, audio, _ = built
    specs, _ = read_musiccaps(csv_path, audio)
    with pytest.raises(ParameterError, match="other settings"):
        build_dataset(specs[:1], tmp / "out", config=BuildConfig(tilt=3.0), workers=1, progress=False)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ParameterError, match="not a MusicCaps CSV"):
        read_musiccaps(tmp_path / "bad.csv", audio)
    (tmp_path / "bad.jsonl").write_text('{"caption": "no audio"}\n')
    with pytest.raises(ParameterError, match="needs an audio path"):
        read_captions(tmp_path / "bad.jsonl")


# ---------------------------------------------------------------------- fetch
STAND_IN = r'''#!{python}
"""Stand-in for yt-dlp: writes the requested section as a WAV, or fails like YouTube does."""
import os, sys, pathlib, numpy as np, soundfile as sf
args = sys.argv[1:]
out = args[args.index("-o") + 1]
section = args[args.index("--download-sections") + 1].lstrip("*")
start, end = (float(v) for v in section.split("-"))
ytid = args[-1].split("v=")[-1]
log = pathlib.Path(os.environ["STANDIN_LOG"])
with open(log, "a") as f:
    f.write(ytid + "\n")
if ytid in os.environ.get("STANDIN_FAIL", "").split(","):
    sys.stderr.write("ERROR: [youtube] " + ytid + ": Video unavailable\n")
    sys.exit(1)
flaky = pathlib.Path(os.environ["STANDIN_LOG"] + "." + ytid)
if ytid in os.environ.get("STANDIN_FLAKY", "").split(",") and not flaky.exists():
    flaky.write_text("failed once")
    sys.stderr.write("ERROR: HTTP Error 503\n")
    sys.exit(1)
t = np.arange(int((end - start) * 16000)) / 16000
sf.write(out.replace("%(ext)s", "wav"), 0.3 * np.sin(2 * np.pi * 440 * t), 16000)
'''


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "yt-dlp"
    exe.write_text(STAND_IN.replace("{python}", sys.executable))
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "calls.log"))
    monkeypatch.setenv("STANDIN_FAIL", "yt002")
    monkeypatch.setenv("STANDIN_FLAKY", "yt004")
    return tmp_path / "calls.log"


def test_fetch_with_stand_in_downloader(tmp_path, stand_in):
    csv_path, _ = _musiccaps(tmp_path, n=6)
    out = tmp_path / "fetched"
    out.mkdir()
    sf.write(out / "yt000.wav", np.zeros(100), 16000)  # already there: never downloaded again
    (tmp_path / "skip.txt").write_text("# unavailable\nyt001\n")
    counts = fetch_musiccaps(
        csv_path, out, retries=2, backoff_s=0, skip_list=tmp_path / "skip.txt", progress=False
    )
    assert counts == {"downloaded": 3, "existing": 1, "skipped": 1, "failed": 1}
    calls = stand_in.read_text().split()
    assert "yt000" not in calls and "yt001" not in calls
    assert calls.count("yt002") == 3 and calls.count("yt004") == 2  # retried; the flaky one succeeded
    assert sf.info(out / "yt003.wav").duration == pytest.approx(10.0)
    failure = json.loads((out / "fetch_failures.jsonl").read_text())
    assert failure["ytid"] == "yt002" and "unavailable" in failure["error"] and failure["attempts"] == 3
    assert not list(out.glob(".fetch-*")) and not list(out.glob(".*.part"))
    # a second run downloads nothing: files exist, the permanent failure is remembered
    again = fetch_musiccaps(
        csv_path, out, retries=2, backoff_s=0, skip_list=tmp_path / "skip.txt", progress=False
    )
    assert again == {"downloaded": 0, "existing": 4, "skipped": 2, "failed": 0}


def test_fetch_cli_and_missing_downloader(tmp_path, stand_in):
    csv_path, _ = _musiccaps(tmp_path, n=2)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mdctcompand.cli.main",
            "dataset",
            "fetch",
            str(csv_path),
            "-o",
            str(tmp_path / "f"),
            "--backoff",
            "0",
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "mdctcompand.cli.main",
            "dataset",
            "fetch",
            str(csv_path),
            "-o",
            str(tmp_path / "g"),
            "--downloader",
            "no-such-downloader",
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "pip install yt-dlp" in missing.stderr
