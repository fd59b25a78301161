"""Uniqueness constraints and indexes of the mirror, created before the first MERGE.

Every statement is `IF NOT EXISTS`, so running it at each start is cheap and safe. It
never creates anything on off-chain labels (see `offchain.py`): those belong to the gateway.
"""

from __future__ import annotations

from typing import Any

# (label, key properties) that identify one node; MERGE relies on these being unique.
NODE_KEYS: list[tuple[str, tuple[str, ...]]] = [
    ("Event", ("block_hash", "log_index")),
    ("Account", ("address",)),
    ("Hat", ("id",)),
    ("Circle", ("id",)),
    ("Pot", ("id",)),
    ("Funder", ("id",)),
    ("Appointment", ("id",)),
    ("SyncBlock", ("hash",)),
    ("SyncState", ("id",)),
]

# Range indexes: `block` on every mirrored node drives rollbacks and "as of" queries.
NODE_INDEXES: list[tuple[str, str]] = [
    ("Mirror", "block"),
    ("Event", "block"),
    ("Event", "timestamp"),
    ("SyncBlock", "number"),
    ("Payment", "appointment_id"),
    ("CareNoteAnchor", "note_hash"),
    ("Event", "tx_hash"),
]


def _name(*parts: str) -> str:
    return "mirror_" + "_".join(p.lower() for p in parts)


def statements(interval_types: set[str]) -> list[str]:
    out = []
    for label, keys in NODE_KEYS:
        props = ", ".join(f"n.{k}" for k in keys)
        target = f"({props})" if len(keys) > 1 else props
        out.append(
            f"CREATE CONSTRAINT {_name(label, *keys)} IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE {target} IS UNIQUE"
        )
    for label, prop in NODE_INDEXES:
        out.append(f"CREATE INDEX {_name(label, prop)} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})")
    for rel in sorted(interval_types):
        for prop in ("block", "until"):
            out.append(
                f"CREATE INDEX {_name(rel, prop)} IF NOT EXISTS FOR ()-[r:{rel}]-() ON (r.{prop})"
            )
    return out


def ensure_schema(driver: Any, database: str, interval_types: set[str]) -> None:
    """Create constraints and indexes, then wait until they are online."""
    for statement in statements(interval_types):
        driver.execute_query(statement, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)


def drop_schema(driver: Any, database: str) -> None:
    """Drop the mirror's constraints and indexes (only the benchmark needs this)."""
    records, _, _ = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name WHERE name STARTS WITH 'mirror_' RETURN name",
        database_=database,
    )
    for record in records:
        driver.execute_query(f"DROP CONSTRAINT {record['name']} IF EXISTS", database_=database)
    records, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name WHERE name STARTS WITH 'mirror_' RETURN name", database_=database
    )
    for record in records:
        driver.execute_query(f"DROP INDEX {record['name']} IF EXISTS", database_=database)
