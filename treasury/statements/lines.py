"""What every statement reader returns: the lines of one bank account's statement.

Plain values only (pennies as int, dates as date); never a float, never a half-read file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class StatementLine:
    """One booked entry: credits positive, debits negative, in pennies."""

    booked_on: date
    amount: int
    reference: str
    bank_id: str = ""  # the bank's own id for the entry (OFX FITID, camt AcctSvcrRef), if any
    where: str = ""  # "line 7" or "Ntry 3": where in the file it came from


@dataclass(frozen=True)
class Statement:
    account: str
    lines: list[StatementLine] = field(default_factory=list)
    source_format: str = ""
