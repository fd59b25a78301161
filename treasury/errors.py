"""The errors of the treasurer's engine.

Each derives from `EccooError` through `TreasuryError` and a retryable/permanent base, and
names the file line, element or record that was wrong; none carries a statement's content
beyond the one value that was wrong.
"""

from __future__ import annotations

from eccoo.errors import EccooError, PermanentError, RetryableError


class TreasuryError(EccooError):
    """Root of the treasurer's engine's errors."""


class MalformedStatement(TreasuryError, PermanentError, ValueError):
    """A statement file could not be read; the message names the line or element."""


class UnknownRecord(TreasuryError, PermanentError, LookupError):
    """A bank line, chain movement or period that was named is not in the book."""


class InvalidDecision(TreasuryError, PermanentError, ValueError):
    """A match, split or lock the treasurer asked for does not fit the book's state."""


class PeriodLocked(TreasuryError, PermanentError, PermissionError):
    """The month is locked: nothing in it changes; a correction goes in an open month."""


class BookBusy(TreasuryError, RetryableError, OSError):
    """Another process holds the book's write lock; the same call may succeed later."""
