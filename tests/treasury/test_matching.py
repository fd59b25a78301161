"""Matching and closing a month against a REAL Clique network: mints and burns made by the
treasurer, bank lines that pay for them (one with a typo'd reference, one short-paid, one
paying for two mints), the treasurer's decisions, a locked month, and the report."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eccoo.client import forwarder as fwd
from eccoo.client.reconcile import reference_hash
from eccoo.client.revert import error_table
from eccoo.client.transact import Sender
from eccoo.node.keys import load_account
from eccoo.treasury import matching
from eccoo.treasury.book import Book
from eccoo.treasury.chain import sync_movements
from eccoo.treasury.errors import InvalidDecision, PeriodLocked
from eccoo.treasury.importing import import_statement
from eccoo.treasury.periods import lock_period
from eccoo.treasury.report import period_report
from eccoo.treasury.settings import TreasurySettings
from eccoo.treasury.statements import PROFILES, read_statement
from eth_account import Account
from eth_utils import keccak

pytestmark = pytest.mark.geth

ECCOO = str(Path(sys.executable).parent / "eccoo")
SETTINGS = TreasurySettings(finality_blocks=2, suggest_days=3)


def _wait_for_block(w3, number: int) -> None:
    """Until the chain's head reaches `number` (1 s Clique blocks); a hang is a failure."""
    deadline = time.monotonic() + 120
    while w3.eth.block_number < number:
        assert time.monotonic() < deadline, f"the chain did not reach block {number}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def treasurers_month(clique_ledger):
    """Mints and a payout as a treasurer's month would have them, on the real network."""
    network, deployment = clique_ledger
    w3 = network.w3(0)
    table = error_table(c.abi for c in deployment.contracts.values())
    operator = Sender(w3, load_account(network.manifest.deployer), error_table=table)
    relayer = Sender(w3, load_account(network.manifest.relayers[1]), error_table=table)
    m, coin, forwarder = (
        deployment.contract(w3, k) for k in ("Membership", "CareCoin", "Forwarder")
    )
    start = w3.eth.block_number + 1
    member = Account.create()
    operator.transact(m.functions.registerMember(member.address, keccak(text=member.address)))
    operator.transact(m.functions.grantHat(member.address, 0))
    for amount, ref in (
        (10_000, "BANK-101"),
        (5_000, "BANK-102"),
        (3_000, "BANK-103"),
        (1_500, "BANK-104"),
        (500, "BANK-105"),
    ):
        operator.transact(coin.functions.mint(member.address, amount, reference_hash(ref)))
    request = fwd.signed_call(forwarder, member, coin, "approve", operator.address, 1_000)
    fwd.relay(forwarder, request, relayer)
    receipt = operator.transact(
        coin.functions.burn(member.address, 1_000, reference_hash("PAYOUT-201"))
    )
    _wait_for_block(w3, receipt["blockNumber"] + SETTINGS.finality_blocks)
    today = datetime.now(UTC).date()
    return network, deployment, start, today, operator, member


def _statement(tmp_path: Path, name: str, rows: list[tuple[str, int]], day) -> Path:
    body = "date,reference,amount_pence\n" + "".join(
        f"{day.isoformat()},{ref},{amount}\n" for ref, amount in rows
    )
    path = tmp_path / name
    path.write_text(body)
    return path


def _import(book: Book, path: Path) -> None:
    import_statement(book, read_statement(path, profile=PROFILES["eccoo"]), path, who="tess")


def _state(book: Book, reference: str) -> matching.LineState:
    return next(s for s in matching.line_states(book) if s.reference == reference)


def _movement(book: Book, ref: str) -> int:
    return int(
        book.db.execute(
            "SELECT id FROM movements WHERE ref = ?", ("0x" + reference_hash(ref).hex(),)
        ).fetchone()["id"]
    )


