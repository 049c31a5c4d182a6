"""The main job on a generated example: ``python -m mdctcompand.demo [--out DIR]``.

Makes 10 s of music-like stereo audio (44.1 kHz WAV), then

1. round-trips it through the MDCT (perfect reconstruction) and the 8-bit transform;
2. encodes it with wav2jpeg (JPEG) and decodes it back, reporting size, bit rate and quality.

Files go to ``--out`` (default: a temporary directory, removed at the end).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import MDCT, AudioImageConverter, codec, metrics
from .testing import make_signal


def example_audio(seconds: float = 10.0, sample_rate: int = 44100) -> np.ndarray:
    """Stereo music-like test audio ``(2, n)``, float32."""
    n = int(seconds * sample_rate)
    left = make_signal("mixture", n, sample_rate, seed=1)
    right = 0.7 * left + 0.3 * make_signal("mixture", n, sample_rate, seed=2)
    return (0.8 * np.stack([left, right])).astype(np.float32)


def run(out_dir: Path) -> None:
    import soundfile as sf

    x = example_audio()
    wav = out_dir / "example.wav"
    sf.write(wav, x.T, 44100, subtype="FLOAT")
    print(f"example audio: {wav} (10.0 s, stereo, 44100 Hz)")

    from .io import resample

    mono24 = resample(x.mean(axis=0), 44100, 24000)
    t = MDCT(1024)
    err = np.max(np.abs(t.inverse(t.forward(mono24), length=mono24.size) - mono24))
    print(f"MDCT round trip (24 kHz, frame 1024): max |error| = {err:.1e}")
    conv = AudioImageConverter()
    enc = conv.codes_from_audio(mono24)
    y = conv.audio_from_codes(enc)
    print(
        f"8-bit transform: image {enc.codes.shape[0]} x {enc.codes.shape[1]} (bands x frames), "
        f"round-trip SNR {metrics.snr(mono24, y):.1f} dB"
    )

    jpg, back = out_dir / "example.jpg", out_dir / "example_decoded.wav"
    info = codec.encode_file(wav, jpg, overwrite=True)
    codec.decode_file(jpg, back, overwrite=True)
    z, sr = sf.read(back, dtype="float32", always_2d=True)
    x24 = resample(x, 44100, 24000)
    z24 = resample(np.ascontiguousarray(z.T), sr, 24000)
    print(
        f"wav2jpeg: {jpg.name} {info.size_bytes} bytes = {info.bitrate_kbps:.1f} kbit/s; decoded {back.name}: "
        f"{z.shape[0]} samples x {z.shape[1]} channels at {sr} Hz, SNR {metrics.snr(x24.ravel(), z24.ravel()):.1f} dB, "
        f"log-spectral distance {metrics.log_spectral_distance(x24.mean(0), z24.mean(0)):.2f} dB (24 kHz band)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", default="mdctcompand-demo", help="directory for the example files, kept (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run(out)
    print(f"the files are in {out}/ (example.wav, example.jpg, example_decoded.wav)")


if __name__ == "__main__":
    main()
