"""The statements every ledger submission runs, built once and executed as Core.

A request runs a handful of these; building a statement and going through the ORM costs
more CPU than SQLite spends answering it, and that CPU is what the acknowledgement waits
for. Nothing here decides anything: callers own the units of work and the rules.
"""

from __future__ import annotations

import time
from typing import Any

from eccoo.gateway.store.models import ChainTransaction, HatRequest, IdempotencyRecord, Member
from sqlalchemy import Connection, bindparam, insert, inspect, select
from sqlalchemy.orm import Session

_members = Member.__table__
_hats = HatRequest.__table__
_records = IdempotencyRecord.__table__
_transactions = ChainTransaction.__table__

MEMBER = select(_members).where(_members.c.subject == bindparam("subject"))
APPROVED_HATS = select(_hats.c.hat).where(
    _hats.c.subject == bindparam("subject"), _hats.c.status == "approved"
)
RECORD = select(
    _records.c.body_fingerprint, _records.c.state, _records.c.status_code, _records.c.response_body
).where(_records.c.subject == bindparam("subject"), _records.c.key == bindparam("key"))
INSERT_RECORD = insert(_records)
QUEUED_ID = select(_transactions.c.id).where(_transactions.c.dedupe_key == bindparam("dedupe_key"))
INSERT_TRANSACTION = insert(_transactions)
_TRANSACTION_COLUMNS = [
    (attr.key, attr.columns[0].name) for attr in inspect(ChainTransaction).column_attrs
]


def connection(session: Session) -> Connection:
    """The session's connection, in its transaction: Core statements run in the same unit."""
    return session.connection()


def member_and_hats(session: Session, subject: str) -> tuple[Member | None, list[str]]:
    """The member row (as a detached `Member`) and their approved requestable hats."""
    row = connection(session).execute(MEMBER, {"subject": subject}).mappings().first()
    return (Member(**row) if row is not None else None), approved_hats(session, subject)


def approved_hats(session: Session, subject: str) -> list[str]:
    """The hats a coordinator approved here for `subject` (requests with status approved)."""
    return [hat for (hat,) in connection(session).execute(APPROVED_HATS, {"subject": subject})]


def record(session: Session, subject: str, key: str) -> Any:
    return connection(session).execute(RECORD, {"subject": subject, "key": key}).first()


def save_record(session: Session, values: dict[str, Any]) -> None:
    connection(session).execute(INSERT_RECORD, [{**values, "created_at": time.time()}])


def queued_id(session: Session, dedupe_key: str) -> str | None:
    return connection(session).execute(QUEUED_ID, {"dedupe_key": dedupe_key}).scalar()


def insert_transaction(session: Session, tx: ChainTransaction) -> None:
    """Insert a transient `ChainTransaction` as one row; `tx` stays a detached record."""
    tx.created_at = tx.updated_at = time.time()
    row = {column: getattr(tx, key) for key, column in _TRANSACTION_COLUMNS}
    connection(session).execute(INSERT_TRANSACTION, [row])
