"""Putting a read statement into the book: all its new lines in one transaction, or none.

A line's key is the bank's own id when it gives one, else a hash of its content and its
place among identical lines, so importing the same statement twice adds nothing. A line
dated in a locked month is refused, unless the treasurer books it late into the first
open month (a correction, never a change to the locked one).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from eccoo.treasury.book import Book, now_utc, period_of
from eccoo.treasury.errors import MalformedStatement, PeriodLocked
from eccoo.treasury.statements.lines import Statement, StatementLine


@dataclass(frozen=True)
class ImportResult:
    statement_id: int
    account: str
    added: int
    skipped: int  # already in the book (the same statement, or an overlapping one)
    booked_late: int  # dated in a locked month, booked into the first open one


def line_key(account: str, line: StatementLine, occurrence: int) -> str:
    """The line's identity in the book: the bank's id, else its content and occurrence."""
    if line.bank_id:
        basis = f"id|{account}|{line.bank_id}"
    else:
        basis = (
            f"content|{account}|{line.booked_on.isoformat()}|{line.amount}|"
            f"{line.reference}|{occurrence}"
        )
    return hashlib.sha256(basis.encode()).hexdigest()


def import_statement(
    book: Book, statement: Statement, source: Path, *, who: str, book_late: bool = False
) -> ImportResult:
    """Adds the statement's new lines; PeriodLocked (nothing added) if one falls in a locked
    month and `book_late` is not set."""
    account = statement.account or "bank"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    seen: Counter[tuple[str, int, str]] = Counter()
    added = skipped = late = 0
    with book.transaction() as db:
        cursor = db.execute(
            "INSERT INTO statements (account, file_name, file_sha256, format, imported_at, "
            "imported_by, lines_added, lines_skipped) VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
            (account, source.name, digest, statement.source_format, now_utc(), who),
        )
        statement_id = int(cursor.lastrowid or 0)
        for line in statement.lines:
            content = (line.booked_on.isoformat(), line.amount, line.reference)
            seen[content] += 1
            key = line_key(account, line, seen[content])
            if db.execute("SELECT 1 FROM bank_lines WHERE line_key = ?", (key,)).fetchone():
                skipped += 1
                continue
            period = period_of(line.booked_on)
            if book.locked(period):
                if not book_late:
                    raise PeriodLocked(
                        f"{source}: {line.where or 'a line'} is dated {line.booked_on} in "
                        f"{period}, which is locked; nothing was imported (book it into the "
                        "open month as a correction with --book-late)",
                        field="period",
                    )
                period = book.first_open_period(period)
                late += 1
            db.execute(
                "INSERT INTO bank_lines (line_key, statement_id, account, booked_on, period, "
                "amount, reference, bank_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    statement_id,
                    account,
                    line.booked_on.isoformat(),
                    period,
                    line.amount,
                    line.reference,
                    line.bank_id,
                ),
            )
            added += 1
        if not statement.lines:
            raise MalformedStatement(f"{source}: the statement has no lines", field="file")
        db.execute(
            "UPDATE statements SET lines_added = ?, lines_skipped = ? WHERE id = ?",
            (added, skipped, statement_id),
        )
        book.record(
            who,
            "import",
            detail=f"{source.name} sha256:{digest[:16]} "
            f"added {added} skipped {skipped} late {late}",
        )
    return ImportResult(statement_id, account, added, skipped, late)
