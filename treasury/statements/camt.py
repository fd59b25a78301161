"""ISO 20022 camt.053 (bank-to-customer statement) XML, read with a hardened lxml parser.

Any camt.053 version is accepted (elements are found by local name). The parser never
resolves entities, never fetches DTDs or anything over the network, and refuses huge
trees; one `MalformedStatement` names the element and its line.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from eccoo.treasury.errors import MalformedStatement
from eccoo.treasury.money import pennies
from eccoo.treasury.statements.lines import Statement, StatementLine
from lxml import etree

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
)


def read_camt053(path: Path, raw: bytes, *, account: str = "") -> Statement:
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedStatement(
            f"{path}:{exc.lineno}: not well-formed XML ({exc.msg})", field="file"
        ) from None
    if etree.QName(root).localname != "Document" or _child(root, "BkToCstmrStmt") is None:
        raise MalformedStatement(
            f"{path}:{root.sourceline}: not a camt.053 statement (no Document/BkToCstmrStmt)",
            field="BkToCstmrStmt",
        )
    statements = _all(_child(root, "BkToCstmrStmt"), "Stmt")
    if len(statements) != 1:
        raise MalformedStatement(
            f"{path}: camt.053 holds {len(statements)} <Stmt>; import one statement per file",
            field="Stmt",
        )
    stmt = statements[0]
    iban = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
    lines = [_entry(path, i, e) for i, e in enumerate(_all(stmt, "Ntry"), start=1)]
    return Statement(account=account or iban, lines=lines, source_format="camt053")


def _entry(path: Path, index: int, entry: etree._Element) -> StatementLine:
    where = f"Ntry {index}"

    def fail(element: str, why: str) -> MalformedStatement:
        return MalformedStatement(f"{path}:{entry.sourceline}: <{where}> {why}", field=element)

    amount_text = _text(entry, "Amt")
    if not amount_text:
        raise fail("Amt", "has no <Amt>")
    try:
        amount = pennies(amount_text)
    except ValueError as exc:
        raise fail("Amt", f"<Amt> {exc}") from None
    if amount <= 0:
        raise fail("Amt", "<Amt> must be positive (the sign is in <CdtDbtInd>)")
    direction = _text(entry, "CdtDbtInd")
    if direction not in ("CRDT", "DBIT"):
        raise fail("CdtDbtInd", f"<CdtDbtInd> must be CRDT or DBIT, got {direction!r}")
    booked = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
    try:
        booked_on = date.fromisoformat(booked)
    except ValueError:
        raise fail("BookgDt", f"<BookgDt> is not a date: {booked!r}") from None
    details = _child(_child(entry, "NtryDtls"), "TxDtls")
    reference = (
        _text(details, "RmtInf", "Ustrd")
        or _text(details, "RmtInf", "Strd", "CdtrRefInf", "Ref")
        or _text(details, "Refs", "EndToEndId")
        or _text(entry, "AddtlNtryInf")
    )
    if reference == "NOTPROVIDED":
        reference = ""
    bank_id = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    return StatementLine(
        booked_on, amount if direction == "CRDT" else -amount, reference, bank_id, where=where
    )


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return child
    return None


def _all(element: etree._Element | None, name: str) -> list[etree._Element]:
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _text(element: etree._Element | None, *names: str) -> str:
    for name in names:
        element = _child(element, name)
    return (element.text or "").strip() if element is not None else ""
