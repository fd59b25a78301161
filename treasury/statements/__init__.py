"""Bank statements in the formats banks give: CSV (with column profiles), OFX, camt.053.

Every reader returns the whole statement or raises one `MalformedStatement` naming the
line or element; none returns part of a file. Nothing here touches the book.
"""

from __future__ import annotations

from pathlib import Path

from eccoo.treasury.errors import MalformedStatement
from eccoo.treasury.statements.camt import read_camt053
from eccoo.treasury.statements.csv_statement import read_csv_statement
from eccoo.treasury.statements.lines import Statement, StatementLine
from eccoo.treasury.statements.ofx import read_ofx
from eccoo.treasury.statements.profiles import PROFILES, CsvProfile, load_profile

FORMATS = ("csv", "ofx", "camt053")

__all__ = [
    "FORMATS",
    "PROFILES",
    "CsvProfile",
    "Statement",
    "StatementLine",
    "detect_format",
    "load_profile",
    "read_statement",
]


def detect_format(path: Path) -> str:
    """The format from the file name: .csv, .ofx/.qfx, .xml (camt.053)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".ofx", ".qfx"):
        return "ofx"
    if suffix == ".xml":
        return "camt053"
    raise MalformedStatement(
        f"{path}: cannot tell the format from {suffix or 'no suffix'!r}; pass --format "
        f"({', '.join(FORMATS)})",
        field="format",
    )


def read_statement(
    path: Path, fmt: str | None = None, *, profile: CsvProfile | None = None, account: str = ""
) -> Statement:
    """Reads a whole statement; `account` names the bank account when the file does not."""
    fmt = fmt or detect_format(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MalformedStatement(f"{path}: no such file", field="file") from None
    if fmt == "csv":
        return read_csv_statement(path, raw, profile or PROFILES["uk-bank"], account=account)
    if fmt == "ofx":
        return read_ofx(path, raw, account=account)
    if fmt == "camt053":
        return read_camt053(path, raw, account=account)
    raise MalformedStatement(
        f"unknown format {fmt!r} (one of {', '.join(FORMATS)})", field="format"
    )
