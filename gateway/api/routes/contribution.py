"""The Commons Contribution: a giver sets their own hourly rate, a booker sees what a booking
will cost before sending it, and the cooperative's governance hat changes the percentages.

A quote is for those who may book from the pot (its receiver, their arranger now, or a
coordinator); anyone else gets 404 for the pot, as if it did not exist. Nothing here moves
money: rates are queued as the caller's own signed ledger calls.
"""

from __future__ import annotations

from typing import Annotated

from eccoo.client.vocabulary import Hat
from eccoo.gateway.api.deps import (
    Caller,
    CurrentCaller,
    LedgerDep,
    RequireHat,
    ServicesDep,
    take_submission,
)
from eccoo.gateway.api.openapi_links import ACCEPTED
from eccoo.gateway.api.pricing import quote_booking
from eccoo.gateway.api.schemas import (
    ContributionRatesIn,
    ContributionRatesPublic,
    HourlyRateIn,
    QuotePublic,
    checksummed,
)
from eccoo.gateway.api.submission import Submission
from eccoo.gateway.errors import BadRequestField, ObjectNotFound
from fastapi import APIRouter, Depends, Query

router = APIRouter(tags=["contribution"])


async def giver_submitter(
    caller: Annotated[Caller, Depends(RequireHat(Hat.CARE_GIVER))], services: ServicesDep
) -> Caller:
    return take_submission(caller, services)


async def governance_submitter(
    caller: Annotated[Caller, Depends(RequireHat(Hat.ADMIN))], services: ServicesDep
) -> Caller:
    """The cooperative's governance role is the admin hat (the only one the chain accepts)."""
    return take_submission(caller, services)


@router.post("/me/rate", **ACCEPTED)
async def set_my_rate(
    body: HourlyRateIn,
    caller: Annotated[Caller, Depends(giver_submitter)],
    submission: Submission,
) -> object:
    """Set the caller's own hourly rate (care givers); later bookings are priced from it."""
    return submission.send(
        caller,
        body,
        kind="set_hourly_rate",
        target="CareLedger",
        fn="setHourlyRate",
        args=(body.rate_per_hour,),
    )


@router.get("/contribution/rates", response_model=ContributionRatesPublic)
def contribution_rates(_caller: CurrentCaller, ledger: LedgerDep) -> ContributionRatesPublic:
    payer_bps, giver_bps = ledger.batch_call(
        [
            ("CareLedger", "payerContributionBps", ()),
            ("CareLedger", "giverContributionBps", ()),
        ]
    )
    return ContributionRatesPublic(payer_bps=payer_bps, giver_bps=giver_bps)


@router.post("/contribution/rates", **ACCEPTED)
async def set_contribution_rates(
    body: ContributionRatesIn,
    caller: Annotated[Caller, Depends(governance_submitter)],
    submission: Submission,
) -> object:
    """Change the Commons Contribution for bookings made afterwards (governance hat)."""
    return submission.send(
        caller,
        body,
        kind="set_contribution_rates",
        target="CareLedger",
        fn="setContributionRates",
        args=(body.payer_bps, body.giver_bps),
    )


def _checked_giver(giver: Annotated[str, Query(max_length=42)]) -> str:
    try:
        return checksummed(giver)
    except ValueError as exc:
        raise BadRequestField(str(exc), field="giver") from exc


@router.get("/contribution/quote", response_model=QuotePublic)
def quote(
    caller: CurrentCaller,
    ledger: LedgerDep,
    giver: Annotated[str, Depends(_checked_giver)],
    duration_minutes: Annotated[int, Query(gt=0, le=24 * 60)],
    pot_id: Annotated[int, Query(gt=0, lt=2**63)],
) -> QuotePublic:
    """What booking `giver` for `duration_minutes` from pot `pot_id` costs now: the payer's
    price, the giver's take-home and the contribution, as the chain will compute them."""
    receiver, arranger = pot_parties(ledger, pot_id)
    me = caller.member.address
    if receiver is None or (me not in (receiver, arranger) and not caller.has(Hat.COORDINATOR)):
        raise ObjectNotFound("no such pot", field="pot_id")
    return quote_booking(ledger, giver, duration_minutes, pot_id)


def pot_parties(ledger: LedgerDep, pot_id: int) -> tuple[str | None, str | None]:
    """The pot's receiver and their arranger now; (None, None) for no such pot."""
    receiver = ledger.call("FundingPots", "receiverOf", pot_id)
    if int(receiver, 16) == 0:
        return None, None
    return receiver, ledger.call("Membership", "arrangerOf", receiver)
