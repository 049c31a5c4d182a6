"""Start-up: what one command-line call costs before and around its work (each sample a fresh interpreter).

Issue 26's target: ``wav2jpeg`` / ``jpeg2wav`` on a short clip within 2x of the bare imports
``numpy, PIL.Image, soundfile`` (the libraries any audio-to-image tool loads; scipy is the
codec's own cost and counts against it), in process CPU time. ``timeraw_*`` time the statement
in a new process (interpreter start-up itself excluded); ``track_*_over_bare_imports`` give the
median CPU-time ratio of interleaved whole-process runs.
"""

import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

from mdctcompand.testing import make_signal

_DIR = os.path.join(tempfile.gettempdir(), "mdctcompand-asv-startup")
_CLIP = os.path.join(_DIR, "clip10.wav")
_IMAGE = os.path.join(_DIR, "clip10.jpg")
BARE = "import numpy, PIL.Image, soundfile"
ENCODE = f"from mdctcompand.cli.wav2jpeg import main_encode\nmain_encode([{_CLIP!r}, '-o', {_IMAGE!r}, '--force', '-q'])"
DECODE = (
    "from mdctcompand.cli.wav2jpeg import main_decode\n"
    f"main_decode([{_IMAGE!r}, '-o', {os.path.join(_DIR, 'back.wav')!r}, '--force', '-q'])"
)


def _prepare():
    """A 10 s 44.1 kHz stereo 16-bit clip and its image (written once, reused by every sample)."""
    os.makedirs(_DIR, exist_ok=True)
    if not os.path.exists(_CLIP):
        x = np.stack(
            [make_signal("mixture", 441000, 44100, 1), 0.5 * make_signal("mixture", 441000, 44100, 2)]
        )
        sf.write(_CLIP, x.T, 44100, subtype="PCM_16")
    subprocess.run([sys.executable, "-c", ENCODE], check=True)


class Startup:
    """Fresh-process times of imports and of one call on a 10 s clip."""

    def setup(self):
        _prepare()

    def timeraw_bare_imports(self):
        return BARE

    def timeraw_import_mdctcompand(self):
        return "import mdctcompand"

    def timeraw_import_cli(self):
        return "import mdctcompand.cli.wav2jpeg"

    def timeraw_import_umbrella_cli(self):
        """``mdctcompand``'s parser loads every subcommand's module: all of them stay numpy-free."""
        return "import mdctcompand.cli.main"

    def timeraw_wav2jpeg_10s(self):
        return ENCODE

    def timeraw_jpeg2wav_10s(self):
        return DECODE


def _cpu_seconds(code):
    """CPU time (user + system) of a fresh process running ``code``."""
    before = os.times()
    subprocess.run([sys.executable, "-c", code], check=True, stderr=subprocess.DEVNULL)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def _ratio(code, rounds=5):
    """Median over interleaved rounds of (CPU time of a process running ``code``) / (CPU time of the bare imports)."""
    return statistics.median(_cpu_seconds(code) / _cpu_seconds(BARE) for _ in range(rounds))


class StartupRatio:
    """Issue 26's target as a number: a call's whole-process CPU time over the bare imports' (<= 2)."""

    timeout = 300

    def setup(self):
        _prepare()

    def track_wav2jpeg_over_bare_imports(self):
        return _ratio(ENCODE)

    track_wav2jpeg_over_bare_imports.unit = "ratio"

    def track_jpeg2wav_over_bare_imports(self):
        return _ratio(DECODE)

    track_jpeg2wav_over_bare_imports.unit = "ratio"
