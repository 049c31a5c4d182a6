"""The codec's kernels (cells, JPEG tables and dead zone, rate search) and band_group_edges: every function against a plain-loop reference or a property."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mdctcompand import band_gains
from mdctcompand.codec import cells, jpeg, ratecontrol
from mdctcompand.exceptions import FormatError, ParameterError


# ---------------------------------------------------------------------- references
def ref_cell_rms(c: np.ndarray, edges, fpg: int) -> np.ndarray:
    """Plain loops over cells."""
    n_frames = c.shape[-1]
    starts = list(range(0, n_frames, fpg))
    out = np.zeros(c.shape[:-2] + (len(edges) - 1, len(starts)))
    for gi in range(len(edges) - 1):
        for ti, t0 in enumerate(starts):
            block = c[..., edges[gi] : edges[gi + 1], t0 : t0 + fpg].astype(np.float64)
            out[..., gi, ti] = np.sqrt(np.mean(block**2, axis=(-2, -1)))
    return out


def ref_expand(v: np.ndarray, edges, fpg: int, n_frames: int) -> np.ndarray:
    out = np.zeros(v.shape[:-2] + (edges[-1], n_frames))
    for gi in range(len(edges) - 1):
        for f in range(n_frames):
            out[..., edges[gi] : edges[gi + 1], f] = v[..., gi, f // fpg][..., None]
    return out


edges_strategy = st.lists(st.integers(1, 5), min_size=1, max_size=6).map(lambda w: np.cumsum([0, *w]))


# ---------------------------------------------------------------------- band groups
@given(st.integers(1, 96).map(lambda k: 8 * k), st.floats(0.02, 1.0), st.sampled_from([1, 2, 4, 8]))
def test_band_group_edges_properties(n_bands, relative_width, align):
    e = band_gains.band_group_edges(n_bands, sample_rate=24000, relative_width=relative_width, align=align)
    widths = np.diff(e)
    assert e[0] == 0 and e[-1] == n_bands
    assert np.all(e % align == 0) and np.all(widths >= align)
    # Widths never shrink going up in frequency, except that the last group may be cut short.
    assert np.all(np.diff(widths[:-1]) >= 0)
    if widths.size > 1:
        assert 2 * widths[-1] >= widths[-2]  # a sliver is merged into its neighbour


def test_band_group_edges_about_critical_bands():
    e = band_gains.band_group_edges(512, sample_rate=24000)
    f = e * 12000 / 512
    widths_hz = np.diff(f)
    # Above 2 kHz every group is 10-40 % of its start frequency wide.
    upper = f[:-1] >= 2000
    assert np.all(widths_hz[upper] / f[:-1][upper] > 0.1)
    assert np.all(widths_hz[upper][:-1] / f[:-1][upper][:-1] < 0.4)
    assert band_gains.band_group_edges(512, sample_rate=24000, max_width=32).max() == 512
    assert np.diff(band_gains.band_group_edges(512, sample_rate=24000, max_width=32)).max() == 32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_bands=20), "multiple of align"),
        (dict(n_bands=0), "n_bands=0"),
        (dict(n_bands=64, relative_width=0), "relative_width=0"),
        (dict(n_bands=64, max_width=12), "max_width=12"),
    ],
)
def test_band_group_edges_rejects(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        band_gains.band_group_edges(sample_rate=24000, **kwargs)


# ---------------------------------------------------------------------- cells
@given(
    edges_strategy,
    st.integers(1, 30),
    st.integers(1, 9),
    st.sampled_from([(), (2,), (2, 3)]),
    st.integers(0, 2**31),
)
def test_cell_rms_and_expand_match_loops(edges, n_frames, fpg, lead, seed):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(lead + (int(edges[-1]), n_frames)).astype(np.float32)
    got = cells.cell_rms(c, edges, frames_per_group=fpg)
    np.testing.assert_allclose(got, ref_cell_rms(c, edges, fpg), rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(got.shape)
    np.testing.assert_array_equal(
        cells.expand_cells(v, edges, frames_per_group=fpg, n_frames=n_frames),
        ref_expand(v, edges, fpg, n_frames),
    )
    # A constant cell has that constant as its RMS.
    np.testing.assert_allclose(
        cells.cell_rms(
            cells.expand_cells(np.abs(v), edges, frames_per_group=fpg, n_frames=n_frames),
            edges,
            frames_per_group=fpg,
        ),
        np.abs(v),
        rtol=1e-12,
    )


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from([(), (2,)]),
    st.integers(1, 700),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_cell_rms_is_bit_identical_to_the_whole_array_formula(lead, n_frames, frame_major, scaled, seed):
    rng = np.random.default_rng(seed)
    edges = np.array([0, 1, 3, 8, 20, 64])
    c = (rng.standard_normal(lead + (64, n_frames)) * rng.lognormal(0, 3, (64, 1))).astype(np.float32)
    if frame_major:  # the encoder's tile: a transposed C array
        c = np.swapaxes(np.ascontiguousarray(np.swapaxes(c, -1, -2)), -1, -2)
    scale = rng.uniform(0.5, 2.0, lead + (64, 1)).astype(np.float32) if scaled else None
    x = c * scale if scaled else c
    sums = np.add.reduceat(np.add.reduceat(np.square(x, dtype=np.float64), edges[:-1], axis=-2),
                           np.arange(0, n_frames, 8), axis=-1)  # fmt: skip
    counts = np.diff(edges)[:, None] * np.diff(np.append(np.arange(0, n_frames, 8), n_frames))[None, :]
    np.testing.assert_array_equal(cells.cell_rms(c, edges, scale=scale), np.sqrt(sums / counts))


def test_cell_functions_reject_bad_input():
    c = np.zeros((16, 10))
    with pytest.raises(ParameterError, match="must rise strictly"):
        cells.cell_rms(c, [0, 8, 8, 16])
    with pytest.raises(ParameterError, match="must rise strictly"):
        cells.cell_rms(c, [0, 8])
    with pytest.raises(ParameterError, match="float array"):
        cells.cell_rms(np.zeros((16, 10), np.int16), [0, 16])
    with pytest.raises(ParameterError, match="frames_per_group=0"):
        cells.cell_rms(c, [0, 16], frames_per_group=0)
    with pytest.raises(ParameterError, match="do not cover n_frames=20"):
        cells.expand_cells(np.ones((1, 2)), [0, 16], frames_per_group=8, n_frames=20)
    with pytest.raises(ParameterError, match="2 band groups"):
        cells.expand_cells(np.ones((1, 2)), [0, 8, 16], frames_per_group=8, n_frames=10)


# ---------------------------------------------------------------------- levels
@given(
    hnp.arrays(np.float64, st.integers(1, 50), elements=st.floats(1e-6, 1e2)),
    st.sampled_from([0.5, 1.5, 3.0]),
)
def test_level_quantization_error_is_half_a_step(rms, step):
    floor = -60.0  # indices 1..127 cover floor + step .. floor + 127 step: all of 1e-6..1e2 here
    idx = cells.quantize_levels(rms, step_db=step, floor_db=floor)
    back = cells.dequantize_levels(idx, step_db=step, floor_db=floor)
    db = 20 * np.log10(rms)
    inside = (db >= floor + step / 2) & (db <= floor + cells.LEVEL_INDEX_MAX * step)
    assert np.all(np.abs(20 * np.log10(back[inside] / rms[inside])) <= step / 2 + 1e-9)
    assert np.all(idx[db > floor + cells.LEVEL_INDEX_MAX * step] == cells.LEVEL_INDEX_MAX)


def test_level_quantization_edges():
    idx = cells.quantize_levels([0.0, 1e-30, 1e9], step_db=1.5, floor_db=-140.0)
    assert idx.tolist() == [0, 0, cells.LEVEL_INDEX_MAX]
    assert cells.dequantize_levels(idx)[0] == 0.0
    # monotone
    r = np.logspace(-7, 2, 200)
    assert np.all(np.diff(cells.quantize_levels(r).astype(int)) >= 0)
    with pytest.raises(ParameterError, match=">= 0"):
        cells.quantize_levels([-1.0])
    with pytest.raises(ParameterError, match="step_db=0"):
        cells.quantize_levels([1.0], step_db=0)
    with pytest.raises(ParameterError, match=r"0\.\.127"):
        cells.dequantize_levels([128])


@given(
    hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 25), st.integers(1, 80)),
        elements=st.integers(0, cells.LEVEL_INDEX_MAX),
    )
)
def test_pack_levels_round_trip(idx):
    np.testing.assert_array_equal(cells.unpack_levels(cells.pack_levels(idx), idx.shape), idx)


def test_pack_levels_is_compact_for_smooth_levels_and_rejects_corruption():
    rng = np.random.default_rng(0)
    walk = np.clip(70 + np.cumsum(rng.integers(-1, 2, size=(20, 236)), axis=1), 1, 127).astype(np.uint8)
    data = cells.pack_levels(walk)
    # Steps of -1/0/+1 carry log2(3) = 1.58 bits; deflate needs at most 40 % more.
    assert len(data) * 8 / walk.size < 1.4 * np.log2(3)
    with pytest.raises(FormatError, match="values"):
        cells.unpack_levels(data, (20, 237))
    with pytest.raises(FormatError, match="corrupt"):
        cells.unpack_levels(b"\xff" * 10, (2, 2))
    with pytest.raises(ParameterError, match=r"0\.\.127"):
        cells.pack_levels(np.full((2, 2), 200))


# ---------------------------------------------------------------------- gains and weights
@given(
    hnp.arrays(np.float64, st.integers(1, 40), elements=st.one_of(st.just(0.0), st.floats(1e-6, 1e3))),
    st.floats(0, 1),
)
def test_normalizing_gains_even_out_levels(levels, strength):
    g = cells.normalizing_gains(levels, strength=strength, max_boost_db=200, range_db=200)
    live = levels > 0
    np.testing.assert_allclose((levels * g)[live], levels[live] ** (1 - strength), rtol=1e-9)
    assert np.all(g[~live] == 1.0)
    capped = cells.normalizing_gains(levels, strength=strength, max_boost_db=6.0)
    assert np.all(capped <= 10 ** (6 / 20) + 1e-12)
    # Within range_db of the loudest cell nothing changes; below, the gain stops growing.
    ranged = cells.normalizing_gains(levels, strength=strength, max_boost_db=200, range_db=30)
    near = levels >= levels.max() * 10 ** (-30 / 20)
    np.testing.assert_allclose(ranged[near & live], g[near & live], rtol=1e-12)
    if (live & ~near).any():
        np.testing.assert_allclose(
            ranged[live & ~near], (levels.max() * 10 ** (-30 / 20)) ** -strength, rtol=1e-12
        )


def test_gains_and_weights_reject_bad_input():
    with pytest.raises(ParameterError, match=r"strength=1\.5"):
        cells.normalizing_gains([1.0], strength=1.5)
    with pytest.raises(ParameterError, match=">= 0"):
        cells.normalizing_gains([-1.0])
    with pytest.raises(ParameterError, match="range_db=0"):
        cells.normalizing_gains([1.0], range_db=0)
    with pytest.raises(ParameterError, match="reference_hz=0"):
        cells.band_weights([1.0], reference_hz=0)


def test_band_weights_slope():
    f = np.array([100.0, 500.0, 1000.0, 2000.0, 8000.0])
    w_db = 20 * np.log10(cells.band_weights(f, slope_db_per_octave=-1.5, reference_hz=500.0))
    np.testing.assert_allclose(w_db, [0.0, 0.0, -1.5, -3.0, -6.0], atol=1e-12)


# ---------------------------------------------------------------------- noise filling
def test_noise_fill_restores_the_level_of_lost_cells_only():
    rng = np.random.default_rng(1)
    edges = np.array([0, 8, 16, 32])
    x = rng.standard_normal((32, 4000)) * np.array([1.0] * 8 + [0.1] * 8 + [0.01] * 16)[:, None]
    target = cells.cell_rms(x, edges, frames_per_group=8)
    decoded = x.copy()
    decoded[8:16] = 0.0  # a lost band group: a hole
    decoded[16:] *= 0.9  # a band group that kept 81 % of its power
    filled = cells.noise_fill(decoded, target, edges, frames_per_group=8, min_loss=0.3)
    np.testing.assert_array_equal(filled[:8], decoded[:8])  # nothing lost: untouched
    np.testing.assert_array_equal(filled[16:], decoded[16:])  # lost 19 % < min_loss: untouched
    got = cells.cell_rms(filled, edges, frames_per_group=8)[1]
    # 64 Gaussian values per cell (relative power SD 0.18): within 5 SD per cell; the mean of
    # 500 cells has SD 0.008: within 3 %.
    assert np.all(np.abs(got**2 / target[1] ** 2 - 1) < 0.9)
    assert abs(np.mean(got**2 / target[1] ** 2) - 1) < 0.03
    # min_loss=0 fills the 19 % too, on top of what is there: expected power matches.
    all_filled = cells.noise_fill(decoded, target, edges, frames_per_group=8)
    ratio = cells.cell_rms(all_filled, edges, frames_per_group=8)[2] ** 2 / target[2] ** 2
    assert abs(np.mean(ratio) - 1) < 0.03
    # deterministic for a seed, dtype kept
    again = cells.noise_fill(decoded.astype(np.float32), target, edges, frames_per_group=8, seed=5)
    assert again.dtype == np.float32
    np.testing.assert_array_equal(
        again, cells.noise_fill(decoded.astype(np.float32), target, edges, frames_per_group=8, seed=5)
    )
    other = cells.noise_fill(decoded.astype(np.float32), target, edges, frames_per_group=8, seed=6)
    assert (
        abs(np.corrcoef(again[8:16].ravel(), other[8:16].ravel())[0, 1]) < 0.05
    )  # another seed: other noise


def test_noise_fill_band_shape_puts_the_noise_where_the_signal_is():
    # One group of 16 bands over a 30 dB slope: flat noise would put the lower half 15 dB too high.
    slope = 10 ** (np.linspace(-30, 0, 16) / 20)
    x = np.random.default_rng(3).standard_normal((16, 8000)) * slope[:, None]
    edges = [0, 16]
    target = cells.cell_rms(x, edges, frames_per_group=8)
    shaped = cells.noise_fill(np.zeros_like(x), target, edges, frames_per_group=8, band_shape=slope * 7.0)
    flat = cells.noise_fill(np.zeros_like(x), target, edges, frames_per_group=8)
    per_band = lambda y: 10 * np.log10(np.mean(y**2, axis=1) / np.mean(x**2, axis=1))  # noqa: E731
    assert np.all(np.abs(per_band(shaped)) < 0.5)  # every band within 0.5 dB (8000 values each)
    assert per_band(flat)[0] > 20  # the quiet end drowned by flat noise
    # The cells' power is the same either way (only the shape within the group changes).
    np.testing.assert_allclose(
        np.mean(cells.cell_rms(shaped, edges, frames_per_group=8) ** 2), np.mean(target**2), rtol=0.03
    )
    with pytest.raises(ParameterError, match="band_shape must hold 16"):
        cells.noise_fill(np.zeros_like(x), target, edges, frames_per_group=8, band_shape=np.ones(8))


def test_noise_fill_partial_ratio_and_errors():
    edges = [0, 4]
    decoded = np.zeros((4, 4000))
    target = np.full((1, 500), 2.0)
    half = cells.noise_fill(decoded, target, edges, frames_per_group=8, max_ratio=0.5)
    assert np.mean(half**2) == pytest.approx(0.5 * 4.0, rel=0.03)
    with pytest.raises(ParameterError, match="must be \\(1, 500\\)"):
        cells.noise_fill(decoded, target[:, :10], edges, frames_per_group=8)
    with pytest.raises(ParameterError, match="min_loss=2"):
        cells.noise_fill(decoded, target, edges, frames_per_group=8, min_loss=2)


def _reference_noise(shape, seed):
    """The whole grid's noise as one cyclic read of the table (what ``cells._noise`` slices)."""
    table = cells._noise_table()
    start = (seed * 40503) % table.size
    n = int(np.prod(shape))
    return np.tile(table, -(-(start + n) // table.size))[start : start + n].reshape(shape)


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.integers(1, 3), st.integers(1, 40), st.integers(1, 9000)),
    st.integers(0, 10**9),
    st.sampled_from([np.float32, np.float64]),
)
def test_noise_fill_in_place_matches_the_copy_and_the_whole_grid_noise(shape, seed, dtype):
    lead, n_bands, n_frames = shape
    edges = np.unique(np.linspace(0, n_bands, 5).astype(int))
    decoded = np.zeros((lead, n_bands, n_frames), dtype)
    target = np.ones((lead, edges.size - 1, -(-n_frames // 4)))
    copy = cells.noise_fill(decoded, target, edges, frames_per_group=4, seed=seed)
    in_place = decoded.copy()
    assert cells.noise_fill(in_place, target, edges, frames_per_group=4, seed=seed, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, copy)
    # A silent grid receives the noise itself (unit RMS wanted): the table read cyclically in C order.
    np.testing.assert_array_equal(copy, _reference_noise(decoded.shape, seed).astype(dtype))
    with pytest.raises(ParameterError, match="out of shape"):
        cells.noise_fill(decoded, target, edges, frames_per_group=4, out=np.zeros(3, dtype))


# ---------------------------------------------------------------------- JPEG tables and rate search
@given(st.floats(1.0, 200.0))
def test_jpeg_qtable_mean_follows_fractional_steps(step):
    t = np.array(jpeg.jpeg_qtable(np.ones((8, 8)), step))
    assert t.size == 64 and set(np.unique(t)) <= {int(np.floor(step)), int(np.floor(step)) + 1}
    assert abs(t.mean() - step) <= 0.5 / 64 + 1e-9


def test_jpeg_qtable_weights_layout_and_clipping():
    w = np.ones((8, 8))
    w[0, 7] = 3.0  # row 0 = lowest vertical frequency, column 7 = highest horizontal one
    t = jpeg.jpeg_qtable(w, 10)
    assert t[7] == 30 and t[8] == 10
    assert max(jpeg.jpeg_qtable(np.full((8, 8), 100.0), 10)) == 255
    assert min(jpeg.jpeg_qtable(np.full((8, 8), 0.01), 1)) == 1
    with pytest.raises(ParameterError, match="\\(8, 8\\)"):
        jpeg.jpeg_qtable(np.ones((4, 4)), 10)
    # Pillow accepts the table.
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16), 128, np.uint8)).save(buf, "JPEG", qtables=[t])
    assert Image.open(io.BytesIO(buf.getvalue())).quantization[0][7] == 30


