"""The running indexer's status, kept in a small JSON file under its data folder.

`eccoo index status` and `eccoo status` read the file; only the indexer writes it,
atomically (write + rename). It never holds a secret: no password, no URL credentials.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

from eccoo.services.process import pid_alive

# The keys the issue names, plus a few that help an operator.
KEYS = ("cursor", "head", "lag_blocks", "lag_seconds", "events_per_second", "last_error")


class StatusReporter:
    """Accumulates progress and flushes it to `path` at most every `interval` seconds."""

    def __init__(self, path: Path, *, interval: float = 0.5, rate_window: float = 10.0) -> None:
        self.path = path
        self.interval = interval
        self.rate_window = rate_window
        self._written: deque[tuple[float, int]] = deque()
        self._last_flush = 0.0
        self.state: dict[str, Any] = {
            "state": "starting",
            "cursor": None,
            "head": None,
            "lag_blocks": None,
            "lag_seconds": None,
            "events_per_second": 0.0,
            "last_error": None,
            "retries": 0,
            "events_total": 0,
            "reorgs": 0,
            "pid": os.getpid(),
        }

    def progress(
        self,
        *,
        cursor: int,
        cursor_ts: int,
        head: int,
        head_ts: int,
        events: int = 0,
        state: str | None = None,
    ) -> None:
        now = time.time()
        self._written.append((now, events))
        while self._written and self._written[0][0] < now - self.rate_window:
            self._written.popleft()
        span = max(now - self._written[0][0], 1.0) if self._written else 1.0
        self.state.update(
            cursor=cursor,
            head=head,
            lag_blocks=max(0, head - cursor),
            lag_seconds=max(0, head_ts - cursor_ts),
            events_per_second=round(sum(n for _, n in self._written) / span, 1),
            events_total=self.state["events_total"] + events,
        )
        if state:
            self.state["state"] = state
        self.flush()

    def error(self, exc: BaseException, *, retrying: bool) -> None:
        self.state["last_error"] = {
            "type": type(exc).__name__,
            "message": str(exc).splitlines()[0][:300],
            "at": round(time.time(), 3),
            "retrying": retrying,
        }
        if retrying:
            self.state["retries"] += 1
            self.state["state"] = "retrying"
        else:
            self.state["state"] = "failed"
        self.flush(force=True)

    def recovered(self) -> None:
        if self.state["state"] == "retrying":
            self.state["state"] = "running"

    def set(self, **values: Any) -> None:
        self.state.update(values)
        self.flush(force=True)

    def flush(self, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_flush < self.interval:
            return
        self._last_flush = now
        self.state["updated_at"] = round(now, 3)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True))
        tmp.replace(self.path)


def read_status(path: Path) -> dict[str, Any] | None:
    """The last status the indexer wrote, with `running` saying if its pid still lives."""
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = status.get("pid")
    status["running"] = isinstance(pid, int) and pid > 0 and pid_alive(pid)
    return status
