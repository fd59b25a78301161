"""Locking a month once it is reconciled. After the lock nothing dated in that month
changes (the book's triggers refuse it too); late entries and corrections go into the first
open month. The report at the moment of locking is kept with the lock.
"""

from __future__ import annotations

import json

from eccoo.treasury.book import Book, check_period, now_utc
from eccoo.treasury.errors import InvalidDecision, PeriodLocked
from eccoo.treasury.report import PeriodReport, period_report


def lock_period(book: Book, period: str, who: str) -> PeriodReport:
    """Locks `period`; InvalidDecision naming the first reason it cannot close yet."""
    period = check_period(period)
    with book.transaction() as db:
        if book.locked(period):
            raise PeriodLocked(f"{period} is already locked", field="period")
        earlier = db.execute(
            "SELECT period FROM (SELECT period FROM bank_lines UNION SELECT period FROM "
            "movements) WHERE period < ? AND period NOT IN (SELECT period FROM periods) "
            "ORDER BY period LIMIT 1",
            (period,),
        ).fetchone()
        if earlier is not None:
            raise InvalidDecision(
                f"lock {earlier['period']} first: months are closed in order", field="period"
            )
        report = period_report(book, period)
        open_lines = sum(n for state, n in report.line_states.items() if state != "reconciled")
        if open_lines:
            states = ", ".join(
                f"{n} {s}" for s, n in report.line_states.items() if n and s != "reconciled"
            )
            raise InvalidDecision(
                f"{period} cannot be locked: {open_lines} bank lines are not reconciled ({states})",
                field="period",
            )
        if report.unmatched_movements:
            first = report.unmatched_movements[0]
            raise InvalidDecision(
                f"{period} cannot be locked: {len(report.unmatched_movements)} mints or burns "
                f"have no bank line (first: movement {first['movement']}, {first['kind']} "
                f"of {first['amount']})",
                field="period",
            )
        if report.unbacked_coin or report.money_without_coin:
            raise InvalidDecision(
                f"{period} cannot be locked: coin without money behind it is "
                f"{report.unbacked_coin} pennies and money without coin "
                f"{report.money_without_coin}, not 0",
                field="period",
            )
        report.locked = True
        db.execute(
            "INSERT INTO periods (period, locked_at, locked_by, report) VALUES (?, ?, ?, ?)",
            (period, now_utc(), who, json.dumps(report.to_dict(), sort_keys=True)),
        )
        book.record(who, "lock", period=period)
    return report
