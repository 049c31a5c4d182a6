"""Chunked multithreading for GIL-releasing kernels (private)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")

#: Chunks per thread: several, handed out as threads free up, so that a thread the OS
#: slows down (another process on its core) takes fewer of them instead of holding up the rest.
CHUNKS_PER_WORKER = 2

_DONE = object()
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

    The calling thread is one of them: it and ``workers - 1`` pool threads take the chunks in
    order, each the next one left as it finishes the last. After a chunk raises, no new chunk
    is started and the exception propagates to the caller once the running ones are done.
    """
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            fn(chunk)
        return
    lock = threading.Lock()
    pending = iter(chunks)
    failed = threading.Event()

    def drain() -> None:
        while not failed.is_set():
            with lock:
                chunk = next(pending, _DONE)
            if chunk is _DONE:
                return
            try:
                fn(chunk)  # type: ignore[arg-type]
            except BaseException:
                failed.set()
                raise

    helpers = [_pool(workers - 1).submit(drain) for _ in range(min(workers, len(chunks)) - 1)]
    try:
        drain()
    finally:
        errors = [f.exception() for f in helpers]
    for error in errors:
        if error is not None:
            raise error


def split_work(n_rows: int, n_items: int, workers: int, *, min_items: int) -> list[tuple[slice, slice]]:
    """Split a ``(n_rows, n_items)`` job into about ``workers`` chunks of ``(row slice, item slice)``.

    Rows are split first; when there are fewer rows than workers, each row's items are
    split too. Chunks are never smaller than ``min_items`` items (in total) unless the job is.
    """
    total = n_rows * n_items
    wanted = 1 if workers <= 1 else CHUNKS_PER_WORKER * workers
    n_chunks = max(1, min(wanted, total // max(1, min_items)))
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
