"""Header checks on hostile text: nesting depth in bounded memory, ids that are not ids."""

import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdctcompand import FormatError
from mdctcompand import header as header_module
from mdctcompand.header import AudioImageHeader, header_from_profile, json_depth
from mdctcompand.profile import default_profile, shipped_profile


def _reference_depth(text: str) -> int:
    """Character by character: escapes anywhere, strings, brackets outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_string:
            in_string = ch != '"'
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='[]{}"\\ax\u00e9', max_size=80), chunk=st.sampled_from([1, 2, 7, 1 << 20]))
def test_depth_matches_the_plain_scan_across_chunk_edges(text, chunk):
    old = header_module._DEPTH_CHUNK
    header_module._DEPTH_CHUNK = chunk
    try:
        assert json_depth(text) == _reference_depth(text)
    finally:
        header_module._DEPTH_CHUNK = old


def test_depth_examples():
    assert json_depth('{"a": [1, [2]], "b": "[[["}') == 3
    assert json_depth('"a\\"[["') == 0 and json_depth('[["x\\\\"]]') == 2 and json_depth("") == 0
    rng = random.Random(1)
    long = "".join(rng.choice('[]{}"\\ax') for _ in range(50_000))
    assert json_depth(long) == _reference_depth(long)


@pytest.mark.parametrize("body", ["a" * 16_000_000, '\\"' * 8_000_000])
def test_depth_of_a_16_mb_header_takes_little_memory(body):
    """It took about 120 bytes per character (1.94 GB for this string)."""
    text = '"' + body + '"'
    tracemalloc.start()
    try:
        assert json_depth(text) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6  # about 60 MB measured: the chunk's arrays and the text's UTF-8 slices


def test_ids_that_are_not_ids_are_format_errors():
    assert shipped_profile("f" * 300) is None and shipped_profile("../../etc/passwd") is None
    assert shipped_profile(None) is None
    h = header_from_profile(default_profile(), length=10, gains=[[1.0]], tile_frames=16).to_dict()
    for pid in ("f" * 300, "x" * 100_000, "../" * 10, 7):
        with pytest.raises(FormatError, match="profile"):
            AudioImageHeader.from_dict({**h, "profile": {"id": pid, "name": "n"}})
