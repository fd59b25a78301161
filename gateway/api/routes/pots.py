"""Funding pots: a treasurer creates one for a care receiver and deposits into it; the
statement is for the treasurer, a coordinator, or the pot's own receiver (others: 404).
"""

from __future__ import annotations

from typing import Annotated

from eccoo.client.vocabulary import Hat
from eccoo.gateway.api.deps import CurrentCaller, LedgerDep, ServicesDep, custodial_signer
from eccoo.gateway.api.idempotency import IdempotencyKey, body_fingerprint, submit_once
from eccoo.gateway.api.openapi_links import ACCEPTED
from eccoo.gateway.api.routes.treasury import TreasurySubmitter
from eccoo.gateway.api.schemas import (
    DepositIn,
    FunderStatement,
    HourlyCapIn,
    PotIn,
    PotStatement,
)
from eccoo.gateway.api.submission import Submission, accepted
from eccoo.gateway.errors import ObjectNotFound
from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

router = APIRouter(tags=["pots"], prefix="/pots")
PotId = Annotated[int, Path(gt=0, lt=2**63)]


def pot_statement_for(pot_id: PotId, caller: CurrentCaller, ledger: LedgerDep) -> PotStatement:
    receiver = ledger.call("FundingPots", "receiverOf", pot_id)
    allowed = (
        caller.has(Hat.TREASURER)
        or caller.has(Hat.COORDINATOR)
        or (receiver == caller.member.address)
    )
    if int(receiver, 16) == 0 or not allowed:
        raise ObjectNotFound("no such pot", field="pot_id")
    funder_ids, shares = ledger.call("FundingPots", "fundersOf", pot_id)
    funders = []
    for funder_id, share in zip(funder_ids, shares, strict=True):
        deposited, drawn, refunded = ledger.call("FundingPots", "accountOf", pot_id, funder_id)
        funders.append(
            FunderStatement(
                funder_id="0x" + bytes(funder_id).hex(),
                share_bps=share,
                deposited=deposited,
                drawn=drawn,
                refunded=refunded,
                balance=deposited - drawn - refunded,
            )
        )
    return PotStatement(pot_id=pot_id, receiver=receiver, funders=funders)


@router.get("/{pot_id}/statement", response_model=PotStatement)
def statement(found: Annotated[PotStatement, Depends(pot_statement_for)]) -> PotStatement:
    return found


@router.post("", **ACCEPTED)
async def create_pot(
    body: PotIn,
    caller: TreasurySubmitter,
    submission: Submission,
) -> object:
    ids = [bytes.fromhex(f.funder_id[2:]) for f in body.funders]
    shares = [f.share_bps for f in body.funders]
    return submission.send(
        caller,
        body,
        kind="create_pot",
        target="FundingPots",
        fn="createPot",
        args=(body.receiver, ids, shares),
    )


@router.post("/{pot_id}/caps", **ACCEPTED)
async def set_hourly_cap(
    pot_id: PotId,
    body: HourlyCapIn,
    caller: TreasurySubmitter,
    submission: Submission,
) -> object:
    """Record the most a funder pays an hour from its share (the giver's rate plus the
    payer's contribution); 0 lifts the cap. Bookings over it are refused before signing."""
    return submission.send(
        caller,
        body,
        kind="set_hourly_cap",
        target="FundingPots",
        fn="setHourlyCap",
        args=(pot_id, bytes.fromhex(body.funder_id[2:]), body.cap_per_hour),
    )


@router.post("/{pot_id}/deposits", **ACCEPTED)
async def deposit(
    pot_id: PotId,
    body: DepositIn,
    key: IdempotencyKey,
    request: Request,
    caller: TreasurySubmitter,
    services: ServicesDep,
    ledger: LedgerDep,
) -> object:
    """Approve the pots contract for the amount, then deposit (queued in this order)."""
    fingerprint = body_fingerprint(request.url.path, body)

    def enqueue(session: Session) -> tuple[int, dict[str, object]]:
        signer = custodial_signer(caller)
        subject = caller.member.subject
        pots = ledger.contracts["FundingPots"].address
        ledger.queue(
            session,
            signer,
            subject=subject,
            kind="approve",
            target="CareCoin",
            fn="approve",
            args=(pots, body.amount),
            dedupe_key=f"{subject}:{key}:a",
        )
        tx = ledger.queue(
            session,
            signer,
            subject=subject,
            kind="deposit",
            target="FundingPots",
            fn="deposit",
            args=(pot_id, bytes.fromhex(body.funder_id[2:]), body.amount),
            dedupe_key=f"{subject}:{key}",
        )
        return 202, accepted(tx)

    return submit_once(
        services.store, caller.member.subject, key, fingerprint, enqueue, ledger.wake
    )
