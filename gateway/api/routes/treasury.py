"""Treasury: mint against a bank reference, burn for a payout; treasurers only.

References are hashed before they go on chain (bytes32); the plain reference stays with
the treasurer's books, never on the ledger.
"""

from __future__ import annotations

from typing import Annotated

from eccoo.client.reconcile import reference_hash
from eccoo.client.vocabulary import Hat
from eccoo.gateway.api.deps import Caller, RequireHat, ServicesDep, take_submission
from eccoo.gateway.api.openapi_links import ACCEPTED
from eccoo.gateway.api.schemas import BurnIn, MintIn
from eccoo.gateway.api.submission import Submission
from fastapi import APIRouter, Depends

router = APIRouter(tags=["treasury"], prefix="/treasury")


async def treasurer_submitter(
    caller: Annotated[Caller, Depends(RequireHat(Hat.TREASURER))], services: ServicesDep
) -> Caller:
    return take_submission(caller, services)


TreasurySubmitter = Annotated[Caller, Depends(treasurer_submitter)]


@router.post("/mint", **ACCEPTED)
async def mint(
    body: MintIn,
    caller: TreasurySubmitter,
    submission: Submission,
) -> object:
    return submission.send(
        caller,
        body,
        kind="mint",
        target="CareCoin",
        fn="mint",
        args=(body.to, body.amount, reference_hash(body.bank_ref)),
    )


@router.post("/burn", **ACCEPTED)
async def burn(
    body: BurnIn,
    caller: TreasurySubmitter,
    submission: Submission,
) -> object:
    return submission.send(
        caller,
        body,
        kind="burn",
        target="CareCoin",
        fn="burn",
        args=(body.from_, body.amount, reference_hash(body.payout_ref)),
    )
