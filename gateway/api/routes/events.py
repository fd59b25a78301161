"""`/me/events`: the caller's own event stream (Server-Sent Events).

Only the caller's transactions' state changes; never another member's, never note content.
"""

from __future__ import annotations

import asyncio
import json
import queue
from collections.abc import AsyncIterator

from eccoo.gateway.api.deps import CurrentMember, ServicesDep
from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse

router = APIRouter(tags=["events"])


@router.get("/me/events", response_class=EventSourceResponse)
async def my_events(
    request: Request, member: CurrentMember, services: ServicesDep
) -> EventSourceResponse:
    subject = member.subject
    inbox = services.events.subscribe(subject)

    async def stream() -> AsyncIterator[dict[str, str]]:
        try:
            yield {"event": "hello", "data": json.dumps({"member_id": member.member_id})}
            while not await request.is_disconnected():
                try:
                    event = inbox.get_nowait()
                except queue.Empty:
                    await asyncio.sleep(0.1)
                    continue
                yield {"event": event.get("type", "message"), "data": json.dumps(event)}
        finally:
            services.events.unsubscribe(subject, inbox)

    return EventSourceResponse(stream(), ping=15)
