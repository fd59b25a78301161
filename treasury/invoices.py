"""Invoices to funders for a locked month: per pot and funder, the visits paid from that
funder's share of the pot, numbered in one sequence and immutable once issued (the book's
triggers refuse any change).

Givers appear by pseudonymous member id only. This module never reads the chain.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from eccoo.treasury.book import Book, check_period, now_utc
from eccoo.treasury.errors import InvalidDecision

from eccoo.errors import AlreadyExists

CSV_COLUMNS = (
    "invoice",
    "period",
    "pot",
    "funder",
    "appointment",
    "visit_on",
    "giver",
    "minutes",
    "rate_per_hour",
    "visit_amount",
    "commons_contribution",
    "charged",
)


@dataclass(frozen=True)
class InvoiceLine:
    appointment: int
    visit_on: str
    giver: str  # the giver's pseudonymous member id
    minutes: int
    rate: int  # pennies per hour
    visit_amount: int  # what the visit cost the pot, all funders together
    contribution: int  # the payer's Commons Contribution within it (on top of the price)
    charged: int  # this funder's share, drawn from its part of the pot


@dataclass
class Invoice:
    number: str
    period: str
    pot: int
    funder: str
    issued_at: str
    issued_by: str
    total: int  # the remittance expected from the funder
    lines: list[InvoiceLine] = field(default_factory=list)


def issue_invoices(book: Book, period: str, who: str) -> list[Invoice]:
    """Issues the month's invoices (once); InvalidDecision if the month is open or done."""
    period = check_period(period)
    if not book.locked(period):
        raise InvalidDecision(f"lock {period} before invoicing it", field="period")
    if book.db.execute("SELECT 1 FROM invoices WHERE period = ?", (period,)).fetchone():
        raise InvalidDecision(f"the invoices for {period} are already issued", field="period")
    draws = book.db.execute(
        "SELECT m.pot, m.funder, m.appointment, -m.amount AS charged, v.visit_on, v.giver, "
        "v.minutes, v.rate, v.amount, v.contribution FROM movements m JOIN visits v "
        "ON v.appointment = m.appointment WHERE m.kind = 'draw' AND m.period = ? "
        "ORDER BY m.pot, m.funder, v.visit_on, m.appointment",
        (period,),
    ).fetchall()
    grouped: dict[tuple[int, str], list[InvoiceLine]] = {}
    for d in draws:
        grouped.setdefault((d["pot"], d["funder"]), []).append(
            InvoiceLine(
                d["appointment"],
                d["visit_on"],
                d["giver"],
                d["minutes"],
                d["rate"],
                d["amount"],
                d["contribution"],
                d["charged"],
            )
        )
    issued = []
    with book.transaction() as db:
        last = db.execute("SELECT count(*) FROM invoices").fetchone()[0]
        for seq, ((pot, funder), lines) in enumerate(sorted(grouped.items()), start=last + 1):
            invoice = Invoice(
                f"INV-{seq:06d}",
                period,
                pot,
                funder,
                now_utc(),
                who,
                sum(x.charged for x in lines),
                lines,
            )
            db.execute(
                "INSERT INTO invoices (number, period, pot, funder, issued_at, issued_by, total) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (invoice.number, period, pot, funder, invoice.issued_at, who, invoice.total),
            )
            db.executemany(
                "INSERT INTO invoice_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        invoice.number,
                        x.appointment,
                        x.visit_on,
                        x.giver,
                        x.minutes,
                        x.rate,
                        x.visit_amount,
                        x.contribution,
                        x.charged,
                    )
                    for x in lines
                ],
            )
            book.record(who, "invoice", period=period, detail=invoice.number)
            issued.append(invoice)
    return issued


def invoices_of(book: Book, period: str) -> list[Invoice]:
    """The month's issued invoices, as they were issued."""
    found = []
    for row in book.db.execute(
        "SELECT * FROM invoices WHERE period = ? ORDER BY number", (check_period(period),)
    ):
        lines = [
            InvoiceLine(
                x["appointment"],
                x["visit_on"],
                x["giver"],
                x["minutes"],
                x["rate"],
                x["visit_amount"],
                x["contribution"],
                x["charged"],
            )
            for x in book.db.execute(
                "SELECT * FROM invoice_lines WHERE number = ? ORDER BY visit_on, appointment",
                (row["number"],),
            )
        ]
        found.append(
            Invoice(
                row["number"],
                row["period"],
                row["pot"],
                row["funder"],
                row["issued_at"],
                row["issued_by"],
                row["total"],
                lines,
            )
        )
    return found


def write_invoice_csv(invoice: Invoice, folder: Path, *, force: bool = False) -> Path:
    """`<folder>/<number>.csv`, one row per visit; AlreadyExists unless `force`."""
    path = Path(folder) / f"{invoice.number}.csv"
    if path.exists() and not force:
        raise AlreadyExists(f"{path} exists; pass --force to write it again", field="out")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for x in invoice.lines:
            writer.writerow(
                [
                    invoice.number,
                    invoice.period,
                    invoice.pot,
                    invoice.funder,
                    x.appointment,
                    x.visit_on,
                    x.giver,
                    x.minutes,
                    x.rate,
                    x.visit_amount,
                    x.contribution,
                    x.charged,
                ]
            )
        writer.writerow(
            [
                invoice.number,
                invoice.period,
                invoice.pot,
                invoice.funder,
                "total",
                "",
                "",
                "",
                "",
                "",
                "",
                invoice.total,
            ]
        )
    os.replace(partial, path)
    return path
