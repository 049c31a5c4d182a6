"""On-disk cache of the compander's tables.

Building a compander's thresholds and reconstruction table inverts the incomplete gamma
function for every band and level: about a second for a 1024-band profile, paid by every
command-line call and every process. The tables depend only on the profile's arrays and the
compander's settings, so they are kept on disk and read back in milliseconds.

Location: ``$MDCTCOMPAND_CACHE_DIR``, else the platform's user cache directory
(:func:`platformdirs.user_cache_dir`: ``$XDG_CACHE_HOME/mdctcompand`` or ``~/.cache/mdctcompand``
on Linux, ``~/Library/Caches/mdctcompand`` on macOS, ``%LOCALAPPDATA%\\mdctcompand\\Cache`` on
Windows). ``MDCTCOMPAND_CACHE_DIR=off`` turns the cache off; a directory that
cannot be written is used read-only or not at all, silently. Each file is named by a SHA-256
of everything its values depend on (the arrays' bytes, the settings, the library's version
and this module's format version), written atomically (a temporary file renamed into place),
and checked when read (shape, dtype and the table's own invariants): a file that fails the
check is recomputed and replaced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__

#: Bump when the way a cached table is computed changes (older files are then never read).
FORMAT_VERSION = 1
_OFF = {"off", "0", "false", "no", "none"}


def cache_dir() -> Path | None:
    """The cache directory, or ``None`` when ``MDCTCOMPAND_CACHE_DIR`` turns the cache off."""
    configured = os.environ.get("MDCTCOMPAND_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in _OFF or not configured.strip() else Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("mdctcompand", appauthor=False))


def table_key(kind: str, parts: Iterable[Any]) -> str:
    """SHA-256 of ``kind``, the versions and ``parts`` (arrays by dtype, shape and bytes; others by repr)."""
    digest = hashlib.sha256(f"{kind}\0{FORMAT_VERSION}\0{__version__}\0".encode())
    for part in parts:
        if isinstance(part, np.ndarray):
            arr = np.ascontiguousarray(part)
            digest.update(f"{arr.dtype.str}{arr.shape}".encode())
            digest.update(arr.tobytes())
        else:
            digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def cached_table(
    kind: str,
    parts: Iterable[Any],
    compute: Callable[[], np.ndarray],
    *,
    valid: Callable[[np.ndarray], bool],
) -> np.ndarray:
    """``compute()``, read from the cache when a valid file for ``(kind, parts)`` is there.

    ``valid(array)`` decides whether a file's content can be used (shape, dtype, invariants);
    the computed array is written back (best effort: errors writing are ignored).
    """
    directory = cache_dir()
    if directory is None:
        return compute()
    path = directory / f"{kind}-{table_key(kind, parts)[:40]}.npy"
    try:
        stored = np.load(path, allow_pickle=False)
        if valid(stored):
            return stored
    except (OSError, ValueError, EOFError):
        pass
    table = compute()
    _write(path, table)
    return table


def _write(path: Path, table: np.ndarray) -> None:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=".npy", delete=False) as f:
            tmp = f.name
            np.save(f, np.ascontiguousarray(table), allow_pickle=False)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
