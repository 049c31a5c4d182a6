"""Running per-item jobs on all cores of one machine, or on a Dask cluster.

:func:`imap_unordered` maps a function over items with a bounded number of tasks in flight
(memory stays flat whatever the corpus size) and yields ``(index, result)`` pairs as
they complete, ``result`` being the exception when a job failed (callers log and skip). A
worker that dies does not end the run: the items it took are retried, one at a time, and an
item whose worker dies again comes back as a :class:`~mdctcompand.exceptions.WorkerLostError`.

Executors:

- ``workers=1``: in this process (simplest to debug);
- ``workers=N`` or ``-1`` (all cores): a local process pool;
- ``scheduler="tcp://host:port"``: a running Dask cluster (``dask[distributed]``, the
  ``dataset`` extra); ``scheduler="local"`` starts a ``LocalCluster`` of ``workers`` processes.

No home-made distribution layer: Dask schedules, retries lost workers and moves data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._validation import check_workers
from .exceptions import ParameterError, WorkerLostError

__all__ = ["dask_client", "imap_unordered"]


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    try:
        return fn(item)
    except Exception as exc:  # reported to the caller as a value
        return exc


@contextlib.contextmanager
def dask_client(scheduler: str, workers: int | None = None) -> Iterator[Any]:
    """A Dask ``Client`` for ``scheduler`` (an address, or ``"local"`` for a LocalCluster).

    Examples
    --------
    >>> with dask_client("local", workers=2) as client:  # doctest: +SKIP
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ParameterError(
            "a Dask scheduler needs dask[distributed]: pip install 'dask[distributed]' (or the 'dataset' extra)"
        ) from exc
    if scheduler == "local":
        n = check_workers(workers if workers not in (None, 1) else -1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
    else:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()


def imap_unordered(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    workers: int | None = -1,
    scheduler: str | None = None,
    in_flight: int | None = None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, fn(item) or its exception)`` as jobs complete.

    Parameters
    ----------
    fn : callable
        A picklable (module-level) function of one item.
    items : iterable
        Consumed lazily: at most ``in_flight`` items are pending at once.
    workers : int, default -1
        Processes (``-1``: all cores, ``1``: this process). With ``scheduler="local"``,
        the LocalCluster's size.
    scheduler : str, optional
        Dask scheduler address or ``"local"``.
    in_flight : int, optional
        Bound on pending jobs (default: 4 per worker).

    Examples
    --------
    >>> sorted(imap_unordered(abs, [-1, 2, -3], workers=1))
    [(0, 1), (1, 2), (2, 3)]
    """
    n = check_workers(workers)
    iterator = enumerate(items)
    if scheduler is not None:
        yield from _dask(fn, iterator, scheduler, n, in_flight)
        return
    if n <= 1:
        for i, item in iterator:
            yield i, _call(fn, item)
        return
    yield from _local(fn, iterator, n, in_flight or 4 * n)


def _new_pool(n: int) -> Any:
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    # fork (Linux): workers start without re-importing anything and inherit the caches the
    # parent filled; elsewhere the platform's default.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context(
        "fork" if sys.platform.startswith("linux") and "fork" in methods else None
    )
    return ProcessPoolExecutor(max_workers=n, mp_context=context)


def _local(
    fn: Callable[[Any], Any], iterator: Iterator[tuple[int, Any]], n: int, limit: int
) -> Iterator[tuple[int, Any]]:
    """The process-pool executor, surviving dead workers.

    A worker that dies (SIGKILL, the OOM killer) breaks the whole pool: every item in flight is
    lost with it. The pool is replaced and the lost items are retried one at a time, alone in
    the pool, so that an item that kills its worker again is known for certain and reported as
    a :class:`~mdctcompand.exceptions.WorkerLostError` while the others finish.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = _new_pool(n)
    pending: dict[Any, tuple[int, Any, bool]] = {}  # future -> (index, item, alone in the pool)
    suspects: deque[tuple[int, Any]] = deque()  # items lost with a broken pool, retried one at a time
    exhausted = False

    def outcome(future: Any, index: int, item: Any, alone: bool) -> tuple[int, Any] | None:
        exc = future.exception()
        if isinstance(exc, BrokenProcessPool):
            if alone:
                return index, WorkerLostError(
                    "its worker process died (killed, or out of memory), alone and with others"
                )
            suspects.append((index, item))
            return None
        return index, exc if exc is not None else future.result()

    try:
        while True:
            if suspects and not pending:
                index, item = suspects.popleft()
                pending[pool.submit(_call, fn, item)] = (index, item, True)
            while not suspects and not exhausted and len(pending) < limit:
                nxt = next(iterator, None)
                if nxt is None:
                    exhausted = True
                    break
                pending[pool.submit(_call, fn, nxt[1])] = (nxt[0], nxt[1], False)
            if not pending:
                if suspects:
                    continue
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                index, item, alone = pending.pop(future)
                broken |= isinstance(future.exception(), BrokenProcessPool)
                result = outcome(future, index, item, alone)
                if result is not None:
                    yield result
            if broken:  # the rest of the pool's work is lost too (or finished just before)
                for future in list(pending):
                    index, item, alone = pending.pop(future)
                    result = outcome(future, index, item, alone)
                    if result is not None:
                        yield result
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _new_pool(n)
    except BaseException:  # an error or the caller stopped early: do not wait for the rest
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _dask(fn, iterator, scheduler: str, workers: int, in_flight: int | None) -> Iterator[tuple[int, Any]]:
    from dask.distributed import as_completed

    with dask_client(scheduler, workers) as client:
        limit = in_flight or 4 * max(1, len(client.scheduler_info().get("workers", {})) or workers)
        pending: dict[Any, int] = {}
        queue = as_completed()
        for i, item in iterator:
            future = client.submit(_call, fn, item, pure=False)
            pending[future] = i
            queue.add(future)
            if len(pending) >= limit:
                done = next(queue)
                yield pending.pop(done), done.result()
        for done in queue:
            yield pending.pop(done), done.result()
