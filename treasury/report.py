"""A month's reconciliation report: opening and closing balance per account, what matched,
what did not, and the number that must be zero, coin on chain without money behind it.

Computed from the book alone (read the chain into it first); returns plain data for the
command line's tables, the JSON output and the treasurer's pages. It never changes the book.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from eccoo.treasury.book import Book
from eccoo.treasury.matching import STATES, line_states


@dataclass(frozen=True)
class AccountBalance:
    account: str  # "bank:<account>", "coin in circulation", "pot <id>", "Commons Contribution"
    opening: int
    closing: int


@dataclass
class PeriodReport:
    period: str
    locked: bool
    accounts: list[AccountBalance] = field(default_factory=list)
    line_states: dict[str, int] = field(default_factory=dict)
    matched: list[dict[str, Any]] = field(default_factory=list)
    unmatched_lines: list[dict[str, Any]] = field(default_factory=list)
    unmatched_movements: list[dict[str, Any]] = field(default_factory=list)
    # Coin in circulation beyond the money in the bank at the month's close: must be 0.
    unbacked_coin: int = 0
    # Money in the bank beyond the coin in circulation (received, not yet minted).
    money_without_coin: int = 0

    @property
    def closes(self) -> bool:
        """Everything reconciled, every mint and burn matched, and no unbacked coin."""
        reconciled = self.line_states.get("reconciled", 0)
        return (
            reconciled == sum(self.line_states.values())
            and not self.unmatched_movements
            and self.unbacked_coin == 0
            and self.money_without_coin == 0
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "closes": self.closes}


def _balances(
    book: Book, period: str, table: str, key: str, where: str
) -> list[tuple[str, int, int]]:
    rows = book.db.execute(
        f"SELECT {key} AS account, "  # noqa: S608 (the module's own constants only)
        "COALESCE(SUM(CASE WHEN period < ? THEN amount END), 0) AS opening, "
        "COALESCE(SUM(amount), 0) AS closing "
        f"FROM {table} WHERE period <= ? AND {where} GROUP BY {key} ORDER BY {key}",
        (period, period),
    )
    return [(str(r["account"]), int(r["opening"]), int(r["closing"])) for r in rows]


def period_report(book: Book, period: str) -> PeriodReport:
    report = PeriodReport(period=period, locked=book.locked(period))
    bank = _balances(book, period, "bank_lines", "account", "1 = 1")
    coin = _balances(book, period, "movements", "'coin in circulation'", "kind IN ('mint', 'burn')")
    pots = _balances(
        book, period, "movements", "'pot ' || pot", "kind IN ('deposit', 'draw', 'refund')"
    )
    contribution = _balances(
        book, period, "movements", "'Commons Contribution'", "kind = 'contribution'"
    )
    report.accounts = [AccountBalance(f"bank:{a}", o, c) for a, o, c in bank] + [
        AccountBalance(a, o, c) for a, o, c in coin + pots + contribution
    ]
    bank_close = sum(c for _, _, c in bank)
    coin_close = sum(c for _, _, c in coin)
    report.unbacked_coin = max(coin_close - bank_close, 0)
    report.money_without_coin = max(bank_close - coin_close, 0)

    states = line_states(book, period)
    report.line_states = {s: sum(1 for x in states if x.state == s) for s in STATES}
    for s in states:
        entry = {
            "line": s.id,
            "booked_on": s.booked_on,
            "reference": s.reference,
            "amount": s.amount,
            "state": s.state,
            "movements": s.movements,
            "difference": s.difference,
        }
        (report.unmatched_lines if s.state == "unmatched" else report.matched).append(entry)
    report.unmatched_movements = [
        {
            "movement": r["id"],
            "kind": r["kind"],
            "booked_on": r["booked_on"],
            "amount": r["amount"],
            "ref": r["ref"],
            "block": r["block"],
        }
        for r in book.db.execute(
            "SELECT * FROM movements m WHERE period = ? AND kind IN ('mint', 'burn') AND NOT "
            "EXISTS (SELECT 1 FROM links k WHERE k.movement_id = m.id) ORDER BY id",
            (period,),
        )
    ]
    return report
