"""Uniqueness constraints and indexes of the mirror, created before the first MERGE.

Every statement is `IF NOT EXISTS` (or `IF EXISTS` for a drop), so running it at each
start is cheap and safe. It
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

# Range indexes: `block` on every mirrored node drives rollbacks; "as of" and period
# filters start from an entity and follow relationships, so they need no index of their own.
NODE_INDEXES: list[tuple[str, str]] = [
    ("Mirror", "block"),
    ("SyncBlock", "number"),
    ("Payment", "appointment_id"),
    ("CareNoteAnchor", "note_hash"),
    ("Event", "tx_hash"),
]


# Indexes older mirrors created that no query uses: each cost every event write an entry.
OBSOLETE_INDEXES: list[tuple[str, str]] = [("Event", "block"), ("Event", "timestamp")]


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
    for label, prop in OBSOLETE_INDEXES:
        out.append(f"DROP INDEX {_name(label, prop)} IF EXISTS")
    for rel in sorted(interval_types):
        for prop in ("block", "until"):
            out.append(
                f"CREATE INDEX {_name(rel, prop)} IF NOT EXISTS FOR ()-[r:{rel}]-() ON (r.{prop})"
            )
    return out


def _drop_orphan_indexes(driver: Any, database: str) -> None:
    """Drop a constraint's index left without its constraint.

    Neo4j builds a uniqueness constraint's index first; a client killed meanwhile can
    leave the index alone under the constraint's name, and every later `CREATE CONSTRAINT
    ... IF NOT EXISTS` then fails on the name. Dropping it lets the constraint be made.
    """
    names = [_name(label, *keys) for label, keys in NODE_KEYS]
    records, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, owningConstraint "
        "WHERE name IN $names AND owningConstraint IS NULL RETURN name",
        names=names,
        database_=database,
    )
    for record in records:
        driver.execute_query(f"DROP INDEX {record['name']} IF EXISTS", database_=database)


def ensure_schema(driver: Any, database: str, interval_types: set[str]) -> None:
    """Create constraints and indexes, then wait until they are online."""
    _drop_orphan_indexes(driver, database)
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
