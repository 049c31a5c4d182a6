"""Chunked multithreading for GIL-releasing kernels (private)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")

_pools: dict[int, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    from concurrent.futures import ThreadPoolExecutor  # loaded when a second thread is wanted

    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mdctcompand")
        return pool


def run_chunks(fn: Callable[[T], None], chunks: Sequence[T], workers: int) -> None:
    """Call ``fn(chunk)`` for every chunk, on ``workers`` threads when there are several chunks.

    Exceptions from any chunk propagate to the caller.
    """
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            fn(chunk)
        return
    for future in [_pool(workers).submit(fn, c) for c in chunks]:
        future.result()


def split_work(n_rows: int, n_items: int, workers: int, *, min_items: int) -> list[tuple[slice, slice]]:
    """Split a ``(n_rows, n_items)`` job into about ``workers`` chunks of ``(row slice, item slice)``.

    Rows are split first; when there are fewer rows than workers, each row's items are
    split too. Chunks are never smaller than ``min_items`` items (in total) unless the job is.
    """
    total = n_rows * n_items
    n_chunks = max(1, min(workers, total // max(1, min_items)))
    if n_chunks == 1:
        return [(slice(0, n_rows), slice(0, n_items))]
    if n_rows >= n_chunks:
        bounds = np.linspace(0, n_rows, n_chunks + 1).round().astype(int)
        return [(slice(a, b), slice(0, n_items)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    per_row = -(-n_chunks // n_rows)
    bounds = np.linspace(0, n_items, per_row + 1).round().astype(int)
    return [
        (slice(r, r + 1), slice(a, b))
        for r in range(n_rows)
        for a, b in zip(bounds[:-1], bounds[1:])
        if b > a
    ]
