"""The relationship questions the cooperative asks of the mirror, as plain functions.

Shared by the GraphQL API and the gateway. Read-only: every query runs in a read
transaction and answers "as of block N" (default: the indexed head) from block numbers
stored on events and relationships. Amounts are integer pennies, never floats.
"""

from __future__ import annotations

from itertools import takewhile
from typing import Any

import neo4j
from eccoo.graph_sync.mappers import ZERO_ADDRESS
from eccoo.graph_sync.mappers.ledger import STATUS, STATUS_NAMES

LATEST = 2**62  # "as of" a block beyond any chain's head
# A member's own care relations, in the order the care network lists them.
RELATIONS = ["cares_for", "cared_for_by", "arranges_for", "arranged_by"]

_STATUS_AS_OF = (
    "CALL (ap) { OPTIONAL MATCH (s:Event)-[:STATUS_OF]->(ap) WHERE s.block <= $as_of "
    "RETURN s.status AS status ORDER BY s.block DESC, s.log_index DESC LIMIT 1 }\n"
)


def _giver_share(caused: list[dict[str, Any]], giver: str, share: int) -> dict[str, Any] | None:
    """The ledger's payout of the giver's share among the transfers a payment caused."""
    return next((t for t in caused[1:] if t["to"] == giver and t["amount"] == share), None)


