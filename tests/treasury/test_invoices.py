"""Invoices to funders for a locked month, on the in-process chain (py-evm): one per pot
and funder, each visit at that funder's share, numbered, and never changed once issued."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from eccoo.treasury import matching
from eccoo.treasury.book import Book
from eccoo.treasury.chain import sync_movements
from eccoo.treasury.errors import InvalidDecision
from eccoo.treasury.importing import import_statement
from eccoo.treasury.invoices import invoices_of, issue_invoices, write_invoice_csv
from eccoo.treasury.periods import lock_period
from eccoo.treasury.settings import TreasurySettings
from eccoo.treasury.statements import Statement, StatementLine
from fixtures.ledger import LA, NHS, PAYER_BPS, member_id

from eccoo.errors import AlreadyExists

ECCOO = str(Path(sys.executable).parent / "eccoo")


def test_a_locked_month_is_invoiced_once_per_pot_and_funder(ledger, tmp_path):
    appointment = ledger.book(minutes=90, rate=2_000)
    ledger.deliver(appointment)
    ledger.tx(ledger.care.functions.confirm(appointment), ledger.arranger)
    ledger.tx(ledger.care.functions.releasePayment(appointment), ledger.coordinator)
    book = Book(tmp_path / "book.sqlite3")
    sync_movements(book, ledger.w3, ledger.deployment, TreasurySettings(finality_blocks=0))
    mint = book.db.execute("SELECT id, booked_on FROM movements WHERE kind = 'mint'").fetchone()
    # The funder's money for the populated ledger's one mint arrives at the bank.
    money_in = Statement(
        "client",
        [StatementLine(date.fromisoformat(mint["booked_on"]), 1_000_000, "FUNDER TRANSFER", "B1")],
    )
    source = tmp_path / "statement.csv"
    source.write_text("the bank's file")
    import_statement(book, money_in, source, who="tess")
    line = matching.line_states(book)[0]
    matching.confirm(book, line.id, [mint["id"]], "tess")
    periods = sorted(
        r[0]
        for r in book.db.execute("SELECT period FROM movements UNION SELECT period FROM bank_lines")
    )
    for period in periods:
        matching.reconcile_cleared(book, period, "tess")
        lock_period(book, period, "tess")
    visit_month = book.db.execute("SELECT period FROM movements WHERE kind = 'draw'").fetchone()[
        "period"
    ]

    issued = issue_invoices(book, visit_month, "tess")
    # 90 minutes at £20 an hour: a price of 3,000 p, and 525 p on top for the cooperative.
    contribution = 3_000 * PAYER_BPS // 10_000
    amount = 3_000 + contribution
    assert (contribution, amount) == (525, 3_525)
    assert [(i.pot, i.funder, i.total) for i in issued] == sorted(
        [
            (1, "0x" + LA.hex(), amount * 6_000 // 10_000),
            (1, "0x" + NHS.hex(), amount * 4_000 // 10_000),
        ]
    )
    assert sum(i.total for i in issued) == amount
    line = issued[0].lines[0]
    assert (
        line.appointment,
        line.minutes,
        line.rate,
        line.visit_amount,
        line.contribution,
        line.giver,
    ) == (appointment, 90, 2_000, amount, contribution, "0x" + member_id("giver").hex())
    assert len({i.number for i in issued}) == 2
    assert invoices_of(book, visit_month) == issued

    with pytest.raises(InvalidDecision, match="already issued"):
        issue_invoices(book, visit_month, "tess")
    with pytest.raises(sqlite3.IntegrityError, match="invoice issued"):
        book.db.execute("UPDATE invoices SET total = 1")
    with pytest.raises(InvalidDecision, match="never changes"), book.transaction() as db:
        db.execute("DELETE FROM invoice_lines")
    path = write_invoice_csv(issued[0], tmp_path / "out")
    rows = list(csv.DictReader(path.open()))
    assert [r["charged"] for r in rows] == [str(issued[0].total), str(issued[0].total)]
    with pytest.raises(AlreadyExists):
        write_invoice_csv(issued[0], tmp_path / "out")
    book.close()

    ran = subprocess.run(
        [
            ECCOO,
            "treasury",
            "invoice",
            "--period",
            visit_month,
            "--out",
            str(tmp_path / "out"),
            "--book",
            str(tmp_path / "book.sqlite3"),
        ],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 2 and "--force" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


def test_an_open_month_is_not_invoiced(tmp_path):
    with Book(tmp_path / "book.sqlite3") as book, pytest.raises(InvalidDecision, match="lock"):
        issue_invoices(book, "2026-11", "tess")
