"""Rich tables for the treasurer's terminal: line states, suggestions, a month's report.

Presentation only: every number comes from the engine's functions; nothing here computes
a balance or changes the book.
"""

from __future__ import annotations

from eccoo.treasury.book import Book
from eccoo.treasury.matching import LineState, Suggestion
from eccoo.treasury.report import PeriodReport
from rich.console import Console
from rich.table import Table


def pounds(pennies: int) -> str:
    sign = "-" if pennies < 0 else ""
    return f"{sign}£{abs(pennies) // 100:,}.{abs(pennies) % 100:02d}"


def lines_table(states: list[LineState]) -> Table:
    table = Table(
        "line",
        "date",
        "reference",
        "amount",
        "state",
        "movements",
        "bank - chain",
        title="bank lines",
    )
    for s in states:
        table.add_row(
            str(s.id),
            s.booked_on,
            s.reference,
            pounds(s.amount),
            s.state,
            ", ".join(map(str, s.movements)),
            pounds(s.difference),
        )
    return table


def suggestions_table(book: Book, found: list[Suggestion]) -> Table:
    table = Table(
        "line",
        "movement",
        "kind",
        "date",
        "amount",
        "why",
        title="suggested matches (eccoo treasury confirm LINE MOVEMENT)",
    )
    for s in found:
        m = book.db.execute("SELECT * FROM movements WHERE id = ?", (s.movement_id,)).fetchone()
        table.add_row(
            str(s.line_id),
            str(s.movement_id),
            m["kind"],
            m["booked_on"],
            pounds(m["amount"]),
            s.why,
        )
    return table


def print_report(console: Console, report: PeriodReport) -> None:
    status = "locked" if report.locked else "open"
    balances = Table("account", "opening", "closing", title=f"{report.period} ({status})")
    for a in report.accounts:
        balances.add_row(a.account, pounds(a.opening), pounds(a.closing))
    console.print(balances)
    console.print("lines: " + ", ".join(f"{n} {state}" for state, n in report.line_states.items()))
    if report.unmatched_lines:
        table = Table("line", "date", "reference", "amount", title="bank lines not matched")
        for e in report.unmatched_lines:
            table.add_row(str(e["line"]), e["booked_on"], e["reference"], pounds(e["amount"]))
        console.print(table)
    if report.unmatched_movements:
        table = Table(
            "movement", "kind", "date", "amount", "block", title="mints and burns with no bank line"
        )
        for e in report.unmatched_movements:
            table.add_row(
                str(e["movement"]), e["kind"], e["booked_on"], pounds(e["amount"]), str(e["block"])
            )
        console.print(table)
    colour = "green" if report.unbacked_coin == 0 else "red"
    console.print(f"coin without money behind it: [{colour}]{pounds(report.unbacked_coin)}[/]")
    if report.money_without_coin:
        console.print(
            f"money in the bank not yet minted: [yellow]{pounds(report.money_without_coin)}[/]"
        )
