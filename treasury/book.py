"""The treasurer's book: one SQLite file (0600) holding imported bank lines, the chain
movements read so far, the matches between them, every decision, and the locked months.

Every change is one transaction (`Book.transaction`); triggers refuse any change to a
locked month even if the code above forgot to ask. This module never reads the chain.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from eccoo.treasury.errors import BookBusy, InvalidDecision, PeriodLocked, UnknownRecord

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statements (
  id INTEGER PRIMARY KEY, account TEXT NOT NULL, file_name TEXT NOT NULL,
  file_sha256 TEXT NOT NULL, format TEXT NOT NULL, imported_at TEXT NOT NULL,
  imported_by TEXT NOT NULL, lines_added INTEGER NOT NULL, lines_skipped INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bank_lines (
  id INTEGER PRIMARY KEY, line_key TEXT NOT NULL UNIQUE,
  statement_id INTEGER NOT NULL REFERENCES statements(id), account TEXT NOT NULL,
  booked_on TEXT NOT NULL, period TEXT NOT NULL, amount INTEGER NOT NULL,
  reference TEXT NOT NULL, bank_id TEXT NOT NULL,
  reconciled_at TEXT, reconciled_by TEXT);
CREATE TABLE IF NOT EXISTS movements (
  id INTEGER PRIMARY KEY, event TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  ref TEXT NOT NULL, amount INTEGER NOT NULL,
  account TEXT NOT NULL, pot INTEGER, funder TEXT, appointment INTEGER,
  block INTEGER NOT NULL, booked_on TEXT NOT NULL, period TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS visits (
  appointment INTEGER PRIMARY KEY, giver TEXT NOT NULL, pot INTEGER NOT NULL,
  visit_on TEXT NOT NULL, minutes INTEGER NOT NULL, rate INTEGER NOT NULL,
  amount INTEGER NOT NULL, contribution INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (
  number TEXT PRIMARY KEY, period TEXT NOT NULL, pot INTEGER NOT NULL, funder TEXT NOT NULL,
  issued_at TEXT NOT NULL, issued_by TEXT NOT NULL, total INTEGER NOT NULL,
  UNIQUE (period, pot, funder));
CREATE TABLE IF NOT EXISTS invoice_lines (
  number TEXT NOT NULL REFERENCES invoices(number), appointment INTEGER NOT NULL,
  visit_on TEXT NOT NULL, giver TEXT NOT NULL, minutes INTEGER NOT NULL,
  rate INTEGER NOT NULL, visit_amount INTEGER NOT NULL, contribution INTEGER NOT NULL,
  charged INTEGER NOT NULL, PRIMARY KEY (number, appointment));
CREATE TABLE IF NOT EXISTS links (
  line_id INTEGER NOT NULL REFERENCES bank_lines(id),
  movement_id INTEGER NOT NULL REFERENCES movements(id),
  how TEXT NOT NULL, linked_by TEXT NOT NULL, linked_at TEXT NOT NULL,
  PRIMARY KEY (line_id, movement_id));
CREATE TABLE IF NOT EXISTS rejections (
  line_id INTEGER NOT NULL, movement_id INTEGER NOT NULL, PRIMARY KEY (line_id, movement_id));
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
  line_id INTEGER, movement_id INTEGER, period TEXT, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS periods (
  period TEXT PRIMARY KEY, locked_at TEXT NOT NULL, locked_by TEXT NOT NULL,
  report TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bank_lines_period ON bank_lines(period);
CREATE INDEX IF NOT EXISTS movements_period ON movements(period);
CREATE INDEX IF NOT EXISTS links_movement ON links(movement_id);

CREATE TRIGGER IF NOT EXISTS locked_line_insert BEFORE INSERT ON bank_lines
WHEN EXISTS (SELECT 1 FROM periods WHERE period = NEW.period)
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
CREATE TRIGGER IF NOT EXISTS locked_line_update BEFORE UPDATE ON bank_lines
WHEN EXISTS (SELECT 1 FROM periods WHERE period IN (OLD.period, NEW.period))
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
CREATE TRIGGER IF NOT EXISTS locked_line_delete BEFORE DELETE ON bank_lines
WHEN EXISTS (SELECT 1 FROM periods WHERE period = OLD.period)
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
CREATE TRIGGER IF NOT EXISTS locked_movement_insert BEFORE INSERT ON movements
WHEN EXISTS (SELECT 1 FROM periods WHERE period = NEW.period)
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
CREATE TRIGGER IF NOT EXISTS locked_link_insert BEFORE INSERT ON links
WHEN EXISTS (SELECT 1 FROM periods p JOIN bank_lines l ON l.period = p.period
             WHERE l.id = NEW.line_id)
  OR EXISTS (SELECT 1 FROM periods p JOIN movements m ON m.period = p.period
             WHERE m.id = NEW.movement_id)
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
CREATE TRIGGER IF NOT EXISTS locked_link_delete BEFORE DELETE ON links
WHEN EXISTS (SELECT 1 FROM periods p JOIN bank_lines l ON l.period = p.period
             WHERE l.id = OLD.line_id)
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
CREATE TRIGGER IF NOT EXISTS invoice_immutable BEFORE UPDATE ON invoices
BEGIN SELECT RAISE(ABORT, 'invoice issued'); END;
CREATE TRIGGER IF NOT EXISTS invoice_kept BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'invoice issued'); END;
CREATE TRIGGER IF NOT EXISTS invoice_line_immutable BEFORE UPDATE ON invoice_lines
BEGIN SELECT RAISE(ABORT, 'invoice issued'); END;
CREATE TRIGGER IF NOT EXISTS invoice_line_kept BEFORE DELETE ON invoice_lines
BEGIN SELECT RAISE(ABORT, 'invoice issued'); END;
CREATE TRIGGER IF NOT EXISTS locked_period_immutable BEFORE UPDATE ON periods
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
CREATE TRIGGER IF NOT EXISTS locked_period_kept BEFORE DELETE ON periods
BEGIN SELECT RAISE(ABORT, 'period locked'); END;
"""


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def period_of(day: date) -> str:
    """The month an entry belongs to, as `YYYY-MM`."""
    return f"{day.year:04d}-{day.month:02d}"