@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=60),
    st.integers(-100, 3000),
    st.booleans(),
)
def test_search_parameter_matches_brute_force(increments, target, increasing):
    sizes = np.cumsum(increments)  # non-decreasing in the setting
    low, high = 3, 3 + sizes.size - 1
    if not increasing:
        sizes = sizes[::-1]
    calls = []

    def size_of(p):
        calls.append(p)
        return int(sizes[p - low])

    p, size = ratecontrol.search_parameter(size_of, target, low=low, high=high, increasing=increasing)
    assert size == size_of(p)
    fitting = [int(s) for s in sizes if s <= target]
    stingiest = int(sizes.min())
    if not fitting:
        assert size == stingiest  # nothing fits: the smallest output
    else:
        # the closest of the largest fitting size and the smallest size above the target
        above = [int(s) for s in sizes if s > target]
        best = min([max(fitting)] + ([min(above)] if above else []), key=lambda s: (abs(s - target), s))
        assert abs(size - target) == abs(best - target)
    assert len(set(calls)) <= int(np.ceil(np.log2(max(sizes.size, 2)))) + 3


@given(
    st.floats(0.6, 2.0),
    st.floats(1e3, 1e6),
    st.floats(2e3, 4e5),
    st.integers(8, 2040),
    st.booleans(),
)
def test_search_parameter_power_law_lands_within_tolerance_in_few_calls(b, scale, target, guess, increasing):
    """Image sizes follow roughly a power law of the step: the search needs only a few encodes."""
    calls = []

    def size_of(p):
        calls.append(p)
        return int(scale * 64 * (p / 64.0) ** (b if increasing else -b))

    p, size = ratecontrol.search_parameter(
        size_of, target, low=8, high=2040, increasing=increasing, tolerance=0.02, guess=guess
    )
    n_calls = len(set(calls))
    lo, hi = sorted((size_of(8), size_of(2040)))
    if lo * 1.02 < target < hi * 0.98:
        assert abs(size / target - 1) <= 0.02 or abs(size_of(p + 1) - size_of(p)) > 0.02 * target
        # 20,000 random draws: at most 4 encodes from b = 0.9 up, 7 at b = 0.6 (far from the guessed law)
        assert n_calls <= (4 if b >= 0.9 else 7)


