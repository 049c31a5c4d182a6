"""Several processes encoding and decoding into one folder at once: every output whole, none lost."""

import subprocess
import sys

import numpy as np
import soundfile as sf

from mdctcompand import codec
from mdctcompand.testing import make_signal

_ENCODE = "import sys; from mdctcompand.cli.wav2jpeg import main_encode; sys.exit(main_encode(sys.argv[1:]))"
_DECODE = "import sys; from mdctcompand.cli.wav2jpeg import main_decode; sys.exit(main_decode(sys.argv[1:]))"


def _start(script, *args):
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args), "-q"], stderr=subprocess.PIPE)


def test_concurrent_encoders_and_decoders_into_one_folder(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    lengths = {}
    for i in range(8):
        n = 8000 * (2 + i % 3) + 17 * i
        sf.write(src / f"s{i}.wav", make_signal("mixture", n, 8000, seed=i), 8000, subtype="PCM_16")
        lengths[f"s{i}"] = n
    # four encoders, each with its share of the files, into one folder; and two more racing for one name
    encoders = [
        _start(_ENCODE, *[src / f"s{i}.wav" for i in range(k, 8, 4)], "--output-dir", out) for k in range(4)
    ]
    racers = [_start(_ENCODE, src / "s0.wav", "-o", out / "race.jpg") for _ in range(2)]
    assert [p.wait(timeout=300) for p in encoders] == [0] * 4
    race = sorted(p.wait(timeout=300) for p in racers)
    assert race == [0, 1]  # one wins; the other is refused, before it starts or when it would publish
    # then four decoders of those images, again into one folder, while an encoder keeps writing there
    decoders = [
        _start(_DECODE, *[out / f"s{i}.jpg" for i in range(k, 8, 4)], "--output-dir", out) for k in range(4)
    ]
    writer = _start(_ENCODE, src / "s1.wav", "-o", out / "extra.png")
    assert [p.wait(timeout=300) for p in decoders] + [writer.wait(timeout=300)] == [0] * 5
    for name, n in lengths.items():
        y, rate = sf.read(out / f"{name}.decoded.wav")
        assert rate == 8000 and y.shape == (n,) and np.all(np.isfinite(y))
    assert codec.read_info(out / "race.jpg").source_length == lengths["s0"]
    assert codec.decode(out / "extra.png").audio.shape == (lengths["s1"],)
    assert not [p.name for p in out.iterdir() if p.name.endswith(".part")]  # nothing half-written left