def check_period(text: str) -> str:
    """`YYYY-MM` or UnknownRecord naming the value."""
    try:
        parsed = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise UnknownRecord(
            f"period must be a month like 2026-11, got {text!r}", field="period"
        ) from None
    return period_of(parsed.date())


class Book:
    """An open book. Use `transaction()` for every change; reads may use `db` directly."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        # executescript commits any open transaction first, so the script brings its own.
        self.db.executescript(
            "BEGIN IMMEDIATE;" + _SCHEMA + "INSERT OR IGNORE INTO meta (key, value) "
            "VALUES ('schema_version', '" + SCHEMA_VERSION + "');COMMIT;"
        )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is kept, or none of it."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise BookBusy(f"{self.path}: the book is busy ({exc})", field="book") from None
        try:
            yield self.db
        except sqlite3.IntegrityError as exc:
            self.db.execute("ROLLBACK")
            if "period locked" in str(exc):
                raise PeriodLocked(
                    "that month is locked; nothing in it changes", field="period"
                ) from None
            if "invoice issued" in str(exc):
                raise InvalidDecision("an issued invoice never changes", field="invoice") from None
            raise
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def record(
        self,
        who: str,
        action: str,
        *,
        line_id: int | None = None,
        movement_id: int | None = None,
        period: str | None = None,
        detail: str = "",
    ) -> None:
        """Writes one decision (who, when, what) inside the caller's transaction."""
        self.db.execute(
            "INSERT INTO decisions (at, who, action, line_id, movement_id, period, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now_utc(), who, action, line_id, movement_id, period, detail),
        )

    def locked(self, period: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM periods WHERE period = ?", (period,)).fetchone()
            is not None
        )

    def first_open_period(self, after: str) -> str:
        """`after` if it is open, else the first open month after it."""
        year, month = (int(p) for p in after.split("-"))
        while self.locked(f"{year:04d}-{month:02d}"):
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return f"{year:04d}-{month:02d}"
