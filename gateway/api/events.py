"""Per-member event stream: transaction state changes, published to that member only.

A subscriber gets the events of its own subject and nothing else; the broker keeps no
history and never carries care-note content.
"""

from __future__ import annotations

import queue
import threading
from typing import Any


class EventBroker:
    def __init__(self, max_queue: int = 256) -> None:
        self._subscribers: dict[str, list[queue.Queue[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._max = max_queue

    def subscribe(self, subject: str) -> queue.Queue[dict[str, Any]]:
        q: queue.Queue[dict[str, Any]] = queue.Queue(self._max)
        with self._lock:
            self._subscribers.setdefault(subject, []).append(q)
        return q

    def unsubscribe(self, subject: str, q: queue.Queue[dict[str, Any]]) -> None:
        with self._lock:
            found = self._subscribers.get(subject, [])
            if q in found:
                found.remove(q)

    def publish(self, subject: str, event: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers.get(subject, []))
        for q in targets:
            try:
                q.put_nowait(event)
            except queue.Full:
                pass  # a slow reader misses events; it can poll the transaction instead
