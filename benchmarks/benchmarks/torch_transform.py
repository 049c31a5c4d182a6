"""The tensor transform (mdctcompand.torch) on the CPU, one thread: against the numpy core and torch.stft.

Skipped (NotImplementedError in setup) where PyTorch is not installed.
"""

import numpy as np

import mdctcompand

try:
    import torch

    from mdctcompand import torch as mt
except ImportError as exc:  # the torch extra is not installed
    torch, _MISSING = None, str(exc)


def _require_torch():
    if torch is None:
        raise NotImplementedError(f"mdctcompand.torch is not available: {_MISSING}")
    torch.set_num_threads(1)


class TorchMDCTRoundTrip:
    """60 s at 24 kHz: mdctcompand.torch vs the numpy core vs torch.stft + torch.istft (same frame and hop)."""

    params = ([256, 1024, 4096], ["float32", "float64"])
    param_names = ["frame_length", "dtype"]

    def setup(self, frame_length, dtype):
        _require_torch()
        rng = np.random.default_rng(0)
        self.x = (0.1 * rng.standard_normal(60 * 24000)).astype(dtype)
        self.xt = torch.from_numpy(self.x)
        self.n = self.x.size
        self.t = mt.MDCT(frame_length)
        self.X = self.t(self.xt)
        self.core = mdctcompand.MDCT(frame_length)
        self.core.inverse(self.core.forward(self.x), length=self.n)  # compiles the Numba kernels
        self.frame_length = frame_length
        self.window = torch.from_numpy(mdctcompand.sine_window(frame_length).astype(dtype))

    def time_forward(self, frame_length, dtype):
        self.t(self.xt)

    def time_inverse(self, frame_length, dtype):
        self.t.inverse(self.X, length=self.n)

    def time_roundtrip(self, frame_length, dtype):
        self.t.inverse(self.t(self.xt), length=self.n)

    def time_numpy_core_roundtrip(self, frame_length, dtype):
        self.core.inverse(self.core.forward(self.x), length=self.n)

    def time_stft_istft(self, frame_length, dtype):
        hop = frame_length // 2
        spectrum = torch.stft(self.xt, frame_length, hop, window=self.window, return_complex=True)
        torch.istft(spectrum, frame_length, hop, window=self.window, length=self.n)

    def peakmem_roundtrip(self, frame_length, dtype):
        self.t.inverse(self.t(self.xt), length=self.n)


class TorchConverterRoundTrip:
    """The full 8-bit round trip of 10 s stereo (level, MDCT, compander, decode, inverse)."""

    def setup(self):
        _require_torch()
        rng = np.random.default_rng(1)
        self.x = (0.1 * rng.standard_normal((2, 240000))).astype(np.float32)
        self.xt = torch.from_numpy(self.x)
        self.numpy_conv = mdctcompand.AudioImageConverter()
        self.conv = mt.AudioImageConverter.from_numpy(self.numpy_conv)
        self.codes = self.conv.codes_from_audio(self.xt)
        self.numpy_conv.audio_from_codes(self.numpy_conv.codes_from_audio(self.x))  # Numba compile

    def time_codes_from_audio(self):
        self.conv.codes_from_audio(self.xt)

    def time_audio_from_codes(self):
        self.conv.audio_from_codes(self.codes)

    def time_roundtrip(self):
        self.conv.audio_from_codes(self.conv.codes_from_audio(self.xt))

    def time_numpy_roundtrip(self):
        self.numpy_conv.audio_from_codes(self.numpy_conv.codes_from_audio(self.x))

    def time_decode_model_output(self):
        """Real-valued codes (as a model outputs them) of one 10 s channel: the continuous inverse."""
        self.conv.audio_from_codes(self.codes.codes[0].float())

    def time_numpy_decode_model_output(self):
        """The numpy core's continuous inverse of the same values (issue 28's target: the torch one <= 1.5x)."""
        self.numpy_conv.audio_from_codes(self.codes.codes[0].float().numpy())


def timeraw_import_torch_api():
    return "import mdctcompand.torch"


timeraw_import_torch_api.setup = _require_torch
