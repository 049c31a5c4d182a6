"""Per-band GGD profiles: the shape and scale of every MDCT band, with their geometry.

A :class:`GGDProfile` belongs to one transform geometry (sample rate, frame length,
window) and one level normalization; using it with another geometry raises
:class:`~mdctcompand.ProfileMismatchError`. Profiles are saved as versioned JSON and
identified by a content hash (:attr:`GGDProfile.id`), which is what encoded files record.

The package ships profiles fitted with ``mdctcompand profile fit`` on a multi-genre corpus of
real music (``lab.genre_corpus`` in ``benchmarks/lab``, ``scripts/fit_default_profile.py``),
selected by a short name (:func:`load_profile`, :func:`shipped_profiles`) or by the input's
sample rate (:func:`profile_for_rate`):

==========  =========================  ===========  ===========================================
name        aliases                    sample rate  geometry
==========  =========================  ===========  ===========================================
``paper``   ``default``, ``24k``       24 kHz       frame 1024: 512 bands of 23.4 Hz, 0-12 kHz
``44k``     ``44.1k``, ``44100``       44.1 kHz     frame 2048: 1024 bands of 21.5 Hz, full band
``48k``     ``48000``                  48 kHz       frame 2048: 1024 bands of 23.4 Hz, full band
==========  =========================  ===========  ===========================================

``paper`` (also :func:`default_profile`) keeps the paper's settings; ``44k`` and ``48k`` keep
the whole band of 44.1 and 48 kHz audio.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import check_int
from .exceptions import ParameterError, ProfileMismatchError
from .ggd import SHAPE_BRACKET
from .windows import window_name

__all__ = [
    "AUTO_RATE_RANGE",
    "DEFAULT_MAX_ROLLOFF",
    "MAX_RESAMPLE_RATIO",
    "PROFILE_FORMAT_VERSION",
    "GGDProfile",
    "LevelMeter",
    "LevelSpec",
    "default_profile",
    "load_profile",
    "check_rate_served",
    "profile_for_rate",
    "shipped_aliases",
    "shipped_profile",
    "shipped_profiles",
]

PROFILE_FORMAT_VERSION = 1
_FORMAT = "mdctcompand.GGDProfile"
_DATA = Path(__file__).with_name("data")
_DEFAULT_PATH = _DATA / "default_profile.json"
#: Shipped profiles by name: file in ``mdctcompand/data``.
_SHIPPED_FILES = {
    "paper": "default_profile.json",
    "44k": "profile_44k.json",
    "48k": "profile_48k.json",
}
#: Other spellings of the shipped names (matched case-insensitively, like the names).
_ALIASES = {
    "default": "paper",
    "24k": "paper",
    "24000": "paper",
    "44.1k": "44k",
    "44100": "44k",
    "48000": "48k",
}
#: Input sample rates (Hz) that :func:`profile_for_rate` serves with a shipped profile.
AUTO_RATE_RANGE = (8000, 192000)
#: Largest ratio between an input's rate and its profile's (either way) that is resampled;
#: beyond it :func:`check_rate_served` refuses the input (nothing of the band would be left
#: to fill, or almost all of it would be discarded).
MAX_RESAMPLE_RATIO = 32
#: Steepest decline (dB per octave) of the band standard deviations that :meth:`GGDProfile.from_statistics`
#: keeps (see :meth:`GGDProfile.with_max_rolloff`). Music rolls off more gently; steeper cliffs
#: come from the fitting corpus's encoders and resamplers (the muldjord OGGs hold nothing above
#: about 19.5 kHz), and a band fitted on such a cliff overloads on audio that has energy there.
DEFAULT_MAX_ROLLOFF = 48.0
#: Profiles shipped by earlier releases, kept so that their files still decode (named ID.json).
_RETIRED_DIR = _DATA / "profiles"
_ID_PATTERN = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class LevelSpec:
    """How a clip's level is normalized before companding.

    ``mode="rms"`` scales each clip (per channel) to ``target_db`` dBFS RMS, ``"peak"`` to
    ``target_db`` dBFS peak, and ``"none"`` keeps the absolute level. The gain is capped at
    ``max_gain_db`` so that near-silent clips are not blown up into noise; digital silence
    gets the cap (its codes sit mid-range, and decoding divides their small offsets by it).

    Examples
    --------
    >>> spec = LevelSpec.parse("rms:-20")
    >>> spec
    LevelSpec(mode='rms', target_db=-20.0, max_gain_db=60.0)
    >>> str(spec)
    'rms:-20'
    >>> float(spec.gain(np.full(100, 0.01)))  # -40 dBFS RMS up to -20: x10
    10.0
    """

    mode: str = "rms"
    target_db: float = -20.0
    max_gain_db: float = 60.0

    def __post_init__(self) -> None:
        if self.mode not in ("rms", "peak", "none"):
            raise ParameterError(f"level mode {self.mode!r} must be 'rms', 'peak' or 'none'")
        if not np.isfinite(self.target_db) or not np.isfinite(self.max_gain_db):
            raise ParameterError("level target and gain cap must be finite")

    @classmethod
    def parse(cls, spec: str | LevelSpec | None) -> LevelSpec:
        """From ``"rms"``, ``"rms:-18"``, ``"peak:-1"``, ``"none"`` or a LevelSpec.

        Examples
        --------
        >>> LevelSpec.parse("peak:-3")
        LevelSpec(mode='peak', target_db=-3.0, max_gain_db=60.0)
        """
        if isinstance(spec, LevelSpec):
            return spec
        if spec is None:
            return cls()
        if not isinstance(spec, str):
            raise ParameterError(f"level={spec!r} must be a string like 'rms:-20', 'peak:-1' or 'none'")
        mode, _, target = spec.partition(":")
        mode = mode.strip().lower()
        if mode == "none":
            return cls("none", 0.0)
        default = -20.0 if mode == "rms" else -1.0
        try:
            value = float(target) if target else default
        except ValueError as exc:
            raise ParameterError(f"level={spec!r}: {target!r} is not a number of dB") from exc
        return cls(mode, value)

    def __str__(self) -> str:
        return "none" if self.mode == "none" else f"{self.mode}:{self.target_db:g}"

    def gain(self, audio: np.ndarray) -> np.ndarray:
        """Gain per leading index of ``audio (..., n)`` that brings it to the target level.

        Examples
        --------
        >>> LevelSpec.parse("peak:0").gain(np.array([[0.5, -0.25], [0.1, 0.0]])).tolist()
        [2.0, 10.0]
        """
        x = np.asarray(audio)
        if self.mode == "none":
            return np.ones(x.shape[:-1])
        # No temporaries (fresh multi-megabyte arrays cost more in page faults than the maths).
        if self.mode == "rms":
            level = np.sqrt(_sum_of_squares(x) / max(x.shape[-1], 1))
        else:
            level = np.maximum(x.max(axis=-1), -x.min(axis=-1)).astype(np.float64)
        return self._gain_from_level(level)

    def meter(self, channels: int) -> LevelMeter:
        """A :class:`LevelMeter`: this level of a ``(channels, n)`` signal pushed in blocks.

        Examples
        --------
        >>> meter = LevelSpec.parse("peak:0").meter(2)
        >>> meter.add(np.array([[0.25, -0.5], [0.1, 0.0]]))
        >>> meter.gain()
        2.0
        """
        return LevelMeter(self, channels)

    def _gain_from_level(self, level: np.ndarray) -> np.ndarray:
        target = 10.0 ** (self.target_db / 20.0)
        cap = 10.0 ** (self.max_gain_db / 20.0)
        with np.errstate(divide="ignore"):
            g = np.where(level > 0, target / np.where(level > 0, level, 1.0), cap)
        return np.minimum(g, cap)


#: Samples per dot product in the level's sum of squares (its float32 rounding depends on it).
_SQUARES_BLOCK = 1 << 16


class LevelMeter:
    """The level of a ``(channels, n)`` signal that arrives in blocks, all channels together, without holding it.

    What the codec measures over each tile. Made by :meth:`LevelSpec.meter`. ``"rms"`` adds
    each channel's sum of squares (float32 dots of its 65,536-sample blocks, summed in float64,
    so the result does not depend on how the signal was cut into blocks) in channel order: the
    gain of the channels' concatenation, :meth:`LevelSpec.gain`, to the float32 dots' rounding
    (about 1e-8). ``"peak"`` is exact.

    Examples
    --------
    >>> spec = LevelSpec.parse("rms:-20")
    >>> x = np.random.default_rng(0).standard_normal((2, 200_000)).astype(np.float32)
    >>> meter = spec.meter(2)
    >>> for a in range(0, 200_000, 70_000):
    ...     meter.add(x[:, a : a + 70_000])
    >>> bool(np.isclose(meter.gain(), spec.gain(x.reshape(-1)), rtol=1e-6)), meter.n_samples
    (True, 200000)
    """

    def __init__(self, spec: LevelSpec, channels: int) -> None:
        self.spec = spec
        self._sums = [_SquareSum() for _ in range(check_int(channels, "channels", minimum=1))]
        self._peak = 0.0
        self.n_samples = 0  #: samples per channel added so far

    def add(self, block: np.ndarray) -> None:
        """Add the next ``(channels, k)`` samples.

        Examples
        --------
        >>> meter = LevelSpec.parse("peak:0").meter(1)
        >>> meter.add(np.full((1, 3), 0.5))
        >>> meter.n_samples
        3
        """
        if block.ndim != 2 or block.shape[0] != len(self._sums):
            raise ParameterError(f"a block of shape {block.shape} must be ({len(self._sums)}, k)")
        self.n_samples += block.shape[1]
        if self.spec.mode == "rms":
            for total, row in zip(self._sums, block):
                total.add(row)
        elif self.spec.mode == "peak" and block.size:
            self._peak = max(self._peak, float(block.max()), -float(block.min()))

    def gain(self) -> float:
        """The gain that brings what was added to the target level (1 for ``"none"``).

        Examples
        --------
        >>> meter = LevelSpec.parse("rms:0").meter(2)
        >>> meter.add(np.array([[0.5, -0.5], [0.5, 0.5]]))
        >>> meter.gain()
        2.0
        """
        if self.spec.mode == "none":
            return 1.0
        if self.spec.mode == "rms":
            total = 0.0
            for s in self._sums:
                total += s.result()
            level = np.sqrt(total / max(self.n_samples * len(self._sums), 1))
        else:
            level = self._peak
        return float(self.spec._gain_from_level(np.float64(level)))


class _SquareSum:
    """Running ``sum(x**2)`` in float64 of a 1-D stream, by float32 BLAS dots of its
    :data:`_SQUARES_BLOCK`-sample blocks (a block that spans pushes is joined, a small copy)."""

    def __init__(self) -> None:
        self._total = 0.0
        self._held: list[np.ndarray] = []  # pieces of a block that spans pushes
        self._n_held = 0

    def add(self, part: np.ndarray) -> None:
        pos = 0
        while pos < part.size:
            piece = part[pos : pos + _SQUARES_BLOCK - self._n_held]
            pos += piece.size
            if not self._held and piece.size == _SQUARES_BLOCK:
                self._total += float(np.dot(piece, piece))
                continue
            self._held.append(piece.copy())  # a small piece: the caller's block is not kept
            self._n_held += piece.size
            if self._n_held == _SQUARES_BLOCK:
                self._flush()

    def result(self) -> float:
        if self._held:
            self._flush()
        return self._total

    def _flush(self) -> None:
        block = np.concatenate(self._held)
        self._total += float(np.dot(block, block))
        self._held, self._n_held = [], 0


def _sum_of_squares(x: np.ndarray) -> np.ndarray:
    """``sum(x**2, axis=-1)`` in float64 without temporaries: BLAS dots of 64k-sample blocks."""
    rows = x.reshape(-1, x.shape[-1])
    sums = []
    for row in rows:
        total = _SquareSum()
        total.add(row)
        sums.append(total.result())
    return np.array(sums).reshape(x.shape[:-1])


def _as_band_array(values: Any, name: str) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 1:
        raise ParameterError(f"{name} must be a non-empty 1-D array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ParameterError(f"{name} values must be finite and > 0")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class GGDProfile:
    """Shape and scale of a zero-location GGD for every MDCT band, and the geometry they belong to.

    Parameters
    ----------
    shape, scale : array_like, shape (n_bands,)
        GGD shape ``g_k`` and scale ``a_k`` (``scipy.stats.gennorm`` convention).
    sample_rate : int
        Sample rate of the audio the profile was fitted on (Hz).
    frame_length : int
        MDCT frame length; ``n_bands = frame_length // 2``.
    window : str
        Canonical MDCT window name (``"sine"``, ``"kbd:4"``, ``"vorbis"``).
    level : str or LevelSpec
        Level normalization applied to every clip before fitting (``"rms:-20"``...).
    name : str
        Human-readable name.
    description : str
        Where the profile comes from (corpus, command).
    n_clips, n_values : int
        Size of the fitting corpus.
    fit_method : str
        ``"moments"`` or ``"mle"``.
    smoothing : int
        Width in bands of the smoothing applied across bands (0: none).

    Examples
    --------
    >>> p = GGDProfile(shape=[0.5] * 4, scale=[1.0, 0.5, 0.2, 0.1], sample_rate=16000, frame_length=8)
    >>> p.n_bands, str(p.level)
    (4, 'rms:-20')
    >>> GGDProfile.from_dict(p.to_dict()) == p
    True
    """

    shape: np.ndarray
    scale: np.ndarray
    sample_rate: int
    frame_length: int
    window: str = "sine"
    level: LevelSpec = field(default_factory=LevelSpec)
    name: str = "custom"
    description: str = ""
    n_clips: int = 0
    n_values: int = 0
    fit_method: str = "moments"
    smoothing: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "shape", _as_band_array(self.shape, "shape"))
        set_(self, "scale", _as_band_array(self.scale, "scale"))
        if self.shape.size != self.scale.size:
            raise ParameterError(f"shape has {self.shape.size} bands but scale has {self.scale.size}")
        set_(self, "sample_rate", check_int(self.sample_rate, "sample_rate", minimum=1))
        set_(self, "frame_length", check_int(self.frame_length, "frame_length", minimum=2))
        if self.frame_length != 2 * self.shape.size:
            raise ParameterError(
                f"frame_length={self.frame_length} needs {self.frame_length // 2} bands; the profile has {self.shape.size}"
            )
        name = window_name(self.window)
        if name is None:
            raise ParameterError("profiles need a named window ('sine', 'vorbis', 'kbd:ALPHA')")
        set_(self, "window", name)
        set_(self, "level", LevelSpec.parse(self.level))

    # ------------------------------------------------------------------ properties
    @property
    def n_bands(self) -> int:
        """Number of bands (``frame_length // 2``)."""
        return int(self.shape.size)

    @property
    def id(self) -> str:
        """Content hash (16 hex digits) of the geometry and of the values rounded to float32; what
        encoded files record.

        Rounding makes the id a property of the profile, not of the machine that fitted it: a refit
        whose float64 values differ in the last bits (another BLAS, another CPU) has the same id
        unless one of its values sits within a few float64 steps of a float32 rounding boundary
        (about one refit in 10^5 for 1024 bands). Files written by version 0.1 recorded the hash of
        the exact float64 values; :meth:`matches_id` accepts both.

        Examples
        --------
        >>> p = default_profile()
        >>> nudged = GGDProfile(p.shape * (1 + 2e-16), p.scale, sample_rate=p.sample_rate,
        ...                     frame_length=p.frame_length, window=p.window, level=p.level)
        >>> nudged.id == p.id, nudged.matches_id(p.id)
        (True, True)
        """
        return self._hash("<f4")

    def matches_id(self, profile_id: str) -> bool:
        """Whether a file's recorded profile id names this profile.

        :attr:`id`, or the id that files written by version 0.1 recorded (the hash of the exact
        float64 values).

        Examples
        --------
        >>> p = default_profile()
        >>> p.matches_id(p.id), p.matches_id("0000000000000000")
        (True, False)
        """
        return profile_id in (self.id, self._hash("<f8"))

    def _hash(self, dtype: str) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self._geometry_dict(), sort_keys=True).encode())
        h.update(np.ascontiguousarray(self.shape, dtype=dtype).tobytes())
        h.update(np.ascontiguousarray(self.scale, dtype=dtype).tobytes())
        return h.hexdigest()[:16]

    @property
    def std(self) -> np.ndarray:
        """Standard deviation of every band's fitted GGD."""
        from .ggd import std_from_scale

        return std_from_scale(self.scale, self.shape)

    def band_frequencies(self) -> np.ndarray:
        """Centre frequency of every band in Hz.

        Examples
        --------
        >>> default_profile().band_frequencies()[:3]
        array([11.71875, 35.15625, 58.59375])
        """
        return (np.arange(self.n_bands) + 0.5) * self.sample_rate / self.frame_length

    def _geometry_dict(self) -> dict[str, Any]:
        return {
            "sample_rate": self.sample_rate,
            "frame_length": self.frame_length,
            "window": self.window,
            "level": str(self.level),
        }

    # ------------------------------------------------------------------ checks
    def check_geometry(self, *, sample_rate: int, frame_length: int, window: str | None = None) -> None:
        """Raise :class:`ProfileMismatchError` unless the profile fits this geometry.

        Examples
        --------
        >>> p = GGDProfile([1.0, 1.0], [1.0, 1.0], sample_rate=8000, frame_length=4)
        >>> p.check_geometry(sample_rate=8000, frame_length=4, window="sine")
        >>> p.check_geometry(sample_rate=16000, frame_length=4)
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.ProfileMismatchError: profile 'custom' was fitted for sample_rate=8000 ...
        """
        problems = []
        if int(sample_rate) != self.sample_rate:
            problems.append(f"sample_rate={self.sample_rate} (not {sample_rate})")
        if int(frame_length) != self.frame_length:
            problems.append(f"frame_length={self.frame_length} (not {frame_length})")
        if window is not None and window_name(window) != self.window:
            problems.append(f"window={self.window!r} (not {window_name(window)!r})")
        if problems:
            raise ProfileMismatchError(
                f"profile {self.name!r} was fitted for "
                + ", ".join(problems)
                + "; fit a profile for this geometry "
                "with `mdctcompand profile fit` or use a matching transform"
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_statistics(
        cls,
        stats: Any,
        *,
        sample_rate: int,
        frame_length: int,
        window: str = "sine",
        level: str | LevelSpec = "rms:-20",
        method: str = "moments",
        smoothing: int = 0,
        min_scale_db: float | None = -60.0,
        name: str = "custom",
        description: str = "",
        bracket: tuple[float, float] = SHAPE_BRACKET,
        max_rolloff: float | None = DEFAULT_MAX_ROLLOFF,
    ) -> GGDProfile:
        """Fit a profile from :class:`~mdctcompand.stats.BandStatistics`.

        ``smoothing > 0`` smooths the curves across bands (see :meth:`smoothed`).
        ``min_scale_db`` raises band scales more than that many dB below the median band's
        to that floor: bands where the corpus had almost no energy (a resampler's
        transition band, low-passed MP3s) would otherwise get a vanishing scale and
        overload on any clip that has energy there. ``None`` disables the floor.
        ``max_rolloff`` (dB per octave) then limits how fast the band standard deviations
        may fall towards high frequencies (:meth:`with_max_rolloff`, after the smoothing):
        bands above the corpus's own bandwidth (an encoder's low-pass) get the scale of a
        ``max_rolloff`` dB/octave slope from the last band the corpus filled. ``None``
        disables it; do so for unsmoothed fits of tonal signals, whose gaps between partials
        the limit would lift as well.

        Examples
        --------
        >>> from mdctcompand.stats import BandStatistics
        >>> s = BandStatistics(4)
        >>> s.update(np.random.default_rng(0).laplace(size=(4, 20000)))
        >>> p = GGDProfile.from_statistics(s, sample_rate=8000, frame_length=8)
        >>> bool(np.all(np.abs(p.shape - 1.0) < 0.05))  # Laplacian bands
        True
        """
        fit = stats.fit(method=method, bracket=bracket)
        scale = np.asarray(fit.scale, dtype=np.float64)
        if min_scale_db is not None:
            scale = np.maximum(scale, np.median(scale) * 10.0 ** (min_scale_db / 20.0))
        profile = cls(
            shape=fit.shape,
            scale=scale,
            sample_rate=sample_rate,
            frame_length=frame_length,
            window=window,
            level=LevelSpec.parse(level),
            name=name,
            description=description,
            n_clips=int(stats.n_clips),
            n_values=int(stats.count.max()),
            fit_method=method,
        )
        if smoothing:
            profile = profile.smoothed(smoothing)
        return profile if max_rolloff is None else profile.with_max_rolloff(max_rolloff)

    def with_max_rolloff(self, db_per_octave: float = DEFAULT_MAX_ROLLOFF) -> GGDProfile:
        """The profile with no band's standard deviation below a ``db_per_octave`` slope from any lower band.

        Every band ``k`` keeps its shape; its scale is raised (never lowered) so that its
        standard deviation is at least ``max_j<k (std_j - db_per_octave * log2(f_k / f_j))``
        in dB, ``f`` the band centre frequencies. A fit on a band-limited corpus (OGG/MP3
        encoders low-pass at 16-20 kHz; a 44.1 kHz corpus resampled to 48 kHz is empty above
        22.05 kHz) leaves the bands above its bandwidth with a vanishing scale: audio with
        energy there lands in the last, widest cells of those bands (or beyond the top
        code). Raising them costs music without energy there nothing (it still codes to the
        zero code), and gives audio with energy there the same resolution as the bands below.

        Examples
        --------
        >>> p = GGDProfile([0.5] * 4, [1.0, 0.5, 1e-6, 1e-6], sample_rate=16000, frame_length=8)
        >>> q = p.with_max_rolloff(48.0)
        >>> q.band_frequencies().tolist()
        [1000.0, 3000.0, 5000.0, 7000.0]
        >>> [round(float(v), 5) for v in q.scale]  # bands 2, 3: 48 dB/octave below band 1 (35.4, 58.7 dB)
        [1.0, 0.5, 0.00851, 0.00058]
        >>> np.array_equal(q.shape, p.shape), q.with_max_rolloff(48.0) is q  # a limited profile stays
        (True, True)
        """
        slope = float(db_per_octave)
        if not np.isfinite(slope) or slope <= 0:
            raise ParameterError(f"db_per_octave={db_per_octave!r} must be a finite number of dB > 0")
        octaves = np.log2(self.band_frequencies())
        level = 20.0 * np.log10(self.std)
        # max over j <= k of (level_j - slope * (o_k - o_j)) = cummax(level + slope * o)_k - slope * o_k
        floor = np.maximum.accumulate(level + slope * octaves) - slope * octaves
        lift = floor - level
        lift[lift < 1e-6] = 0.0  # rounding: a limited profile stays as it is
        if not np.any(lift > 0):
            return self
        return replace(self, scale=self.scale * 10.0 ** (lift / 20.0))

    def smoothed(self, width: int = 9) -> GGDProfile:
        """Smooth ``log shape`` and ``log scale`` across bands.

        A running median of ``width`` bands removes outliers (tonal peaks in one band),
        then a Hann-weighted moving average of the same width smooths the curve; edges
        are handled by reflection. ``width`` 0 or 1 returns the profile unchanged.

        Examples
        --------
        >>> p = GGDProfile([0.5, 0.5, 3.0, 0.5, 0.5], [1.0] * 5, sample_rate=8000, frame_length=10)
        >>> [round(float(v), 3) for v in p.smoothed(3).shape]
        [0.5, 0.5, 0.5, 0.5, 0.5]
        """
        width = check_int(width, "width", minimum=0)
        if width <= 1:
            return self
        from scipy.ndimage import convolve1d, median_filter

        width = min(width, self.n_bands)
        kernel = np.hanning(width + 2)[1:-1]
        kernel /= kernel.sum()

        def smooth(v: np.ndarray) -> np.ndarray:
            log_v = median_filter(np.log(v), size=width, mode="reflect")
            return np.exp(convolve1d(log_v, kernel, mode="reflect"))

        return replace(self, shape=smooth(self.shape), scale=smooth(self.scale), smoothing=width)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """Versioned JSON-compatible dictionary (floats round-trip exactly).

        Examples
        --------
        >>> d = default_profile().to_dict()
        >>> d["format"], d["version"], len(d["shape"])
        ('mdctcompand.GGDProfile', 1, 512)
        """
        return {
            "format": _FORMAT,
            "version": PROFILE_FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            **self._geometry_dict(),
            "n_bands": self.n_bands,
            "n_clips": self.n_clips,
            "n_values": self.n_values,
            "fit_method": self.fit_method,
            "smoothing": self.smoothing,
            "shape": self.shape.tolist(),
            "scale": self.scale.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GGDProfile:
        """Inverse of :meth:`to_dict`; rejects other formats and newer versions.

        Examples
        --------
        >>> p = default_profile()
        >>> GGDProfile.from_dict(p.to_dict()).id == p.id
        True
        """
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ParameterError("not a GGD profile (missing format marker)")
        version = data.get("version")
        if not isinstance(version, int) or version < 1:
            raise ParameterError(f"GGD profile has an invalid version {version!r}")
        if version > PROFILE_FORMAT_VERSION:
            raise ParameterError(
                f"GGD profile version {version} is newer than this library reads ({PROFILE_FORMAT_VERSION}); upgrade mdctcompand"
            )
        try:
            return cls(
                shape=data["shape"],
                scale=data["scale"],
                sample_rate=data["sample_rate"],
                frame_length=data["frame_length"],
                window=data.get("window", "sine"),
                level=data.get("level", "rms:-20"),
                name=data.get("name", "custom"),
                description=data.get("description", ""),
                n_clips=int(data.get("n_clips", 0)),
                n_values=int(data.get("n_values", 0)),
                fit_method=data.get("fit_method", "moments"),
                smoothing=int(data.get("smoothing", 0)),
            )
        except KeyError as exc:
            raise ParameterError(f"GGD profile is missing the field {exc.args[0]!r}") from exc

    def save(self, path: str | os.PathLike) -> None:
        """Write the profile as JSON (atomically).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "profile.json"
        >>> default_profile().save(path)
        >>> GGDProfile.load(path) == default_profile()
        True
        """
        from .io import atomic_output

        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> GGDProfile:
        """Read a profile written by :meth:`save`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "profile.json"
        >>> default_profile().save(path)
        >>> GGDProfile.load(path).name
        'multigenre-24k'
        """
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as exc:
            raise ParameterError(f"{os.fspath(path)}: not a readable JSON profile ({exc})") from exc
        return cls.from_dict(data)

    # ------------------------------------------------------------------ misc
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GGDProfile):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return (
            f"GGDProfile(name={self.name!r}, n_bands={self.n_bands}, sample_rate={self.sample_rate}, "
            f"frame_length={self.frame_length}, window={self.window!r}, level='{self.level}', id={self.id!r})"
        )


@functools.lru_cache(maxsize=1)
def default_profile() -> GGDProfile:
    """The paper's profile (24 kHz, frame 1024, sine window, RMS -20 dBFS): ``load_profile("paper")``.

    Fitted with ``mdctcompand profile fit`` on the train clips of the seven fit packages of
    the multi-genre corpus (``lab.genre_corpus`` in ``benchmarks/lab``: rock stems, a tracker
    module, game soundtracks of several genres), see ``scripts/fit_default_profile.py``;
    another rock band, an electronic soundtrack, recorded voices and synthetic speech are
    held out for evaluation. The profile shipped before it (one rock band) is kept as
    ``data/profiles/29e5040e2e0f16ed.json``: files made with it decode as they did.

    Examples
    --------
    >>> p = default_profile()
    >>> p.n_bands, p.sample_rate, p.frame_length
    (512, 24000, 1024)
    """
    return GGDProfile.load(_DEFAULT_PATH)


@functools.cache
def _shipped(name: str) -> GGDProfile:
    return default_profile() if name == "paper" else GGDProfile.load(_DATA / _SHIPPED_FILES[name])


def shipped_profiles() -> tuple[str, ...]:
    """Names of the shipped profiles, for :func:`load_profile` (aliases not included).

    Examples
    --------
    >>> shipped_profiles()
    ('paper', '44k', '48k')
    >>> [(load_profile(n).sample_rate, load_profile(n).n_bands) for n in shipped_profiles()]
    [(24000, 512), (44100, 1024), (48000, 1024)]
    """
    return tuple(_SHIPPED_FILES)


def shipped_aliases() -> dict[str, tuple[str, ...]]:
    """Other spellings :func:`load_profile` accepts for each shipped profile.

    Examples
    --------
    >>> shipped_aliases()["44k"]
    ('44.1k', '44100')
    """
    return {name: tuple(a for a, n in _ALIASES.items() if n == name) for name in _SHIPPED_FILES}


def _shipped_name(spec: str) -> str | None:
    key = spec.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in _SHIPPED_FILES else None


def load_profile(profile: GGDProfile | str | os.PathLike | None = None) -> GGDProfile:
    """A profile from a shipped name, a JSON file, or a profile (returned as is).

    Parameters
    ----------
    profile : GGDProfile, str, path or None
        A shipped name or alias (case-insensitive): ``"paper"`` (``"default"``, ``"24k"``),
        ``"44k"`` (``"44.1k"``, ``"44100"``), ``"48k"`` (``"48000"``); or a profile JSON file
        written by :meth:`GGDProfile.save` (a name wins over a file of the same name: write
        ``./44k`` for the file). ``None`` gives the paper's profile.

    Raises
    ------
    ParameterError
        ``profile`` is neither a shipped name nor an existing file, or the file is not a profile.

    Examples
    --------
    >>> load_profile("44.1k") is load_profile("44k")
    True
    >>> load_profile("default") is default_profile()
    True
    >>> load_profile("22k")
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: profile '22k' is neither a shipped profile (paper, 44k, 48k; aliases default, 24k, 24000, 44.1k, 44100, 48000) nor a profile file
    """
    if profile is None:
        return default_profile()
    if isinstance(profile, GGDProfile):
        return profile
    if isinstance(profile, str):
        name = _shipped_name(profile)
        if name is not None:
            return _shipped(name)
    if isinstance(profile, (str, os.PathLike)):
        path = Path(profile)
        if path.is_file():
            return GGDProfile.load(path)
        raise ParameterError(
            f"profile {os.fspath(profile)!r} is neither a shipped profile ({', '.join(_SHIPPED_FILES)}; "
            f"aliases {', '.join(_ALIASES)}) nor a profile file"
        )
    raise ParameterError(f"profile={profile!r} must be a GGDProfile, a shipped profile's name or a JSON file")


def profile_for_rate(sample_rate: float) -> GGDProfile:
    """The shipped profile that serves audio at ``sample_rate`` (Hz).

    The rule, for input rates in :data:`AUTO_RATE_RANGE` (8 to 192 kHz):

    1. a shipped profile at exactly that rate (24000: ``paper``, 44100: ``44k``, 48000: ``48k``);
    2. below 48 kHz, the lowest-rate profile at or above the input's rate, so that its whole
       band is kept (8-24 kHz: ``paper``; 24-44.1 kHz: ``44k``; 44.1-48 kHz: ``48k``);
    3. above 48 kHz, the full-band profile whose rate divides the input's (88.2 and 176.4 kHz:
       ``44k``), otherwise ``48k`` (96, 192 kHz, ...).

    The audio is then resampled to the profile's rate. Other rates raise: pass a profile
    fitted for them (``profile=`` in the API, ``--profile`` on the command line).

    Examples
    --------
    >>> [profile_for_rate(r).name for r in (16000, 24000, 32000, 44100, 48000, 88200, 96000)]  # doctest: +NORMALIZE_WHITESPACE
    ['multigenre-24k', 'multigenre-24k', 'multigenre-44k', 'multigenre-44k', 'multigenre-48k',
     'multigenre-44k', 'multigenre-48k']
    >>> profile_for_rate(4000)
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: sample_rate=4000 Hz: no shipped profile serves it (automatic choice covers 8000-192000 Hz); pass a profile fitted for this rate with --profile (profile= in the API)
    """
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        raise ParameterError(f"sample_rate={sample_rate!r} must be a number of Hz") from None
    if not np.isfinite(rate) or rate <= 0:
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive number of Hz")
    low, high = AUTO_RATE_RANGE
    if not low <= rate <= high:
        raise ParameterError(
            f"sample_rate={sample_rate:g} Hz: no shipped profile serves it (automatic choice covers "
            f"{low}-{high} Hz); pass a profile fitted for this rate with --profile (profile= in the API)"
        )
    profiles = sorted((_shipped(n) for n in _SHIPPED_FILES), key=lambda p: p.sample_rate)
    for p in profiles:
        if p.sample_rate >= rate:
            return p
    for p in profiles:
        if p.sample_rate > default_profile().sample_rate and (rate / p.sample_rate).is_integer():
            return p
    return profiles[-1]


def check_rate_served(profile: GGDProfile, sample_rate: Any) -> int:
    """``sample_rate`` as an int if ``profile`` can serve it (by soxr resampling), else a ParameterError.

    A profile serves rates within :data:`MAX_RESAMPLE_RATIO` of its own; the error names both
    rates and the option that fixes it.

    Examples
    --------
    >>> check_rate_served(load_profile("44k"), 8000)
    8000
    >>> check_rate_served(load_profile("44k"), 1000)
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: sample_rate=1000 Hz: profile 'multigenre-44k' works at 44100 Hz, more than 32x away; pass a profile fitted near 1000 Hz with --profile (profile= in the API)
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer, float, np.floating)):
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer number of Hz")
    if not np.isfinite(sample_rate) or sample_rate <= 0 or int(sample_rate) != sample_rate:
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer number of Hz")
    rate = int(sample_rate)
    ratio = max(rate / profile.sample_rate, profile.sample_rate / rate)
    if ratio > MAX_RESAMPLE_RATIO:
        raise ParameterError(
            f"sample_rate={rate} Hz: profile {profile.name!r} works at {profile.sample_rate} Hz, more than "
            f"{MAX_RESAMPLE_RATIO}x away; pass a profile fitted near {rate} Hz with --profile (profile= in the API)"
        )
    return rate


def shipped_profile(profile_id: str) -> GGDProfile | None:
    """The shipped profile (current or retired) with this id, or ``None``.

    Encoded files name their profile by id; re-fitting a shipped profile moves the old one to
    ``mdctcompand/data/profiles/ID.json`` so that older files keep decoding.

    Examples
    --------
    >>> shipped_profile(default_profile().id) is default_profile()
    True
    >>> shipped_profile(load_profile("48k").id) is load_profile("48k")
    True
    >>> shipped_profile("0000000000000000") is None
    True
    """
    if not isinstance(profile_id, str) or not _ID_PATTERN.fullmatch(profile_id):
        return None  # not an id (and never a file name: a long or odd string could not be one)
    for name in _SHIPPED_FILES:
        if _shipped(name).matches_id(profile_id):
            return _shipped(name)
    return next((p for p in _retired_profiles(_RETIRED_DIR) if p.matches_id(profile_id)), None)


@functools.cache
def _retired_profiles(folder: Path) -> tuple[GGDProfile, ...]:
    """The profiles retired to ``folder`` (each file named by the id that files made with it record)."""
    return tuple(GGDProfile.load(path) for path in sorted(folder.glob("*.json")))