def test_a_month_from_statement_to_lock(treasurers_month, tmp_path):
    network, deployment, start, today, operator, member = treasurers_month
    period = f"{today.year:04d}-{today.month:02d}"
    book = Book(tmp_path / "book.sqlite3")
    sync_movements(book, network.w3(1), deployment, SETTINGS, from_block=start)
    _import(
        book,
        _statement(
            tmp_path,
            "bank.csv",
            [
                ("BANK-101 LOCAL AUTHORITY", 10_000),  # exact: matched by reference and amount
                ("BNAK-102", 5_000),  # a typo'd reference: suggested by amount and date
                ("BANK-103", 2_800),  # short-paid: 200 of the 3_000 minted has no money behind it
                ("LA-BATCH-7", 2_000),  # one payment for BANK-104 and BANK-105
                ("PAYOUT-201", -1_000),  # a payout: matched to the burn
            ],
            today,
        ),
    )

    assert matching.auto_match(book, "tess") == 2
    assert [_state(book, r).state for r in ("BANK-101 LOCAL AUTHORITY", "PAYOUT-201")] == [
        "cleared",
        "cleared",
    ]
    typo = _state(book, "BNAK-102")
    suggested = matching.suggestions(book, days=SETTINGS.suggest_days)
    assert (typo.id, _movement(book, "BANK-102")) in {(s.line_id, s.movement_id) for s in suggested}
    short = _state(book, "BANK-103")
    assert any(s.line_id == short.id and s.why == "same reference" for s in suggested)

    matching.confirm(book, typo.id, [_movement(book, "BANK-102")], "tess")
    matching.confirm(book, short.id, [_movement(book, "BANK-103")], "tess")
    batch = _state(book, "LA-BATCH-7")
    with pytest.raises(InvalidDecision, match="add up to 6500 pennies"):
        matching.split(
            book, batch.id, [_movement(book, "BANK-104"), _movement(book, "BANK-102")], "tess"
        )
    matching.split(
        book, batch.id, [_movement(book, "BANK-104"), _movement(book, "BANK-105")], "tess"
    )
    assert (_state(book, "BNAK-102").state, _state(book, "LA-BATCH-7").state) == (
        "cleared",
        "cleared",
    )
    short = _state(book, "BANK-103")
    assert (short.state, short.difference) == ("matched", -200)

    report = period_report(book, period)
    assert report.unbacked_coin == 200
    assert {a.account: a.closing for a in report.accounts}["coin in circulation"] == 19_000
    matching.reconcile_cleared(book, period, "tess")
    with pytest.raises(InvalidDecision, match="1 matched"):
        lock_period(book, period, "tess")

    # The funder pays the rest; the treasurer matches it to the same mint.
    _import(book, _statement(tmp_path, "rest.csv", [("BANK-103 BALANCE", 200)], today))
    rest = _state(book, "BANK-103 BALANCE")
    assert any(
        s.line_id == rest.id and s.why == "same reference"
        for s in matching.suggestions(book, days=3)
    )
    matching.confirm(book, rest.id, [_movement(book, "BANK-103")], "tess")
    assert {_state(book, r).state for r in ("BANK-103", "BANK-103 BALANCE")} == {"cleared"}
    # Accepting one line of a group accepts the group: it cannot be taken apart afterwards.
    assert sorted(matching.reconcile_cleared(book, period, "tess", [rest.id])) == [
        short.id,
        rest.id,
    ]
    with pytest.raises(InvalidDecision, match="already reconciled"):
        matching.reject(book, short.id, _movement(book, "BANK-103"), "tess")

    closed = lock_period(book, period, "tess")
    assert closed.closes and closed.unbacked_coin == 0
    assert closed.line_states == {"unmatched": 0, "matched": 0, "cleared": 0, "reconciled": 6}
    decisions = book.db.execute("SELECT who, action FROM decisions ORDER BY id").fetchall()
    assert {(d["who"], d["action"]) for d in decisions} >= {
        ("tess", "auto-match"),
        ("tess", "confirm"),
        ("tess", "split"),
        ("tess", "reconcile"),
        ("tess", "lock"),
    }

    # After the lock nothing in the month changes; a late line goes to the open month.
    with pytest.raises(PeriodLocked):
        matching.reject(book, rest.id, _movement(book, "BANK-103"), "tess")
    with pytest.raises(sqlite3.IntegrityError, match="period locked"):  # the book's own guard
        book.db.execute("UPDATE bank_lines SET amount = 1 WHERE id = ?", (rest.id,))
    next_month = (today.replace(day=28) + timedelta(days=5)).isoformat()
    late = _statement(tmp_path, "late.csv", [("BANK-106", 700), ("BANK-107", 800)], today)
    late.write_text(late.read_text().replace(today.isoformat(), next_month, 1))
    before = book.db.execute("SELECT count(*) FROM bank_lines").fetchone()[0]
    # Line 2 is in an open month, line 3 in the locked one: neither is imported.
    with pytest.raises(PeriodLocked, match=r"line 3 .* is locked; nothing was imported"):
        _import(book, late)
    assert book.db.execute("SELECT count(*) FROM bank_lines").fetchone()[0] == before
    import_statement(
        book, read_statement(late, profile=PROFILES["eccoo"]), late, who="tess", book_late=True
    )
    assert {
        s.reference: s.period
        for s in matching.line_states(book)
        if s.reference in ("BANK-106", "BANK-107")
    } == {"BANK-106": next_month[:7], "BANK-107": next_month[:7]}

    # A mint made after the lock is read into the first open month, not the locked one.
    receipt = operator.transact(
        deployment.contract(network.w3(0), "CareCoin").functions.mint(
            member.address, 700, reference_hash("BANK-106")
        )
    )
    _wait_for_block(network.w3(0), receipt["blockNumber"] + SETTINGS.finality_blocks)
    sync_movements(book, network.w3(1), deployment, SETTINGS)
    late_mint = book.db.execute(
        "SELECT period FROM movements WHERE id = ?", (_movement(book, "BANK-106"),)
    ).fetchone()
    assert late_mint["period"] > period
    assert (
        json.loads(book.db.execute("SELECT report FROM periods").fetchone()["report"])[
            "unbacked_coin"
        ]
        == 0
    )
    book.close()


