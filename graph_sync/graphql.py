"""The GraphQL types over `queries.py` (strawberry), and the operators' schema.

Members reach GraphQL only through the gateway (`/api/v1/graphql`, which builds its own
per-caller schema from these types). The operators' schema here answers for any address:
`eccoo index serve` serves it on loopback only, and it must never face the network. No
mutations: the chain is the only writer of the mirror. Amounts and block numbers use the
`Long` scalar (64-bit integers; GraphQL's Int is only 32-bit). Never a float.
"""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from eccoo.graph_sync.queries import GraphQueries
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

# A 64-bit integer (pennies, block numbers, ids); mapped to the `Long` scalar below.
Long = NewType("Long", int)
LONG_SCALAR = strawberry.scalar(
    name="Long",
    serialize=int,
    parse_value=int,
    description="A 64-bit integer (pennies, block numbers, ids)",
)


@strawberry.type
class Appointment:
    id: Long
    receiver: str
    giver: str
    arranger: str | None
    pot_id: Long
    amount: Long
    status: int
    status_name: str


@strawberry.type
class CareContact:
    address: str
    member_id: str | None
    relations: list[str]
    shared_circles: list[str]


@strawberry.type
class Draw:
    funder: str
    amount: Long


@strawberry.type
class Transfer:
    from_: str = strawberry.field(name="from")
    to: str
    amount: Long


@strawberry.type
class Payment:
    amount: Long
    giver_share: Long
    payer_contribution: Long
    giver_contribution: Long
    contribution: Long
    block: Long
    tx_hash: str
    timestamp: Long


@strawberry.type
class PaymentTrail:
    appointment_id: Long
    receiver: str
    giver: str
    pot_id: Long
    booked_amount: Long
    payment: Payment | None
    draws: list[Draw]
    transfers: list[Transfer]
    contribution_account: str | None


@strawberry.type
class FunderEarnings:
    funder: str
    drawn: Long
    payments: int


@strawberry.type
class Movement:
    block: Long
    log_index: int
    tx_hash: str
    timestamp: Long
    funder: str
    kind: str
    amount: Long
    balance: Long
    appointment_id: Long | None


@strawberry.type
class PotStatement:
    pot: Long
    from_block: Long
    to_block: Long
    opening: Long
    movements: list[Movement]
    closing: Long


def _q(info: Info) -> GraphQueries:
    return info.context["queries"]


def pick(cls: type, row: dict[str, Any]) -> Any:
    """An instance of the strawberry type `cls` from a query row (extra keys ignored)."""
    names = {f.python_name for f in cls.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    return cls(**{k: v for k, v in row.items() if k in names})


def trail_of(trail: dict[str, Any]) -> PaymentTrail:
    payment = trail["payment"]
    return PaymentTrail(
        appointment_id=trail["appointment_id"],
        receiver=trail["receiver"],
        giver=trail["giver"],
        pot_id=trail["pot_id"],
        booked_amount=trail["booked_amount"],
        payment=None if payment is None else pick(Payment, payment),
        draws=[pick(Draw, d) for d in trail["draws"]],
        transfers=[
            Transfer(from_=t["from"], to=t["to"], amount=t["amount"]) for t in trail["transfers"]
        ],
        contribution_account=trail["contribution_account"],
    )


def statement_of(s: dict[str, Any]) -> PotStatement:
    return PotStatement(
        pot=s["pot"],
        from_block=s["from_block"],
        to_block=s["to_block"],
        opening=s["opening"],
        closing=s["closing"],
        movements=[pick(Movement, m) for m in s["movements"]],
    )


@strawberry.type
class Query:
    """The operators' questions, about any address (loopback only: see module docstring)."""

    @strawberry.field(description="The last block the mirror holds.")
    def indexed_block(self, info: Info) -> Long | None:
        cursor = _q(info).cursor()
        return None if cursor is None else cursor["block"]

    @strawberry.field(description="CareCoin balance in pennies, as of a block.")
    def balance(self, info: Info, address: str, as_of: Long | None = None) -> Long:
        return _q(info).balance(address, as_of)

    @strawberry.field
    def appointments(self, info: Info, as_of: Long | None = None) -> list[Appointment]:
        return [pick(Appointment, a) for a in _q(info).appointments(as_of)]

    @strawberry.field(description="A member's own care relations and the circles they share.")
    def care_network(
        self, info: Info, address: str, as_of: Long | None = None
    ) -> list[CareContact]:
        return [pick(CareContact, row) for row in _q(info).care_network(address, as_of)]

    @strawberry.field
    def payment_trail(self, info: Info, appointment_id: Long) -> PaymentTrail | None:
        trail = _q(info).payment_trail(appointment_id)
        return None if trail is None else trail_of(trail)

    @strawberry.field
    def giver_earnings(
        self,
        info: Info,
        giver: str,
        from_block: Long = Long(0),
        to_block: Long | None = None,
        from_time: Long | None = None,
        to_time: Long | None = None,
    ) -> list[FunderEarnings]:
        rows = _q(info).giver_earnings(
            giver, from_block=from_block, to_block=to_block, from_time=from_time, to_time=to_time
        )
        return [pick(FunderEarnings, r) for r in rows]

    @strawberry.field
    def confirmed_unpaid(self, info: Info, as_of: Long | None = None) -> list[Appointment]:
        return [pick(Appointment, a) for a in _q(info).confirmed_unpaid(as_of)]

    @strawberry.field
    def pot_statement(
        self, info: Info, pot: Long, from_block: Long = Long(0), to_block: Long | None = None
    ) -> PotStatement:
        return statement_of(_q(info).pot_statement(pot, from_block=from_block, to_block=to_block))


SCALARS = StrawberryConfig(scalar_map={Long: LONG_SCALAR})
schema = strawberry.Schema(query=Query, config=SCALARS)


class _ReadOnlyGraphQL(GraphQL):
    def __init__(self, queries: GraphQueries) -> None:
        super().__init__(schema, graphql_ide=None)
        self._queries = queries

    async def get_context(  # type: ignore[override] # strawberry allows any context object
        self, request: Any, response: Any
    ) -> dict[str, Any]:
        return {"queries": self._queries, "request": request}


def create_app(driver: Any, database: str = "neo4j") -> GraphQL:
    """The operators' ASGI app (POST/GET /graphql at the mount point) over one Neo4j
    driver. It checks no token: serve it on loopback only (`eccoo index serve` does)."""
    return _ReadOnlyGraphQL(GraphQueries(driver, database))
