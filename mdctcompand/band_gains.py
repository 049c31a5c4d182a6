"""Band-group gains: a few bytes per clip that bring every group of bands to its profile level.

A profile says how loud each MDCT band is on average over its fitting corpus; one clip's
balance differs (a sustained bass note, a tonal synthesizer at 18 kHz, speech with pauses).
Where a band is much louder than the profile expects, its coefficients land beyond the
compander's top threshold (codes 0 and 255) and the 8-bit round trip loses tens of dB.
:class:`BandGains` measures, per clip and stored channel, one gain for each group of bands
(groups about ``relative_width`` of their frequency wide, 11-12 groups at the default 0.5)
and quantizes it to ``step_db`` (at most ``max_boost_db`` up); the converter multiplies the coefficients by it before
companding and divides after decoding, and the header carries the gains (a few tens of
bytes per clip).

The gain of group ``j`` is ``10 log10(R_j / S_j)`` dB, ``R_j`` the profile's power in the
group (the sum of its bands' variances) and ``S_j`` the clip's: its mean power per frame,
raised where needed so that the loudest frame is at most ``peak_db`` above ``R_j`` (speech
and music with pauses would otherwise be boosted into overload by their silences).

Examples
--------
>>> import numpy as np
>>> from mdctcompand import MDCT, load_profile
>>> p = load_profile("paper")
>>> bg = BandGains()
>>> bg.group_edges(p.n_bands, sample_rate=p.sample_rate).tolist()
[0, 8, 16, 24, 40, 56, 88, 136, 200, 296, 440, 512]
>>> X = MDCT(1024).forward(np.random.default_rng(0).standard_normal(24000).astype(np.float32))
>>> db = bg.measure(X, p.std, sample_rate=24000)
>>> db.shape, bool(np.all(db % 0.5 == 0))
((11,), True)
>>> bg.factors(db, n_bands=512, sample_rate=24000).shape
(512,)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ._validation import check_int
from .exceptions import ParameterError

__all__ = [
    "BAND_GAIN_RANGE_DB",
    "TILT_WITHOUT_BAND_GAINS",
    "TILT_WITH_BAND_GAINS",
    "BandGainMode",
    "BandGains",
    "band_group_edges",
    "band_gain_edges",
    "band_gain_factors",
]

#: Largest gain, up or down, that a group gets (dB); the header refuses others.
BAND_GAIN_RANGE_DB = 64.0
#: ``"clip"``: gains measured per clip (per tile in the codec) and stored in the header;
#: ``"none"``: no gains, every clip companded at the profile's level (a fixed representation
#: that decodes without side information, for images a model generates).
BandGainMode = Literal["clip", "none"]
#: Default compander tilt with band-group gains (``band_gains="clip"``) and without (``"none"``),
#: chosen by measurement on held-out packages (``python -m lab.genres``, ``benchmarks/lab``): the gains
#: take the clip-to-clip balance, so the compander needs less headroom and spends it on precision.
TILT_WITH_BAND_GAINS = 3.0
TILT_WITHOUT_BAND_GAINS = 4.0


@dataclass(frozen=True)
class BandGains:
    """How band-group gains are measured and stored (see the module docstring).

    Parameters
    ----------
    relative_width : float, default 0.5
        Group width as a fraction of the group's start frequency (groups are whole multiples
        of 8 bands, the lowest ones 8 bands wide).
    step_db : float, default 0.5
        Quantization step of the gains in dB.
    peak_db : float, default 12
        Headroom (dB) that the loudest frame of a group keeps below the profile's level
        after the gain.
    max_boost_db : float, default 12
        Largest gain up (quiet groups); groups are attenuated by up to
        :data:`BAND_GAIN_RANGE_DB`. Boosting near-empty groups further would buy little
        (measured: 0.0-0.6 dB of SNR, 0.01 dB of LSD) and fill the image with amplified noise
        that image codecs pay for.

    Examples
    --------
    >>> BandGains(relative_width=1.0).group_edges(1024, sample_rate=44100).tolist()
    [0, 8, 16, 32, 64, 128, 256, 512, 1024]
    >>> BandGains(step_db=0)
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: step_db=0 must be a number of dB in [0.05, 6]
    """

    relative_width: float = 0.5
    step_db: float = 0.5
    peak_db: float = 12.0
    max_boost_db: float = 12.0

    def __post_init__(self) -> None:
        for name, unit, lo, hi in (
            ("relative_width", "", 0.05, 2.0), ("step_db", " of dB", 0.05, 6.0), ("peak_db", " of dB", 0.0, 60.0),
            ("max_boost_db", " of dB", 0.0, BAND_GAIN_RANGE_DB),
        ):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise ParameterError(f"{name}={value!r} must be a number{unit} in [{lo:g}, {hi:g}]")
            object.__setattr__(self, name, float(value))

    def group_edges(self, n_bands: int, *, sample_rate: float, stored_bands: int | None = None) -> np.ndarray:
        """Edges of the band groups of a profile with ``n_bands`` bands, cut at ``stored_bands``.

        Examples
        --------
        >>> BandGains().group_edges(512, sample_rate=24000, stored_bands=100).tolist()
        [0, 8, 16, 24, 40, 56, 88, 100]
        """
        return band_gain_edges(
            n_bands, sample_rate=sample_rate, relative_width=self.relative_width, stored_bands=stored_bands
        )

    def measure(
        self, coefficients: Any, reference_std: Any, *, sample_rate: float, n_bands: int | None = None
    ) -> np.ndarray:
        """Quantized gains in dB, ``(..., n_groups)``, of coefficients ``(..., n_stored, n_frames)``.

        ``reference_std`` ``(..., n_stored)`` is the standard deviation the compander expects
        of each stored band (the profile's; divided by a level gain not yet applied to the
        coefficients); ``n_bands`` the profile's band count (default: the stored ones). Frame
        powers are summed in float32 over the bands of a group (about 1e-7 relative error, far
        below the quantization step), their mean and peak in float64.

        Examples
        --------
        >>> std = np.full(16, 0.1)
        >>> X = np.full((16, 4), 0.1)
        >>> X[8:] *= 10.0  # the upper group 20 dB louder than the reference
        >>> BandGains().measure(X, std, sample_rate=8000).tolist()
        [0.0, -20.0]
        """
        X = np.asarray(coefficients)
        stored = X.shape[-2]
        ref = np.asarray(reference_std, dtype=np.float64)
        if ref.ndim < 1 or ref.shape[-1] != stored:
            raise ParameterError(f"reference_std of shape {ref.shape} does not match {stored} stored bands")
        edges = self.group_edges(
            stored if n_bands is None else n_bands, sample_rate=sample_rate, stored_bands=stored
        )
        frames = np.swapaxes(X, -1, -2)  # (..., n_frames, n_stored): rows are contiguous for MDCT output
        n_frames = max(X.shape[-1], 1)
        out = np.empty(np.broadcast_shapes(X.shape[:-2], ref.shape[:-1]) + (edges.size - 1,))
        for j, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
            block = frames[..., a:b]
            frame_power = np.einsum("...fk,...fk->...f", block, block).astype(np.float64)  # no squared copy
            mean = frame_power.sum(axis=-1) / n_frames
            peak = frame_power.max(axis=-1) if X.shape[-1] else mean
            reference = np.sum(ref[..., a:b] ** 2, axis=-1)
            level = np.maximum(np.maximum(mean, peak * 10.0 ** (-self.peak_db / 10.0)), reference * 1e-30)
            out[..., j] = 10.0 * np.log10(reference / level)
        top = np.floor(self.max_boost_db / self.step_db)
        steps = np.clip(np.round(out / self.step_db), -np.floor(BAND_GAIN_RANGE_DB / self.step_db), top)
        return steps * self.step_db

    def factors(
        self, gains_db: Any, *, n_bands: int, sample_rate: float, stored_bands: int | None = None
    ) -> np.ndarray:
        """Per-band linear factors ``(..., n_stored)`` of group gains ``(..., n_groups)`` in dB.

        Examples
        --------
        >>> BandGains().factors([0.0, -20.0], n_bands=16, sample_rate=8000).round(3).tolist()[6:10]
        [1.0, 1.0, 0.1, 0.1]
        """
        return band_gain_factors(
            gains_db, self.group_edges(n_bands, sample_rate=sample_rate, stored_bands=stored_bands)
        )

    def to_dict(self) -> dict[str, float]:
        """JSON-compatible settings.

        Examples
        --------
        >>> BandGains.from_dict(BandGains(relative_width=0.2).to_dict())
        BandGains(relative_width=0.2, step_db=0.5, peak_db=12.0, max_boost_db=12.0)
        """
        return {
            "relative_width": self.relative_width, "step_db": self.step_db, "peak_db": self.peak_db,
            "max_boost_db": self.max_boost_db,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BandGains:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> BandGains.from_dict({"relative_width": 1.0}).relative_width
        1.0
        """
        try:
            return cls(**data)
        except TypeError as exc:
            raise ParameterError(f"band gain settings {data!r} are not valid ({exc})") from exc

    @classmethod
    def parse(cls, spec: BandGains | str | None) -> BandGains | None:
        """``"clip"`` (or ``None``): the default :class:`BandGains`; ``"none"``: no gains; a BandGains as is.

        Examples
        --------
        >>> BandGains.parse("none") is None, BandGains.parse("clip")
        (True, BandGains(relative_width=0.5, step_db=0.5, peak_db=12.0, max_boost_db=12.0))
        """
        if isinstance(spec, BandGains):
            return spec
        if spec is None or spec == "clip":
            return cls()
        if spec == "none":
            return None
        raise ParameterError(f"band_gains={spec!r} must be 'clip', 'none' or a BandGains")


