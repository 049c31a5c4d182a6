"""The on-disk cache of the compander's tables (mdctcompand._cache)."""

import os

import numpy as np
import pytest

import mdctcompand
from mdctcompand import _cache
from mdctcompand import compand as compand_module


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MDCTCOMPAND_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _tables(c):
    return c.thresholds, c.reconstruction_table


def _computed(profile, **kw):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDCTCOMPAND_CACHE_DIR", "off")
        return _tables(mdctcompand.Compander(profile, **kw))


@pytest.mark.parametrize("reconstruction", ["midpoint", "centroid"])
def test_cached_tables_are_the_computed_ones_and_are_read_back(cache, monkeypatch, reconstruction):
    profile = mdctcompand.default_profile()
    expected = _computed(profile, tilt=3.0, reconstruction=reconstruction)
    first = _tables(mdctcompand.Compander(profile, tilt=3.0, reconstruction=reconstruction))
    assert len(list(cache.glob("*.npy"))) == 2 and not list(cache.glob(".tmp-*"))

    def no_inversions(*args, **kwargs):
        raise AssertionError("tables were recomputed instead of read from the cache")

    monkeypatch.setattr(compand_module, "_ppf_rows", no_inversions)
    monkeypatch.setattr(compand_module.ggd, "cell_centroid", no_inversions)
    second = _tables(mdctcompand.Compander(profile, tilt=3.0, reconstruction=reconstruction))
    for a, b, c in zip(expected, first, second):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        assert not c.flags.writeable


def test_settings_and_profiles_get_their_own_files(cache):
    profile = mdctcompand.default_profile()
    _tables(mdctcompand.Compander(profile, tilt=3.0))
    _tables(mdctcompand.Compander(profile, tilt=4.0))
    _tables(mdctcompand.Compander(profile, tilt=3.0, rounding="floor"))
    _tables(mdctcompand.Compander(profile, tilt=3.0, bands=64))
    assert len(list(cache.glob("thresholds-*.npy"))) == 4
    low = mdctcompand.Compander(profile, tilt=3.0, bands=64)
    np.testing.assert_array_equal(low.thresholds, _computed(profile, tilt=3.0)[0][:64])


@pytest.mark.parametrize(
    "damage",
    [
        lambda path, t: path.write_bytes(b"not a numpy file"),
        lambda path, t: path.write_bytes(path.read_bytes()[:200]),  # truncated
        lambda path, t: np.save(path, t[:10]),  # wrong shape
        lambda path, t: np.save(path, t.astype(np.float32)),  # wrong dtype
        lambda path, t: np.save(path, np.where(np.arange(t.shape[1]) == 5, np.nan, t)),  # NaN inside
        lambda path, t: np.save(path, t[:, ::-1].copy()),  # not sorted
    ],
    ids=["garbage", "truncated", "shape", "dtype", "nan", "order"],
)
def test_a_damaged_file_is_recomputed_and_replaced(cache, damage):
    profile = mdctcompand.default_profile()
    expected = _computed(profile, tilt=2.0)[0]
    _ = mdctcompand.Compander(profile, tilt=2.0).thresholds  # fills the cache
    (path,) = cache.glob("thresholds-*.npy")
    damage(path, expected)
    np.testing.assert_array_equal(mdctcompand.Compander(profile, tilt=2.0).thresholds, expected)
    np.testing.assert_array_equal(np.load(path), expected)  # rewritten


def test_off_and_unwritable_directories_still_compute(tmp_path, monkeypatch):
    profile = mdctcompand.default_profile()
    expected = _computed(profile, tilt=2.5)[0]
    monkeypatch.setenv("MDCTCOMPAND_CACHE_DIR", "off")
    assert _cache.cache_dir() is None
    np.testing.assert_array_equal(mdctcompand.Compander(profile, tilt=2.5).thresholds, expected)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("MDCTCOMPAND_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    np.testing.assert_array_equal(mdctcompand.Compander(profile, tilt=2.5).thresholds, expected)
    assert blocker.read_text() == "x"


def test_default_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("MDCTCOMPAND_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_dir() == tmp_path / "mdctcompand"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _cache.cache_dir() == os.path.join(os.path.expanduser("~"), ".cache") / _cache.Path("mdctcompand")


def test_keys_depend_on_every_part():
    a = np.arange(4.0)
    base = _cache.table_key("t", (a, 1.0, "round"))
    assert base == _cache.table_key("t", (a.copy(), 1.0, "round"))
    for other in [("u", (a, 1.0, "round")), ("t", (a + 1e-12, 1.0, "round")), ("t", (a.astype(np.float32), 1.0, "round")),
                  ("t", (a, 1.5, "round")), ("t", (a, 1.0, "floor")), ("t", (a.reshape(2, 2), 1.0, "round"))]:  # fmt: skip
        assert _cache.table_key(*other) != base


def test_default_location_is_the_platforms_user_cache(monkeypatch):
    """platformdirs knows macOS and Windows; ~/.cache is Linux's."""
    import platformdirs

    monkeypatch.delenv("MDCTCOMPAND_CACHE_DIR")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name, appauthor: f"/Library/Caches/{name}")
    assert _cache.cache_dir() == _cache.Path("/Library/Caches/mdctcompand")
