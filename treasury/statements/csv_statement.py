"""CSV statements read through a column profile (see profiles.py).

Reads the whole file or raises one `MalformedStatement` naming the file line and column;
it never guesses a date order or rounds an amount.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from eccoo.treasury.errors import MalformedStatement
from eccoo.treasury.money import pennies
from eccoo.treasury.statements.lines import Statement, StatementLine
from eccoo.treasury.statements.profiles import CsvProfile


def read_csv_statement(
    path: Path, raw: bytes, profile: CsvProfile, *, account: str = ""
) -> Statement:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedStatement(f"{path}: not UTF-8 text ({exc.reason})", field="file") from None
    rows = text.splitlines(keepends=True)[profile.skip_rows :]
    reader = csv.DictReader(io.StringIO("".join(rows)), delimiter=profile.delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in profile.required_columns if c not in header]
    if missing:
        raise MalformedStatement(
            f"{path}: missing column {missing[0]!r} (profile {profile.name} needs "
            f"{', '.join(profile.required_columns)})",
            field=missing[0],
        )
    lines = []
    try:
        for row in reader:
            number = reader.line_num + profile.skip_rows
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # blank line
            lines.append(_line(path, number, row, profile))
    except csv.Error as exc:
        raise MalformedStatement(
            f"{path}:{reader.line_num + profile.skip_rows}: {exc}", field="file"
        ) from None
    return Statement(account=account, lines=lines, source_format="csv")


def _line(path: Path, number: int, row: dict[str, str], profile: CsvProfile) -> StatementLine:
    def cell(column: str) -> str:
        value = row.get(column)
        if value is None:
            raise MalformedStatement(f"{path}:{number}: no {column!r} value", field=column)
        return value.strip()

    booked_on = _date(path, number, profile, cell(profile.date_column))
    amount = _amount(path, number, profile, cell)
    if amount == 0:
        raise MalformedStatement(f"{path}:{number}: an amount of zero", field="amount")
    reference = cell(profile.reference_column)
    bank_id = cell(profile.id_column) if profile.id_column else ""
    return StatementLine(booked_on, amount, reference, bank_id, where=f"line {number}")


def _date(path: Path, number: int, profile: CsvProfile, text: str) -> date:
    try:
        return datetime.strptime(text, profile.date_format).date()
    except ValueError:
        raise MalformedStatement(
            f"{path}:{number}: {profile.date_column} {text!r} is not a date like "
            f"{profile.date_format}",
            field=profile.date_column,
        ) from None


def _amount(path: Path, number: int, profile: CsvProfile, cell: Callable[[str], str]) -> int:
    columns = (
        [profile.amount_column]
        if profile.amount_column
        else [profile.paid_in_column, profile.paid_out_column]
    )
    values = []
    for column in columns:
        assert column is not None
        text = cell(column)
        if not text and profile.amount_column is None:
            values.append(0)  # a split layout leaves one side empty
            continue
        try:
            values.append(pennies(text, unit=profile.amount_unit))
        except ValueError as exc:
            raise MalformedStatement(f"{path}:{number}: {column} {exc}", field=column) from None
    if profile.amount_column:
        return values[0]
    paid_in, paid_out = values
    return abs(paid_in) - abs(paid_out)
