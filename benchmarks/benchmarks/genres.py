"""The 8-bit representation on every genre (lab.genres), and the cost of band gains.

Quality: the held-out packages of the multi-genre corpus (Debian packages; skipped where they
are not installed), 2 clips each, with the shipped profiles (fitted without them). Speed and
memory: the 8-bit round trip of 10 s with and without band gains (generated audio).
"""

import numpy as np

import mdctcompand
from lab import genre_corpus, genres
from mdctcompand.testing import make_signal


class HeldOutQuality:
    """Median and worst-clip SNR, median LSD of the held-out packages, per setting and band-gain mode."""

    params = (["24k", "44k-ms"], ["clip", "none"])
    param_names = ["setting", "band_gains"]
    timeout = 600

    def setup_cache(self):
        clips = {}
        for package in genre_corpus.HOLDOUT_PACKAGES:
            tracks = genre_corpus.package_tracks(package)
            if tracks:
                test, _ = genre_corpus.split_clips(tracks[:2], n_test=2, n_train=0)
                clips[package] = test
        return clips

    def setup(self, clips, setting, band_gains):
        if not clips:
            raise NotImplementedError(f"no held-out package installed ({genre_corpus.INSTALL_HINT})")
        s = genres.SETTINGS[setting]
        conv = mdctcompand.AudioImageConverter.for_sample_rate(
            s.sample_rate, band_gains=band_gains, channels="mono" if s.layout == "mono" else s.layout
        )
        scores = [genres.score_clip(conv, s.audio(c), s.sample_rate) for cs in clips.values() for c in cs]
        self.scores = np.array(scores)

    def track_median_snr(self, clips, setting, band_gains):
        return float(np.median(self.scores[:, 0]))

    track_median_snr.unit = "dB"

    def track_worst_snr(self, clips, setting, band_gains):
        return float(self.scores[:, 0].min())

    track_worst_snr.unit = "dB"

    def track_median_lsd(self, clips, setting, band_gains):
        return float(np.median(self.scores[:, 1]))

    track_median_lsd.unit = "dB"


class BandGainCost:
    """10 s 8-bit round trip (codes and back) with and without band gains: time and peak memory."""

    params = (["24k", "44k-stereo"], ["clip", "none"])
    param_names = ["setting", "band_gains"]

    def setup(self, setting, band_gains):
        rate = 24000 if setting == "24k" else 44100
        x = make_signal("mixture", 10 * rate, rate, seed=1).astype(np.float32)
        self.x = x if setting == "24k" else np.stack([x, np.roll(x, 99)])
        self.conv = mdctcompand.AudioImageConverter.for_sample_rate(rate, band_gains=band_gains)
        self.enc = self.conv.codes_from_audio(self.x)
        self.conv.audio_from_codes(self.enc)  # compile and warm the tables

    def time_round_trip(self, setting, band_gains):
        self.conv.audio_from_codes(self.conv.codes_from_audio(self.x))

    def time_measure_band_gains(self, setting, band_gains):
        self.conv.measure_band_gains(self.conv.mdct.forward(self.x))

    def peakmem_round_trip(self, setting, band_gains):
        self.conv.audio_from_codes(self.conv.codes_from_audio(self.x))
