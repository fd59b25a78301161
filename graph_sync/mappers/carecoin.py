"""CareCoin events -> transfers, mints and burns between accounts.

Balances are never stored: they are sums over `:Transfer` events (as of any block), so
undoing a block is deleting its events. Amounts are exact pennies (int64-checked).
"""

from __future__ import annotations

from eccoo.graph_sync.decode import LedgerEvent
from eccoo.graph_sync.mappers import ZERO_ADDRESS, Rules, Template, entity, link, money

CONTRACT = "CareCoin"

TRANSFER = Template(
    "Transfer",
    "SET e.amount = row.amount, e.from = row.from, e.to = row.to\n"
    + entity("a", "Account", "address", "row.from")
    + entity("b", "Account", "address", "row.to")
    + link("SENT", "a", "e")
    + link("TO", "e", "b"),
)

MINT = Template(
    "Mint",
    "SET e.amount = row.amount, e.ref = row.ref, e.to = row.to\n"
    + entity("a", "Account", "address", "row.to")
    + entity("t", "Account", "address", "row.treasurer")
    + link("TO", "e", "a")
    + link("AUTHORISED", "t", "e"),
)

BURN = Template(
    "Burn",
    "SET e.amount = row.amount, e.ref = row.ref, e.from = row.from\n"
    + entity("a", "Account", "address", "row.from")
    + entity("t", "Account", "address", "row.treasurer")
    + link("FROM", "e", "a")
    + link("AUTHORISED", "t", "e"),
)


def _transfer(ev: LedgerEvent) -> dict[str, object]:
    # The zero address stands for "minted" / "burned"; it is kept as an account so every
    # Transfer has both ends, and the queries leave it out of balances.
    return {
        "from": ev.args["from"],
        "to": ev.args["to"],
        "amount": money(ev.args["value"], "CareCoin.Transfer.value"),
    }


def _mint(ev: LedgerEvent) -> dict[str, object]:
    return {
        "to": ev.args["to"],
        "amount": money(ev.args["amount"], "CareCoin.Minted.amount"),
        "ref": ev.args["bankRef"],
        "treasurer": ev.args["treasurer"],
    }


def _burn(ev: LedgerEvent) -> dict[str, object]:
    return {
        "from": ev.args["from"],
        "amount": money(ev.args["amount"], "CareCoin.Burned.amount"),
        "ref": ev.args["payoutRef"],
        "treasurer": ev.args["treasurer"],
    }


def register(rules: Rules) -> None:
    rules.on(CONTRACT, "Transfer", TRANSFER, _transfer)
    rules.on(CONTRACT, "Minted", MINT, _mint)
    rules.on(CONTRACT, "Burned", BURN, _burn)


__all__ = ["ZERO_ADDRESS", "register"]
