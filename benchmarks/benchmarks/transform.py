"""MDCT speed: the transform against the scipy DCT-IV floor and a plain-numpy MDCT."""

import numpy as np

import mdctcompand
from lab import peers


class MDCTRoundTrip:
    params = ([256, 1024, 4096], ["float32", "float64"])
    param_names = ["frame_length", "dtype"]

    def setup(self, frame_length, dtype):
        rng = np.random.default_rng(0)
        self.x = (0.1 * rng.standard_normal(60 * 24000)).astype(dtype)
        self.t = mdctcompand.MDCT(frame_length)
        self.X = self.t.forward(self.x)  # compiles the Numba kernels outside the timings
        self.t.inverse(self.X, length=self.x.size)
        self.frames = np.ascontiguousarray(np.swapaxes(self.X, -1, -2))
        self.w = self.t.window.astype(dtype)

    def time_forward(self, frame_length, dtype):
        self.t.forward(self.x)

    def time_inverse(self, frame_length, dtype):
        self.t.inverse(self.X, length=self.x.size)

    def time_roundtrip(self, frame_length, dtype):
        self.t.inverse(self.t.forward(self.x), length=self.x.size)

    def time_floor_two_dct4(self, frame_length, dtype):
        peers.dct_floor(self.frames)

    def time_numpy_roundtrip(self, frame_length, dtype):
        peers.numpy_imdct(peers.numpy_mdct(self.x, self.w), self.w, self.x.size)

    def peakmem_roundtrip(self, frame_length, dtype):
        self.t.inverse(self.t.forward(self.x), length=self.x.size)


class MDCTStereo44k:
    """Issue 26's second setting: 60 s of 44.1 kHz stereo, frame 2048, float32, against its floor."""

    def setup(self):
        rng = np.random.default_rng(0)
        self.x = (0.1 * rng.standard_normal((2, 60 * 44100))).astype(np.float32)
        self.t = mdctcompand.MDCT(2048)
        self.X = self.t.forward(self.x)
        self.t.inverse(self.X, length=self.x.shape[-1])
        self.frames = np.ascontiguousarray(np.swapaxes(self.X, -1, -2))

    def time_roundtrip(self):
        self.t.inverse(self.t.forward(self.x), length=self.x.shape[-1])

    def time_floor_two_dct4(self):
        peers.dct_floor(self.frames)


class MDCTThreads:
    params = [1, 2]
    param_names = ["workers"]

    def setup(self, workers):
        self.x = (0.1 * np.random.default_rng(0).standard_normal((8, 240000))).astype(np.float32)
        self.t = mdctcompand.MDCT(1024, workers=workers)
        self.t.inverse(self.t.forward(self.x), length=240000)

    def time_batch_roundtrip(self, workers):
        self.t.inverse(self.t.forward(self.x), length=240000)


def timeraw_import():
    return "import mdctcompand"


def timeraw_import_and_first_transform():
    return """
    import numpy as np, mdctcompand
    t = mdctcompand.MDCT(1024)
    t.inverse(t.forward(np.zeros(24000, np.float32)), length=24000)
    """
