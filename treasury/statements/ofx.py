"""OFX statements (1.x SGML and 2.x XML) read with `ofxparse`.

Reads every account's transactions or raises one `MalformedStatement` naming the element;
amounts come from ofxparse as Decimal and become pennies without a float in between.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from eccoo.treasury.errors import MalformedStatement
from eccoo.treasury.money import pennies_from_decimal
from eccoo.treasury.statements.lines import Statement, StatementLine
from ofxparse import OfxParser
from ofxparse.ofxparse import OfxParserException


def read_ofx(path: Path, raw: bytes, *, account: str = "") -> Statement:
    try:
        ofx = OfxParser.parse(io.BytesIO(raw), fail_fast=True)
    except OfxParserException as exc:
        raise MalformedStatement(f"{path}: OFX {_first_line(exc)}", field="file") from None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        # ofxparse reports some malformed files only as the Python error it met.
        raise MalformedStatement(
            f"{path}: not a readable OFX statement ({type(exc).__name__}: {_first_line(exc)})",
            field="file",
        ) from None
    accounts = list(getattr(ofx, "accounts", []) or [])
    if not accounts or accounts[0].statement is None:
        raise MalformedStatement(f"{path}: OFX has no <STMTRS> statement", field="STMTRS")
    if len(accounts) > 1:
        raise MalformedStatement(
            f"{path}: OFX holds {len(accounts)} accounts; import one account per file",
            field="STMTRS",
        )
    found = accounts[0]
    lines = [_line(path, i, t) for i, t in enumerate(found.statement.transactions, start=1)]
    return Statement(
        account=account or str(found.account_id or ""), lines=lines, source_format="ofx"
    )


def _line(path: Path, index: int, transaction: Any) -> StatementLine:
    where = f"STMTTRN {index}"
    if not isinstance(transaction.amount, Decimal):
        raise MalformedStatement(f"{path}: <{where}> has no <TRNAMT>", field="TRNAMT")
    try:
        amount = pennies_from_decimal(transaction.amount)
    except ValueError as exc:
        raise MalformedStatement(f"{path}: <{where}> TRNAMT {exc}", field="TRNAMT") from None
    if amount == 0:
        raise MalformedStatement(f"{path}: <{where}> has an amount of zero", field="TRNAMT")
    if transaction.date is None:
        raise MalformedStatement(f"{path}: <{where}> has no <DTPOSTED>", field="DTPOSTED")
    reference = (transaction.memo or transaction.payee or transaction.checknum or "").strip()
    return StatementLine(
        booked_on=transaction.date.date(),
        amount=amount,
        reference=reference,
        bank_id=str(transaction.id or "").strip(),
        where=where,
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
