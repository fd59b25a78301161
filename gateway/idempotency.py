"""`Idempotency-Key` for POSTs that change the ledger: one key, one effect, one answer.

Same key and body: the first response again. Same key, another body: 422. Still in
flight: 409. Records live in the database, so a retry after a restart gets the answer too.
A submission (`submit_once`) commits its record, answer and queued transactions together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from eccoo.gateway.errors import GatewayError, IdempotencyKeyReused, InFlight
from eccoo.gateway.store import hot
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import IdempotencyRecord
from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="A unique key per intended ledger change (e.g. a UUID).",
    ),
]


def request_hash(path: str, body: BaseModel | None) -> str:
    canonical = json.dumps(
        {"path": path, "body": body.model_dump(mode="json") if body is not None else None},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_once(
    store: Store,
    subject: str,
    key: str,
    fingerprint: str,
    enqueue: Callable[[Session], tuple[int, dict[str, Any]]],
    then: Callable[[], None] | None = None,
) -> JSONResponse:
    """Queue a ledger change and record its answer in ONE commit, then answer.

    `enqueue` adds the transaction rows to the session and returns the answer; it must not
    wait on the chain. The write lock makes look-up and insert atomic, so a concurrent
    request with the same key sees the committed record and gets its answer. A permanent
    refusal from `enqueue` rolls its unit back and becomes this key's answer.
    """
    try:
        with store.unit() as session:
            found = hot.record(session, subject, key)
            if found is None:
                status, body = enqueue(session)
                _save(session, subject, key, fingerprint, status, body)
    except GatewayError as exc:
        if exc.retryable or exc.status_code >= 500:
            raise
        status, body = exc.status_code, exc.to_dict()
        with store.unit() as session:  # nothing was queued: the unit above rolled back
            found = hot.record(session, subject, key)  # unless the same key got in meanwhile
            if found is None:
                _save(session, subject, key, fingerprint, status, body)
    if found is not None:
        return _replay(found, fingerprint)
    if then is not None and status < 300:
        then()
    return JSONResponse(body, status_code=status)


def _save(
    session: Session,
    subject: str,
    key: str,
    fingerprint: str,
    status: int,
    body: dict[str, Any],
) -> None:
    hot.save_record(
        session,
        {
            "subject": subject,
            "key": key,
            "request_hash": fingerprint,
            "state": "done",
            "status_code": status,
            "response_body": json.dumps(body),
        },
    )


def _replay(record: Any, fingerprint: str) -> JSONResponse:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with another request", field="Idempotency-Key"
        )
    if record.state == "in_flight":
        raise InFlight("this Idempotency-Key is being processed; retry", field="Idempotency-Key")
    return JSONResponse(
        json.loads(record.response_body or "null"),
        status_code=record.status_code or 200,
        headers={"Idempotent-Replayed": "true"},
    )


def run_once(
    store: Store,
    subject: str,
    key: str,
    fingerprint: str,
    action: Callable[[], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Run `action` once for (subject, key); replay its stored answer afterwards."""
    try:
        with store.unit() as session:
            session.add(
                IdempotencyRecord(
                    subject=subject, key=key, request_hash=fingerprint, state="in_flight"
                )
            )
    except IntegrityError:
        with store.unit() as session:
            record = session.get(IdempotencyRecord, (subject, key))
            if record is None:  # it was released between our insert and this read
                raise InFlight(
                    "this Idempotency-Key is being processed; retry", field="Idempotency-Key"
                ) from None
            return _replay(record, fingerprint)
    try:
        status, body = action()
    except GatewayError as exc:
        if exc.retryable or exc.status_code >= 500:
            _release(store, subject, key)  # nothing happened; the client may try again
            raise
        status, body = exc.status_code, exc.to_dict()
    except BaseException:
        _release(store, subject, key)
        raise
    with store.unit() as session:
        record = session.get(IdempotencyRecord, (subject, key))
        assert record is not None
        record.state, record.status_code = "done", status
        record.response_body = json.dumps(body)
    return JSONResponse(body, status_code=status)


def _release(store: Store, subject: str, key: str) -> None:
    with store.unit() as session:
        record = session.get(IdempotencyRecord, (subject, key))
        if record is not None and record.state == "in_flight":
            session.delete(record)
