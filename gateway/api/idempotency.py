"""`Idempotency-Key` for POSTs that change the ledger: one key, one effect, one answer.

Same key and body: the first response again. Same key, another body: 422. Records live in
the database, so a retry after a restart gets the answer too. A submission (`submit_once`)
commits its record, answer and queued transactions together. A record never keeps a plain
hash of the request (a short care note or dispute reason could be guessed from one): only
the store's keyed fingerprint of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from eccoo.gateway.errors import BadRequestField, GatewayError, IdempotencyKeyReused, InFlight
from eccoo.gateway.store import statements
from eccoo.gateway.store.db import Store
from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

# An RFC 3986 "unreserved" token: no `:` or `/`, the separators of the keys built from it.
KEY_PATTERN = r"^[A-Za-z0-9._~-]{8,128}$"
_KEY = re.compile(KEY_PATTERN)


async def idempotency_key(
    raw: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            description="A unique key per intended ledger change (e.g. a UUID): "
            "8-128 characters of A-Z a-z 0-9 . _ ~ -",
            json_schema_extra={"pattern": KEY_PATTERN},
        ),
    ],
) -> str:
    if not _KEY.fullmatch(raw):
        raise BadRequestField(
            "Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 . _ ~ -",
            field="Idempotency-Key",
        )
    return raw


IdempotencyKey = Annotated[str, Depends(idempotency_key)]


def body_fingerprint(path: str, body: BaseModel | None) -> str:
    """The request's digest, in memory only: records keep the store's keyed fingerprint."""
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
    fingerprint = store.fingerprint(fingerprint)
    try:
        with store.unit() as session:
            found = statements.record(session, subject, key)
            if found is None:
                status, body = enqueue(session)
                _save(session, subject, key, fingerprint, status, body)
    except GatewayError as exc:
        if exc.retryable or exc.status_code >= 500:
            raise
        status, body = exc.status_code, exc.to_dict()
        with store.unit() as session:  # nothing was queued: the unit above rolled back
            found = statements.record(session, subject, key)  # unless the same key got in meanwhile
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
    statements.save_record(
        session,
        {
            "subject": subject,
            "key": key,
            "body_fingerprint": fingerprint,
            "state": "done",
            "status_code": status,
            "response_body": json.dumps(body),
        },
    )


def _replay(record: Any, fingerprint: str) -> JSONResponse:
    if record.body_fingerprint != fingerprint:
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
