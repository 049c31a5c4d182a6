"""The evaluation's uncertainty (clip bootstrap, FD_inf), the mel-mdct-v2 embedding, and degradation
ladders that must come out in the order a listener gives them."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from mdctcompand import ParameterError
from mdctcompand.evaluation import (
    MelMDCTEmbedding,
    MelMDCTEmbeddingV2,
    SmallSetWarning,
    bootstrap_distances,
    compare,
    embed_clips,
    frechet_distance,
    frechet_distance_infinity,
    get_embedding,
)
from mdctcompand.evaluation.distances import _ClipMoments, _frechet_from_moments
from mdctcompand.testing import make_signal

SR = 24000


# ---------------------------------------------------------------------- bootstrap
@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(2, 9), min_size=2, max_size=6), st.integers(0, 2**31 - 1))
def test_clip_moments_equal_numpy_on_the_resampled_frames(frames, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((sum(frames), 3)) * [1.0, 10.0, 0.1] + 100.0  # offset: conditioning
    moments = _ClipMoments(x, frames, "x")
    picks = rng.integers(0, len(frames), len(frames))
    starts = np.concatenate([[0], np.cumsum(frames)])
    rows = np.concatenate([np.arange(starts[p], starts[p + 1]) for p in picks])
    mean, cov = moments.moments(picks)
    np.testing.assert_allclose(mean, x[rows].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(x[rows], rowvar=False), rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(moments.frame_rows(picks), rows)


def test_frechet_distance_of_fewer_frames_than_dimensions_leaves_the_warning_to_compare():
    """scipy warned "Matrix is singular" on the command line, next to the small-set warning."""
    rng = np.random.default_rng(0)
    # half the dimensions constant, as units a ReLU never opens: singular covariances
    a, b = (np.c_[rng.standard_normal((60, 100)), np.zeros((60, 100))] for _ in range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = frechet_distance(a, b)
    assert np.isfinite(value) and value > 0
    # sparse, as after a ReLU: sqrtm's result has a large imaginary part, and the exact
    # eigenvalue form takes over (the command line stopped with an error on 3 clips)
    a, b = (np.maximum(rng.standard_normal((60, 200)) - 1.5, 0.0) for _ in range(2))
    exact = _frechet_from_moments(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_distance(a, b) == pytest.approx(exact, rel=1e-9)


def test_moment_frechet_equals_the_sqrtm_form():
    rng = np.random.default_rng(1)
    for dim in (1, 4, 30):
        a, b = rng.standard_normal((200, dim)), rng.standard_normal((300, dim)) * 1.5 + 0.2
        ca, cb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
        expected = frechet_distance(a, b)  # scipy.linalg.sqrtm
        got = _frechet_from_moments(a.mean(0), ca, b.mean(0), cb)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-10)


def test_bootstrap_replicates_are_the_distances_of_resampled_sets():
    rng = np.random.default_rng(2)
    frames = [40, 55, 30, 60, 45]
    x = rng.standard_normal((sum(frames), 4))
    y = rng.standard_normal((sum(frames), 4)) + 0.3
    b = bootstrap_distances(x, frames, y, frames, replicates=5, seed=7)
    # the same draws, made by hand: generator [seed, 1] picks the clips of each side in turn
    draw = np.random.default_rng([7, 1])
    starts = np.concatenate([[0], np.cumsum(frames)])
    for i in range(5):
        gp, rp = (draw.integers(0, 5, 5) for _ in range(2))
        gx = x[np.concatenate([np.arange(starts[p], starts[p + 1]) for p in gp])]
        ry = y[np.concatenate([np.arange(starts[p], starts[p + 1]) for p in rp])]
        assert b.frechet_distance[i] == pytest.approx(frechet_distance(gx, ry), rel=1e-8)
    assert b.confidence == 0.95 and b.frechet_interval[0] <= b.frechet_interval[1]


def test_paired_bootstrap_of_a_set_against_itself_is_zero_and_seeds_pair_conditions():
    rng = np.random.default_rng(3)
    frames = [50] * 8
    x = rng.standard_normal((400, 3))
    same = bootstrap_distances(x, frames, x, frames, replicates=20, paired=True)
    np.testing.assert_allclose(same.frechet_distance, 0.0, atol=1e-9)
    unpaired = bootstrap_distances(x, frames, x, frames, replicates=20)
    assert unpaired.frechet_distance.min() > 0  # other clips on each side
    # two conditions with the same seed and clip counts see the same clips: their difference is
    # much tighter than either interval
    y = rng.standard_normal((400, 3)) + 1.0
    a = bootstrap_distances(x + 0.1, frames, y, frames, replicates=100, seed=5)
    c = bootstrap_distances(x + 0.2, frames, y, frames, replicates=100, seed=5)
    assert np.std(c.frechet_distance - a.frechet_distance) < 0.5 * np.std(a.frechet_distance)
    with pytest.raises(ParameterError, match="equal clip counts"):
        bootstrap_distances(x, frames, x[:350], frames[:7], paired=True)
    with pytest.raises(ParameterError, match="do not add up"):
        bootstrap_distances(x, [10] * 8, y, frames)
    with pytest.raises(ParameterError, match="replicates"):
        bootstrap_distances(x, frames, y, frames, replicates=1)


def test_interval_covers_the_truth_of_a_known_model():
    """Clips drawn from N(0, I) against clips from N(0.5, I): FD is 4 * 0.25 = 1 (dim 4)."""
    rng = np.random.default_rng(4)
    covered = 0
    for trial in range(20):
        x = rng.standard_normal((12 * 50, 4))
        y = rng.standard_normal((12 * 50, 4)) + 0.5
        lo, hi = bootstrap_distances(x, [50] * 12, y, [50] * 12, replicates=100, seed=trial).frechet_interval
        covered += lo <= 1.0 <= hi
    assert covered >= 15  # a percentile interval of a biased statistic: most, not exactly 95 %


def test_fd_infinity_removes_most_of_the_size_bias():
    rng = np.random.default_rng(5)
    dim, truth = 16, 16 * 0.1**2
    y = rng.standard_normal((200_000, dim)) + 0.1
    errors_fd, errors_inf = [], []
    for _ in range(5):
        x = rng.standard_normal((600, dim))
        errors_fd.append(abs(frechet_distance(x, y) - truth))
        errors_inf.append(abs(frechet_distance_infinity(x, y) - truth))
    assert np.mean(errors_inf) < 0.5 * np.mean(errors_fd)


def test_compare_reports_intervals_warns_on_small_sets_and_stays_deterministic():
    clips = [(f"m{i}", make_signal("mixture", SR, SR, seed=i), SR) for i in range(12)]
    other = [(f"c{i}", make_signal("chirp", SR, SR, seed=i), SR) for i in range(12)]
    a, b = embed_clips(clips), embed_clips(other)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = compare(a, b, kid_subsets=5, bootstrap=30)
    # 12 clips of 1 s: enough clips, too few frames for 112 dimensions
    assert [w.category for w in caught] == [SmallSetWarning, SmallSetWarning]
    assert "frames for 112 dimensions" in str(caught[0].message) and len(e.warnings) == 2
    lo, hi = e.frechet_distance_interval
    assert lo < hi and e.kernel_distance_interval[0] < e.kernel_distance_interval[1]
    assert e.frechet_distance_infinity is None  # too few frames to extrapolate
    assert "| Fréchet distance, size-bias corrected (FD_inf) | n/a: needs 8 generated frames per dimension |" in e.table()
    assert e.to_dict()["bootstrap"] == {"replicates": 30, "confidence": 0.95, "resampled": "clips"}
    again = compare(a, b, kid_subsets=5, bootstrap=30)
    assert again == e
    paired = compare(embed_clips([(n, 0.5 * x + 0.01 * np.sin(np.arange(x.size)), r) for n, x, r in clips]), a,
                     kid_subsets=5, bootstrap=10)  # fmt: skip
    assert paired.bootstrap["resampled"] == "clips, paired"
    none = compare(a, b, kid_subsets=5, bootstrap=0)
    assert none.frechet_distance_interval is None and none.frechet_distance == e.frechet_distance
    with pytest.raises(ParameterError, match="bootstrap=1"):
        compare(a, b, bootstrap=1)


# ---------------------------------------------------------------------- mel-mdct-v2
def test_v2_is_v1_with_a_relative_floor_plus_phase_coherence():
    v1, v2 = MelMDCTEmbedding(), MelMDCTEmbeddingV2()
    assert get_embedding().name == "mel-mdct-v2" and get_embedding("mel-mdct-v1").name == "mel-mdct-v1"
    assert (v2.dim, v2.sample_rate, v2.kid_scaling) == (112, 24000, "global")
    x = make_signal("mixture", 2 * SR, SR, seed=3) * 0.1
    f1, f2 = v1.embed(x), v2.embed(x)
    assert f2.shape == (f1.shape[0], 112)
    np.testing.assert_array_equal(f2[:, 64:80], f1[:, 64:80])  # flatness: unchanged
    # the log-mel with the floor 30 dB under the clip's mean mel-band power, recomputed plainly
    mel_power = 10 ** (f1[:, :64] / 10) - 1e-10
    floor = mel_power.mean() * 1e-3 + 1e-10
    np.testing.assert_allclose(f2[:, :64], v2.mel_weight * 10 * np.log10(mel_power + floor), atol=1e-6)
    # a low-passed band sits at the floor, 30 dB under the mean, not at -100 dB
    dull = v2.embed(scipy.signal.sosfiltfilt(scipy.signal.butter(8, 2000, fs=SR, output="sos"), x))
    assert dull[:, 60:64].min() / v2.mel_weight > 10 * np.log10(mel_power.mean()) - 31
    # and its phase coherence reads as neutral, not as 0 (its phases say nothing)
    empty = dull[2:, 108:112] / v2.coherence_weight
    np.testing.assert_allclose(empty, v2.coherence_neutral, atol=0.02)


def test_phase_coherence_sees_partials_noise_and_scrambled_phases():
    emb = MelMDCTEmbeddingV2()
    t = np.arange(3 * SR) / SR
    harmonic = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 30))
    noise = np.random.default_rng(0).standard_normal(t.size)
    coherence = {name: emb.embed(x)[:, 96:] / emb.coherence_weight for name, x in
                 dict(harmonic=harmonic, noise=noise).items()}  # fmt: skip
    assert np.all((coherence["noise"] >= 0) & (coherence["noise"] <= 1 + 1e-9))
    assert coherence["harmonic"][2:, 1:13].min() > 0.95  # steady partials: adjacent bins agree
    # the lowest group lies under the 220 Hz fundamental: little power, pulled towards neutral
    assert emb.coherence_neutral < coherence["harmonic"][2:, 0].mean() < 0.95
    # noise: only the window's main lobe ties adjacent bins together
    assert 0.3 < coherence["noise"][2:].mean() < 0.65
    # the same magnitudes with random phases (what Griffin-Lim starts from) lose the coherence
    _, _, z = scipy.signal.stft(harmonic, nperseg=2048, noverlap=1536)
    phases = np.exp(2j * np.pi * np.random.default_rng(1).random(z.shape))
    scrambled = scipy.signal.istft(np.abs(z) * phases, nperseg=2048, noverlap=1536)[1][: t.size]
    assert emb.embed(scrambled)[2:, 96:104].mean() / emb.coherence_weight < 0.9


def test_get_embedding_names_musicnn_and_says_how_to_install_its_weights(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "musicnn" else real(name, *a)
    )
    with pytest.raises(ParameterError, match=r"pip install --no-deps musicnn==0\.1\.0.*musicnn:FOLDER"):
        get_embedding("musicnn")
    with pytest.raises(ParameterError, match="musicnn"):
        get_embedding("vggish")
    monkeypatch.setattr(importlib.util, "find_spec", real)
    if real("musicnn") is not None:  # weights installed (CI): the evaluation's patch hop
        assert (
            get_embedding("musicnn").hop == 16
            and "one every 16 frames" in get_embedding("musicnn").describe()
        )


def test_get_embedding_takes_a_folder_of_musicnn_weights(tmp_path):
    """The message for missing weights offered weights=MODEL_FOLDER, which the command line could not pass."""
    for name in ("MSD_vgg", "renamed"):
        (tmp_path / name).mkdir()
        (tmp_path / name / ".index").touch()  # read lazily, at the first embed()
    emb = get_embedding(f"musicnn:{tmp_path / 'MSD_vgg'}")
    assert (emb.model, emb.folder, emb.hop, emb.dim) == ("MSD_vgg", tmp_path / "MSD_vgg", 16, 256)
    assert get_embedding(f"musicnn:{tmp_path / 'MSD_vgg'}/").folder == tmp_path / "MSD_vgg"
    with pytest.raises(ParameterError, match=r"renamed'?: its name must be the model's \(MTT_musicnn, "):
        get_embedding(f"musicnn:{tmp_path / 'renamed'}")
    with pytest.raises(ParameterError, match=r"no musicnn weights \(\.index\) there"):
        get_embedding(f"musicnn:{tmp_path / 'missing' / 'MTT_musicnn'}")
    with pytest.raises(ParameterError, match="must be one of MTT_musicnn"):
        get_embedding("musicnn:MTT_musiccnn")


# ---------------------------------------------------------------------- ladders
def _ladder_clips(count=12, seconds=3.0):
    kinds = ("mixture", "transients", "chirp")
    return [
        (f"{kinds[i % 3]}{i}", make_signal(kinds[i % 3], int(seconds * SR), SR, seed=i), SR)
        for i in range(count)
    ]


def _lowpass(x, cutoff):
    return scipy.signal.sosfiltfilt(scipy.signal.butter(8, cutoff, fs=SR, output="sos"), x)


def _noise(x, snr_db, seed):
    noise = np.random.default_rng(seed).standard_normal(x.size)
    return x + noise * np.sqrt(np.mean(x**2) / 10 ** (snr_db / 10))


def _distances(sets, against):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSetWarning)
        return [compare(s, against, kid_subsets=10, kid_subset_size=500, bootstrap=0) for s in sets]


@pytest.mark.parametrize("embedding", ["mel-mdct-v2"])
def test_noise_and_low_pass_ladders_are_monotonic_on_generated_music(embedding):
    clips = _ladder_clips()
    emb = get_embedding(embedding)
    clean = embed_clips(clips, embedding=emb)
    reference = embed_clips(
        [(f"r{i}", make_signal(("mixture", "transients", "chirp")[i % 3], 3 * SR, SR, seed=100 + i), SR)
         for i in range(12)], embedding=emb,
    )  # fmt: skip
    noise = [embed_clips([(n, _noise(x, d, i), r) for i, (n, x, r) in enumerate(clips)], embedding=emb)
             for d in (30, 20, 10)]  # fmt: skip
    lowpass = [
        embed_clips([(n, _lowpass(x, k), r) for n, x, r in clips], embedding=emb) for k in (8000, 4000, 2000)
    ]
    white = embed_clips([(n, np.random.default_rng(i).standard_normal(x.size), r) for i, (n, x, r) in
                         enumerate(clips)], embedding=emb)  # fmt: skip
    for against in (clean, reference):
        for ladder in (noise, lowpass + [white]):
            results = _distances(ladder, against)
            fd = [e.frechet_distance for e in results]
            kid = [e.kernel_distance for e in results]
            assert fd == sorted(fd) and kid == sorted(kid), (fd, kid)


def test_codec_ladder_is_monotonic_on_generated_music():
    from mdctcompand.codec import decode, encode

    clips = _ladder_clips(count=10, seconds=3.0)
    clean = embed_clips(clips)
    coded = [
        embed_clips([(n, decode(encode(x.astype(np.float32), r, bitrate=k)).audio, r) for n, x, r in clips])
        for k in (48, 24, 16, 8)
    ]
    results = _distances(coded, clean)
    fd = [e.frechet_distance for e in results]
    kid = [e.kernel_distance for e in results]
    assert fd == sorted(fd) and kid[-1] > kid[0], (fd, kid)  # KID of 10 subsets: only the ends
