"""evaluate: embedding speed per minute of audio, and the cost of the bootstrap intervals.

The quality side (does it rank like a listener) is the degradation ladder,
``python -m lab.evaluation CORPUS`` (it needs the Debian music packages).
"""

import importlib.util
import warnings

import numpy as np

from mdctcompand.evaluation import SmallSetWarning, compare, embed_clips, get_embedding
from mdctcompand.testing import make_signal


class Embed:
    """One minute of music-like audio at the embedding's rate (ratios: v2 / v1 and musicnn / v2)."""

    params = ["mel-mdct-v1", "mel-mdct-v2", "musicnn"]
    param_names = ["embedding"]

    def setup(self, embedding):
        if embedding == "musicnn" and importlib.util.find_spec("musicnn") is None:
            raise NotImplementedError("musicnn weights not installed (pip install --no-deps musicnn==0.1.0)")
        self.embedding = get_embedding(embedding)
        rate = self.embedding.sample_rate
        self.audio = 0.1 * make_signal("mixture", 60 * rate, rate, seed=1)

    def time_embed_one_minute(self, embedding):
        self.embedding.embed(self.audio)


class Compare:
    """Two sets of 12 clips x 10 s (5,600 frames of 112 values): the distances alone, then with 200 replicates."""

    params = [0, 200]
    param_names = ["bootstrap"]

    def setup(self, bootstrap):
        def clips(offset):
            return [
                (f"c{i}", make_signal("mixture", 240000, 24000, seed=offset + i), 24000) for i in range(12)
            ]

        self.a, self.b = embed_clips(clips(0)), embed_clips(clips(100))

    def time_compare(self, bootstrap):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSetWarning)
            compare(self.a, self.b, bootstrap=bootstrap)

    def track_fd_interval_width(self, bootstrap):
        """Width of the 95 % interval relative to the distance (0 without a bootstrap)."""
        e = compare(self.a, self.b, bootstrap=bootstrap)
        if e.frechet_distance_interval is None:
            return 0.0
        lo, hi = e.frechet_distance_interval
        return float((hi - lo) / max(e.frechet_distance, np.finfo(float).tiny))
