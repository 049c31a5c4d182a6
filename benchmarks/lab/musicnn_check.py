"""Check :mod:`mdctcompand.evaluation.musicnn` against musicnn 0.1.0 running on TensorFlow.

Run with a separate TensorFlow environment (not mdctcompand's), from the repository root::

    python3.11 -m venv /work/tfvenv
    /work/tfvenv/bin/pip install tensorflow-cpu numpy librosa soundfile tf_keras
    /work/tfvenv/bin/pip install --no-deps musicnn==0.1.0
    /work/tfvenv/bin/python benchmarks/lab/musicnn_check.py [--make-fixture]

musicnn's ``models.py`` uses ``tf.compat.v1.layers``, which TensorFlow 2.16+ provides only
through the ``tf_keras`` package with ``TF_USE_LEGACY_KERAS=1`` (set here before TensorFlow
is imported). mdctcompand is imported from this checkout through ``sys.path``.

It prints, for every model shipped in the wheel:

1. the checkpoint reader against ``tf.compat.v1.train.NewCheckpointReader``, every variable
   (dtype, shape and exact value);
2. the front-end: our log-mel patches against the extractor's ``batch_data`` (exact
   equality where the extractor's values are finite; cells where it overflows to ``inf``);
3. end to end: ``musicnn.extractor.extractor(file, model)`` (TensorFlow) against
   :class:`~mdctcompand.evaluation.musicnn.MusicnnEmbedding` on deterministic signals and on
   real music from ``/work/corpus/test`` (scaled so that the extractor does not overflow),
   max abs error and max abs error over the largest magnitude of the reference;
4. the network alone: our patches (real music at its own level) fed to TensorFlow's graph.

``--make-fixture`` also writes the test fixtures: ``tests/data/tf_checkpoint/`` (a tiny
checkpoint of many dtypes and its expected values) and ``tests/data/musicnn_reference.npz``
(TensorFlow's embeddings of :func:`reference_signal` for the four models).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
MODELS = ["MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg"]
MODELS_DIM = {"MTT_musicnn": 200, "MSD_musicnn": 200, "MTT_vgg": 256, "MSD_vgg": 256}
REAL = [
    "/work/corpus/test/asc-music/00-frontiers.mp3@100s.flac",
    "/work/corpus/test/wesnoth-1.16-music/*.flac",
]


def reference_signal() -> np.ndarray:
    """6 s at 16 kHz, float32: a rising chirp plus a gated 880 Hz tone (tests/test_musicnn.py has the same).

    Examples
    --------
    >>> x = reference_signal()
    >>> x.shape, x.dtype
    ((96000,), dtype('float32'))
    """
    t = np.arange(96000) / 16000
    chirp = 0.1 * np.sin(2 * np.pi * (110 * t + 400 * t**2))
    gated = 0.05 * np.sin(2 * np.pi * 880 * t) * (t % 0.5 < 0.1)
    return (chirp + gated).astype(np.float32)


def synthetic_signals() -> dict[str, np.ndarray]:
    """Deterministic test signals at 16 kHz, float32, quiet enough not to overflow musicnn's float16."""
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 10) / 16000
    clicks = np.zeros_like(t)
    clicks[::4000] = 0.5
    return {
        "reference": reference_signal(),
        "noise": (0.05 * rng.standard_normal(t.size)).astype(np.float32),
        "chirp": (0.1 * np.sin(2 * np.pi * 50 * (140 ** (t / 10) - 1) * 10 / np.log(140))).astype(np.float32),
        "tones+clicks": (
            0.03 * sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 6)) + clicks
        ).astype(np.float32),
    }