def band_group_edges(
    n_bands: int, *, sample_rate: float, relative_width: float = 0.2, align: int = 8, max_width: int | None = None
) -> np.ndarray:
    """Edges of band groups about ``relative_width`` of their frequency wide, in multiples of ``align`` bands.

    Parameters
    ----------
    n_bands : int
        Number of MDCT bands (a multiple of ``align``).
    sample_rate : float
        Sample rate in Hz (band ``k`` is centred on ``(k + 0.5) * sample_rate / (2 n_bands)``).
    relative_width : float, default 0.2
        Group width as a fraction of its start frequency (critical bands are about 0.2 of
        their centre frequency above 500 Hz); groups are never narrower than ``align``.
    align : int, default 8
        Every edge is a multiple of it (8: JPEG's block height).
    max_width : int, optional
        Cap on a group's width in bands (a multiple of ``align``).

    Returns
    -------
    edges : np.ndarray of int, shape (n_groups + 1,)
        ``edges[0] == 0``, ``edges[-1] == n_bands``, strictly increasing.

    Examples
    --------
    >>> e = band_group_edges(512, sample_rate=24000)
    >>> int(e[0]), int(e[-1]), len(e) - 1, bool(np.all(e % 8 == 0))
    (0, 512, 19, True)
    >>> band_group_edges(64, sample_rate=8000, relative_width=0.5).tolist()
    [0, 8, 16, 24, 40, 56, 64]
    """
    n_bands = check_int(n_bands, "n_bands", minimum=1)
    align = check_int(align, "align", minimum=1)
    if n_bands % align:
        raise ParameterError(f"n_bands={n_bands} must be a multiple of align={align}")
    if not sample_rate > 0:
        raise ParameterError(f"sample_rate={sample_rate} must be > 0")
    if not relative_width > 0:
        raise ParameterError(f"relative_width={relative_width} must be > 0")
    cap = n_bands if max_width is None else check_int(max_width, "max_width", minimum=1)
    if cap % align:
        raise ParameterError(f"max_width={max_width} must be a multiple of align={align}")
    edges = [0]
    while edges[-1] < n_bands:
        start = edges[-1]
        width = int(round(relative_width * start / align)) * align  # start in bands: width in bands
        width = min(max(width, align), cap, n_bands - start)
        edges.append(start + width)
    # A last group narrower than half its neighbour merges into it.
    if len(edges) > 2 and (edges[-1] - edges[-2]) * 2 < edges[-2] - edges[-3]:
        del edges[-2]
    return np.asarray(edges, dtype=np.int64)


