"""Interleaved timing: robust medians and ratios on a noisy machine."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Median wall time of a callable and its median ratio to a baseline, over interleaved runs."""

    name: str
    median_s: float
    ratio: float
    ratio_q25: float
    ratio_q75: float
    best_s: float = float("nan")  #: the fastest round: the time with the least interference


def compare(
    candidates: dict[str, Callable[[], object]],
    *,
    baseline: str,
    repeat: int = 30,
    min_time: float = 0.0,
    block: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> list[Timing]:
    """Time every callable ``repeat`` times, interleaved, and return medians and ratios to ``baseline``.

    Interleaving (A, B, C, A, B, C, ...) exposes every candidate to the same machine
    noise; the ratio is the median of the per-round ratios, with its quartiles.
    With ``block > 1`` each candidate runs ``block`` times in a row per round and the
    round keeps the block's median: steady-state (warm-cache) times, still interleaved.
    Every callable runs once before timing (warm-up, Numba compilation). ``clock``: what is
    measured, wall time by default (:func:`children_cpu_time` for the CPU of subprocesses).
    """
    if baseline not in candidates:
        raise KeyError(f"baseline {baseline!r} is not one of {list(candidates)}")
    for fn in candidates.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    start = time.perf_counter()
    rounds = 0
    while rounds < repeat or time.perf_counter() - start < min_time:
        for name, fn in candidates.items():
            runs = []
            for _ in range(block):
                t0 = clock()
                fn()
                runs.append(clock() - t0)
            times[name].append(float(np.median(runs)))
        rounds += 1
    base = np.asarray(times[baseline])
    out = []
    for name, ts in times.items():
        r = np.asarray(ts) / base
        out.append(
            Timing(
                name,
                float(np.median(ts)),
                float(np.median(r)),
                *map(float, np.quantile(r, [0.25, 0.75])),
                best_s=float(np.min(ts)),
            )
        )
    return out


def format_table(rows: list[Timing], *, baseline: str, extra: dict[str, str] | None = None) -> str:
    """Markdown table of :func:`compare` results."""
    lines = [f"| implementation | median (ms) | ratio to {baseline} (q25-q75) |", "|---|---:|---:|"]
    for r in rows:
        note = f" {extra[r.name]}" if extra and r.name in extra else ""
        lines.append(
            f"| {r.name}{note} | {r.median_s * 1e3:.2f} | {r.ratio:.2f} ({r.ratio_q25:.2f}-{r.ratio_q75:.2f}) |"
        )
    return "\n".join(lines)


def children_cpu_time() -> float:
    """CPU time (user + system, seconds) of this process's finished children: a ``clock`` for
    :func:`compare` of commands run as subprocesses (wall time counts the machine's other load)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def steady_state_kernels() -> Iterator[None]:
    """Run the block on the kernels' Numba build, their steady-state speed, unless the caller pinned one.

    A short process starts on the numpy build while Numba compiles in the background, so an
    unpinned measurement would time whichever build happened to be ready. The environment is
    restored afterwards: a lab run inside another process (the tests) leaves no pin behind for the
    subprocesses that process starts later.
    """
    pinned = os.environ.get("MDCTCOMPAND_KERNELS")
    os.environ["MDCTCOMPAND_KERNELS"] = pinned or "numba"
    try:
        yield
    finally:
        if pinned is None:
            del os.environ["MDCTCOMPAND_KERNELS"]
