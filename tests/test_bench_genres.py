"""The multi-genre corpus (split, files) and the leave-one-package-out bench, on small local data."""

import json

import numpy as np
import pytest

from lab import genre_corpus, genres
from lab.genre_corpus import CORPUS_RATE, Track, build_corpus, load_corpus, split_clips
from mdctcompand.testing import make_signal


def _track(name, seconds, seed, package="hyperrogue-music"):
    def read():
        x = make_signal("mixture", int(seconds * 22050), 22050, seed=seed)
        x[: 22050 * 2] = 0  # a silent intro (skipped)
        return np.stack([x, 0.5 * x]).astype(np.float32), 22050

    return Track(package, name, read)


def test_split_gives_disjoint_test_and_train_segments():
    tracks = [_track(f"t{i}", 35 + 10 * i, seed=i) for i in range(3)]
    test, train = split_clips(tracks, n_test=5, n_train=6, seconds=5.0)
    assert len(test) == 5 and len(train) == 6
    n = 5 * CORPUS_RATE
    assert all(c.audio.shape == (2, n) and c.audio.dtype == np.float32 for c in test + train)
    assert {c.name.split("@")[0] for c in test} == {"t0", "t1", "t2"}  # spread over every track
    names = [c.name for c in test + train]
    assert len(set(names)) == len(names)  # no segment twice
    for c in test + train:  # and none from the silent intro
        assert np.sqrt(np.mean(c.audio**2)) > 1e-3


def test_unknown_and_absent_packages():
    with pytest.raises(ValueError, match="unknown package"):
        genre_corpus.package_tracks("not-a-package")
    assert set(genre_corpus.FIT_PACKAGES).isdisjoint(genre_corpus.HOLDOUT_PACKAGES)
    assert len(genre_corpus.PACKAGES) == 11


@pytest.fixture
def small_corpus(tmp_path, monkeypatch):
    """Three fit packages and one held-out package of generated music (2 test, 2 train clips each)."""
    kinds = {
        "fretsonfire-songs-muldjord": "mixture",
        "hyperrogue-music": "tone",
        "wesnoth-1.16-music": "transients",
        "nexuiz-music": "noise",
    }

    def fake_tracks(package):
        if package not in kinds:
            return []

        def read(seed, kind=kinds[package]):
            x = make_signal(kind, 22050 * 22, 22050, seed=seed) + 0.05 * make_signal(
                "noise", 22050 * 22, 22050, seed=9
            )
            return np.stack([x, np.roll(x, 30)]).astype(np.float32), 22050

        return [Track(package, f"{package}-{i}", lambda i=i: read(i)) for i in range(2)]

    monkeypatch.setattr(genre_corpus, "package_tracks", fake_tracks)
    found = build_corpus(tmp_path, n_test=2, n_train=2, progress=None)
    assert found == {p: (2, 2 if p != "nexuiz-music" else 0) for p in kinds}
    return tmp_path


def test_corpus_files_and_the_leave_one_package_out_table(small_corpus, tmp_path):
    test, train = load_corpus(small_corpus, "test"), load_corpus(small_corpus, "train")
    assert set(test) == {
        "fretsonfire-songs-muldjord",
        "hyperrogue-music",
        "wesnoth-1.16-music",
        "nexuiz-music",
    }
    assert "nexuiz-music" not in train  # held out: test clips only
    rows = genres.run(test, train, settings=["24k"], designs=["fixed", "clip", "codec-png"], progress=False)
    by = {(r.design, r.package): r for r in rows}
    # codec-png scores held-out packages only; the others every package
    assert ("codec-png", "nexuiz-music") in by and ("codec-png", "hyperrogue-music") not in by
    assert len(rows) == 2 * 4 + 1
    for r in rows:
        assert len(r.snr) == 2 and all(np.isfinite(r.snr)) and min(r.lsd) >= 0 and min(r.png_kbps) > 0
    for package in test:  # band gains never lose to the fixed representation by much, and cost bytes
        assert np.median(by["clip", package].snr) > np.median(by["fixed", package].snr) - 1.0
        assert min(by["clip", package].side_bytes) > 0 and max(by["fixed", package].side_bytes) == 0
    # each fit package is scored with a profile fitted without it
    profiles = genres.lopo_profiles(train, genres.SETTINGS["24k"])
    assert set(profiles) == {*train, "all"} and len({p.id for p in profiles.values()}) == 4
    text = genres.table(rows)
    assert "| hyperrogue (fit (left out)) |" in text and "| nexuiz (held out) |" in text
    summary = genres.summarize(rows)
    assert {s["design"] for s in summary} == {"fixed", "clip", "codec-png"}
    json.dumps(summary)


def test_figure(small_corpus, tmp_path):
    pytest.importorskip("matplotlib")
    test, train = load_corpus(small_corpus, "test"), load_corpus(small_corpus, "train")
    rows = genres.run(test, train, settings=["24k"], designs=["clip"], progress=False)
    genres.plot(rows, tmp_path / "snr.png")
    assert (tmp_path / "snr.png").stat().st_size > 1000
