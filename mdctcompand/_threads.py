"""Threads: chunked multithreading for GIL-releasing kernels, and the codec's BLAS policy (private)."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

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
        # Helpers that have not started have nothing left to do: cancelled, they cannot hold up
        # a caller that is itself a pool thread (a nested call would otherwise wait on a queue
        # that only it could serve).
        for f in helpers:
            f.cancel()
        errors = [f.exception() for f in helpers if not f.cancelled()]
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
        bounds = [i * n_rows // n_chunks for i in range(n_chunks + 1)]
        return [(slice(a, b), slice(0, n_items)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    per_row = -(-n_chunks // n_rows)
    bounds = [i * n_items // per_row for i in range(per_row + 1)]
    return [
        (slice(r, r + 1), slice(a, b))
        for r in range(n_rows)
        for a, b in zip(bounds[:-1], bounds[1:])
        if b > a
    ]


#: Environment variables that size the BLAS thread pool numpy loads (OpenBLAS, MKL, BLIS, Accelerate).
BLAS_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the BLAS libraries loaded now (numpy's), made once; ``None`` without it."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - a declared dependency; the policy is a speed-up only
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with numpy's BLAS on one thread, unless the environment sizes BLAS itself.

    The codec's matrix products are small (8x8 JPEG blocks, 64 at a time): a BLAS pool
    finishes them about 5 % sooner and burns about 45 % more CPU (10 min of 44.1 kHz stereo
    encoded in-process: 7.3 s of CPU against 5.1 s, for 4.85 s of wall time against 5.09). The
    limit is process-wide while the block runs, so it is set on the main thread only (blocks
    overlapping on several threads could not each restore the pool they found);
    ``OPENBLAS_NUM_THREADS`` (or ``MKL_NUM_THREADS``, ...) in the environment leaves BLAS alone:
    that is the user's choice (the command-line tools set it to 1 before numpy loads).
    """
    if (
        any(os.environ.get(v) for v in BLAS_THREAD_VARIABLES)
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
