"""Stage 4, write: one Neo4j write transaction per batch, cursor included.

A batch's events, the unfinalized block headers and the new cursor commit together, so
a crash at any instant leaves either all of a batch or none of it. The driver may re-run
a transaction whose commit it could not confirm: the re-run finds the batch's first event
already there and changes nothing, so events are CREATEd rather than MERGEd one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eccoo.graph_sync.decode import LedgerEvent
from eccoo.graph_sync.fetch import BlockHeader
from eccoo.graph_sync.mappers import Rules, Template, event_query, group_rows

CURSOR_ID = "cursor"


@dataclass(frozen=True)
class Cursor:
    """The last block fully written, and what deployment the mirror belongs to."""

    number: int
    hash: str
    timestamp: int
    deployment: str  # "<chain id>:<first contract address>", guards against mixing chains


def _read_cursor(tx: Any) -> Cursor | None:
    record = tx.run(
        "MATCH (s:SyncState {id: $id}) RETURN s.number AS number, s.hash AS hash, "
        "s.timestamp AS timestamp, s.deployment AS deployment",
        id=CURSOR_ID,
    ).single()
    if record is None:
        return None
    return Cursor(record["number"], record["hash"], record["timestamp"], record["deployment"])


def _write_cursor(tx: Any, cursor: Cursor) -> None:
    tx.run(
        "MERGE (s:SyncState:Mirror {id: $id}) SET s.number = $number, s.hash = $hash, "
        "s.timestamp = $timestamp, s.deployment = $deployment",
        id=CURSOR_ID,
        number=cursor.number,
        hash=cursor.hash,
        timestamp=cursor.timestamp,
        deployment=cursor.deployment,
    ).consume()


def _written(tx: Any, block_hash: str, log_index: int) -> bool:
    return (
        tx.run(
            "MATCH (e:Event {block_hash: $block_hash, log_index: $log_index}) RETURN count(e) AS n",
            block_hash=block_hash,
            log_index=log_index,
        ).single()["n"]
        > 0
    )


class GraphWriter:
    """Writes batches and undoes blocks; knows the mirror's rules but not the chain."""

    def __init__(self, driver: Any, database: str, rules: Rules) -> None:
        self.driver = driver
        self.database = database
        self.rules = rules
        self._queries: dict[Template, str] = {}

    def _session(self) -> Any:
        return self.driver.session(database=self.database)

    def cursor(self) -> Cursor | None:
        with self._session() as session:
            return session.execute_read(_read_cursor)

    def window(self) -> list[BlockHeader]:
        """The unfinalized blocks the mirror holds, newest first."""

        def read(tx: Any) -> list[BlockHeader]:
            result = tx.run(
                "MATCH (b:SyncBlock) RETURN b.number AS number, b.hash AS hash, "
                "b.parent_hash AS parent, b.timestamp AS ts ORDER BY number DESC"
            )
            return [BlockHeader(r["number"], r["hash"], r["parent"], r["ts"]) for r in result]

        with self._session() as session:
            return session.execute_read(read)

    def write_batch(
        self,
        events: Sequence[LedgerEvent],
        cursor: Cursor,
        window: Sequence[BlockHeader],
        finalized_below: int,
    ) -> None:
        """Events + unfinalized headers + cursor, in one transaction."""
        grouped = group_rows(self.rules, events)
        blocks = [
            {
                "number": h.number,
                "hash": h.hash,
                "parent_hash": h.parent_hash,
                "timestamp": h.timestamp,
            }
            for h in window
        ]

        first = (events[0].block_hash, events[0].log_index) if events else None

        def work(tx: Any) -> None:
            if first is not None and _written(tx, *first):
                return  # committed by an earlier attempt whose answer was lost
            for template, rows in grouped:
                query = self._queries.get(template)
                if query is None:
                    query = self._queries[template] = event_query(template)
                tx.run(query, rows=rows).consume()
            if blocks:
                tx.run(
                    "UNWIND $blocks AS b MERGE (s:SyncBlock:Mirror {hash: b.hash}) "
                    "SET s.number = b.number, s.parent_hash = b.parent_hash, "
                    "s.timestamp = b.timestamp",
                    blocks=blocks,
                ).consume()
            # Keep only the window; blocks below it are final by definition.
            tx.run(
                "MATCH (s:SyncBlock) WHERE s.number < $below DELETE s", below=finalized_below
            ).consume()
            _write_cursor(tx, cursor)

        with self._session() as session:
            session.execute_write(work)

    def rollback(self, ancestor: BlockHeader, deployment: str) -> int:
        """Undo every block above `ancestor` in one transaction; returns nodes deleted."""
        interval_types = sorted(self.rules.interval_types)
        once = sorted(self.rules.once_properties)

        def work(tx: Any) -> int:
            fork = ancestor.number
            deleted = tx.run(
                "MATCH (n:Mirror) WHERE n.block > $fork DETACH DELETE n RETURN count(*) AS n",
                fork=fork,
            ).single()["n"]
            for rel in interval_types:
                tx.run(
                    f"MATCH ()-[r:{rel}]->() WHERE r.block > $fork DELETE r", fork=fork
                ).consume()
                tx.run(
                    f"MATCH ()-[r:{rel}]->() WHERE r.until > $fork "
                    "SET r.until = null, r.until_log_index = null",
                    fork=fork,
                ).consume()
            for label, prop in once:
                tx.run(
                    f"MATCH (n:{label}) WHERE n.{prop}_block > $fork "
                    f"REMOVE n.{prop}, n.{prop}_block",
                    fork=fork,
                ).consume()
            tx.run("MATCH (s:SyncBlock) WHERE s.number > $fork DELETE s", fork=fork).consume()
            _write_cursor(
                tx, Cursor(ancestor.number, ancestor.hash, ancestor.timestamp, deployment)
            )
            return int(deleted)

        with self._session() as session:
            return session.execute_write(work)

    def drop_mirror(self, chunk: int = 20_000) -> int:
        """Delete every `:Mirror` node (and so its relationships), chunk by chunk.

        Off-chain nodes never carry `:Mirror`; a relationship from one of them to a
        mirrored node goes with the mirrored node, by design (see docs/graph.md).
        """
        total = 0
        while True:
            records, _, _ = self.driver.execute_query(
                "MATCH (n:Mirror) WITH n LIMIT $chunk DETACH DELETE n RETURN count(*) AS n",
                chunk=chunk,
                database_=self.database,
            )
            count = int(records[0]["n"])
            total += count
            if count == 0:
                return total