def _errors(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    if ours.shape != ref.shape:
        raise AssertionError(f"shape {ours.shape} != {ref.shape}")
    err = float(np.abs(ours.astype(np.float64) - ref).max())
    return err, err / float(np.abs(ref).max())


def _tf():
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def make_fixture() -> None:
    """Write tests/data/tf_checkpoint/ (a tiny TF2 checkpoint and expected.npz) with TensorFlow."""
    tf = _tf()
    out = DATA / "tf_checkpoint"
    out.mkdir(parents=True, exist_ok=True)
    values = {
        "f32": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "f64": np.float64(np.pi),
        "f16": np.linspace(-2, 2, 8, dtype=np.float16).reshape(2, 2, 2),
        "i8": np.array([-128, 0, 127], np.int8),
        "i16": np.array([-30000, 1], np.int16),
        "i32": np.arange(-2, 3, dtype=np.int32),
        "i64": np.array([[2**40, -1, 0]], np.int64),
        "u8": np.array([0, 255], np.uint8),
        "u16": np.array([65535], np.uint16),
        "b": np.array([True, False, True]),
        "c64": np.array([1 + 2j, -3.5j], np.complex64),
        "c128": np.array([np.e - 1j], np.complex128),
        "empty": np.zeros((0, 3), np.float32),
    }
    variables = {k: tf.Variable(v) for k, v in values.items()}
    variables["bf16"] = tf.Variable(tf.constant([1.5, -2.25, 3e38], tf.bfloat16))
    variables["s"] = tf.Variable(tf.constant([b"musicnn", b"", b"\x00bytes"]))
    for i in range(6):  # more keys than one restart interval (16), sharing long prefixes
        variables[f"layer_{i:02d}"] = tf.Variable(np.full((2,), i, np.float32))
    prefix = tf.train.Checkpoint(**variables).write(str(out / "ckpt"))
    reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    expected = {}
    for name in reader.get_variable_to_shape_map():
        value = np.asarray(reader.get_tensor(name))
        expected[name] = value.astype(np.float32) if value.dtype.name == "bfloat16" else value
        if value.dtype == object:
            expected[name] = np.array(value.tolist(), dtype=bytes)
    np.savez(out / "expected.npz", **expected)
    for path in sorted(out.iterdir()):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


class TensorFlowMusicnn:
    """musicnn's own graph (``musicnn.models.define_model``) with its weights restored, batch size 1."""

    def __init__(self, model: str, folder: str) -> None:
        tf = _tf()
        from musicnn import configuration, models

        labels = configuration.MTT_LABELS if "MTT" in model else configuration.MSD_LABELS
        self.graph = tf.Graph()
        with self.graph.as_default(), tf.name_scope("model"):
            self.x = tf.compat.v1.placeholder(tf.float32, [None, 187, 96])
            self.training = tf.compat.v1.placeholder(tf.bool)
            out = models.define_model(self.x, self.training, model, len(labels))
            self.layer = out[-1] if "musicnn" in model else out[5]
            self.session = tf.compat.v1.Session(graph=self.graph)
            tf.compat.v1.train.Saver().restore(self.session, folder + "/")

    def __call__(self, patches: np.ndarray) -> np.ndarray:
        run = self.session.run
        return np.concatenate(
            [run(self.layer, {self.x: p[None], self.training: False}).reshape(1, -1) for p in patches]
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--make-fixture", action="store_true", help="also write the test fixtures (tests/data)"
    )
    parser.add_argument("--models", nargs="+", default=MODELS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    tf = _tf()
    if args.make_fixture:
        make_fixture()  # eager; importing musicnn's extractor turns eager execution off
    import librosa
    import musicnn
    import soundfile as sf
    from musicnn import extractor as musicnn_extractor

    from mdctcompand.evaluation import musicnn as ours

    print(
        f"TensorFlow {tf.__version__}, numpy {np.__version__}, librosa {librosa.__version__}, musicnn {musicnn.__file__}"
    )
    package = os.path.dirname(musicnn.__file__)
    real = [sorted(glob.glob(p))[0] for p in REAL]
    music = {Path(f).parent.name + "/" + Path(f).name: librosa.load(f, sr=16000)[0] for f in real}
    reference: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:

        def extractor_patches(audio: np.ndarray) -> np.ndarray:
            path = os.path.join(tmp, "x.wav")
            sf.write(path, audio, 16000, subtype="FLOAT")  # read back bit-exactly by librosa.load
            with np.errstate(over="ignore"):
                return musicnn_extractor.batch_data(path, 187, 187)[0].astype(np.float32)

        def through_extractor(audio: np.ndarray, model: str) -> np.ndarray:
            path = os.path.join(tmp, "x.wav")
            sf.write(path, audio, 16000, subtype="FLOAT")
            _, _, features = musicnn_extractor.extractor(path, model=model, extract_features=True)
            return np.asarray(features["penultimate" if "musicnn" in model else "pool5"]).reshape(
                -1, MODELS_DIM[model]
            )

        for model in args.models:
            folder = os.path.join(package, model)
            print(f"\n== {model}")
            checked = tf.compat.v1.train.NewCheckpointReader(folder + "/")
            read = ours.read_checkpoint(folder)
            names = sorted(checked.get_variable_to_shape_map())
            bad = [
                n
                for n in names
                if not (
                    read[n].dtype == checked.get_tensor(n).dtype
                    and np.array_equal(read[n], checked.get_tensor(n))
                )
            ]
            worst = max(
                float(np.abs(read[n].astype(np.float64) - checked.get_tensor(n)).max(initial=0))
                for n in names
            )
            print(
                f"reader: {len(names)} variables ({len(read)} read), {len(bad)} differ {bad[:3]}, max abs error {worst:.3g}"
            )
            embedding = ours.MusicnnEmbedding(model, weights=folder)
            network = TensorFlowMusicnn(model, folder)
            for name, audio in {**synthetic_signals(), **music}.items():
                # real music at its own level overflows the extractor's float16 log: also check it scaled down
                gain = min(1.0, np.sqrt(6.0 / float(ours.melspectrogram(audio).max())))
                for level, x in (
                    [("", audio)]
                    if gain == 1
                    else [("full level", audio), (f"x{gain:.3f}", audio * np.float32(gain))]
                ):
                    mine = embedding.embed(x)
                    batch = extractor_patches(x)  # musicnn's own front-end
                    finite = np.isfinite(batch)
                    front = np.array_equal(batch[finite], ours.log_mel_patches(x)[finite])
                    line = (
                        f"{name} {level}".ljust(52)
                        + f"{len(mine)} patches: front-end identical {front}, {int((~finite).sum())} inf cells; "
                    )
                    if finite.all():
                        err = _errors(mine, network(batch))
                        line += f"TF front-end + TF graph: max abs {err[0]:.2e} rel {err[1]:.2e}; "
                        extracted = through_extractor(x, model)
                        first, rest = _errors(mine[:1], extracted[:1]), _errors(mine[1:], extracted[1:])
                        line += f"extractor(): patch 0 max abs {first[0]:.2e} rel {first[1]:.2e}, later patches max abs {rest[0]:.2e}"
                    else:
                        err = _errors(mine, network(ours.log_mel_patches(x)))
                        line += f"our patches + TF graph: max abs {err[0]:.2e} rel {err[1]:.2e}; "
                        degenerate = network(batch)
                        line += f"TF graph on the extractor's inf patches: {int((~np.isfinite(degenerate)).sum())} non-finite, "
                        line += f"max abs {np.nanmax(np.abs(degenerate - mine)):.2e} from ours"
                    print(line, flush=True)
                if name == "reference":
                    reference[model] = network(extractor_patches(audio)).astype(np.float32)
    if args.make_fixture and set(reference) == set(MODELS):
        np.savez(DATA / "musicnn_reference.npz", **reference)
        print(
            f"wrote tests/data/musicnn_reference.npz ({(DATA / 'musicnn_reference.npz').stat().st_size} bytes)"
        )


if __name__ == "__main__":
    main()
