"""Golden outputs: the bytes the codec, the converter and the dataset builder write for a fixed set
of inputs, hashed, so that a refactor can prove it changed no output.

``python tests/golden.py --write`` records the hashes (with the machine's numeric signature) in
``tests/data/golden_hashes.json``; ``tests/test_golden_bytes.py`` recomputes and compares them.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

HASHES = Path(__file__).parent / "data" / "golden_hashes.json"


def music(seconds: float, rate: int, channels: int, seed: int) -> np.ndarray:
    """A deterministic music-like signal ``(channels, n)``: notes with harmonics, decays and noise hits."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros((channels, n))
    for k in range(int(seconds * 4)):
        start = int(k * rate / 4)
        f0 = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        env = np.exp(-(t[: n - start]) * rng.uniform(2, 8))
        note = sum(
            np.sin(2 * np.pi * f0 * h * t[: n - start] + rng.uniform(0, 6)) / h**1.3 for h in range(1, 9)
        )
        pan = rng.uniform(0.3, 1.0, channels)
        out[:, start:] += 0.08 * pan[:, None] * env * note
        hit = rng.standard_normal(min(2000, n - start)) * np.exp(-np.arange(min(2000, n - start)) / 300)
        out[:, start : start + hit.size] += 0.05 * hit
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def compute() -> dict[str, str]:
    """Hashes of every golden output."""
    import soundfile as sf

    import mdctcompand as mc
    from mdctcompand import codec
    from mdctcompand.dataset import BuildConfig, build_dataset, read_captions

    out: dict[str, str] = {}
    stereo44 = music(6.0, 44100, 2, 1)
    mono24 = music(4.0, 24000, 1, 2)[0]
    cases = {
        "jpeg-default-44k-stereo": (stereo44, 44100, {}),
        "jpeg-16k-24k-mono": (mono24, 24000, {"bitrate": 16}),
        "jpeg-q40-standard-lr-tiles": (
            stereo44,
            44100,
            {"quality": 40, "qtable": "standard", "stereo": "left-right", "tile_frames": 96},
        ),
        "jpeg-no-tools-48k": (
            stereo44[:, :100000],
            48000,
            {"bitrate": 40, "cell_gains": False, "noise_fill": False, "band_slope": 0.0},
        ),
        "jpeg-rate-quality": (mono24, 24000, {"rate_control": "quality", "bitrate": 24}),
        "png-lossless-44k-stereo": (stereo44, 44100, {"format": "png", "tile_frames": 160}),
        "png-lossless-24k-mono": (mono24, 24000, {"format": "png"}),
        "webp-q30": (mono24, 24000, {"format": "webp", "quality": 30}),
        "webp-bitrate": (stereo44, 44100, {"format": "webp", "bitrate": 48}),
    }
    for name, (audio, rate, options) in cases.items():
        data = codec.encode(audio, rate, **options)
        out[f"codec/{name}"] = _sha(data)
        decoded = codec.decode(data)
        out[f"decoded/{name}"] = _sha(np.ascontiguousarray(decoded.audio, dtype=np.float32).tobytes())
        mmse = codec.decode(data, decoder="mmse") if not name.startswith("png") else None
        if mmse is not None:
            out[f"decoded-mmse/{name}"] = _sha(np.ascontiguousarray(mmse.audio, dtype=np.float32).tobytes())

    converters = {
        "converter-24k-mono": (mc.AudioImageConverter(), mono24, 24000),
        "converter-24k-none": (mc.AudioImageConverter(band_gains="none"), mono24, 24000),
        "converter-44k-ms": (mc.AudioImageConverter("44k", channels="mid-side"), stereo44, 44100),
        "converter-44k-lr-planes": (
            mc.AudioImageConverter(
                "44k", channels=mc.ChannelLayout("left-right", arrangement="planes"), band_gains="none"
            ),
            stereo44,
            44100,
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (conv, audio, rate) in converters.items():
            image = conv.image_from_audio(audio, sample_rate=rate)
            path = Path(tmp) / f"{name}.png"
            conv.save_image(image, path)
            out[f"image/{name}"] = _sha(path.read_bytes())
            back = conv.audio_from_image(image)
            out[f"image-decoded/{name}"] = _sha(np.ascontiguousarray(back, dtype=np.float32).tobytes())

        audio_dir = Path(tmp) / "audio"
        audio_dir.mkdir()
        sf.write(audio_dir / "a.wav", music(12.0, 24000, 1, 3)[0], 24000, subtype="PCM_16")
        sf.write(audio_dir / "b.flac", music(11.0, 44100, 2, 4).T, 44100, subtype="PCM_16")
        (audio_dir / "captions.csv").write_text(
            "audio,caption,split\na.wav,a calm piano,train\nb.flac,a loud drum,test\n"
        )
        for label, config in {
            "mono": BuildConfig(frames=256),
            "stereo-gains": BuildConfig(frames=256, profile="44k", stereo="left-right", band_gains="clip"),
        }.items():
            specs, log = read_captions(audio_dir / "captions.csv")
            dest = Path(tmp) / f"ds-{label}"
            build_dataset(specs, dest, config=config, workers=1, progress=False, log=log)
            for path in sorted(dest.rglob("*")):
                if (
                    path.is_file()
                    and path.suffix in (".png", ".jsonl", ".json")
                    and path.name != "build_log.jsonl"
                ):
                    out[f"dataset-{label}/{path.relative_to(dest).as_posix()}"] = _sha(path.read_bytes())
    return out


def signature() -> dict[str, str]:
    """What the bytes depend on besides the code: the numeric libraries and the CPU's SIMD."""
    import numba
    import PIL
    import scipy
    import soxr

    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - older numpy
        from numpy.core._multiarray_umath import __cpu_features__ as features
    simd = ",".join(sorted(k for k, v in features.items() if v and k.startswith("AVX")))
    return {
        "machine": platform.machine(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "pillow": PIL.__version__,
        "soxr": soxr.__version__,
        "simd": simd,
    }


if __name__ == "__main__":
    hashes = compute()
    if "--write" in sys.argv:
        HASHES.write_text(
            json.dumps({"signature": signature(), "hashes": hashes}, indent=1, sort_keys=True) + "\n"
        )
        print(f"{len(hashes)} hashes written to {HASHES}")
    else:
        json.dump(hashes, sys.stdout, indent=1)
