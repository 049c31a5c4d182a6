"""Re-fit a shipped profile: ``python scripts/fit_default_profile.py --rate 24000|44100|48000 [--corpus DIR]``.

The shipped profiles are fitted on the *train* clips of the seven fit packages of the
multi-genre corpus (:mod:`lab.genre_corpus`, ``benchmarks/lab``: rock stems, a tracker module,
four game soundtracks of other genres); the held-out packages (another rock band, an
electronic soundtrack, recorded voices, synthetic speech) and every test clip stay out.
``--corpus`` names a directory written by ``python -m lab.genre_corpus`` (run from ``benchmarks/``);
without it the corpus is built in a temporary directory (install the packages first:
``apt-get install -y`` followed by the package names in
:data:`lab.genre_corpus.INSTALL_HINT`).

The clips are written at the profile's rate as mono FLAC files and fitted with the
project's own command:

- ``--rate 24000`` (``paper``, ``default_profile.json``): the mono mix, frame 1024::

    mdctcompand profile fit DIR -o mdctcompand/data/default_profile.json --sample-rate 24000 \\
        --frame-length 1024 --min-shape 0.4 --method mle --smoothing 9

- ``--rate 44100`` (``44k``) and ``--rate 48000`` (``48k``): full band, frame 2048 (1024
  bands), the left and right channels as separate clips, otherwise the same.

Profiles that a refit replaces move to ``mdctcompand/data/profiles/ID.json`` (files made
with them keep decoding, by id). The choices (tilt, band gains, the fit's settings) were
made by measurement: ``python -m lab.genres`` prints the leave-one-package-out
table that docs/method.rst quotes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mdctcompand.io import resample, save_audio
from mdctcompand.profile import GGDProfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the lab: benchmarks/lab
from lab.corpus import fit_channels
from lab.genre_corpus import FIT_PACKAGES, INSTALL_HINT, build_corpus, load_corpus

DATA = Path(__file__).resolve().parents[1] / "mdctcompand" / "data"

#: rate -> (frame length, how stereo enters, output file, profile name)
SHIPPED = {
    24000: (1024, "mono", "default_profile.json", "multigenre-24k"),
    44100: (2048, "left-right", "profile_44k.json", "multigenre-44k"),
    48000: (2048, "left-right", "profile_48k.json", "multigenre-48k"),
}
_CHANNEL_WORDS = {"mono": "mono mix", "left-right": "left and right channels as separate clips"}


def write_fit_clips(corpus: Path, directory: Path, *, rate: int, channels: str) -> int:
    """Write the corpus's train clips of the fit packages at ``rate`` as mono FLAC; return the count."""
    train = load_corpus(corpus, "train")
    count = 0
    for package in FIT_PACKAGES:
        for i, clip in enumerate(train.get(package, [])):
            audio = resample(clip.audio, 44100, rate).astype(np.float32) if rate != 44100 else clip.audio
            parts = {"": audio.mean(axis=0)} if channels == "mono" else fit_channels(audio, channels)
            for suffix, mono in parts.items():
                name = f"{package}-{i:02d}{'.' + suffix if suffix else ''}.flac"
                save_audio(directory / name, mono, rate, subtype="PCM_24")
                count += 1
    return count


def fit_command(
    directory: Path, output: Path, *, rate: int, frame_length: int, channels: str, name: str
) -> list[str]:
    """The ``mdctcompand profile fit`` command line that fits one shipped profile."""
    description = (
        f"multi-genre corpus (mdctcompand.bench.genre_corpus): train clips of {', '.join(FIT_PACKAGES)}; "
        f"{rate / 1000:g} kHz, frame {frame_length}, {_CHANNEL_WORDS[channels]}, 10 s clips, RMS -20 dBFS per "
        f"clip; fitted by scripts/fit_default_profile.py --rate {rate}"
    )
    return [
        sys.executable, "-m", "mdctcompand.cli.main", "profile", "fit", str(directory), "-o", str(output), "--force",
        "--sample-rate", str(rate), "--frame-length", str(frame_length), "--min-shape", "0.4", "--method", "mle",
        "--smoothing", "9", "--name", name, "--description", description,
    ]  # fmt: skip


def retire(path: Path) -> None:
    """Keep the profile at ``path`` decodable by id (``data/profiles/ID.json``) before it is replaced."""
    if path.is_file():
        old = GGDProfile.load(path)
        target = DATA / "profiles" / f"{old.id}.json"
        if not target.exists():
            shutil.copyfile(path, target)
            print(f"retired {path.name} as {target.relative_to(DATA.parent.parent)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rate", type=int, choices=sorted(SHIPPED), default=24000, help="profile sample rate"
    )
    parser.add_argument("--corpus", type=Path, help="corpus directory (default: built in a temporary one)")
    parser.add_argument(
        "-o", "--output", type=Path, help="profile JSON (default: the shipped file, old one retired)"
    )
    args = parser.parse_args(argv)
    frame_length, channels, filename, name = SHIPPED[args.rate]
    output = args.output or DATA / filename
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(tmp) / "corpus"
            build_corpus(corpus, packages=FIT_PACKAGES)
        clips = Path(tmp) / "clips"
        clips.mkdir()
        if not write_fit_clips(corpus, clips, rate=args.rate, channels=channels):
            print(f"no train clips in {corpus}; install the packages: {INSTALL_HINT}", file=sys.stderr)
            return 1
        if args.output is None:
            retire(output)
        cmd = fit_command(
            clips, output, rate=args.rate, frame_length=frame_length, channels=channels, name=name
        )
        print(" ".join(cmd))
        return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
