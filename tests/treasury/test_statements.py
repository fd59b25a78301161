"""Statements in, in each format: good files become pennies and dates; a bad file is one
error naming its line or element, and nothing of it reaches the book."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
from eccoo.treasury.book import Book
from eccoo.treasury.errors import MalformedStatement, TreasuryError
from eccoo.treasury.importing import import_statement
from eccoo.treasury.statements import PROFILES, load_profile, read_statement
from fixtures.statements import CAMT, OFX, UK_BANK_CSV, camt053, camt_entry

from eccoo.errors import PermanentError


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _lines(path: Path, **kw: object) -> list[tuple[date, int, str, str]]:
    statement = read_statement(path, **kw)  # type: ignore[arg-type]
    return [(x.booked_on, x.amount, x.reference, x.bank_id) for x in statement.lines]


def test_uk_bank_csv_is_read_to_pennies(tmp_path):
    assert _lines(_write(tmp_path / "nov.csv", UK_BANK_CSV)) == [
        (date(2026, 11, 3), 10_000, "BANK-001 LOCAL AUTHORITY", ""),
        (date(2026, 11, 4), 125_050, "BANK-002", ""),
        (date(2026, 11, 5), -1_000, "PAYOUT-7", ""),
    ]


def test_csv_profile_from_a_file_with_paid_in_and_out_columns(tmp_path):
    profile = _write(tmp_path / "p.json", (
        '{"name": "split", "date_column": "When", "date_format": "%Y-%m-%d", '
        '"reference_column": "Ref", "paid_in_column": "In", "paid_out_column": "Out", '
        '"id_column": "Id", "skip_rows": 1}'))  # fmt: skip
    csv = _write(tmp_path / "s.csv", (
        "Exported by the bank\nId,When,Ref,In,Out\n"
        "T1,2026-11-03,BANK-001,100.00,\nT2,2026-11-05,PAYOUT-7,,10.00\n"))  # fmt: skip
    assert _lines(csv, profile=load_profile(str(profile))) == [
        (date(2026, 11, 3), 10_000, "BANK-001", "T1"),
        (date(2026, 11, 5), -1_000, "PAYOUT-7", "T2"),
    ]


def test_ofx_is_read_with_the_banks_ids(tmp_path):
    statement = read_statement(_write(tmp_path / "nov.ofx", OFX))
    assert statement.account == "12345678"
    assert [(x.booked_on, x.amount, x.reference, x.bank_id) for x in statement.lines] == [
        (date(2026, 11, 3), 10_000, "BANK-001", "FIT-1"),
        (date(2026, 11, 5), -1_000, "PAYOUT-7", "FIT-2"),
    ]


def test_camt053_is_read_with_direction_and_account(tmp_path):
    statement = read_statement(_write(tmp_path / "nov.xml", CAMT))
    assert statement.account == "GB33BUKB20201555555555"
    assert [(x.booked_on, x.amount, x.reference, x.bank_id) for x in statement.lines] == [
        (date(2026, 11, 3), 10_000, "BANK-001", "ACSR-1"),
        (date(2026, 11, 5), -1_000, "PAYOUT-7", "ACSR-2"),
    ]


BAD = [
    ("csv", UK_BANK_CSV.replace("100.00,100.00", "100.005,100.00"), "nov.csv:2:", "Value"),
    ("csv", UK_BANK_CSV.replace("04/11/2026", "2026-11-04"), "nov.csv:3:", "Date"),
    ("csv", UK_BANK_CSV.replace("Value", "Amount"), "missing column 'Value'", "Value"),
    ("csv", UK_BANK_CSV.replace("-10.00", "ten pounds"), "nov.csv:4:", "Value"),
    ("ofx", OFX.replace("<TRNAMT>-10.00", "<TRNAMT>-10.001"), "<STMTTRN 2>", "TRNAMT"),
    ("ofx", OFX.replace("<TRNAMT>-10.00", "<TRNAMT>ten"), "OFX", "file"),
    ("ofx", OFX.split("<BANKMSGSRSV1>")[0] + "</OFX>", "no <STMTRS>", "STMTRS"),
    ("xml", CAMT.replace("<CdtDbtInd>DBIT", "<CdtDbtInd>OUT"), "<Ntry 2>", "CdtDbtInd"),
    ("xml", CAMT.replace('<Amt Ccy="GBP">10.00</Amt>', ""), "<Ntry 2> has no <Amt>", "Amt"),
    ("xml", CAMT.replace("2026-11-05", "05/11/2026"), "<Ntry 2>", "BookgDt"),
    ("xml", CAMT.replace("</Stmt>", "</Stmnt>"), "not well-formed XML", "file"),
]


@pytest.mark.parametrize(
    ("suffix", "text", "named", "field"), BAD, ids=[f"{b[0]}-{b[3]}-{i}" for i, b in enumerate(BAD)]
)
def test_a_bad_file_is_one_error_and_nothing_is_imported(tmp_path, suffix, text, named, field):
    good = _write(
        tmp_path / f"good.{suffix}", {"csv": UK_BANK_CSV, "ofx": OFX, "xml": CAMT}[suffix]
    )
    bad = _write(tmp_path / f"nov.{suffix}", text)
    with Book(tmp_path / "book.sqlite3") as book:
        import_statement(book, read_statement(good), good, who="treasurer")
        before = book.db.execute("SELECT count(*) FROM bank_lines").fetchone()[0]
        with pytest.raises(MalformedStatement) as info:
            import_statement(book, read_statement(bad), bad, who="treasurer")
        assert named in str(info.value) and info.value.field == field
        assert len(str(info.value).splitlines()) == 1
        assert isinstance(info.value, TreasuryError | PermanentError)
        assert book.db.execute("SELECT count(*) FROM bank_lines").fetchone()[0] == before


def test_xml_entities_are_never_expanded(tmp_path):
    bomb = CAMT.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace("PAYOUT-7", "&x;")
    statement = read_statement(_write(tmp_path / "bomb.xml", bomb))
    assert "root" not in statement.lines[1].reference


def test_importing_the_same_statement_twice_adds_nothing(tmp_path):
    with Book(tmp_path / "book.sqlite3") as book:
        for name, text in (("nov.csv", UK_BANK_CSV), ("nov.ofx", OFX), ("nov.xml", CAMT)):
            path = _write(tmp_path / name, text)
            first = import_statement(book, read_statement(path), path, who="treasurer")
            again = import_statement(book, read_statement(path), path, who="treasurer")
            assert (again.added, again.skipped) == (0, first.added)
        assert book.db.execute("SELECT count(*) FROM bank_lines").fetchone()[0] == 3 + 2 + 2


def test_identical_lines_in_one_statement_are_both_kept(tmp_path):
    twice = UK_BANK_CSV + UK_BANK_CSV.splitlines()[1] + "\n"
    path = _write(tmp_path / "twice.csv", twice)
    with Book(tmp_path / "book.sqlite3") as book:
        assert import_statement(book, read_statement(path), path, who="t").added == 4
        assert import_statement(book, read_statement(path), path, who="t").added == 0


def test_the_book_is_private_to_its_owner(tmp_path):
    Book(tmp_path / "treasury" / "book.sqlite3").close()
    assert stat.S_IMODE(os.stat(tmp_path / "treasury" / "book.sqlite3").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "treasury").st_mode) == 0o700


def test_the_shipped_profiles_name_their_columns():
    assert PROFILES["uk-bank"].required_columns == ["Date", "Description", "Value"]
    with pytest.raises(MalformedStatement, match="no CSV profile 'nope'"):
        load_profile("nope")


def test_camt_with_two_statements_is_refused(tmp_path):
    two = camt053(camt_entry("1.00", "CRDT", "2026-11-03", "R", "A")).replace(
        "</BkToCstmrStmt>", "<Stmt><Id>x</Id></Stmt></BkToCstmrStmt>"
    )
    with pytest.raises(MalformedStatement, match="2 <Stmt>"):
        read_statement(_write(tmp_path / "two.xml", two))
