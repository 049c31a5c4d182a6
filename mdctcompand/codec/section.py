"""The codec's section of a file's header: how the image was coded and the coding tools' side information.

The header (:class:`~mdctcompand.header.AudioImageHeader`) carries the section as data, in its
``coding`` field; this class reads and validates it against the header's geometry, and writes
it. In the JSON its keys sit flat beside the header's own, in the order of format version 3:

=====================  ==================================================================
``bandwidth``          requested bandwidth (Hz; informational)
``image_format``       a name in :data:`~mdctcompand.formats.FORMATS`
``quality``            the image quality (``None``: lossless or a JPEG step)
``qtable``             JPEG quantization table, ``"flat"`` or ``"standard"``
``coding_noise``       RMS code error of the image codec per band group (the MMSE decoder's)
``source_subtype``     the source's sample format (what ``jpeg2wav`` writes back)
``cell_frames`` ...    the :class:`~mdctcompand.codec.tools.CodingTools` (version 3)
``side_info``          per tile, the tools' side information (Base85 text)
``jpeg_step``          the JPEG step of rate control
``tags``               the source's text tags (title, artist, ...; :data:`~mdctcompand.io.TAG_NAMES`)
=====================  ==================================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import FormatError, ParameterError
from ..formats import FORMATS
from ..header import (
    SAMPLE_RATE_RANGE,
    AudioImageHeader,
    field_choice,
    field_error,
    field_float,
    field_int,
    field_text,
)
from ..io import TAG_NAMES
from .tools import CodingTools, max_side_info_chars, shape_bands

__all__ = ["CodingSection"]

#: Longest text tag kept (longer ones are cut by the encoder).
MAX_TAG_CHARS = 1024
#: Tool values of a file without cell levels, and those a version-3 header leaves out.
_TOOLS_OFF = {"gain_strength": 0.0, "band_slope_db": 0.0, "noise_fill": None}
_TOOLS_DEFAULT = {"group_width": 0.2, "level_step_db": 3.0, "gain_range_db": 40.0, **_TOOLS_OFF}


@dataclass(frozen=True)
class CodingSection:
    """The codec's part of a header (see the module's table).

    Examples
    --------
    >>> from mdctcompand import codec
    >>> import numpy as np
    >>> info = codec.read_info(codec.encode(np.zeros(8000), 8000))
    >>> s = CodingSection.from_header(info.header)
    >>> s.image_format, s.tools.cell_frames, s.jpeg_step is not None
    ('jpeg', 2, True)
    """

    bandwidth: float | None = None
    image_format: str | None = None
    quality: int | None = None
    qtable: str | None = None
    coding_noise: tuple[float, ...] | None = field(default=None, repr=False)
    source_subtype: str | None = None
    tools: CodingTools | None = None
    side_info: tuple[str, ...] | None = field(default=None, repr=False)
    jpeg_step: float | None = None
    tags: dict[str, str] | None = None

    def to_header(self) -> dict[str, Any]:
        """The section as the header's ``coding`` data (values left out at their defaults)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "tools" and value is not None:
                out.update({k: v for k, v in dataclasses.asdict(value).items() if _TOOLS_DEFAULT.get(k, ...) != v})
            elif f.name in ("coding_noise", "side_info") and value is not None:
                out[f.name] = list(value)
            elif value is not None and f.name != "tools" and value != {}:
                out[f.name] = value  # the fields' order is the JSON's (version 3's, tags last)
        return out

    @classmethod
    def from_header(cls, header: AudioImageHeader) -> CodingSection:
        """Read and validate ``header.coding``; a :class:`~mdctcompand.FormatError` names the bad key.

        Keys of later versions are ignored (the header's version says what a reader must know).
        """
        data = dict(header.coding or {})
        get = data.get
        bandwidth = get("bandwidth")
        if bandwidth is not None:
            bandwidth = field_float("bandwidth", bandwidth, 1.0, float(SAMPLE_RATE_RANGE[1]))
        field_choice("image_format", get("image_format"), tuple(FORMATS), optional=True)
        if get("quality") is not None:
            field_int("quality", get("quality"), 1, 100)
        field_choice("qtable", get("qtable"), ("flat", "standard"), optional=True)
        noise = get("coding_noise")
        if noise is not None:
            if type(noise) is not list or not 1 <= len(noise) <= 256:
                raise field_error("coding_noise", noise, "1..256 numbers")
            noise = tuple(field_float("coding_noise", v, 0.0, 256.0) for v in noise)
        if get("source_subtype") is not None:
            field_text("source_subtype", get("source_subtype"), 40)
        jpeg_step = get("jpeg_step")
        if jpeg_step is not None:
            jpeg_step = field_float("jpeg_step", jpeg_step, 0.1, 255.0)
        tools = _tools(header, data)
        tags = get("tags")
        if tags is not None:
            if type(tags) is not dict or len(tags) > 64:
                raise field_error("tags", tags, "an object of text tags")
            tags = {k: field_text(f"tags.{k}", v, MAX_TAG_CHARS) for k, v in tags.items() if k in TAG_NAMES}
        return cls(
            bandwidth=bandwidth, image_format=get("image_format"), quality=get("quality"), qtable=get("qtable"),
            coding_noise=noise, source_subtype=get("source_subtype"), tools=tools,
            side_info=_side_info(header, tools, get("side_info")), jpeg_step=jpeg_step,
            tags=tags or None,
        )  # fmt: skip


def _tools(header: AudioImageHeader, data: dict[str, Any]) -> CodingTools | None:
    names = [f.name for f in dataclasses.fields(CodingTools)]
    if data.get("cell_frames") is None:
        for name in (*_TOOLS_OFF, "side_info"):
            if data.get(name, _TOOLS_OFF.get(name)) != _TOOLS_OFF.get(name):
                raise field_error(name, data[name], f"{_TOOLS_OFF.get(name)!r} without cell_frames")
        return None
    if header.version < 3:
        raise field_error("cell_frames", data["cell_frames"], "null in a version-2 header")
    field_int("cell_frames", data["cell_frames"], 1, 64)
    try:
        values: dict[str, Any] = {name: data.get(name, _TOOLS_DEFAULT.get(name)) for name in names}
        return CodingTools(**values)
    except (ParameterError, TypeError) as exc:
        raise FormatError(f"header field {exc}") from exc


def _side_info(header: AudioImageHeader, tools: CodingTools | None, side: Any) -> tuple[str, ...] | None:
    if tools is None or not tools.needs_levels:
        if side is not None:
            raise field_error("side_info", side, "null without cell gains or noise filling")
        return None
    if type(side) is not list or len(side) != header.n_tiles:
        raise field_error("side_info", side, f"{header.n_tiles} strings (one per tile)")
    profile_bands = header.frame_length // 2
    groups = tools.group_count(profile_bands, header.sample_rate)
    shape = header.stored_channels * shape_bands(profile_bands) if tools.fills_noise else 0
    for i, text in enumerate(side):
        cells = header.stored_channels * groups * tools.n_cells(header.tile_span(i)[1])
        longest = max_side_info_chars(cells, shape)
        if type(text) is not str or len(text) > longest:
            raise field_error("side_info", text, f"strings of at most {longest} characters (tile {i + 1})")
    return tuple(side)
