"""Request limits: per-caller token buckets (submissions; appointment listings) and a
body-size cap.

Limits answer 429 / 413 with the usual error body; they never queue or delay a request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from eccoo.gateway.errors import PayloadTooLarge, RateLimited


class RateLimiter:
    """`per_minute` requests (of the kind `what` names) per caller, refilled continuously."""

    def __init__(self, per_minute: int, what: str = "submissions") -> None:
        self.what = what
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(who, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[who] = (tokens, now)
                raise RateLimited(f"too many {self.what}; slow down")
            self._buckets[who] = (tokens - 1.0, now)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class BodySizeLimit:
    """ASGI middleware: refuse bodies over `max_bytes` (declared or actually streamed)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _too_large(send)
                return
        seen = 0

        async def limited() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise PayloadTooLarge("the request body is too large")
            return message

        try:
            await self.app(scope, limited, send)
        except PayloadTooLarge:
            await _too_large(send)


async def _too_large(send: Send) -> None:
    body = PayloadTooLarge("the request body is too large").to_dict()
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})
