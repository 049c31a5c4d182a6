"""The bytes every writer produces, against the hashes committed before a refactor (tests/golden.py).

Exact equality is asserted where the numeric libraries and the CPU's SIMD are the ones the hashes
were recorded with (a different libm or SIMD path may move a code that sits on a rounding tie);
elsewhere the test is skipped and says why.
"""

import json

import pytest

pytest.importorskip("numba")
pytest.importorskip("soxr")

import golden


def test_every_output_is_byte_identical_to_the_recorded_one():
    recorded = json.loads(golden.HASHES.read_text())
    here = golden.signature()
    if here != recorded["signature"]:
        differs = {
            k: (recorded["signature"].get(k), v) for k, v in here.items() if recorded["signature"].get(k) != v
        }
        pytest.skip(f"hashes recorded on another numeric stack: {differs}")
    hashes = golden.compute()
    assert sorted(hashes) == sorted(recorded["hashes"])
    changed = sorted(k for k, v in hashes.items() if recorded["hashes"][k] != v)
    assert not changed, f"{len(changed)} of {len(hashes)} outputs changed: {changed}"
