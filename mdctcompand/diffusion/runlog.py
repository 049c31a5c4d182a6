"""What a training run leaves beside its weights: the loss log and the settings history.

``training_log.json``: ``{"global_step": N, "steps": [{"step", "loss", "lr"}, ...],
"runs": [...]}``, one entry per optimizer step since step 1, across resumes. A resumed run
keeps the entries up to the checkpoint it resumes from and appends its own (entries past
that checkpoint, from a run that stopped after it, are dropped: their weights are gone).

``training_config.json``: ``{"config": <the latest run's settings>, "history": [{"started_at_step",
"mixed_precision", "num_processes", "config"}, ...]}``, one history entry per run.

Both files are rewritten atomically at every checkpoint and at the end.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["CONFIG_FILE", "LOG_FILE", "RunLog"]

LOG_FILE = "training_log.json"
CONFIG_FILE = "training_config.json"


class RunLog:
    """The log of one output directory, continued from ``start_step``.

    Examples
    --------
    >>> import tempfile, json, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> log = RunLog(d, start_step=0, config={"lr": 1e-4}, run_info={"mixed_precision": "no"})
    >>> log.record(1, loss=0.5, lr=1e-4); log.record(2, loss=0.4, lr=1e-4); log.write()
    >>> again = RunLog(d, start_step=1, config={"lr": 2e-4}, run_info={"mixed_precision": "bf16"})
    >>> again.record(2, loss=0.3, lr=2e-4); again.write()
    >>> [s["loss"] for s in json.loads((d / LOG_FILE).read_text())["steps"]]
    [0.5, 0.3]
    >>> [h["config"]["lr"] for h in json.loads((d / CONFIG_FILE).read_text())["history"]]
    [0.0001, 0.0002]
    """

    def __init__(
        self, directory: str | Path, *, start_step: int, config: dict[str, Any], run_info: dict[str, Any]
    ) -> None:
        self.directory = Path(directory)
        previous = _read(self.directory / LOG_FILE)
        self.steps = [s for s in previous.get("steps", []) if int(s["step"]) <= start_step]
        self.runs = [r for r in previous.get("runs", []) if int(r["started_at_step"]) < start_step]
        self.run = {"started_at_step": int(start_step), **run_info}
        history = _read(self.directory / CONFIG_FILE).get("history", [])
        self.history = [h for h in history if int(h["started_at_step"]) < start_step]
        self.history.append({**self.run, "config": config})
        self.config = config
        self.global_step = int(start_step)

    def record(self, step: int, **values: float) -> None:
        """Add the figures of optimizer step ``step``.

        Examples
        --------
        >>> import tempfile
        >>> log = RunLog(tempfile.mkdtemp(), start_step=0, config={}, run_info={})
        >>> log.record(1, loss=0.25)
        >>> log.steps
        [{'step': 1, 'loss': 0.25}]
        """
        self.steps.append({"step": int(step), **{k: float(v) for k, v in values.items()}})
        self.global_step = int(step)

    def write(self) -> None:
        """Rewrite both files (atomically).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = tempfile.mkdtemp()
        >>> RunLog(d, start_step=0, config={}, run_info={}).write()
        >>> sorted(p.name for p in pathlib.Path(d).iterdir())
        ['training_config.json', 'training_log.json']
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        runs = [*self.runs, {**self.run, "ended_at_step": self.global_step}]
        log = {"global_step": self.global_step, "steps": self.steps, "runs": runs}
        _write(self.directory / LOG_FILE, log)
        _write(self.directory / CONFIG_FILE, {"config": self.config, "history": self.history})


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, default=str)
    os.replace(tmp, path)
