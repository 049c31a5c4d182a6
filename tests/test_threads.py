"""mdctcompand._threads: every chunk runs exactly once, on the caller and the pool, and errors propagate."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_info

from mdctcompand import _threads, codec
from mdctcompand.codec import ratecontrol


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 40])
def test_every_chunk_runs_once(workers, n):
    seen: list[int] = []
    lock = threading.Lock()

    def fn(i: int) -> None:
        with lock:
            seen.append(i)

    _threads.run_chunks(fn, range(n), workers)
    assert sorted(seen) == list(range(n))


def test_the_caller_takes_chunks_too():
    names: set[str] = set()

    def fn(i: int) -> None:
        names.add(threading.current_thread().name)
        time.sleep(0.01)

    _threads.run_chunks(fn, range(8), 2)
    assert threading.current_thread().name in names
    assert any(name.startswith("mdctcompand") for name in names)


def test_nested_calls_on_the_same_pool_finish():
    """A chunk that itself runs chunks on the same pool (every pool thread busy) does not deadlock."""
    done: list[int] = []
    lock = threading.Lock()

    def inner(i: int) -> None:
        with lock:
            done.append(i)

    def outer(i: int) -> None:
        _threads.run_chunks(inner, range(10 * i, 10 * i + 10), 2)

    worker = threading.Thread(target=_threads.run_chunks, args=(outer, range(6), 2), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "nested run_chunks deadlocked"
    assert sorted(done) == list(range(60))


@pytest.mark.parametrize("where", [0, 5])
def test_an_error_in_a_chunk_reaches_the_caller_and_stops_new_chunks(where):
    started: list[int] = []

    def fn(i: int) -> None:
        started.append(i)
        if i == where:
            raise RuntimeError(f"chunk {i}")
        time.sleep(0.005)

    with pytest.raises(RuntimeError, match=f"chunk {where}"):
        _threads.run_chunks(fn, range(40), 2)
    assert len(started) < 40


@settings(max_examples=100, deadline=None)
@given(
    n_rows=st.integers(1, 20),
    n_items=st.integers(1, 500),
    workers=st.integers(1, 4),
    min_items=st.integers(1, 200),
)
def test_split_work_covers_the_job_once_in_chunks_not_too_small(n_rows, n_items, workers, min_items):
    chunks = _threads.split_work(n_rows, n_items, workers, min_items=min_items)
    cells = [
        (r, i)
        for rows, items in chunks
        for r in range(rows.start, rows.stop)
        for i in range(items.start, items.stop)
    ]
    assert sorted(cells) == [(r, i) for r in range(n_rows) for i in range(n_items)]
    wanted = _threads.CHUNKS_PER_WORKER * workers
    assert len(chunks) < 2 * wanted  # rows split evenly into items: at most one more chunk per row
    if len(chunks) > 1:  # split only where each piece keeps about min_items
        sizes = [(rows.stop - rows.start) * (items.stop - items.start) for rows, items in chunks]
        assert min(sizes) >= min_items // 2
    if workers == 1:
        assert len(chunks) == 1


def _blas_threads() -> list[int]:
    """Threads of numpy's own BLAS (the wheel's ``numpy.libs``), which the codec's products run on."""
    site = Path(np.__file__).parent.parent
    return [
        lib["num_threads"]
        for lib in threadpool_info()
        if lib["user_api"] == "blas" and Path(lib["filepath"]).parent in (site / "numpy.libs", site / "numpy")
    ]


def test_the_codec_encodes_with_one_blas_thread_and_restores_the_pool(monkeypatch):
    for name in _threads.BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = _blas_threads()
    if not before:
        pytest.skip("numpy's BLAS is not a wheel's numpy.libs library here")
    seen: list[list[int]] = []
    real = ratecontrol.JpegDeadZone.pixels

    def spy(self, qtable):
        seen.append(_blas_threads())
        return real(self, qtable)

    monkeypatch.setattr(ratecontrol.JpegDeadZone, "pixels", spy)
    x = np.random.default_rng(0).standard_normal((1, 24000)).astype(np.float32) * 0.1
    codec.encode(x, 24000)
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert _blas_threads() == before


def test_a_blas_size_in_the_environment_is_left_alone(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    before = _blas_threads()
    with _threads.one_blas_thread():
        assert _blas_threads() == before


def test_other_threads_leave_the_blas_pool_alone(monkeypatch):
    for name in _threads.BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = _blas_threads()
    seen: list[list[int]] = []

    def encode_like() -> None:
        with _threads.one_blas_thread():
            seen.append(_blas_threads())

    worker = threading.Thread(target=encode_like)
    worker.start()
    worker.join(10)
    assert seen == [before] and _blas_threads() == before
