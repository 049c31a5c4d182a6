"""Side information and noise filling on a 10 s tile (512 bands x 472 frames): what the levers cost."""

import numpy as np

import mdctcompand
from mdctcompand import spectral_coding as sc


class Levers:
    """The per-tile work of the band-level levers: 19 band groups x 236 cells of 2 frames."""

    def setup(self):
        from mdctcompand.testing import make_signal

        x = make_signal("mixture", 240000, seed=1).astype(np.float32)
        self.c = mdctcompand.MDCT(1024).forward(x)
        self.edges = sc.band_group_edges(512, sample_rate=24000)
        self.rms = sc.cell_rms(self.c, self.edges, frames_per_group=2)
        self.idx = sc.quantize_levels(self.rms, step_db=3.0)
        self.data = sc.pack_levels(self.idx)
        self.lossy = np.where(np.abs(self.c) > np.median(np.abs(self.c)), self.c, 0).astype(np.float32)

    def time_cell_rms(self):
        sc.cell_rms(self.c, self.edges, frames_per_group=2)

    def time_pack_levels(self):
        sc.pack_levels(self.idx)

    def time_unpack_levels(self):
        sc.unpack_levels(self.data, self.idx.shape)

    def time_noise_fill(self):
        sc.noise_fill(self.lossy, self.rms, self.edges, frames_per_group=2, min_loss=0.3)

    def track_side_information_kbps(self):
        return len(self.data) * 8 / 10 / 1000

    track_side_information_kbps.unit = "kbit/s"
