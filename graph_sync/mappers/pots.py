"""FundingPots events -> pots, their funders and shares, deposits, draws and refunds.

A pot's balance per funder is deposited - drawn - refunded, summed over event nodes
as of any block; it is never stored, so undoing a block cannot leave it stale.
"""

from __future__ import annotations

from eccoo.graph_sync.decode import LedgerEvent
from eccoo.graph_sync.mappers import (
    Rules,
    Template,
    close_all,
    entity,
    link,
    money,
    small_int,
)

CONTRACT = "FundingPots"

_POT = entity("p", "Pot", "id", "row.pot")
_FUNDER = entity("f", "Funder", "id", "row.funder")

POT_CREATED = Template(
    "PotCreated",
    "SET e.pot = row.pot, e.receiver = row.receiver\n"
    + _POT
    + entity("rc", "Account", "address", "row.receiver")
    + entity("by", "Account", "address", "row.by")
    + link("OPENED", "e", "p")
    + link("BY", "e", "by")
    + "MERGE (p)-[po:POT_OF]->(rc) ON CREATE SET po.block = row.block\n",
)

SHARES_SET = Template(
    "SharesSet",
    "SET e.pot = row.pot, e.funders = row.funders, e.shares_bps = row.shares\n"
    + _POT
    + link("SHARES_OF", "e", "p")
    + "WITH e, row, p\nCALL (e, row, p) {\n"
    + close_all("(p)-[r:FUNDED_BY]->(:Funder)")
    + "WITH e, row\nMATCH (p:Pot {id: row.pot})\n"
    + "UNWIND range(0, size(row.funders) - 1) AS i\n"
    + "WITH e, row, p, i, row.funders[i] AS funder\n"
    + "MERGE (f:Funder:Mirror {id: funder}) ON CREATE SET f.block = row.block\n"
    + "FOREACH (_ IN CASE WHEN row.block < f.block THEN [1] ELSE [] END | "
    + "SET f.block = row.block)\n"
    + "MERGE (p)-[:FUNDED_BY {block: row.block, log_index: row.log_index, "
    + "share_bps: row.shares[i]}]->(f)\n}\n",
)

DEPOSIT = Template(
    "Deposit",
    "SET e.pot = row.pot, e.funder = row.funder, e.from = row.from, e.amount = row.amount\n"
    + _POT
    + _FUNDER
    + entity("a", "Account", "address", "row.from")
    + link("INTO", "e", "p")
    + link("FOR_FUNDER", "e", "f")
    + link("PAID", "a", "e"),
)

DRAW = Template(
    "Draw",
    "SET e.pot = row.pot, e.funder = row.funder, e.appointment_id = row.appointment, "
    "e.amount = row.amount\n"
    + _POT
    + _FUNDER
    + entity("ap", "Appointment", "id", "row.appointment")
    + link("FROM_POT", "e", "p")
    + link("FOR_FUNDER", "e", "f")
    + link("FOR_APPOINTMENT", "e", "ap"),
)

REFUND = Template(
    "Refund",
    "SET e.pot = row.pot, e.funder = row.funder, e.to = row.to, e.amount = row.amount\n"
    + _POT
    + _FUNDER
    + entity("a", "Account", "address", "row.to")
    + link("FROM_POT", "e", "p")
    + link("FOR_FUNDER", "e", "f")
    + link("TO", "e", "a"),
)


def _pot(ev: LedgerEvent) -> int:
    return small_int(ev.args["potId"], "FundingPots.potId")


def register(rules: Rules) -> None:
    rules.interval_types.add("FUNDED_BY")
    rules.on(
        CONTRACT,
        "PotCreated",
        POT_CREATED,
        lambda ev: {"pot": _pot(ev), "receiver": ev.args["receiver"], "by": ev.args["by"]},
    )
    rules.on(
        CONTRACT,
        "SharesSet",
        SHARES_SET,
        lambda ev: {
            "pot": _pot(ev),
            "funders": list(ev.args["funderIds"]),
            "shares": [int(s) for s in ev.args["sharesBps"]],
        },
    )
    rules.on(
        CONTRACT,
        "Deposited",
        DEPOSIT,
        lambda ev: {
            "pot": _pot(ev),
            "funder": ev.args["funderId"],
            "from": ev.args["from"],
            "amount": money(ev.args["amount"], "FundingPots.Deposited.amount"),
        },
    )
    rules.on(
        CONTRACT,
        "Drawn",
        DRAW,
        lambda ev: {
            "pot": _pot(ev),
            "funder": ev.args["funderId"],
            "appointment": small_int(ev.args["appointmentId"], "appointmentId"),
            "amount": money(ev.args["amount"], "FundingPots.Drawn.amount"),
        },
    )
    rules.on(
        CONTRACT,
        "Refunded",
        REFUND,
        lambda ev: {
            "pot": _pot(ev),
            "funder": ev.args["funderId"],
            "to": ev.args["to"],
            "amount": money(ev.args["amount"], "FundingPots.Refunded.amount"),
        },
    )