def test_the_commands_import_match_report_and_refuse_in_one_line(treasurers_month, tmp_path):
    network, _, start, today, _, _ = treasurers_month
    period = f"{today.year:04d}-{today.month:02d}"
    store = ["--book", str(tmp_path / "book.sqlite3")]
    book = [*store, "--as", "tess"]
    eccoo = [ECCOO, "treasury"]
    good = _statement(tmp_path, "bank.csv", [("BANK-101", 10_000), ("BNAK-102", 5_000)], today)
    ran = subprocess.run(
        [*eccoo, "import", str(good), "--profile", "eccoo", *book],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert "2 lines added" in ran.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text() + f"{today.isoformat()},BANK-103,28.5\n")
    ran = subprocess.run(
        [*eccoo, "import", str(bad), "--profile", "eccoo", *book], capture_output=True, text=True
    )
    assert ran.returncode == 2
    assert len(ran.stderr.strip().splitlines()) == 1 and "bad.csv:4:" in ran.stderr
    assert "Traceback" not in ran.stderr

    ran = subprocess.run(
        [
            *eccoo,
            "match",
            "--network-dir",
            str(network.dir),
            "--from-block",
            str(start),
            "--json",
            *book,
        ],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout[ran.stdout.index("{") :])
    assert out["auto_matched"] == 1
    assert [(line["reference"], line["state"]) for line in out["lines"]] == [
        ("BANK-101", "cleared"),
        ("BNAK-102", "unmatched"),
    ]
    typo = out["lines"][1]["id"]
    assert any(s["line_id"] == typo for s in out["suggestions"])

    ran = subprocess.run(
        [*eccoo, "lock", "--period", period, *book], capture_output=True, text=True
    )
    assert ran.returncode == 2 and "cannot be locked" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1

    ran = subprocess.run(
        [*eccoo, "report", "--period", period, "--json", *store], capture_output=True, text=True
    )
    report = json.loads(ran.stdout)
    assert report["line_states"]["unmatched"] == 1 and report["closes"] is False
    ran = subprocess.run(
        [*eccoo, "report", "--period", period, *store], capture_output=True, text=True
    )
    assert "coin without money behind it" in ran.stdout