def test_search_parameter_rejects_empty_range():
    with pytest.raises(ParameterError, match="low=5"):
        ratecontrol.search_parameter(lambda p: p, 1, low=5, high=4)


# ---------------------------------------------------------------------- JPEG dead zone
def _jpeg_basis() -> np.ndarray:
    """JPEG's FDCT as a matrix (ITU T.81 A.3.3): C[u, x] = c(u) / 2 cos((2x + 1) u pi / 16)."""
    u, x = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    c = np.where(u == 0, 1 / np.sqrt(2), 1.0)
    return c / 2 * np.cos((2 * x + 1) * u * np.pi / 16)


def ref_levels(pixels: np.ndarray, table, deadzone: float, ambiguous: list | None = None) -> np.ndarray:
    """Plain loops over blocks: the dead-zone quantization levels ``(rows/8, cols/8, 8, 8)``;
    blocks with a coefficient within 1e-5 (relative) of a decision, other than the exact ones, go to
    ``ambiguous`` (the implementation decides in float32)."""
    C = _jpeg_basis()
    q = np.asarray(table, np.float64).reshape(8, 8)
    h, w = pixels.shape
    H, W = -(-h // 8) * 8, -(-w // 8) * 8
    p = np.pad(pixels.astype(np.float64) - 128, ((0, H - h), (0, W - w)), mode="edge")
    out = np.zeros((H // 8, W // 8, 8, 8))
    for i in range(H // 8):
        for j in range(W // 8):
            F = C @ p[8 * i : 8 * i + 8, 8 * j : 8 * j + 8] @ C.T
            for v in (0, 4):  # basis +-1/8: sums of integers / 8, exactly (ties must stay ties)
                for u in (0, 4):
                    signs = np.outer(np.sign(C[v]), np.sign(C[u]))
                    F[v, u] = np.sum(signs * p[8 * i : 8 * i + 8, 8 * j : 8 * j + 8]) / 8
            for v in range(8):
                for u in range(8):
                    a = abs(F[v, u]) / q[v, u]  # exact halves away from zero, as in libjpeg
                    offset = 0.5 if (v, u) == (0, 0) else 0.5 - deadzone
                    out[i, j, v, u] = np.sign(F[v, u]) * np.floor(a + offset)
                    edge = abs(a + offset - round(a + offset)) < 1e-5 * max(1.0, a)  # float32 decides
                    if ambiguous is not None and edge and (v % 4, u % 4) != (0, 0):
                        ambiguous.append((i, j))
    return out


def ref_prequantize(pixels: np.ndarray, table, deadzone: float) -> tuple[np.ndarray, np.ndarray]:
    """The pixels, and where either rounding is right: the unrounded value within 1e-3 of a half,
    or a block with a coefficient on a decision boundary (to float32 precision)."""
    C = _jpeg_basis()
    q = np.asarray(table, np.float64).reshape(8, 8)
    blocks: list = []
    k = ref_levels(pixels, table, deadzone, blocks)
    h, w = pixels.shape
    rec = np.zeros((k.shape[0] * 8, k.shape[1] * 8))
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            rec[8 * i : 8 * i + 8, 8 * j : 8 * j + 8] = C.T @ (k[i, j] * q) @ C
    value = rec[:h, :w] + 128
    near_half = np.abs(value - np.floor(value) - 0.5) < 1e-3  # the inverse DCT runs in float32
    for i, j in blocks:  # a coefficient on a decision (to float32 precision): rounding decides it
        near_half[8 * i : 8 * i + 8, 8 * j : 8 * j + 8] = True
    return np.clip(np.round(value), 0, 255).astype(np.uint8), near_half


def _laplace_codes(shape, scale, seed):
    rng = np.random.default_rng(seed)
    return np.clip(np.round(128 + scale * rng.laplace(size=shape)), 0, 255).astype(np.uint8)


@given(
    rows=st.integers(1, 24), cols=st.integers(1, 24), step=st.integers(1, 60),
    deadzone=st.sampled_from([0.0, 0.05, 0.2, 0.45]), seed=st.integers(0, 2**16),
)  # fmt: skip
def test_prequantize_jpeg_against_a_plain_loop_reference(rows, cols, step, deadzone, seed):
    x = _laplace_codes((rows, cols), 15, seed)
    table = np.random.default_rng(seed).integers(step, step + 8, 64)
    want, near_half = ref_prequantize(x, table, deadzone)
    got = jpeg.prequantize_jpeg(x, table, deadzone=deadzone)
    diff = np.abs(got.astype(int) - want)
    assert np.all(diff[~near_half] == 0)
    one = jpeg.JpegDeadZone(x, deadzone=deadzone)  # one DCT, several tables
    np.testing.assert_array_equal(one.pixels(table), got)
    np.testing.assert_array_equal(one.pixels(table + 3), jpeg.prequantize_jpeg(x, table + 3, deadzone=deadzone))


@pytest.mark.parametrize("shape", [(64, 96), (61, 93)])
@pytest.mark.parametrize("step", [6, 12, 30])
def test_libjpeg_keeps_the_dead_zone_levels(shape, step):
    """Pillow/libjpeg given the pre-quantized pixels and the same table finds the intended levels."""
    import io

    from PIL import Image

    x = _laplace_codes(shape, 12, step)
    table = jpeg.jpeg_qtable(np.ones((8, 8)), step + 0.375)
    y = jpeg.prequantize_jpeg(x, table, deadzone=0.1)
    buf = io.BytesIO()
    Image.fromarray(y, "L").save(buf, "JPEG", qtables=[table])
    decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    full = (shape[0] // 8 * 8, shape[1] // 8 * 8)  # whole blocks (libjpeg pads the others its own way)
    want = ref_levels(x[: full[0], : full[1]], table, 0.1)
    got = ref_levels(decoded[: full[0], : full[1]], table, 0.0)  # nearest levels of what libjpeg decoded
    assert np.mean(got == want) >= 0.999


def test_dead_zone_saves_bits_and_zero_changes_nothing():
    import io

    from PIL import Image

    def encoded(pixels, table):
        buf = io.BytesIO()
        Image.fromarray(pixels, "L").save(buf, "JPEG", qtables=[table], optimize=True)
        return len(buf.getvalue()), np.asarray(Image.open(io.BytesIO(buf.getvalue())))

    x = _laplace_codes((128, 256), 10, 1)
    table = [14] * 64
    mse = lambda px: np.mean((px.astype(np.float64) - x) ** 2)  # noqa: E731
    plain, plain_px = encoded(x, table)
    same, same_px = encoded(jpeg.prequantize_jpeg(x, table, deadzone=0.0), table)
    # deadzone 0: the levels libjpeg would choose itself (its integer DCT decides a few near-halves)
    assert np.mean(ref_levels(same_px, table, 0.0) == ref_levels(plain_px, table, 0.0)) > 0.99
    assert abs(same / plain - 1) < 0.01 and abs(mse(same_px) / mse(plain_px) - 1) < 0.01
    small, small_px = encoded(jpeg.prequantize_jpeg(x, table, deadzone=0.15), table)
    assert small < 0.95 * plain  # measured: 8 % fewer bytes
    assert mse(small_px) < 1.3 * mse(plain_px)  # for 24 % more squared error


@pytest.mark.parametrize(
    "pixels, table, deadzone, match",
    [
        (np.zeros((8, 8), np.float32), [8] * 64, 0.1, "uint8"),
        (np.zeros((0, 8), np.uint8), [8] * 64, 0.1, "non-empty"),
        (np.zeros((8, 8), np.uint8), [8] * 63, 0.1, "64 steps"),
        (np.zeros((8, 8), np.uint8), [0] * 64, 0.1, "64 steps"),
        (np.zeros((8, 8), np.uint8), [8] * 64, 0.5, "deadzone"),
        (np.zeros((8, 8), np.uint8), [8] * 64, -0.1, "deadzone"),
        (np.zeros((8, 8), np.uint8), [8] * 64, float("nan"), "deadzone"),
        (np.zeros((8, 8), np.uint8), [8] * 64, "0.1", "deadzone"),
    ],
)
def test_prequantize_jpeg_rejects(pixels, table, deadzone, match):
    with pytest.raises(ParameterError, match=match):
        jpeg.prequantize_jpeg(pixels, table, deadzone=deadzone)
