"""Column profiles for CSV statements: which column holds the date, amount and reference.

Banks' exports differ in column names, date order and whether money in and out share a
column. A profile says so; `uk-bank` is the shipped example (a UK high-street bank's
export), `eccoo` the plain layout `date,reference,amount_pence`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from eccoo.treasury.errors import MalformedStatement
from pydantic import BaseModel, ValidationError, model_validator


class CsvProfile(BaseModel):
    """How to read one bank's CSV export."""

    name: str
    date_column: str
    date_format: str = "%d/%m/%Y"
    reference_column: str
    # Either one signed amount column, or separate paid-in and paid-out columns.
    amount_column: str | None = None
    paid_in_column: str | None = None
    paid_out_column: str | None = None
    amount_unit: Literal["pounds", "pence"] = "pounds"
    id_column: str | None = None  # the bank's transaction id, when the export has one
    delimiter: str = ","
    skip_rows: int = 0  # preamble lines before the header

    @model_validator(mode="after")
    def _one_amount_layout(self) -> CsvProfile:
        split = self.paid_in_column is not None and self.paid_out_column is not None
        if (self.amount_column is None) == (not split):
            raise ValueError("give amount_column, or both paid_in_column and paid_out_column")
        return self

    @property
    def required_columns(self) -> list[str]:
        columns = [self.date_column, self.reference_column]
        columns += (
            [self.amount_column]
            if self.amount_column
            else [c for c in (self.paid_in_column, self.paid_out_column) if c]
        )
        return columns + ([self.id_column] if self.id_column else [])


PROFILES: dict[str, CsvProfile] = {
    # A UK high-street bank's current-account export: "Date,Type,Description,Value,Balance,
    # Account Name,Account Number", dates day first, pounds with pence.
    "uk-bank": CsvProfile(
        name="uk-bank",
        date_column="Date",
        reference_column="Description",
        amount_column="Value",
    ),
    "eccoo": CsvProfile(
        name="eccoo",
        date_column="date",
        date_format="%Y-%m-%d",
        reference_column="reference",
        amount_column="amount_pence",
        amount_unit="pence",
    ),
}


def load_profile(name_or_path: str) -> CsvProfile:
    """A shipped profile by name, or a JSON file with the fields of `CsvProfile`."""
    if name_or_path in PROFILES:
        return PROFILES[name_or_path]
    path = Path(name_or_path)
    try:
        return CsvProfile.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        raise MalformedStatement(
            f"no CSV profile {name_or_path!r} (shipped: {', '.join(PROFILES)}; or a JSON file)",
            field="profile",
        ) from None
    except ValueError as exc:
        where = ""
        if isinstance(exc, ValidationError) and exc.errors():
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "profile"
            reason = first["msg"]
        else:
            reason = str(exc).splitlines()[0]
        raise MalformedStatement(
            f"{path}: bad CSV profile{f' field {where!r}' if where else ''}: {reason}",
            field="profile",
        ) from None
