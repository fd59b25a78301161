"""The contract between the mirror and off-chain data (written by the gateway).

Off-chain nodes never carry `:Mirror`, so `eccoo index rebuild` (which deletes only
`:Mirror` nodes) never touches them. They refer to mirrored things by key property,
never by relationship, because a relationship to a mirrored node dies with it.
"""

from __future__ import annotations

MIRROR_LABEL = "Mirror"

# Labels the gateway may use for off-chain care data; none of them is ever mirrored.
# A `:CareNote` holds ciphertext only: its key lives in the gateway's database, never here.
OFFCHAIN_LABELS = ("CareNote", "Profile", "OffChain")

# How off-chain nodes point at the mirror: property on the off-chain node -> mirrored key.
OFFCHAIN_KEYS = {
    "appointment_id": "(:Appointment {id})",
    "address": "(:Account {address})",
    "note_hash": "(:CareNoteAnchor {note_hash})",
    "circle_id": "(:Circle {id})",
}
