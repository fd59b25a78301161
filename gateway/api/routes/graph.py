"""The graph questions, each scoped to the caller: my care network, my earnings, the payment
trail of an appointment I am party to; the unpaid list for coordinators and treasurers.
Served twice, as REST routes and as GraphQL at `/graphql`: every GraphQL field calls the
REST route's own handler and authorization dependencies, so neither can see more.

Answers come from the indexed mirror (eventually consistent with the chain). Nothing here
takes an address or member from the caller: a member asks only about themselves.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from eccoo.client.vocabulary import Hat
from eccoo.gateway.api.deps import Caller, CurrentCaller, LedgerDep, RequireHat, ServicesDep
from eccoo.gateway.api.routes.appointments import VisibleAppointment, appointment_for
from eccoo.gateway.api.routes.pots import PotStatement, pot_statement_for
from eccoo.gateway.errors import GatewayError, ObjectNotFound, Unavailable
from eccoo.gateway.tx.ledger import Ledger
from eccoo.graph_sync import graphql as types
from eccoo.graph_sync.graphql import SCALARS, Long, pick
from eccoo.graph_sync.queries import GraphQueries
from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.fastapi import GraphQLRouter
from strawberry.types import ExecutionContext, Info

router = APIRouter(tags=["graph"], prefix="/graph")
UNPAID_READERS = RequireHat(Hat.COORDINATOR, Hat.TREASURER)


def get_queries(services: ServicesDep) -> GraphQueries:
    if services.graph is None:
        raise Unavailable("the gateway has no graph configured")
    return services.graph  # type: ignore[no-any-return]


Queries = Annotated[GraphQueries, Depends(get_queries)]


@router.get("/care-network")
def care_network(caller: CurrentCaller, graph: Queries) -> list[dict[str, Any]]:
    return graph.care_network(caller.member.address)


@router.get("/earnings")
def my_earnings(caller: CurrentCaller, graph: Queries) -> list[dict[str, Any]]:
    return graph.giver_earnings(caller.member.address)


@router.get("/contributions")
def my_contributions(
    caller: CurrentCaller,
    graph: Queries,
    from_time: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
    to_time: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
) -> dict[str, dict[str, int]]:
    """The Commons Contribution the caller paid in the period (unix times, inclusive): as a
    giver, taken from their price, and as the payer, on top, from their own pots."""
    return graph.contributions(caller.member.address, from_time=from_time, to_time=to_time)


@router.get("/appointments/{appointment_id}/payment-trail")
def payment_trail(appointment: VisibleAppointment, graph: Queries) -> dict[str, Any]:
    trail = graph.payment_trail(appointment.id)
    if trail is None:
        raise ObjectNotFound("no payment for this appointment yet", field="appointment_id")
    return trail


@router.get("/unpaid")
def confirmed_unpaid(
    _c: Annotated[Caller, Depends(UNPAID_READERS)], graph: Queries
) -> list[dict[str, Any]]:
    return graph.confirmed_unpaid()


@router.get("/pots/{pot_id}/statement")
def pot_statement(
    allowed: Annotated[PotStatement, Depends(pot_statement_for)], graph: Queries
) -> dict[str, Any]:
    return graph.pot_statement(allowed.pot_id)


# ------------------------------------------------------------------------------ GraphQL
def _asked(info: Info) -> tuple[Caller, GraphQueries, Ledger]:
    return info.context["caller"], info.context["graph"], info.context["ledger"]


def _object_id(value: int, field: str) -> int:
    # REST's path parameters refuse these before any look-up; an id out of range is no object.
    if not 0 < value < 2**63:
        raise ObjectNotFound(f"no such {field.removesuffix('_id')}", field=field)
    return value


@strawberry.type(name="Query")
class MemberQuery:
    """What a signed-in member may ask: the REST graph routes, field for field."""

    @strawberry.field(description="The caller's own care relations and the circles shared.")
    async def care_network(self, info: Info) -> list[types.CareContact]:
        caller, graph, _ = _asked(info)
        rows = await run_in_threadpool(care_network, caller, graph)
        return [pick(types.CareContact, row) for row in rows]

    @strawberry.field(description="The caller's earnings as a giver, per funder.")
    async def earnings(self, info: Info) -> list[types.FunderEarnings]:
        caller, graph, _ = _asked(info)
        rows = await run_in_threadpool(my_earnings, caller, graph)
        return [pick(types.FunderEarnings, row) for row in rows]

    @strawberry.field(description="The payment trail of an appointment the caller may see.")
    async def payment_trail(self, info: Info, appointment_id: Long) -> types.PaymentTrail | None:
        caller, graph, ledger = _asked(info)
        wanted = _object_id(appointment_id, "appointment_id")
        appointment = await run_in_threadpool(appointment_for, wanted, caller, ledger)
        return types.trail_of(await run_in_threadpool(payment_trail, appointment, graph))

    @strawberry.field(description="A pot's statement, for its receiver, coordinators, treasurers.")
    async def pot_statement(self, info: Info, pot: Long) -> types.PotStatement | None:
        caller, graph, ledger = _asked(info)
        allowed = await run_in_threadpool(
            pot_statement_for, _object_id(pot, "pot_id"), caller, ledger
        )
        return types.statement_of(await run_in_threadpool(pot_statement, allowed, graph))

    @strawberry.field(description="Confirmed, unpaid appointments: coordinators, treasurers.")
    async def confirmed_unpaid(self, info: Info) -> list[types.Appointment]:
        caller, graph, _ = _asked(info)
        allowed = await UNPAID_READERS(caller)
        rows = await run_in_threadpool(confirmed_unpaid, allowed, graph)
        return [pick(types.Appointment, row) for row in rows]


class _ApiErrors(MaskErrors):
    """A refusal leaves as in REST (its message, and `{"error", "field", "retryable"}` as
    the error's extensions); any other failure is masked: a bug's text is not for callers."""

    def __init__(self) -> None:
        super().__init__(lambda error: error.original_error is not None, "internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if not isinstance(original, GatewayError):
            return super().anonymise_error(error)
        return GraphQLError(
            message=original.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=original.to_dict(),
        )


class _MemberSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals (404, 403) are answers, not faults: only the rest is logged.
        faults = [e for e in errors if not isinstance(e.original_error, GatewayError)]
        super().process_errors(faults, execution_context)


member_schema = _MemberSchema(query=MemberQuery, config=SCALARS, extensions=[_ApiErrors])


async def graphql_context(
    caller: CurrentCaller, graph: Queries, ledger: LedgerDep
) -> dict[str, Any]:
    """The bearer token is validated here, before any field runs: no token, no answer (401)."""
    return {"caller": caller, "graph": graph, "ledger": ledger}


graphql_router: GraphQLRouter[Any, None] = GraphQLRouter(
    member_schema,
    path="/graphql",
    graphql_ide=None,
    allow_queries_via_get=False,  # a query is a POST with a bearer token, never a link
    context_getter=graphql_context,
    subscription_protocols=(),
    include_in_schema=False,
    tags=["graph"],
)