@functools.lru_cache(maxsize=64)
def band_gain_edges(
    n_bands: int, *, sample_rate: float, relative_width: float, stored_bands: int | None = None
) -> np.ndarray:
    """Group edges over a profile's ``n_bands`` bands (whole multiples of 8 bands), cut at ``stored_bands``.

    Examples
    --------
    >>> band_gain_edges(512, sample_rate=24000, relative_width=1.0).tolist()
    [0, 8, 16, 32, 64, 128, 256, 512]
    >>> band_gain_edges(4, sample_rate=8000, relative_width=0.5).tolist()  # small profiles: single bands
    [0, 1, 2, 3, 4]
    """
    align = 8 if n_bands % 8 == 0 else 1
    edges = band_group_edges(n_bands, sample_rate=sample_rate, relative_width=relative_width, align=align)
    if stored_bands is not None and stored_bands < n_bands:
        if stored_bands < 1:
            raise ParameterError(f"stored_bands={stored_bands} must be >= 1")
        edges = np.append(edges[edges < stored_bands], stored_bands)
    edges.flags.writeable = False  # cached: computed once per geometry, shared by every clip and tile
    return edges


def band_gain_factors(gains_db: Any, edges: np.ndarray) -> np.ndarray:
    """Per-band factors ``10**(g/20)`` of group gains ``(..., n_groups)`` over ``edges``.

    Examples
    --------
    >>> band_gain_factors([20.0, 0.0], np.array([0, 1, 3])).tolist()
    [10.0, 1.0, 1.0]
    """
    g = np.asarray(gains_db, dtype=np.float64)
    widths = np.diff(edges)
    if g.ndim < 1 or g.shape[-1] != widths.size:
        raise ParameterError(f"band gains of shape {g.shape} do not match {widths.size} band groups")
    return np.repeat(10.0 ** (g / 20.0), widths, axis=-1)
