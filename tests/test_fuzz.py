"""Hostile files: only the library's exceptions, bounded memory, no outputs left behind.

The cases come from ``tests/fuzzing.py`` (whose ``main`` runs the long campaign:
``python tests/fuzzing.py --cases 2400``). Here: every crafted header and hostile
container, and ``MDCTCOMPAND_FUZZ_EXAMPLES`` (default 200) byte mutations of valid files.
"""

from __future__ import annotations

import functools
import os
import random
import tracemalloc

import fuzzing as fuzz
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdctcompand import FormatError, codec

EXAMPLES = int(os.environ.get("MDCTCOMPAND_FUZZ_EXAMPLES", "200"))


@functools.lru_cache(maxsize=1)
def _seeds() -> list[bytes]:
    return [data for _, data in sorted(fuzz.seed_files().items())]


def test_seed_files_are_valid(tmp_path):
    for data in _seeds():
        assert fuzz.run_case(data, tmp_path) == ("decoded", "")


@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(which=st.integers(0, 100), seed=st.integers(0, 2**32 - 1), n_ops=st.integers(1, 8))
def test_mutated_files_raise_only_library_errors(tmp_path_factory, which, seed, n_ops):
    seeds = _seeds()
    data = fuzz.mutate(seeds[which % len(seeds)], random.Random(seed), n_ops)
    outcome, detail = fuzz.run_case(data, tmp_path_factory.mktemp("case"))
    assert outcome in ("decoded", "refused"), detail


def test_crafted_headers_and_hostile_containers_are_refused(tmp_path):
    problems = []
    for name, data in fuzz.crafted_cases() + fuzz.hostile_containers():
        outcome, detail = fuzz.run_case(data, tmp_path)
        for p in tmp_path.iterdir():
            p.unlink()
        legit = "4 M pixels" in name or name in (
            "header arrangement=planes",  # valid: one stored channel
            "header band_gains zeros",  # valid band gains, the neutral ones
            "header band_gains at the limits",  # valid: every group 64 dB up
        )
        if outcome != "refused" and not (legit and outcome == "decoded"):
            problems.append((name, outcome, detail))
    assert problems == []


@pytest.mark.parametrize(
    "name, match",
    [
        ("APNG 8 frames of 67 M pixels", "pixels per image exceed"),
        ("PNG 100000 x 100000", "decompression bomb"),
        ("JPEG SOF 65000 x 65000", "decompression bomb"),
        ("PNG iTXt zip bomb (64 MB of text)", "too large"),
        ("APNG acTL claims 2**31 frames", "promises 1"),
    ],
)
def test_bombs_are_refused_in_small_memory(name, match):
    data = dict(fuzz.hostile_containers())[name]
    assert len(data) < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=match):
            codec.decode(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 << 20


def test_header_fields_are_refused_with_their_values():
    cases = dict(fuzz.crafted_cases())
    for name, match in [
        ("header source_length=1000000000", "source_length=1000000000"),
        ("header source_sample_rate=10000000", "'source_sample_rate' is 10000000"),
        ("header gains=[[1e-300]]", "'gains' is 1e-300"),
        ("header deep JSON array", "nested 5000 deep"),
        ("header tile_frames=2097152", "'tile_frames' is 2097152"),
        ("profile n_clips=inf", "embedded profile is invalid"),
        ("header version=99", "upgrade"),
    ]:
        with pytest.raises(FormatError, match=match):
            codec.decode(cases[name])
