"""Tiles in a stream: audio blocks -> tiles of codes (encoder) and tiles -> audio blocks (decoder).

Both sides are thin loops around public operations: the transform's streaming MDCT
(:meth:`~mdctcompand.MDCT.stream_analyzer`, :meth:`~mdctcompand.MDCT.stream_synthesizer`),
the converter's coefficient <-> code operations and the channel layout. Memory is one tile
of samples and frames, whatever the length of the audio.

Tile ``i`` holds frames ``[i * T, i * T + count)`` (``T = tile_frames``); its level gain is
computed from the samples those frames cover, ``[(i * T - 1) * hop, (i * T + count) * hop)``,
jointly over the stored channels (a quiet side channel then keeps small codes, which cost
few bits).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..channels import ChannelLayout
from ..converter import AudioImageConverter
from ..exceptions import FormatError
from ..header import AudioImageHeader
from . import tools as coding_tools
from .section import CodingSection

__all__ = ["TileDecoder", "TileEncoder", "zero_code"]


def zero_code(converter: AudioImageConverter) -> int:
    """Code of a zero coefficient (what silent padding frames hold).

    Examples
    --------
    >>> zero_code(AudioImageConverter(rounding="round"))
    128
    """
    return int(np.searchsorted(converter.compander.cell_bounds, 0.5, side="right") - 1)


class TileEncoder:
    """Push ``(stored channels, n)`` blocks at the converter's rate; get image tiles ``(rows, width)`` uint8.

    With ``tools`` (:class:`~mdctcompand.codec.tools.CodingTools`) the coefficients are
    weighted before coding and every tile's side information is appended to ``side_info``
    (bytes); ``counts`` holds every tile's frame count.

    Examples
    --------
    >>> conv = AudioImageConverter(tilt=8.0)
    >>> enc = TileEncoder(conv, ChannelLayout(), n_channels=1, tile_frames=32)
    >>> tiles = list(enc.push(np.zeros((1, 20000), np.float32))) + list(enc.finish())
    >>> [t.shape for t in tiles], len(enc.gains)
    ([(512, 32), (512, 32)], 2)
    """

    def __init__(
        self,
        converter: AudioImageConverter,
        layout: ChannelLayout,
        *,
        n_channels: int,
        tile_frames: int,
        tools: coding_tools.CodingTools | None = None,
    ) -> None:
        self.tools = tools
        self.side_info: list[bytes] = []
        self.counts: list[int] = []
        self.converter = converter
        self.layout = layout
        self.tile_frames = tile_frames
        self.analyzer = converter.mdct.stream_analyzer()
        self.n_channels = n_channels
        # The frame-major tile, allocated when a tile starts filling and released once it is
        # coded: while the consumer codes the tile's image (rate control) it holds no memory.
        self.frames: np.ndarray | None = None
        self.filled = 0
        # Samples still needed: the next tile's level starts one hop before this tile ends.
        self.blocks: list[np.ndarray] = []  # samples from sample `samples_start` on
        self.samples_start = 0
        self.first_frame = 0  # first frame of the current tile
        self.meter = converter.level.meter(n_channels)  # the current tile's level, metered so far
        self.metered = 0  # ... up to this sample
        self.gains: list[list[float]] = []
        self.band_gains: list[np.ndarray] = []  # per tile (stored channels, groups), with band gains

    @property
    def n_samples(self) -> int:
        """Samples pushed so far."""
        return self.analyzer.n_samples

    def push(self, block: np.ndarray) -> Iterator[np.ndarray]:
        """Add samples; yield every tile they complete.

        Examples
        --------
        >>> enc = TileEncoder(AudioImageConverter(), ChannelLayout(), n_channels=1, tile_frames=16)
        >>> len(list(enc.push(np.zeros((1, 512 * 20), np.float32))))  # 19 complete frames: one tile
        1
        """
        self.blocks.append(block)
        frames = self.analyzer.push(block)
        self._meter()
        yield from self._take(frames)

    def finish(self) -> Iterator[np.ndarray]:
        """Yield the last tile(s) (zero padding after the end of the audio).

        Examples
        --------
        >>> enc = TileEncoder(AudioImageConverter(), ChannelLayout(), n_channels=1, tile_frames=16)
        >>> list(enc.push(np.zeros((1, 1000), np.float32))), [t.shape for t in enc.finish()]
        ([], [(512, 16)])
        """
        yield from self._take(self.analyzer.finish())
        if self.filled:
            yield self._tile(last=True)

    def _take(self, coefficients: np.ndarray) -> Iterator[np.ndarray]:
        frames = np.swapaxes(coefficients, -1, -2)  # (channels, k, M) frame-major views
        while frames.shape[1]:
            take = min(frames.shape[1], self.tile_frames - self.filled)
            if self.frames is None:
                shape = (self.n_channels, self.tile_frames, self.converter.hop_length)
                self.frames = np.empty(shape, dtype=np.float32)
            self.frames[:, self.filled : self.filled + take] = frames[:, :take]
            self.filled += take
            frames = frames[:, take:]
            if self.filled == self.tile_frames:
                yield self._tile(last=False)

    def _meter(self) -> None:
        """Meter the held samples of the current tile's window not yet metered; drop those no tile needs."""
        m = self.converter.hop_length
        stop = min(self.n_samples, (self.first_frame + self.tile_frames) * m)  # the window's end
        if stop > self.metered:
            for piece in _span(self.blocks, self.metered - self.samples_start, stop - self.samples_start):
                self.meter.add(piece)
            self.metered = stop
        keep = min(self.metered, (self.first_frame + self.tile_frames - 1) * m)  # the next window's start
        self._drop(keep)

    def _drop(self, keep: int) -> None:
        """Drop the held samples before sample ``keep``."""
        if keep > self.samples_start:
            self.blocks = _span(self.blocks, keep - self.samples_start, sum(b.shape[1] for b in self.blocks))
            self.samples_start = keep

    def _tile(self, *, last: bool) -> np.ndarray:
        conv, m, count = self.converter, self.converter.hop_length, self.filled
        f0 = self.first_frame
        # The window of the tile's frames: samples (f0 - 1) * m .. (f0 + count) * m, all metered.
        gain = self.meter.gain() if self.meter.n_samples else 1.0
        assert self.frames is not None  # a tile is made of frames
        frames = np.swapaxes(self.frames[:, :count], -1, -2)  # (channels, bins, count), frame-major
        self.frames = None  # `frames` keeps the buffer until the codes are made
        gain = float(f"{gain:.6g}")  # what the header stores (compactly)
        if self.tools is not None:
            info, side = coding_tools.analyze(self.tools, conv.profile, frames, gain)
            frames = coding_tools.weigh(self.tools, conv.profile, info, frames)  # in the tile buffer
            if self.tools.needs_levels:
                self.side_info.append(side)
        self.counts.append(count)
        band_gains = (
            conv.measure_band_gains(frames, gain=gain) if conv.band_gains is not None else None
        )
        if band_gains is not None:
            self.band_gains.append(band_gains)
        codes = conv.codes_from_coefficients(frames, gain=gain, band_gains=band_gains, overwrite=True)  # the buffer
        # A file of one tile is as wide as its audio (whole 16-frame blocks); in longer files
        # every tile, the last one too, is a full tile (containers need equal frame sizes).
        width = -(-count // 16) * 16 if (last and f0 == 0) else self.tile_frames
        if width > count:
            pad = np.full(codes.shape[:-1] + (width - count,), zero_code(conv), dtype=np.uint8)
            codes = np.concatenate([codes, pad], axis=-1)
        self.gains.append([gain] * self.n_channels)
        self.first_frame += count
        self.filled = 0
        self.metered = max(0, (self.first_frame - 1) * m)  # the next tile's window starts here
        self.meter = conv.level.meter(self.n_channels)
        self._meter()
        return self.layout.arrange(codes)


class TileDecoder:
    """Push the tiles of a file (in order); get ``(stored channels, n)`` blocks at the converter's rate.

    ``table`` replaces the compander's reconstruction table (the MMSE decoder). A version-3
    header's coding tools are undone after the codes are decoded (noise filling included);
    its side information is parsed and checked here, before any pixels are decoded.

    Examples
    --------
    >>> from mdctcompand.header import header_from_profile
    >>> conv = AudioImageConverter(tilt=8.0)
    >>> h = header_from_profile(conv.profile, length=10000, gains=[[1.0]], tile_frames=32)
    >>> dec = TileDecoder(conv, h)
    >>> np.concatenate(list(dec.push(np.full((512, 32), 128, np.uint8), 0)), axis=-1).shape
    (1, 10000)
    """

    def __init__(
        self, converter: AudioImageConverter, header: AudioImageHeader, table: np.ndarray | None = None, *,
        coding: CodingSection | None = None,
    ):
        self.converter = converter
        self.header = header
        self.layout = ChannelLayout.from_header_mode(header.stereo, header.arrangement)
        self.table = table
        self.synthesizer = converter.mdct.stream_synthesizer(length=header.length)
        self._buffer: np.ndarray | None = None  # the tiles' coefficients (see push)
        section = CodingSection.from_header(header) if coding is None else coding
        self.tools = section.tools
        self.side: list[coding_tools.TileSideInfo | None] = [None] * header.n_tiles
        if self.tools is not None and self.tools.needs_levels:
            profile = converter.profile
            for i, text in enumerate(section.side_info or ()):
                self.side[i] = coding_tools.parse_side_info(
                    self.tools, profile, text, header.tile_span(i)[1], header.stored_channels
                )

    @property
    def n_samples(self) -> int:
        """Samples returned so far."""
        return self.synthesizer.n_samples

    def push(self, pixels: np.ndarray, index: int) -> Iterator[np.ndarray]:
        """Decode tile ``index``; return the samples it completes, in blocks of a few hundred frames.

        The pixels are checked and decoded to coefficients at once; the blocks are synthesized
        as they are asked for (iterate to the end before the next tile).

        Examples
        --------
        >>> from mdctcompand.header import header_from_profile
        >>> conv = AudioImageConverter(tilt=8.0)
        >>> h = header_from_profile(conv.profile, length=10000, gains=[[1.0]], tile_frames=32)
        >>> [b.shape for b in TileDecoder(conv, h).push(np.full((512, 32), 128, np.uint8), 0)]
        [(1, 10000)]
        >>> TileDecoder(conv, h).push(np.zeros((100, 32), np.uint8), 0)
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.FormatError: tile 1 has shape (100, 32); the header needs (512, 21..32)
        """
        h = self.header
        _, count = h.tile_span(index)
        if pixels.ndim != 2 or pixels.shape[0] != h.rows or not count <= pixels.shape[1] <= h.tile_frames:
            raise FormatError(
                f"tile {index + 1} has shape {pixels.shape}; the header needs ({h.rows}, {count}..{h.tile_frames})"
            )
        stored = self.layout.split(pixels[:, :count], h.stored_channels)
        gains = np.asarray(h.gains[index], dtype=np.float64)
        band = None if h.band_gains is None else h.band_gains[index]
        if self._buffer is None:
            # One buffer for every tile (the blocks of a tile are consumed before the next one),
            # its rows padded a cache line off a power of two: the synthesizer reads it down
            # the columns, and 4096-frame rows (16 KB) would land in the same cache sets (4x slower).
            shape = (stored.shape[0], self.converter.mdct.n_bins, h.tile_frames + 16)
            self._buffer = np.empty(shape, np.float32)
        coefficients = self.converter.coefficients_from_codes(
            stored, gain=gains, band_gains=band, table=self.table, out=self._buffer[..., :count]
        )
        if self.tools is not None:
            coefficients = coding_tools.restore(
                self.tools, self.converter.profile, coefficients, self.side[index], gains, seed=index
            )
        return self.synthesizer.push_blocks(coefficients)

    def finish(self) -> None:
        """Check that the tiles held all of the audio.

        Examples
        --------
        >>> from mdctcompand.header import header_from_profile
        >>> conv = AudioImageConverter(tilt=8.0)
        >>> h = header_from_profile(conv.profile, length=30000, gains=[[1.0]] * 2, tile_frames=32)
        >>> dec = TileDecoder(conv, h)
        >>> _ = list(dec.push(np.full((512, 32), 128, np.uint8), 0))
        >>> dec.finish()
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.FormatError: the file ends before its audio does (truncated?)
        """
        if self.synthesizer.n_samples < self.header.length:
            raise FormatError("the file ends before its audio does (truncated?)")


def _span(blocks: list[np.ndarray], lo: int, hi: int) -> list[np.ndarray]:
    """Samples ``lo:hi`` of the concatenation of ``(channels, n)`` blocks, as views of them (no copy).

    Examples
    --------
    >>> blocks = [np.arange(6.0).reshape(2, 3), np.arange(6.0, 10.0).reshape(2, 2)]
    >>> [b.tolist() for b in _span(blocks, 2, 4)]
    [[[2.0], [5.0]], [[6.0], [8.0]]]
    """
    out, start = [], 0
    for block in blocks:
        end = start + block.shape[1]
        if end > lo and start < hi:
            out.append(block[:, max(lo - start, 0) : min(hi, end) - start])
        start = end
    return out
