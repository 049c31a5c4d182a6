import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from mdctcompand.profile import GGDProfile
from mdctcompand.testing import make_signal


def _cli(*args, check=False):
    return subprocess.run(
        [sys.executable, "-m", "mdctcompand.cli.main", *args], capture_output=True, text=True, check=check
    )


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "music"
    (d / "sub").mkdir(parents=True)
    for i in range(3):
        sf.write(d / f"a{i}.wav", make_signal("mixture", 44100 * 4, sample_rate=44100, seed=i), 44100)
    sf.write(d / "sub" / "b.flac", make_signal("noise", 22050 * 3, sample_rate=22050), 22050)
    (d / "notes.txt").write_text("not audio")
    return d


def test_profile_fit_show_and_refit(corpus, tmp_path):
    out = tmp_path / "p.json"
    r = _cli("profile", "fit", str(corpus), "-o", str(out), "--clip-seconds", "2", "--workers", "1",
             "--save-statistics", str(tmp_path / "s.json"), "--name", "test")  # fmt: skip
    assert r.returncode == 0, r.stderr
    p = GGDProfile.load(out)
    assert (
        p.name == "test" and p.n_bands == 512 and p.sample_rate == 24000 and p.n_clips == 8
    )  # 3 x 2 clips + 2 (a 1 s tail counts)
    assert "wrote" in r.stdout
    # refuses to overwrite, then merges earlier statistics
    again = _cli(
        "profile", "fit", str(corpus / "sub"), "-o", str(out), "--statistics", str(tmp_path / "s.json")
    )
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    merged = _cli("profile", "fit", str(corpus / "sub"), "-o", str(out), "--force", "-q",
                  "--statistics", str(tmp_path / "s.json"), "--clip-seconds", "2")  # fmt: skip
    assert merged.returncode == 0 and merged.stdout == ""
    assert GGDProfile.load(out).n_clips == 10
    show = _cli("profile", "show", str(out))
    assert show.returncode == 0 and "512" in show.stdout and "shape" in show.stdout
    whole = json.loads(_cli("profile", "show", str(out), "--json").stdout)
    assert whole["n_bands"] == 512


def test_profile_errors(tmp_path):
    missing = _cli("profile", "fit", str(tmp_path / "nope"), "-o", str(tmp_path / "p.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
    bad = _cli("profile", "fit", str(tmp_path / "bad.wav"), "-o", str(tmp_path / "p.json"), "--workers", "1")
    assert bad.returncode == 2 and "no usable" in bad.stderr and not (tmp_path / "p.json").exists()
    assert _cli("profile", "show", str(tmp_path / "none.json")).returncode == 2


def test_profile_plot(tmp_path):
    pytest.importorskip("matplotlib")
    r = _cli("profile", "plot", "-o", str(tmp_path / "p.png"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_help_and_version():
    r = _cli("profile", "fit", "--help")
    assert r.returncode == 0 and "examples:" in r.stdout
    assert _cli("--version").stdout.startswith("mdctcompand ")


def test_fit_on_a_dask_local_cluster_matches_local_processes(corpus):
    pytest.importorskip("dask.distributed")
    from mdctcompand.fitting import FitConfig, fit_profile

    config = FitConfig(clip_seconds=2.0)
    local, stats_local = fit_profile([corpus], config=config, workers=1, smoothing=0)
    dask, stats_dask = fit_profile([corpus], config=config, workers=2, scheduler="local", smoothing=0)
    assert stats_dask.n_clips == stats_local.n_clips == 8
    np.testing.assert_allclose(dask.shape, local.shape, rtol=1e-9)
    np.testing.assert_allclose(dask.scale, local.scale, rtol=1e-9)


def test_profile_list_and_show_shipped_names():
    from mdctcompand.profile import load_profile

    listing = _cli("profile", "list")
    assert listing.returncode == 0, listing.stderr
    for name in ("paper", "44k", "48k"):
        p = load_profile(name)
        line = next(ln for ln in listing.stdout.splitlines() if ln.startswith(name + " "))
        assert p.id in line and str(p.sample_rate) in line and str(p.n_bands) in line
    assert "44.1k" in listing.stdout and "default" in listing.stdout
    for spec, rate, bands in (("44k", 44100, 1024), ("44.1k", 44100, 1024), ("48K", 48000, 1024), ("default", 24000, 512)):
        show = _cli("profile", "show", spec)
        assert show.returncode == 0, show.stderr
        assert f"sample_rate={rate}" in show.stdout and f"n_bands={bands}" in show.stdout
    whole = json.loads(_cli("profile", "show", "48k", "--json").stdout)
    assert whole["sample_rate"] == 48000 and len(whole["scale"]) == 1024


def test_profile_show_unknown_name_lists_the_shipped_ones():
    r = _cli("profile", "show", "22k")
    assert r.returncode == 2
    assert "'22k' is neither a shipped profile (paper, 44k, 48k" in r.stderr
