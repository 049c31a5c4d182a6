"""Doctest collection: modules of optional extras are skipped when their dependencies are missing.

``python -m pytest`` collects the docstring examples of every module (``--doctest-modules``).
Without the ``diffusion`` extra, ``mdctcompand.diffusion`` cannot be imported (it says what to
install); without matplotlib, the plotting examples cannot run. Those are skipped, not failed,
so the README's test command works on a fresh machine with only ``.[test]`` installed.

The lab (``benchmarks/lab``, imported as ``lab``: peers, corpora, baselines; not part of the
package) is put on ``sys.path`` for the tests that measure with it, and its docstring examples
are collected too (``testpaths``).
"""

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_BENCHMARKS = str(Path(__file__).resolve().parent / "benchmarks")
if _BENCHMARKS not in sys.path:
    sys.path.insert(0, _BENCHMARKS)


def _missing(*names: str) -> bool:
    for name in names:
        try:
            if importlib.util.find_spec(name) is None:
                return True
        except (ImportError, ValueError):
            return True
    return False


# Tests, doctests and examples never reach the Hugging Face hub (there is none in CI).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# The compander's table cache (mdctcompand._cache) goes to a directory of this run, not the
# user's ~/.cache; it is removed at the end.
_TEST_CACHE = None
if "MDCTCOMPAND_CACHE_DIR" not in os.environ:
    _TEST_CACHE = os.environ["MDCTCOMPAND_CACHE_DIR"] = tempfile.mkdtemp(prefix="mdctcompand-test-cache-")


def pytest_unconfigure(config):
    if _TEST_CACHE is not None:
        shutil.rmtree(_TEST_CACHE, ignore_errors=True)


collect_ignore = []
if _missing("torch", "diffusers", "peft", "transformers", "accelerate"):
    collect_ignore += ["mdctcompand/diffusion", "benchmarks/lab/diffusion.py"]
if _missing("torch"):
    collect_ignore += ["mdctcompand/torch", "benchmarks/lab/torch.py"]
if _missing("matplotlib"):
    collect_ignore += ["mdctcompand/plotting.py", "benchmarks/lab/report.py"]
if _missing("librosa"):
    collect_ignore += ["benchmarks/lab/baselines.py"]


# The project's settings in the environment: a test (or a lab run inside one) that changes them
# and leaves them changed alters every later test and every subprocess those start (a lab run
# once left MDCTCOMPAND_KERNELS=numba behind, and later start-up tests loaded Numba). Thread
# variables are not watched: dask.distributed and visqol set some when first imported.
def _watched_environment() -> dict:
    return {k: v for k, v in os.environ.items() if k.startswith("MDCTCOMPAND_")}


@pytest.fixture(autouse=True)
def _environment_left_as_found():
    before = _watched_environment()
    yield
    after = _watched_environment()
    if after != before:
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        for k in after.keys() - before.keys():
            del os.environ[k]
        os.environ.update(before)
        pytest.fail(f"the test left the environment changed: {', '.join(changed)}")
