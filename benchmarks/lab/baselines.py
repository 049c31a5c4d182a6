"""Log-mel spectrogram (LMMS) + vocoder baselines, for comparison with the companded MDCT.

Needs the ``bench`` extra (librosa); never imported by ``import mdctcompand``.

Each pipeline is an object with ``roundtrip(x) -> y`` (same length, same rate), a
``learned_parameters`` count and the list of its ``tunable_settings`` (for the "design
complexity" column of the report):

- :class:`LMMSGriffinLim`: power mel spectrogram (n_fft 2048, 512 mels, hop 256 or 512),
  inverted by librosa's ``mel_to_audio`` (NNLS to a linear spectrogram, then 32 Griffin-Lim
  iterations): the Riffusion / teticio audio-diffusion setting.
- ``quantize="riffusion"``: the LMMS stored as Riffusion stores it, an 8-bit image of
  ``(power in dB, clipped 80 dB below the peak) ** 0.25`` scaled to 0..255.
- :class:`CompandedMDCT`: this library's 8-bit transform (optionally the paper's settings:
  c = 1, round()).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdctcompand.compand import DEFAULT_ROUNDING, DEFAULT_TILT
from mdctcompand.converter import AudioImageConverter
from mdctcompand.profile import load_profile

__all__ = ["CompandedMDCT", "LMMSGriffinLim", "pipelines"]


def _librosa():
    try:
        import librosa
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("the LMMS baselines need librosa: pip install librosa (or the 'bench' extra)") from exc
    return librosa


@dataclass
class LMMSGriffinLim:
    """Log-mel spectrogram analysis, optional 8-bit storage, and NNLS + Griffin-Lim synthesis."""

    sample_rate: int = 24000
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 512
    n_iter: int = 32
    quantize: str | None = None  # None (float32) or "riffusion" (8-bit image)
    top_db: float = 80.0
    power_for_image: float = 0.25
    name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.name:
            q = "8-bit (Riffusion)" if self.quantize == "riffusion" else "float"
            self.name = f"LMMS {q} + Griffin-Lim {self.n_iter} it (hop {self.hop_length})"

    learned_parameters: int = 0

    @property
    def tunable_settings(self) -> list[str]:
        """Settings a user of the pipeline has to choose."""
        base = [
            "n_fft",
            "hop_length",
            "n_mels",
            "fmin/fmax",
            "mel norm",
            "window",
            "n_iter",
            "momentum",
            "init",
        ]
        return base + (["top_db", "image power", "max value"] if self.quantize else [])

    def analyze(self, x: np.ndarray) -> np.ndarray:
        """Mel power spectrogram ``(n_mels, frames)`` (or its 8-bit image if ``quantize``)."""
        librosa = _librosa()
        mel = librosa.feature.melspectrogram(
            y=np.asarray(x, dtype=np.float32), sr=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
            n_mels=self.n_mels, power=2.0,
        )  # fmt: skip
        if self.quantize != "riffusion":
            return mel
        db = librosa.power_to_db(mel, ref=np.max, top_db=self.top_db)  # 0 .. -top_db
        img = ((db + self.top_db) / self.top_db) ** self.power_for_image
        self._ref = float(mel.max())
        return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)

    def synthesize(self, spec: np.ndarray, length: int) -> np.ndarray:
        """Invert :meth:`analyze` to ``length`` samples."""
        librosa = _librosa()
        if spec.dtype == np.uint8:
            db = (spec.astype(np.float64) / 255) ** (1 / self.power_for_image) * self.top_db - self.top_db
            spec = librosa.db_to_power(db, ref=self._ref)
        y = librosa.feature.inverse.mel_to_audio(
            spec.astype(np.float32), sr=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
            n_iter=self.n_iter, length=length,
        )  # fmt: skip
        return y.astype(np.float32)

    def roundtrip(self, x: np.ndarray) -> np.ndarray:
        return self.synthesize(self.analyze(x), x.shape[-1])


@dataclass
class CompandedMDCT:
    """This library's 8-bit transform as a pipeline (``tilt=1, rounding="round"`` is the paper's)."""

    tilt: float = DEFAULT_TILT
    rounding: str = DEFAULT_ROUNDING
    name: str = ""
    learned_parameters: int = 0
    profile: Any = None  # a GGDProfile, a shipped profile's name or a file; None: the paper's

    def __post_init__(self) -> None:
        self.converter = AudioImageConverter(load_profile(self.profile), tilt=self.tilt, rounding=self.rounding)
        if not self.name:
            paper = self.tilt == 1.0 and self.rounding == "round"
            self.name = f"companded MDCT 8-bit, c={self.tilt:g}, {self.rounding}" + (
                " (paper)" if paper else ""
            )
            if self.profile is not None:
                p = self.converter.profile
                self.name += f", {p.sample_rate / 1000:g} kHz {p.n_bands} bands"

    @property
    def tunable_settings(self) -> list[str]:
        return ["frame_length", "window", "tilt c", "level"]

    def roundtrip(self, x: np.ndarray) -> np.ndarray:
        return self.converter.audio_from_codes(self.converter.codes_from_audio(x))


def pipelines() -> list:
    """The pipelines of the report: ours (default and paper settings) and the LMMS baselines."""
    return [
        CompandedMDCT(),
        CompandedMDCT(tilt=1.0, rounding="round"),
        LMMSGriffinLim(hop_length=512),
        LMMSGriffinLim(hop_length=256),
        LMMSGriffinLim(hop_length=512, quantize="riffusion"),
    ]
