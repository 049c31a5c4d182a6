"""Side information and noise filling on a 10 s tile (512 bands x 472 frames): what the levers cost."""

import numpy as np

import mdctcompand
from mdctcompand import band_gains
from mdctcompand.codec import cells, jpeg


class Levers:
    """The per-tile work of the band-level levers: 19 band groups x 236 cells of 2 frames."""

    def setup(self):
        from mdctcompand.testing import make_signal

        x = make_signal("mixture", 240000, seed=1).astype(np.float32)
        self.c = mdctcompand.MDCT(1024).forward(x)
        self.edges = band_gains.band_group_edges(512, sample_rate=24000)
        self.rms = cells.cell_rms(self.c, self.edges, frames_per_group=2)
        self.idx = cells.quantize_levels(self.rms, step_db=3.0)
        self.data = cells.pack_levels(self.idx)
        self.lossy = np.where(np.abs(self.c) > np.median(np.abs(self.c)), self.c, 0).astype(np.float32)

    def time_cell_rms(self):
        cells.cell_rms(self.c, self.edges, frames_per_group=2)

    def time_pack_levels(self):
        cells.pack_levels(self.idx)

    def time_unpack_levels(self):
        cells.unpack_levels(self.data, self.idx.shape)

    def time_noise_fill(self):
        cells.noise_fill(self.lossy, self.rms, self.edges, frames_per_group=2, min_loss=0.3)

    def track_side_information_kbps(self):
        return len(self.data) * 8 / 10 / 1000

    track_side_information_kbps.unit = "kbit/s"


class JpegDeadZone:
    """The JPEG dead zone on a 10 s tile of codes (280 rows x 469 frames, as at 24 kbit/s):
    the tile's DCT once, then the pixels for one table (rate control tries about six), beside
    libjpeg's own encoding of the tile."""

    def setup(self):
        import io

        from PIL import Image

        rng = np.random.default_rng(0)
        self.codes = np.clip(np.round(128 + 15 * rng.laplace(size=(280, 469))), 0, 255).astype(np.uint8)
        self.table = jpeg.jpeg_qtable(np.ones((8, 8)), 20.0)
        self.dz = jpeg.JpegDeadZone(self.codes, deadzone=0.05)
        self._io, self._image = io, Image

    def time_dct_once(self):
        jpeg.JpegDeadZone(self.codes, deadzone=0.05)

    def time_pixels_for_one_table(self):
        self.dz.pixels(self.table)

    def time_libjpeg_encode(self):
        buf = self._io.BytesIO()
        self._image.fromarray(self.codes, "L").save(buf, "JPEG", qtables=[self.table], optimize=True)

    def track_bytes_saved_percent(self):
        def size(pixels):
            buf = self._io.BytesIO()
            self._image.fromarray(pixels, "L").save(buf, "JPEG", qtables=[self.table], optimize=True)
            return buf.tell()

        return 100 * (1 - size(self.dz.pixels(self.table)) / size(self.codes))

    track_bytes_saved_percent.unit = "%"
