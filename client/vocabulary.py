"""The ledger's fixed lists, once: hats, appointment statuses, and the states of a member's
transaction, as the contracts and the gateway number and name them.

Everything that needs one of these lists imports it from here; `tests/contracts/
test_vocabulary.py` reads the compiled contracts and fails when the two disagree. The
numbering is part of the contracts' ABI: never renumber.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Hat(IntEnum):
    """A role a member wears, numbered as in contracts/Hats.sol (bit i of a hat bitmap)."""

    CARE_RECEIVER = 0
    CARE_GIVER = 1
    ARRANGER = 2
    SUPPORTER = 3
    COORDINATOR = 4
    TREASURER = 5
    ADMIN = 6

    @property
    def key(self) -> str:
        """The hat's name in tokens, the API and the graph: `care_giver`."""
        return self.name.lower()

    @classmethod
    def from_key(cls, key: str) -> Hat:
        return cls[key.upper()]

    @property
    def is_care_hat(self) -> bool:
        """A hat a member may ask for and a coordinator may grant (Hats.isCareHat)."""
        return self <= Hat.SUPPORTER


HAT_KEYS: tuple[str, ...] = tuple(h.key for h in Hat)
CARE_HAT_KEYS: frozenset[str] = frozenset(h.key for h in Hat if h.is_care_hat)
# Hats only the identity provider grants (coordinator, treasurer, admin): never asked for.
PRIVILEGED_HAT_KEYS: frozenset[str] = frozenset(h.key for h in Hat if not h.is_care_hat)
# Hats the identity provider may give that have no place on chain.
PROVIDER_ONLY_HATS: frozenset[str] = frozenset({"node_operator"})


class AppointmentStatus(IntEnum):
    """An appointment's status, numbered as CareLedger's STATUS_* constants."""

    NONE = 0
    BOOKED = 1
    DELIVERED = 2
    CONFIRMED = 3
    PAID = 4
    CANCELLED = 5
    DISPUTED = 6
    VOIDED = 7

    @property
    def key(self) -> str:
        return self.name.lower()


class TxState(StrEnum):
    """Where a member's queued ledger action is: queued -> signed -> sent -> mined ->
    confirmed, or failed (refused before sending) / reverted (refused on chain)."""

    QUEUED = "queued"
    SIGNED = "signed"
    SENT = "sent"
    MINED = "mined"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    REVERTED = "reverted"

    @property
    def is_final(self) -> bool:
        return self in FINAL_TX_STATES


FINAL_TX_STATES: frozenset[TxState] = frozenset(
    {TxState.CONFIRMED, TxState.FAILED, TxState.REVERTED}
)
OPEN_TX_STATES: tuple[TxState, ...] = (TxState.SIGNED, TxState.SENT, TxState.MINED)
