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
    assert (  # the inputs' highest rate, full band: 1024 bands
        p.name == "test" and p.n_bands == 1024 and p.sample_rate == 44100 and p.n_clips == 8
    )  # 3 x 2 clips + 2 (a 1 s tail counts)
    assert "wrote" in r.stderr and r.stdout == ""
    assert "fitting at 44100 Hz, the inputs' rate (the highest of them)" in r.stderr
    assert "bands at the shape floor (--min-shape 0.4)" in r.stderr and "cuts" not in r.stderr
    # refuses to overwrite, then merges earlier statistics
    again = _cli(
        "profile", "fit", str(corpus / "sub"), "-o", str(out), "--statistics", str(tmp_path / "s.json")
    )
    assert again.returncode == 1 and "exists" in again.stderr and "--force" in again.stderr
    merged = _cli("profile", "fit", str(corpus / "sub"), "-o", str(out), "--force", "-q", "--sample-rate", "44100",
                  "--statistics", str(tmp_path / "s.json"), "--clip-seconds", "2")  # fmt: skip
    assert merged.returncode == 0 and merged.stdout == ""
    assert GGDProfile.load(out).n_clips == 10
    show = _cli("profile", "show", str(out))
    assert show.returncode == 0 and "1024" in show.stdout and "shape" in show.stdout
    whole = json.loads(_cli("profile", "show", str(out), "--json").stdout)
    assert whole["n_bands"] == 1024


def test_profile_fit_warns_when_its_rate_cuts_the_inputs_band(corpus, tmp_path):
    out = tmp_path / "p24.json"
    r = _cli("profile", "fit", str(corpus), "-o", str(out), "--sample-rate", "24000", "--clip-seconds", "2",
             "--workers", "1")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "--sample-rate 24000 cuts the inputs' band above 12000 Hz (files at 44100 Hz)" in r.stderr
    p = GGDProfile.load(out)
    assert (p.sample_rate, p.frame_length) == (24000, 1024)  # frame length by rate


def test_profile_errors(tmp_path):
    missing = _cli("profile", "fit", str(tmp_path / "nope"), "-o", str(tmp_path / "p.json"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
    bad = _cli("profile", "fit", str(tmp_path / "bad.wav"), "-o", str(tmp_path / "p.json"), "--workers", "1")
    assert bad.returncode == 1 and "no usable" in bad.stderr and not (tmp_path / "p.json").exists()
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
    for spec, rate, bands in (
        ("44k", 44100, 1024),
        ("44.1k", 44100, 1024),
        ("48K", 48000, 1024),
        ("default", 24000, 512),
    ):
        show = _cli("profile", "show", spec)
        assert show.returncode == 0, show.stderr
        assert f"sample_rate={rate}" in show.stdout and f"n_bands={bands}" in show.stdout
    whole = json.loads(_cli("profile", "show", "48k", "--json").stdout)
    assert whole["sample_rate"] == 48000 and len(whole["scale"]) == 1024


def test_profile_show_unknown_name_lists_the_shipped_ones():
    r = _cli("profile", "show", "22k")
    assert r.returncode == 2
    assert "'22k' is neither a shipped profile (paper, 44k, 48k" in r.stderr


def test_min_shape_bounds_the_fitted_shapes(tmp_path):
    from mdctcompand.fitting import DEFAULT_MIN_SHAPE, FitConfig, fit_profile

    sr, n = 16000, 16000 * 8
    x = np.fft.rfft(make_signal("mixture", n, sr))
    x[np.fft.rfftfreq(n, 1 / sr) > 5000] = 0  # empty above 5 kHz but for a 10 ms burst every second,
    x = np.fft.irfft(x, n)  # like a lossy source's top bands: shapes far below 0.4 there
    for start in range(0, n, sr):
        x[start : start + 160] += 0.3 * np.sin(2 * np.pi * 6500 * np.arange(160) / sr)
    sf.write(tmp_path / "a.wav", x, sr)
    config = FitConfig(sample_rate=sr, frame_length=256, clip_seconds=2)
    free, _ = fit_profile([tmp_path], config=config, method="mle", smoothing=0, min_shape=0.05)
    bounded, _ = fit_profile([tmp_path], config=config, method="mle", smoothing=0)
    assert DEFAULT_MIN_SHAPE == 0.4
    assert free.shape.min() < 0.2 and bounded.shape.min() == pytest.approx(0.4)
    inside = free.shape > 0.45  # bands the bound does not touch keep their fit
    np.testing.assert_allclose(bounded.shape[inside], free.shape[inside], rtol=1e-5)
    with pytest.raises(ValueError, match=r"min_shape=0\.01"):
        fit_profile([tmp_path], config=config, min_shape=0.01)
    out = tmp_path / "p.json"
    r = _cli("profile", "fit", str(tmp_path / "a.wav"), "-o", str(out), "--sample-rate", "16000",
             "--frame-length", "256", "--clip-seconds", "2", "--min-shape", "0.5", "--workers", "1", "-q")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert GGDProfile.load(out).shape.min() >= 0.5 - 1e-12
    bad = _cli("profile", "fit", str(tmp_path / "a.wav"), "-o", str(tmp_path / "q.json"), "--min-shape", "0")
    assert (
        bad.returncode == 2 and "--min-shape 0.0 must be" in bad.stderr and not (tmp_path / "q.json").exists()
    )
