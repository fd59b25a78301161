"""The graph questions, each scoped to the caller: my care network, my earnings, the payment
trail of an appointment I am party to; the unpaid list for coordinators and treasurers.

Answers come from the indexed mirror (eventually consistent with the chain).
"""

from __future__ import annotations

from typing import Annotated, Any

from eccoo.gateway.deps import Caller, CurrentCaller, RequireHat, ServicesDep
from eccoo.gateway.errors import ObjectNotFound, Unavailable
from eccoo.gateway.routes.appointments import VisibleAppointment
from eccoo.gateway.routes.pots import PotStatement, pot_statement_for
from eccoo.graph_sync.queries import GraphQueries
from fastapi import APIRouter, Depends

router = APIRouter(tags=["graph"], prefix="/graph")


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


@router.get("/appointments/{appointment_id}/payment-trail")
def payment_trail(appointment: VisibleAppointment, graph: Queries) -> dict[str, Any]:
    trail = graph.payment_trail(appointment.id)
    if trail is None:
        raise ObjectNotFound("no payment for this appointment yet", field="appointment_id")
    return trail


@router.get("/unpaid")
def confirmed_unpaid(
    _c: Annotated[Caller, Depends(RequireHat("coordinator", "treasurer"))], graph: Queries
) -> list[dict[str, Any]]:
    return graph.confirmed_unpaid()


@router.get("/pots/{pot_id}/statement")
def pot_statement(
    allowed: Annotated[PotStatement, Depends(pot_statement_for)], graph: Queries
) -> dict[str, Any]:
    return graph.pot_statement(allowed.pot_id)
