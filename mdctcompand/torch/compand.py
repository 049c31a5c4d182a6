"""GGD-CDF companding and 8-bit quantization of MDCT bands on tensors (differentiable).

Mirrors :class:`mdctcompand.Compander`: band ``k`` is mapped through the CDF of a
zero-location GGD with the profile's shape ``g_k`` and the tilted scale ``s_k = a_k c^{1/g_k}``
(the numpy compander's :attr:`~mdctcompand.Compander.companding_scale`). The 8-bit codes use
the numpy compander's own tables (:attr:`~mdctcompand.Compander.thresholds`,
:attr:`~mdctcompand.Compander.reconstruction_table`), so codes and decoded values agree with
it exactly for equal inputs (float32 inputs are compared against the same rounded-up float32
thresholds as in the numpy encoder).

Gradients: :meth:`Compander.compand` and :meth:`Compander.expand` have analytic
derivatives (the GGD density and its reciprocal), finite at zero for every shape;
:meth:`Compander.encode` with ``straight_through=True`` returns float codes whose gradient
is the one of the continuous code ``256 F(x)`` (a straight-through estimator).
The inverse CDF has no closed form and torch no inverse incomplete gamma: it is solved by
Newton's method in ``log y`` on the regularized incomplete gamma functions, started on the
side of the root where the (log-concave) iteration converges monotonically; 8 iterations
reach float64 precision over shapes 0.05 .. 20.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from .._validation import check_positive_float
from ..compand import DEFAULT_ROUNDING, DEFAULT_TILT, N_LEVELS
from ..compand import Compander as NumpyCompander
from ..exceptions import ParameterError
from ..profile import GGDProfile
from ._checks import (
    ConstantTables,
    as_float_values,
    check_bands,
    check_float_dtype,
    check_same_device,
    is_compiling,
    raise_if_not_finite,
    require_tensor,
    should_check,
)

__all__ = ["Compander"]

_NEWTON_STEPS = 8
#: Steps from a start interpolated in the decode table (decode_continuous): the start is within
#: about 1e-3 of the root and Newton doubles the digits (1e-3, 2.5e-7, 1.7e-14 measured on the
#: shipped profiles; the fourth step is margin).
_NEWTON_STEPS_FROM_TABLE = 4


@functools.lru_cache(maxsize=8)
def _reference(
    profile: GGDProfile, tilt: float, rounding: str, reconstruction: str, bands: int | None
) -> NumpyCompander:
    """The numpy compander whose tables are mirrored, with its tables built (cached: scipy takes seconds)."""
    compander = NumpyCompander(
        profile, tilt=tilt, rounding=rounding, reconstruction=reconstruction, bands=bands
    )
    compander.thresholds, compander.reconstruction_table  # noqa: B018 (build the cached tables)
    return compander


def _special_dtype(device: torch.device) -> torch.dtype:
    """Special functions run in float64 where the device has it (everything but MPS)."""
    return torch.float32 if device.type == "mps" else torch.float64


class _Compand(torch.autograd.Function):
    """``u = F(x)``; ``du/dx`` is the GGD density.

    The backward recomputes ``y = (|x| / a)^g`` from the saved input with differentiable
    operations, so that higher derivatives (``create_graph=True``, ``gradgradcheck``) see the
    density's own derivative; saving ``y`` from the forward would make it a constant there and
    give silently wrong second derivatives.
    """

    @staticmethod
    def forward(ctx, x, shape, inv_shape, scale, log_norm):
        y = (x.abs() / scale) ** shape
        tail = 0.5 * torch.special.gammaincc(inv_shape, y)
        ctx.save_for_backward(x, shape, scale, log_norm)
        return torch.where(x < 0, tail, 1.0 - tail)

    @staticmethod
    def backward(ctx, grad):
        x, shape, scale, log_norm = ctx.saved_tensors
        y = (x.abs() / scale) ** shape
        return grad * torch.exp(log_norm - y), None, None, None, None


class _Expand(torch.autograd.Function):
    """``x = F^{-1}(u)``; ``dx/du`` is the reciprocal of the GGD density at ``x``."""

    @staticmethod
    def forward(ctx, u, shape, inv_shape, scale, log_norm, lgamma_a, lgamma_a1, start=None):
        x = _ggd_ppf(u, inv_shape, scale, lgamma_a, lgamma_a1, start)
        ctx.save_for_backward(x, shape, scale, log_norm)
        return x

    @staticmethod
    def backward(ctx, grad):
        x, shape, scale, log_norm = ctx.saved_tensors
        y = (x.abs() / scale) ** shape
        return grad * torch.exp(y - log_norm), None, None, None, None, None, None, None


class _StraightThrough(torch.autograd.Function):
    """Forward: the 8-bit codes as floats; backward: the gradient of ``256 F(x)``."""

    @staticmethod
    def forward(ctx, x, codes, shape, scale, log_norm):
        ctx.save_for_backward(x, shape, scale, log_norm)
        return codes.to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, shape, scale, log_norm = ctx.saved_tensors
        y = (x.abs() / scale) ** shape
        return grad * (N_LEVELS * torch.exp(log_norm - y)), None, None, None, None


def _ggd_ppf(u, a, scale, lgamma_a, lgamma_a1, start=None) -> torch.Tensor:
    """Inverse CDF of the zero-location GGD with ``a = 1/g`` and scale ``scale``; ``u`` in [0, 1].

    ``|x| = s y^a`` with ``P(a, y) = p = |2u - 1|`` solved for ``p <= 1/2`` and
    ``Q(a, y) = q = 2 min(u, 1 - u)`` otherwise (both tails keep relative precision), by Newton
    steps on ``t = log y``: ``log P`` and ``log Q`` are concave in ``t`` (``log Y`` has a
    log-concave density for every ``a``), so a start left of the root (``P``: from
    ``P(a, y) <= y^a / Gamma(a + 1)``) or right of it (``Q``: from ``Q(a, y) <= 2^a e^{-y/2}``)
    converges monotonically. Where ``P`` or ``Q`` underflow, their leading asymptotic terms
    stand in for their logarithms. ``start`` (optional, ``u``'s shape): a start ``t`` near the
    root where it is finite (then :data:`_NEWTON_STEPS_FROM_TABLE` steps; on the CPU only, where
    each value's steps are its own).
    """
    p = (2.0 * u - 1.0).abs()
    q = 2.0 * torch.minimum(u, 1.0 - u)
    lower = p <= q
    tiny = torch.finfo(u.dtype).tiny
    target = torch.log(torch.where(lower, p, q).clamp_min(tiny))
    if is_compiling() or u.device.type != "cpu":
        # one graph of fixed shapes: both tails' functions everywhere, the right one kept
        t = _newton(lower, target, a, lgamma_a, lgamma_a1, tiny)
    else:
        # the incomplete gamma functions are most of the cost: each value evaluates only its
        # tail's (the same values, elementwise, at about half the CPU), and a value started
        # near its root takes fewer steps
        shape = torch.broadcast_shapes(u.shape, a.shape, lgamma_a.shape, lgamma_a1.shape)
        a_, lg_, lg1_ = (v.expand(shape) for v in (a, lgamma_a, lgamma_a1))
        near = torch.zeros(shape, dtype=torch.bool) if start is None else torch.isfinite(start).expand(shape)
        t = torch.empty(shape, dtype=target.dtype, device=u.device)
        for side in (True, False):
            for started in (False, True):
                m = (lower.expand(shape) == side) & (near == started)
                if started and bool(m.any()):
                    t[m] = _newton(
                        torch.tensor(side), target.expand(shape)[m], a_[m], lg_[m], lg1_[m], tiny,
                        start=start.expand(shape)[m], steps=_NEWTON_STEPS_FROM_TABLE,
                    )  # fmt: skip
                elif not started:
                    t[m] = _newton(torch.tensor(side), target.expand(shape)[m], a_[m], lg_[m], lg1_[m], tiny)
    magnitude = scale * torch.exp(a * t)
    magnitude = torch.where(p == 0, torch.zeros_like(magnitude), magnitude)
    magnitude = torch.where(q == 0, torch.full_like(magnitude, math.inf), magnitude)
    return torch.where(u < 0.5, -magnitude, magnitude)


def _newton(lower, target, a, lgamma_a, lgamma_a1, tiny, *, start=None, steps=_NEWTON_STEPS) -> torch.Tensor:
    """``t = log y`` of :func:`_ggd_ppf`: Newton steps on ``log P`` (``lower``) or ``log Q``, from
    ``start`` or from the bound on the root's side."""
    if start is None:
        t = torch.where(lower, (target + lgamma_a1) / a, torch.log(2.0 * (a * math.log(2.0) - target)))
    else:
        t = start
    for _ in range(steps):
        y = torch.exp(t)
        if lower.ndim == 0:  # one tail for every value
            f = torch.special.gammainc(a, y) if bool(lower) else torch.special.gammaincc(a, y)
        else:
            f = torch.where(lower, torch.special.gammainc(a, y), torch.special.gammaincc(a, y))
        log_y_density = a * t - y - lgamma_a  # log(y * dP/dy)
        asymptote = torch.where(lower, a * t - lgamma_a1, log_y_density - t)
        log_f = torch.where(f > tiny, torch.log(f.clamp_min(tiny)), asymptote)
        slope = torch.exp(log_y_density - log_f)  # |d log f / dt|
        step = (log_f - target) / slope
        t = t + torch.where(lower, -step, step)
    return t


class Compander(torch.nn.Module):
    """Per-band GGD companding and 8-bit quantization of MDCT coefficients, on tensors.

    Parameters
    ----------
    profile : GGDProfile
        Shape and scale of every band.
    tilt : float, default 5.5
        Scale tilt ``c`` (the compander uses the GGD CDF with scale ``a * c**(1/g)``).
    rounding : {"round", "floor"}, default "round"
        Quantizer convention, as in :class:`mdctcompand.Compander`.
    reconstruction : {"midpoint", "centroid"}, default "midpoint"
        Decoded value of each code, as in :class:`mdctcompand.Compander`.
    bands : int, optional
        Compand only the lowest ``bands`` bands of the profile, as in :class:`mdctcompand.Compander`.

    Notes
    -----
    Coefficients are ``(..., n_bands, n_frames)`` on any device, float32 or float64
    (float16/bfloat16 are computed in float32). The tables are buffers: move the module with
    ``.to(device)``. ``forward`` is :meth:`compand`. The special functions (compand, expand)
    are evaluated in float64 except on MPS (float32).

    Examples
    --------
    >>> import torch
    >>> from mdctcompand import GGDProfile
    >>> p = GGDProfile([0.5] * 4, [0.01, 0.02, 0.03, 0.04], sample_rate=8000, frame_length=8)
    >>> c = Compander(p, tilt=3)
    >>> x = 0.02 * torch.distributions.Laplace(0.0, 1.0).sample((4, 1000)).double()
    >>> q = c.encode(x)
    >>> q.dtype, q.shape
    (torch.uint8, torch.Size([4, 1000]))
    >>> y = c.decode(q, dtype=torch.float64)
    >>> bool(10 * torch.log10((x**2).sum() / ((x - y) ** 2).sum()) > 25)
    True
    """

    # buffers registered by name in __init__ (when the bucket tables exist)
    _bucket_codes: torch.Tensor
    _bucket_base: torch.Tensor
    _bucket_code_offset: torch.Tensor
    _bucket_threshold_offset: torch.Tensor
    _bucket_threshold_bits: torch.Tensor

    def __init__(
        self,
        profile: GGDProfile,
        *,
        tilt: float = DEFAULT_TILT,
        rounding: str = DEFAULT_ROUNDING,
        reconstruction: str = "midpoint",
        bands: int | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(profile, GGDProfile):
            raise ParameterError(f"profile must be a GGDProfile; got {type(profile).__name__}")
        reference = _reference(profile, check_positive_float(tilt, "tilt"), rounding, reconstruction, bands)
        self._reference = reference
        self._n_bands = int(reference.n_bands)  # a plain int: torch.compile traces no numpy here
        g = reference.shape
        s = reference.companding_scale
        a = 1.0 / g
        from scipy.special import gammaln

        e = reference.cell_bounds
        band_tables = {
            "shape": g[:, None],
            "inv_shape": a[:, None],
            "scale": s[:, None],
            "log_norm": (np.log(g) - np.log(2.0 * s) - gammaln(a))[:, None],  # log density at 0
            "lgamma_a": gammaln(a)[:, None],
            "lgamma_a1": gammaln(a + 1.0)[:, None],
            "table": reference.reconstruction_table,  # float32: the plain rounding, as in numpy
            "midpoints": 0.5 * (e[:-1] + e[1:]),
        }
        with np.errstate(divide="ignore"):  # the centre code decodes to 0: no start (-inf) there
            # t = log y of every code's value (|x| = s y^a): decode_continuous starts Newton there
            band_tables["table_t"] = g[:, None] * np.log(np.abs(band_tables["table"]) / s[:, None])
        self._tables = ConstantTables(band_tables)
        inner = np.ascontiguousarray(reference.thresholds[:, 1:])
        self._tables.add_float32("thresholds", inner, reference.thresholds32[:, 1:])
        # The numpy core's bucketed float32 encoder, as int32 tensors (module dtype casts leave
        # them alone): one look-up and one comparison per value instead of a binary search.
        buckets = reference.bucket_tables()
        self._n_buckets = 0 if buckets is None else int(buckets.n_buckets)
        self._bucket_shift = 0 if buckets is None else int(buckets.shift)
        if buckets is not None:
            rows = np.arange(self._n_bands, dtype=np.int32)
            tables = {
                "codes": buckets.codes.reshape(-1),
                "base": buckets.base.astype(np.int32),
                "code_offset": rows * np.int32(2 * self._n_buckets),
                "threshold_offset": rows * np.int32(buckets.thresholds.shape[1]) + np.int32(1),
                "threshold_bits": np.ascontiguousarray(buckets.thresholds).reshape(-1).view(np.int32),
            }
            for key, value in tables.items():
                self.register_buffer(f"_bucket_{key}", torch.from_numpy(value.copy()), persistent=False)

    @classmethod
    def from_numpy(cls, compander: NumpyCompander) -> Compander:
        """The tensor twin of a numpy :class:`mdctcompand.Compander` (same profile and settings).

        Examples
        --------
        >>> import mdctcompand
        >>> c = Compander.from_numpy(mdctcompand.Compander(mdctcompand.default_profile(), tilt=3))
        >>> c.settings()
        {'tilt': 3.0, 'rounding': 'round', 'reconstruction': 'midpoint'}
        """
        if not isinstance(compander, NumpyCompander):
            raise ParameterError(f"compander must be a mdctcompand.Compander; got {type(compander).__name__}")
        return cls(compander.profile, **compander.settings())

    # ------------------------------------------------------------------ properties
    @property
    def profile(self) -> GGDProfile:
        """The per-band GGD profile."""
        return self._reference.profile

    @property
    def tilt(self) -> float:
        """Scale tilt ``c``."""
        return self._reference.tilt

    @property
    def rounding(self) -> str:
        """``"round"`` or ``"floor"``."""
        return self._reference.rounding

    @property
    def reconstruction(self) -> str:
        """``"midpoint"`` or ``"centroid"``."""
        return self._reference.reconstruction

    @property
    def n_bands(self) -> int:
        """Number of bands."""
        return self._n_bands

    def settings(self) -> dict[str, Any]:
        """The compander's settings (without the profile), as :meth:`mdctcompand.Compander.settings`.

        Examples
        --------
        >>> import mdctcompand
        >>> Compander(mdctcompand.default_profile(), rounding="floor").settings()["rounding"]
        'floor'
        """
        return self._reference.settings()

    def to_numpy(self) -> NumpyCompander:
        """The numpy :class:`mdctcompand.Compander` with the same profile and settings.

        Examples
        --------
        >>> import mdctcompand
        >>> Compander(mdctcompand.default_profile(), tilt=3).to_numpy()
        Compander(profile='multigenre-24k', tilt=3, rounding='round', reconstruction='midpoint')
        """
        return self._reference

    # ------------------------------------------------------------------ helpers
    def _values(self, x: Any, name: str, check_finite: bool | None) -> torch.Tensor:
        x = as_float_values(x, name, check_finite=False)
        check_bands(x, name, self.n_bands)
        check_same_device(x, self._tables.get("shape", torch.float64), "Compander")
        if should_check(x, check_finite):
            raise_if_not_finite(x, name)
        return x

    def _band(self, key: str, dtype: torch.dtype) -> torch.Tensor:
        return self._tables.get(key, dtype)

    def _special(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.dtype]:
        """``x`` in the dtype the special functions run in, and the dtype to return."""
        return x.to(_special_dtype(x.device)), x.dtype

    # ------------------------------------------------------------------ continuous
    def compand(self, coefficients: torch.Tensor, *, check_finite: bool | None = None) -> torch.Tensor:
        """Continuous companding ``u = F_k(x)`` in [0, 1] (differentiable; same dtype as the input).

        Examples
        --------
        >>> import torch
        >>> from mdctcompand import GGDProfile
        >>> c = Compander(GGDProfile([1.0, 2.0], [1.0, 1.0], sample_rate=8000, frame_length=4), tilt=1)
        >>> c.compand(torch.zeros(2, 3, dtype=torch.float64))
        tensor([[0.5000, 0.5000, 0.5000],
                [0.5000, 0.5000, 0.5000]], dtype=torch.float64)
        """
        x = self._values(coefficients, "coefficients", check_finite)
        xs, dtype = self._special(x)
        d = xs.dtype
        u = _Compand.apply(
            xs,
            self._band("shape", d),
            self._band("inv_shape", d),
            self._band("scale", d),
            self._band("log_norm", d),
        )
        return u.to(dtype)

    forward = compand

    def expand(self, u: torch.Tensor, *, check_finite: bool | None = None) -> torch.Tensor:
        """Continuous inverse ``x = F_k^{-1}(u)`` for ``u`` in [0, 1] (0 and 1 map to -inf and inf).

        Differentiable (``dx/du = 1 / density``); same dtype as the input. With checks on
        (the default on the CPU), values outside [0, 1] raise.

        Examples
        --------
        >>> import torch, mdctcompand
        >>> c = Compander(mdctcompand.default_profile())
        >>> c.expand(torch.full((512, 1), 0.5))[:2, 0]  # the median is 0 in every band
        tensor([0., 0.])
        """
        p = self._values(u, "probabilities", check_finite)
        if should_check(p, check_finite) and p.numel() and not bool(((p >= 0) & (p <= 1)).all()):
            bad = int(((p < 0) | (p > 1)).sum())
            raise ParameterError(f"probabilities must lie in [0, 1]; {bad} value(s) do not")
        ps, dtype = self._special(p)
        return self._expand(ps).to(dtype)

    def _expand(self, u: torch.Tensor, start: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`expand` of checked ``u`` in the special functions' dtype; ``start`` as in :func:`_ggd_ppf`."""
        d = u.dtype
        return _Expand.apply(
            u,
            self._band("shape", d),
            self._band("inv_shape", d),
            self._band("scale", d),
            self._band("log_norm", d),
            self._band("lgamma_a", d),
            self._band("lgamma_a1", d),
            start,
        )

    def decode_continuous(
        self, values: torch.Tensor, *, dtype: torch.dtype | None = None, check_finite: bool | None = None
    ) -> torch.Tensor:
        """Decode real-valued codes in [0, 255] (model outputs) with the exact inverse compander.

        As :meth:`mdctcompand.Compander.decode_continuous`: ``v`` decodes to ``F^{-1}(u(v))``, ``u``
        interpolating linearly between the cell midpoints of neighbouring codes; values outside
        [0, 255] are clipped. Differentiable in ``values``.

        Parameters
        ----------
        values : torch.Tensor, shape (..., n_bands, n_frames)
            Real code values (band-major orientation, row 0 = lowest band).
        dtype : torch.dtype, optional
            Output dtype; default: the input's floating dtype.

        Examples
        --------
        >>> import torch
        >>> from mdctcompand import GGDProfile
        >>> c = Compander(GGDProfile([0.6] * 2, [1.0, 2.0], sample_rate=8000, frame_length=4))
        >>> codes = torch.tensor([[0, 128, 255], [7, 100, 200]], dtype=torch.uint8)
        >>> torch.allclose(c.decode_continuous(codes.double()), c.decode(codes, dtype=torch.float64))
        True
        """
        v = self._values(values, "values", check_finite)
        out_dtype = v.dtype if dtype is None else check_float_dtype(dtype)
        vs, _ = self._special(v)
        mids = self._tables.get("midpoints", vs.dtype)
        v = vs.clamp(0.0, N_LEVELS - 1.0)
        low = v.detach().floor().clamp_max(N_LEVELS - 2).long()
        frac = v - low.to(v.dtype)
        u = mids[low] + frac * (mids[low + 1] - mids[low])
        start = None
        if not is_compiling() and u.device.type == "cpu":  # Newton from the neighbouring codes' values
            table = self._band("table_t", u.dtype).expand(low.shape[:-1] + (N_LEVELS,))
            t_low, t_high = torch.gather(table, -1, low), torch.gather(table, -1, low + 1)
            start = t_low + frac.detach() * (t_high - t_low)
        return self._expand(u, start).to(out_dtype)

    # ------------------------------------------------------------------ 8-bit
    def encode(
        self, coefficients: torch.Tensor, *, straight_through: bool = False, check_finite: bool | None = None
    ) -> torch.Tensor:
        """Quantize to 8-bit codes, equal to :meth:`mdctcompand.Compander.encode` for equal inputs.

        Parameters
        ----------
        coefficients : torch.Tensor, shape (..., n_bands, n_frames)
        straight_through : bool, default False
            Return the codes as floats (the input's dtype) whose gradient is the one of the
            continuous code ``256 F_k(x)`` (straight-through estimator), instead of uint8.

        Returns
        -------
        codes : torch.Tensor, same shape; uint8 (or float with ``straight_through``)

        Examples
        --------
        >>> import torch, mdctcompand
        >>> c = Compander(mdctcompand.default_profile())
        >>> x = torch.zeros(512, 3)
        >>> c.encode(x)[0]  # code 128 is exactly zero with the default rounding
        tensor([128, 128, 128], dtype=torch.uint8)
        """
        x = self._values(coefficients, "coefficients", check_finite)
        if x.dtype == torch.float32 and self._n_buckets and x.device.type == "cpu":
            # CPU: the bucket tables (searchsorted costs ~130 ns a value there). GPUs: the binary
            # search, faster eager on an H200 (the 8-bit round trip 2.34x torch.stft+istft vs 2.63x)
            # and equal compiled (1.67x vs 1.69x): python -m lab.torch --device cuda (benchmarks/lab).
            codes = self._encode_bucketed(x.detach())
        else:
            thresholds = self._tables.get("thresholds", x.dtype)
            n_bands = self.n_bands
            rows = x.detach().movedim(-2, 0).reshape(n_bands, -1).contiguous()
            codes = torch.searchsorted(thresholds, rows, right=True, out_int32=True).to(torch.uint8)
            codes = codes.reshape((n_bands,) + x.shape[:-2] + x.shape[-1:]).movedim(0, -2)
        if not straight_through:
            return codes
        d = x.dtype
        return _StraightThrough.apply(
            x, codes, self._band("shape", d), self._band("scale", d), self._band("log_norm", d)
        )

    def _encode_bucketed(self, x: torch.Tensor) -> torch.Tensor:
        """float32 ``x (..., n_bands, n_frames)`` -> uint8 codes by the tables of
        :meth:`mdctcompand.Compander.bucket_tables` (the same codes as the binary search).

        Works frame-major (bands contiguous: how :class:`MDCT` returns coefficients, so the
        transposition is free for them) and returns a transposed view, as the numpy core does.
        """
        frame_major = x.transpose(-1, -2).contiguous()
        bits = frame_major.view(torch.int32)
        key = (((bits & 0x7FFFFFFF) >> self._bucket_shift) - self._bucket_base).clamp(0, self._n_buckets - 1)
        key = key + torch.where(
            bits < 0, self._bucket_code_offset, self._bucket_code_offset + self._n_buckets
        )
        first = self._bucket_codes.index_select(0, key.reshape(-1)).reshape(key.shape).to(torch.int32)
        thresholds = self._bucket_threshold_bits.view(torch.float32)
        upper = thresholds.index_select(0, (first + self._bucket_threshold_offset).reshape(-1))
        codes = first + (frame_major >= upper.reshape(first.shape)).to(torch.int32)
        return codes.to(torch.uint8).transpose(-1, -2)

    def encode_image(
        self, coefficients: torch.Tensor, *, straight_through: bool = False, check_finite: bool | None = None
    ) -> torch.Tensor:
        """:meth:`encode` in image orientation (row 0 = the highest band), contiguous.

        Examples
        --------
        >>> import torch, mdctcompand
        >>> c = Compander(mdctcompand.default_profile())
        >>> x = 0.01 * torch.randn(512, 4, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(c.encode_image(x), c.encode(x).flip(-2))
        True
        """
        codes = self.encode(coefficients, straight_through=straight_through, check_finite=check_finite)
        return codes.flip(-2)

    def decode(
        self, codes: torch.Tensor, *, dtype: torch.dtype = torch.float32, check_finite: bool | None = None
    ) -> torch.Tensor:
        """Reconstruct coefficients from 8-bit codes by table look-up (as :meth:`mdctcompand.Compander.decode`).

        Parameters
        ----------
        codes : torch.Tensor of uint8 (or integers in 0..255), shape (..., n_bands, n_frames)
        dtype : torch.float32 or torch.float64, default float32

        Examples
        --------
        >>> import torch, mdctcompand
        >>> c = Compander(mdctcompand.default_profile())
        >>> bool((c.decode(torch.full((512, 3), 255, dtype=torch.uint8)) > 0).all())
        True
        """
        q = self._codes(codes, check_finite)
        dtype = check_float_dtype(dtype)
        table = self._tables.get("table", dtype).reshape(-1)
        # Look up frame-major (bands contiguous, the layout MDCT.forward returns and MDCT.inverse
        # reads fastest); the only transposition is of the 1-byte codes. int32 indices.
        frame_major = q.transpose(-1, -2).contiguous()
        offsets = torch.arange(0, self.n_bands * N_LEVELS, N_LEVELS, dtype=torch.int32, device=q.device)
        index = frame_major.to(torch.int32) + offsets
        out = table.index_select(0, index.reshape(-1)).reshape(frame_major.shape)
        return out.transpose(-1, -2)

    def decode_image(
        self, image: torch.Tensor, *, dtype: torch.dtype = torch.float32, check_finite: bool | None = None
    ) -> torch.Tensor:
        """Inverse of :meth:`encode_image`: image-oriented codes to coefficients ``(..., n_bands, n_frames)``.

        Examples
        --------
        >>> import torch, mdctcompand
        >>> c = Compander(mdctcompand.default_profile())
        >>> image = torch.randint(0, 256, (512, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(c.decode_image(image), c.decode(image.flip(-2)))
        True
        """
        return self.decode(require_tensor(image, "image").flip(-2), dtype=dtype, check_finite=check_finite)

    def _codes(self, codes: Any, check: bool | None) -> torch.Tensor:
        q = require_tensor(codes, "codes")
        if q.dtype != torch.uint8:
            if q.dtype.is_floating_point or q.dtype.is_complex or q.dtype == torch.bool:
                raise ParameterError(f"codes must be uint8 (or integers in 0..255); got dtype {q.dtype}")
            if should_check(q, check) and q.numel() and not bool(((q >= 0) & (q <= 255)).all()):
                raise ParameterError(
                    f"codes must be integers in 0..255; got values from {int(q.min())} to {int(q.max())}"
                )
            q = q.clamp(0, 255).to(torch.uint8)
        check_bands(q, "codes", self.n_bands)
        check_same_device(q, self._tables.get("shape", torch.float64), "Compander")
        return q

    def __repr__(self) -> str:
        return f"Compander({self.extra_repr()})"

    def extra_repr(self) -> str:
        return (
            f"profile={self.profile.name!r}, tilt={self.tilt:g}, rounding={self.rounding!r}, "
            f"reconstruction={self.reconstruction!r}"
        )
