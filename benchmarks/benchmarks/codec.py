"""wav2jpeg: speed of file round trips and rate-distortion figures."""

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from mdctcompand import FormatError, codec, metrics
from mdctcompand.testing import make_signal

from .compand import _clips


class FileRoundTrip:
    """10 s 44.1 kHz stereo WAV -> JPEG -> WAV, end to end with file I/O."""

    def setup(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = Path(self.tmp.name)
        x = np.stack(
            [make_signal("mixture", 441000, 44100, 1), 0.5 * make_signal("mixture", 441000, 44100, 2)]
        )
        self.wav, self.img, self.out = d / "in.wav", d / "x.jpg", d / "out.wav"
        sf.write(self.wav, x.T, 44100, subtype="PCM_16")
        codec.encode_file(self.wav, self.img, overwrite=True)
        codec.decode_file(self.img, self.out, overwrite=True)

    def teardown(self):
        self.tmp.cleanup()

    def time_encode_file(self):
        codec.encode_file(self.wav, self.img, overwrite=True)

    def time_decode_file(self):
        codec.decode_file(self.img, self.out, overwrite=True)

    def peakmem_encode_file(self):
        codec.encode_file(self.wav, self.img, overwrite=True)

    def peakmem_decode_file(self):
        codec.decode_file(self.img, self.out, overwrite=True)


class InMemory:
    """10 s 44.1 kHz stereo array -> JPEG bytes -> array (no file I/O)."""

    def setup(self):
        self.x = np.stack(
            [make_signal("mixture", 441000, 44100, 1), 0.5 * make_signal("mixture", 441000, 44100, 2)]
        ).astype(np.float32)
        self.data = codec.encode(self.x, 44100)
        codec.decode(self.data)

    def time_encode(self):
        codec.encode(self.x, 44100)

    def time_decode(self):
        codec.decode(self.data)


def _fuzzing():
    """The test suite's fuzzing helper, ``tests/fuzzing.py`` of this checkout (not a package module)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "tests" / "fuzzing.py"
    if not path.is_file():
        raise NotImplementedError(f"{path} is not there (the hostile cases come from the test suite)")
    spec = importlib.util.spec_from_file_location("fuzzing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class HostileFiles:
    """Refusing decompression bombs and crafted headers stays cheap (the cases of ``tests/fuzzing.py``)."""

    def setup(self):
        fuzz = _fuzzing()

        self.bomb = dict(fuzz.hostile_containers())["APNG 8 frames of 67 M pixels"]
        self.deep = dict(fuzz.crafted_cases())["header deep JSON array"]

    def _refuse(self, data):
        try:
            codec.decode(data)
        except FormatError:
            return
        raise AssertionError("decoded a hostile file")

    def time_refuse_apng_bomb(self):
        self._refuse(self.bomb)

    def peakmem_refuse_apng_bomb(self):
        self._refuse(self.bomb)

    def time_refuse_deep_json(self):
        self._refuse(self.deep)


class RateDistortion:
    params = [10, 25, 50, 75]
    param_names = ["jpeg_quality"]
    timeout = 300

    def setup_cache(self):
        clips = [c.astype(np.float32) for c in _clips(1)]
        out = {}
        for q in self.params:
            rows = []
            for x in clips:
                data = codec.encode(x, 24000, quality=q)
                y = codec.decode(data).audio
                rows.append(
                    (
                        len(data) * 8 / (x.size / 24000) / 1000,
                        metrics.snr(x, y),
                        metrics.log_spectral_distance(x, y),
                    )
                )
            out[q] = np.median(np.array(rows), axis=0).tolist()
        return out

    def track_kbps(self, results, q):
        return results[q][0]

    track_kbps.unit = "kbit/s"

    def track_snr(self, results, q):
        return results[q][1]

    track_snr.unit = "dB"

    def track_lsd(self, results, q):
        return results[q][2]

    track_lsd.unit = "dB"


class RateControl:
    """Format version 3 at its default settings (tilt by rate): the rate lands on the target; LSD (floor at
    the peak) and SNR, which the smaller tilt from 32 kbit/s trades against each other."""

    params = [16, 24, 32, 48]
    param_names = ["kbps"]
    timeout = 300

    def setup_cache(self):
        clips = [c.astype(np.float32) for c in _clips(1)]
        out = {}
        for r in self.params:
            rows = []
            for x in clips:
                data = codec.encode(x, 24000, bitrate=r)
                y = codec.decode(data).audio
                kbps = len(data) * 8 / (x.size / 24000) / 1000
                rows.append(
                    (kbps, metrics.log_spectral_distance(x, y, floor_reference="peak"), metrics.snr(x, y))
                )
            out[r] = np.median(np.array(rows), axis=0).tolist()
        return out

    def track_kbps(self, results, r):
        return results[r][0]

    track_kbps.unit = "kbit/s"

    def track_lsd(self, results, r):
        return results[r][1]

    track_lsd.unit = "dB"

    def track_snr(self, results, r):
        return results[r][2]

    track_snr.unit = "dB"
