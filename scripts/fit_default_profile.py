"""Re-fit the shipped default profile: ``python scripts/fit_default_profile.py``.

Mixes the stems of the four ``muldjord`` songs (Debian ``fretsonfire-songs-muldjord``)
into 24 kHz FLAC files in a temporary directory and runs the project's own command on
them, writing ``mdctcompand/data/default_profile.json``:

    mdctcompand profile fit DIR -o mdctcompand/data/default_profile.json --method mle --smoothing 9

The ``sectoid`` songs stay out of the fit: they are the held-out evaluation set. Install the
songs with ``apt-get install -y fretsonfire-songs-muldjord fretsonfire-songs-sectoid``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from mdctcompand.bench.corpus import INSTALL_HINT, fretsonfire_songs
from mdctcompand.io import save_audio

OUTPUT = Path(__file__).resolve().parents[1] / "mdctcompand" / "data" / "default_profile.json"


def main() -> int:
    songs = fretsonfire_songs(held_out=False)
    if not songs:
        print(f"the fretsonfire songs are not installed; run: {INSTALL_HINT}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for song in songs:
            save_audio(Path(tmp) / f"{song.name}.flac", song.load(sample_rate=24000), 24000, subtype="PCM_24")
        cmd = [
            sys.executable, "-m", "mdctcompand.cli.main", "profile", "fit", tmp,
            "-o", str(OUTPUT), "--force", "--method", "mle", "--smoothing", "9",
            "--name", "fretsonfire-muldjord",
            "--description", "Debian fretsonfire-songs-muldjord, 4 songs (stems mixed), 24 kHz mono, 10 s clips, "
            "RMS -20 dBFS per clip; fitted by scripts/fit_default_profile.py",
        ]  # fmt: skip
        print(" ".join(cmd))
        return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
