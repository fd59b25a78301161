"""Stage 3, map: each decoded event becomes one row for one Cypher template.

One module per contract declares its templates and row functions. Every event gets an
`:Event:Mirror` node keyed by (block_hash, log_index); a template adds its label and
links the event to entity nodes. Mappers never mutate earlier state except by closing
an interval relationship (`until`), which is what makes reorgs undoable by block number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from eccoo.graph_sync.decode import LedgerEvent
from eccoo.graph_sync.errors import AmountOutOfRange

INT64_MAX = 2**63 - 1
ZERO_ADDRESS = "0x" + "00" * 20

# Phases order the templates inside one write transaction: events and entities first,
# then intervals are opened, then closed, so the close finds its open whatever the order.
CREATE, OPEN, CLOSE = 0, 1, 2


@dataclass(frozen=True)
class Template:
    """A Cypher body run as `UNWIND $rows AS row` after the event node is merged as `e`."""

    label: str
    body: str = ""
    phase: int = CREATE


RowFn = Callable[[LedgerEvent], dict[str, Any] | None]


@dataclass
class Rules:
    """(contract, event name) -> (template, row function); later registrations win."""

    by_event: dict[tuple[str, str], tuple[Template, RowFn]] = field(default_factory=dict)
    # Entity-to-entity relationship types that carry `block`/`until` (undone by number).
    interval_types: set[str] = field(default_factory=set)
    # (label, property) pairs a creation event sets once, with `<property>_block` beside.
    once_properties: set[tuple[str, str]] = field(default_factory=set)

    def on(self, contract: str, event: str, template: Template, row: RowFn = lambda ev: {}) -> None:
        self.by_event[(contract, event)] = (template, row)


def money(value: int, what: str) -> int:
    """An exact integer amount, or a typed error: never a rounded or wrapped one."""
    if not isinstance(value, int) or value < 0 or value > INT64_MAX:
        raise AmountOutOfRange(f"{what}={value} does not fit a 64-bit integer", field=what)
    return value


def small_int(value: int, what: str) -> int:
    """An id or counter stored as a Neo4j integer; same rule as money."""
    return money(value, what)


def entity(var: str, label: str, key: str, expr: str) -> str:
    """MERGE an entity node that remembers the lowest block that mentioned it, so a
    rollback deletes it exactly when no surviving block mentions it."""
    return (
        f"MERGE ({var}:{label}:Mirror {{{key}: {expr}}})\n"
        f"ON CREATE SET {var}.block = row.block\n"
        # Write only when lower: most rows match a hub entity and would rewrite it.
        f"FOREACH (_ IN CASE WHEN row.block < {var}.block THEN [1] ELSE [] END |\n"
        f"  SET {var}.block = row.block)\n"
    )


def link(rel: str, a: str, b: str) -> str:
    """A relationship from an event node (deleted with it on rollback). CREATE is safe:
    the event node was created by this very statement (see `event_query`)."""
    return f"CREATE ({a})-[:{rel}]->({b})\n"


def _json_default(value: Any) -> Any:
    return str(value)


def base_row(event: LedgerEvent) -> dict[str, Any]:
    return {
        "block_hash": event.block_hash,
        "log_index": event.log_index,
        "block": event.block,
        "tx_hash": event.tx_hash,
        "timestamp": event.timestamp,
        "contract": event.contract,
        "name": event.name,
        # Exact values, big integers included (JSON integers are unbounded).
        "args": json.dumps(event.args, default=_json_default, separators=(",", ":")),
    }


GENERIC = Template(label="Event")


def group_rows(
    rules: Rules, events: Iterable[LedgerEvent]
) -> list[tuple[Template, list[dict[str, Any]]]]:
    """Rows per template, templates in phase order; events keep chain order inside."""
    grouped: dict[Template, list[dict[str, Any]]] = {}
    for event in events:
        template, row_fn = rules.by_event.get((event.contract, event.name), (GENERIC, None))
        row = base_row(event)
        if row_fn is not None:
            extra = row_fn(event)
            if extra is None:
                template = GENERIC
            else:
                row.update(extra)
        grouped.setdefault(template, []).append(row)
    return sorted(grouped.items(), key=lambda item: item[0].phase)


def event_query(template: Template) -> str:
    """The statement for one template. It CREATEs: the writer runs it only for a batch
    whose first event is not yet in the graph, and a batch commits whole (see
    `GraphWriter.write_batch`), so no event of it can be there; the uniqueness constraint
    on (block_hash, log_index) turns any mistake into an error, never a duplicate."""
    return (
        "UNWIND $rows AS row\n"
        f"CREATE (e:Event:Mirror:{template.label} {{block_hash: row.block_hash, "
        "log_index: row.log_index, block: row.block, tx_hash: row.tx_hash, "
        "timestamp: row.timestamp, contract: row.contract, name: row.name, args: row.args})\n"
        + (f"WITH e, row\n{template.body}" if template.body else "")
    )


def all_rules() -> Rules:
    """The rules for every contract eccoo deploys."""
    from eccoo.graph_sync.mappers import registry

    return registry.build()


def close_latest(match: str, rel: str) -> str:
    """Cypher (inside a per-row CALL) closing the newest open `rel` interval matched by
    `match` that started before this event. `match` binds the relationship as `r`."""
    return (
        f"OPTIONAL MATCH {match}\n"
        f"WHERE r.until IS NULL AND (r.block < row.block OR "
        f"(r.block = row.block AND r.log_index < row.log_index))\n"
        f"WITH e, row, r ORDER BY r.block DESC, r.log_index DESC LIMIT 1\n"
        f"FOREACH (x IN CASE WHEN r IS NULL THEN [] ELSE [r] END |\n"
        f"  SET x.until = row.block, x.until_log_index = row.log_index)\n"
    )


def open_interval(a: str, rel: str, b: str, extra: str = "") -> str:
    """MERGE an interval relationship identified by the event that opened it."""
    props = "block: row.block, log_index: row.log_index" + (f", {extra}" if extra else "")
    return f"MERGE ({a})-[:{rel} {{{props}}}]->({b})\n"


def close_all(match: str) -> str:
    """Like `close_latest`, for a set of intervals replaced together (a pot's funders)."""
    return (
        f"OPTIONAL MATCH {match}\n"
        f"WHERE r.until IS NULL AND (r.block < row.block OR "
        f"(r.block = row.block AND r.log_index < row.log_index))\n"
        f"WITH e, row, collect(r) AS open\n"
        f"FOREACH (x IN open | SET x.until = row.block, x.until_log_index = row.log_index)\n"
    )