class GraphQueries:
    """Read-only queries over one Neo4j database."""

    def __init__(self, driver: Any, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database

    def _rows(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        records, _, _ = self.driver.execute_query(
            cypher, params, database_=self.database, routing_=neo4j.RoutingControl.READ
        )
        return [record.data() for record in records]

    @staticmethod
    def _as_of(as_of: int | None) -> int:
        return LATEST if as_of is None else as_of

    # ------------------------------------------------------------- entity state
    def cursor(self) -> dict[str, Any] | None:
        rows = self._rows(
            "MATCH (s:SyncState {id: 'cursor'}) RETURN s.number AS block, "
            "s.hash AS hash, s.timestamp AS timestamp"
        )
        return rows[0] if rows else None

    def balance(self, address: str, as_of: int | None = None) -> int:
        rows = self._rows(
            "MATCH (a:Account {address: $address})\n"
            "OPTIONAL MATCH (:Account)-[:SENT]->(i:Transfer)-[:TO]->(a) WHERE i.block <= $as_of\n"
            "WITH a, sum(i.amount) AS received\n"
            "OPTIONAL MATCH (a)-[:SENT]->(o:Transfer) WHERE o.block <= $as_of\n"
            "WITH received, sum(o.amount) AS sent\n"
            "RETURN received - sent AS balance",
            address=address.lower(),
            as_of=self._as_of(as_of),
        )
        return int(rows[0]["balance"]) if rows else 0

    def balances(self, as_of: int | None = None) -> dict[str, int]:
        rows = self._rows(
            "MATCH (a:Account) WHERE a.address <> $zero\n"
            "OPTIONAL MATCH (:Account)-[:SENT]->(i:Transfer)-[:TO]->(a) WHERE i.block <= $as_of\n"
            "WITH a, sum(i.amount) AS received\n"
            "OPTIONAL MATCH (a)-[:SENT]->(o:Transfer) WHERE o.block <= $as_of\n"
            "WITH a, received, sum(o.amount) AS sent\n"
            "RETURN a.address AS address, received - sent AS balance",
            zero=ZERO_ADDRESS,
            as_of=self._as_of(as_of),
        )
        return {r["address"]: int(r["balance"]) for r in rows}

    def appointments(
        self, as_of: int | None = None, ids: list[int] | None = None
    ) -> list[dict[str, Any]]:
        rows = self._rows(
            "MATCH (ap:Appointment) WHERE ap.booked_block <= $as_of "
            "AND ($ids IS NULL OR ap.id IN $ids)\n"
            + _STATUS_AS_OF
            + "RETURN ap.id AS id, ap.receiver AS receiver, ap.giver AS giver, "
            "ap.arranger AS arranger, ap.pot_id AS pot_id, ap.amount AS amount, "
            "ap.start AS start, ap.duration_minutes AS duration_minutes, "
            "ap.rate_per_hour AS rate_per_hour, status ORDER BY id",
            as_of=self._as_of(as_of),
            ids=ids,
        )
        for row in rows:
            row["status_name"] = STATUS_NAMES.get(row["status"], "unknown")
        return rows

    def pot_balances(
        self, pot: int | None = None, as_of: int | None = None
    ) -> dict[tuple[int, str], int]:
        """(pot id, funder id) -> deposited - drawn - refunded, as of a block."""
        rows = self._rows(
            "MATCH (e:Event)-[:INTO|FROM_POT]->(p:Pot), (e)-[:FOR_FUNDER]->(f:Funder)\n"
            "WHERE e.block <= $as_of AND ($pot IS NULL OR p.id = $pot)\n"
            "RETURN p.id AS pot, f.id AS funder, sum(CASE WHEN e:Deposit THEN e.amount "
            "ELSE -e.amount END) AS balance",
            pot=pot,
            as_of=self._as_of(as_of),
        )
        return {(r["pot"], r["funder"]): int(r["balance"]) for r in rows}

    # ------------------------------------------------------------- relationships
    def care_network(self, address: str, as_of: int | None = None) -> list[dict[str, Any]]:
        """The member's own care relations as of a block: whom they give care to or receive
        it from (appointments not cancelled), whom they arrange for or are arranged by
        (active arrangements), each with the circles both sit in. Never a relation of a
        relation: another receiver of the member's giver is not theirs to know."""
        return self._rows(
            "MATCH (p:Account {address: $address})\n"
            "CALL (p) {\n"
            "  MATCH (p)<-[:GIVEN_BY]-(ap:Appointment)-[:FOR_RECEIVER]->(q)\n"
            "  WHERE ap.booked_block <= $as_of\n"
            "  " + _STATUS_AS_OF + "  WITH q, status WHERE status <> $cancelled\n"
            "  RETURN q, 'cares_for' AS relation\n"
            "  UNION\n"
            "  MATCH (p)<-[:FOR_RECEIVER]-(ap:Appointment)-[:GIVEN_BY]->(q)\n"
            "  WHERE ap.booked_block <= $as_of\n"
            "  " + _STATUS_AS_OF + "  WITH q, status WHERE status <> $cancelled\n"
            "  RETURN q, 'cared_for_by' AS relation\n"
            "  UNION\n"
            "  MATCH (p)-[r:ARRANGES]->(q) WHERE r.block <= $as_of AND "
            "(r.until IS NULL OR r.until > $as_of) RETURN q, 'arranges_for' AS relation\n"
            "  UNION\n"
            "  MATCH (p)<-[r:ARRANGES]-(q) WHERE r.block <= $as_of AND "
            "(r.until IS NULL OR r.until > $as_of) RETURN q, 'arranged_by' AS relation\n"
            "}\n"
            "WITH p, q, relation WHERE q <> p\n"
            "WITH p, q, collect(DISTINCT relation) AS relations\n"
            "OPTIONAL MATCH (p)-[r1:IN_CIRCLE]->(c:Circle)<-[r2:IN_CIRCLE]-(q)\n"
            "WHERE r1.block <= $as_of AND (r1.until IS NULL OR r1.until > $as_of)\n"
            "  AND r2.block <= $as_of AND (r2.until IS NULL OR r2.until > $as_of)\n"
            "WITH q, relations, collect(DISTINCT c.id) AS shared\n"
            "RETURN q.address AS address, q.member_id AS member_id, "
            "[x IN $order WHERE x IN relations] AS relations, shared AS shared_circles\n"
            "ORDER BY address",
            address=address.lower(),
            as_of=self._as_of(as_of),
            cancelled=STATUS["cancelled"],
            order=RELATIONS,
        )

    def payment_trail(self, appointment_id: int) -> dict[str, Any] | None:
        """appointment -> payment -> pot -> each funder's draw -> giver and contribution account.

        The transfers are only those this appointment's payment caused: the pot's transfer
        of the draw to the ledger, then the ledger's payouts (giver share, contribution) that follow
        it. A relayer batches many members' requests into one transaction, so the
        transaction hash alone would also catch strangers' transfers."""
        rows = self._rows(
            "MATCH (ap:Appointment {id: $id})\n"
            "OPTIONAL MATCH (pay:Payment)-[:PAYS]->(ap)\n"
            "OPTIONAL MATCH (d:Draw)-[:FOR_APPOINTMENT]->(ap)\n"
            "OPTIONAL MATCH (d)-[:FOR_FUNDER]->(f:Funder)\n"
            "WITH ap, pay, d, f ORDER BY d.block, d.log_index\n"
            "WITH ap, pay, collect(CASE WHEN d IS NULL THEN null ELSE {funder: f.id, "
            "amount: d.amount, block: d.block, log_index: d.log_index, tx_hash: d.tx_hash} "
            "END) AS draws\n"
            "RETURN ap.id AS appointment_id, ap.receiver AS receiver, ap.giver AS giver, "
            "ap.pot_id AS pot_id, ap.amount AS booked_amount,\n"
            "  CASE WHEN pay IS NULL THEN null ELSE {amount: pay.amount, giver_share: "
            "pay.giver_share, payer_contribution: pay.payer_contribution, giver_contribution: "
            "pay.giver_contribution, contribution: pay.contribution, block: pay.block, "
            "tx_hash: pay.tx_hash, "
            "timestamp: pay.timestamp} END AS payment, draws",
            id=appointment_id,
        )
        if not rows:
            return None
        trail = rows[0]
        payment = trail["payment"]
        paid_draws = [
            d
            for d in trail["draws"]
            if payment is not None
            and (d["block"], d["tx_hash"]) == (payment["block"], payment["tx_hash"])
        ]
        trail["transfers"], trail["contribution_account"] = [], None
        if payment is not None and paid_draws:
            caused = self._caused_by(appointment_id, payment, paid_draws[-1]["log_index"])
            trail["transfers"] = [{k: t[k] for k in ("from", "to", "amount")} for t in caused]
            share = _giver_share(caused, trail["giver"], payment["giver_share"])
            to_cooperative = [t for t in caused[1:] if t is not share]
            if payment["contribution"] and to_cooperative:
                trail["contribution_account"] = to_cooperative[0]["to"]
        for draw in trail["draws"]:
            del draw["tx_hash"]
        return trail

    def _caused_by(
        self, appointment_id: int, payment: dict[str, Any], last_draw: int
    ) -> list[dict[str, Any]]:
        """The transfers of the payment's transaction that this payment caused, in order.

        The pots contract emits the draws and then sends their sum to the ledger; the ledger
        then pays out. Calls of one transaction run one after another, so this payment's
        transfers lie after its last draw and before the next appointment's first draw, and
        there they are the one to the ledger and those sent by the ledger (no one else can
        send the ledger's coins); other calls' transfers in that range are left out."""
        logs = self._rows(
            "MATCH (e:Event) WHERE e.tx_hash = $tx AND e.block = $block "
            "AND e.log_index > $after AND (e:Transfer OR (e:Draw AND e.appointment_id <> $id))\n"
            "RETURN e.log_index AS log_index, e:Draw AS other_draw, e.from AS from, "
            "e.to AS to, e.amount AS amount ORDER BY log_index",
            tx=payment["tx_hash"],
            block=payment["block"],
            after=last_draw,
            id=appointment_id,
        )
        window = list(takewhile(lambda log: not log["other_draw"], logs))
        if not window or window[0]["amount"] != payment["amount"]:
            return []
        ledger = window[0]["to"]
        return [window[0], *(t for t in window[1:] if t["from"] == ledger)]

    def giver_earnings(
        self,
        giver: str,
        *,
        from_block: int = 0,
        to_block: int | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
    ) -> list[dict[str, Any]]:
        """Per funder: what the giver's paid appointments drew from that funder in the
        period (blocks and/or unix times, inclusive), and how many payments."""
        return self._rows(
            "MATCH (pay:Payment)-[:TO_GIVER]->(:Account {address: $giver})\n"
            "WHERE $from_block <= pay.block <= $to_block\n"
            "  AND ($from_time IS NULL OR pay.timestamp >= $from_time)\n"
            "  AND ($to_time IS NULL OR pay.timestamp <= $to_time)\n"
            "MATCH (pay)-[:PAYS]->(ap)<-[:FOR_APPOINTMENT]-(d:Draw)-[:FOR_FUNDER]->(f:Funder)\n"
            "RETURN f.id AS funder, sum(d.amount) AS drawn, count(DISTINCT pay) AS payments\n"
            "ORDER BY funder",
            giver=giver.lower(),
            from_block=from_block,
            to_block=self._as_of(to_block),
            from_time=from_time,
            to_time=to_time,
        )

    def contributions(
        self, member: str, *, from_time: int | None = None, to_time: int | None = None
    ) -> dict[str, dict[str, int]]:
        """The Commons Contribution `member` paid in the period (unix times, inclusive): as a
        giver (taken from their price) and as the payer (on top, from pots they receive care
        from), with the payments each total covers."""
        rows = self._rows(
            "MATCH (pay:Payment)-[:PAYS]->(ap:Appointment)\n"
            "WHERE (ap.giver = $member OR ap.receiver = $member)\n"
            "  AND ($from_time IS NULL OR pay.timestamp >= $from_time)\n"
            "  AND ($to_time IS NULL OR pay.timestamp <= $to_time)\n"
            "WITH ap.giver = $member AS giving, ap.receiver = $member AS receiving, pay\n"
            "RETURN sum(CASE WHEN giving THEN pay.giver_contribution ELSE 0 END) AS given,\n"
            "  sum(CASE WHEN giving THEN 1 ELSE 0 END) AS given_payments,\n"
            "  sum(CASE WHEN receiving THEN pay.payer_contribution ELSE 0 END) AS paid,\n"
            "  sum(CASE WHEN receiving THEN 1 ELSE 0 END) AS paid_payments",
            member=member.lower(),
            from_time=from_time,
            to_time=to_time,
        )
        row = rows[0]
        return {
            "as_giver": {"contribution": row["given"], "payments": row["given_payments"]},
            "as_payer": {"contribution": row["paid"], "payments": row["paid_payments"]},
        }

    def confirmed_unpaid(self, as_of: int | None = None) -> list[dict[str, Any]]:
        return [a for a in self.appointments(as_of) if a["status"] == 3]

    def pot_statement(
        self, pot: int, *, from_block: int = 0, to_block: int | None = None
    ) -> dict[str, Any]:
        """Opening balance (before from_block), every movement in the period in chain
        order with a running balance, and the closing balance; per funder and total."""
        to_block = self._as_of(to_block)
        opening = (
            {f: b for (p, f), b in self.pot_balances(pot, from_block - 1).items() if p == pot}
            if from_block > 0
            else {}
        )
        moves = self._rows(
            "MATCH (e:Event)-[:INTO|FROM_POT]->(:Pot {id: $pot}), (e)-[:FOR_FUNDER]->(f)\n"
            "WHERE $from_block <= e.block <= $to_block\n"
            "RETURN e.block AS block, e.log_index AS log_index, e.tx_hash AS tx_hash, "
            "e.timestamp AS timestamp, f.id AS funder, "
            "CASE WHEN e:Deposit THEN 'deposit' WHEN e:Draw THEN 'draw' ELSE 'refund' END "
            "AS kind, CASE WHEN e:Deposit THEN e.amount ELSE -e.amount END AS amount, "
            "e.appointment_id AS appointment_id ORDER BY block, log_index",
            pot=pot,
            from_block=from_block,
            to_block=to_block,
        )
        running = sum(opening.values())
        closing = dict(opening)
        for move in moves:
            running += move["amount"]
            move["balance"] = running
            closing[move["funder"]] = closing.get(move["funder"], 0) + move["amount"]
        return {
            "pot": pot,
            "from_block": from_block,
            "to_block": to_block,
            "opening": sum(opening.values()),
            "opening_by_funder": opening,
            "movements": moves,
            "closing": running,
            "closing_by_funder": closing,
        }
