"""Treasury: mint against a bank reference, burn for a payout; treasurers only.

References are hashed before they go on chain (bytes32); the plain reference stays with
the treasurer's books, never on the ledger.
"""

from __future__ import annotations

from typing import Annotated

from eccoo.gateway.deps import Caller, LedgerDep, RequireHat, ServicesDep, submission_allowed
from eccoo.gateway.idempotency import IdempotencyKey
from eccoo.gateway.routes.coin import submit
from eccoo.gateway.schemas import BurnIn, MintIn, SubmissionPublic
from eth_utils import keccak
from fastapi import APIRouter, Depends, Request

router = APIRouter(tags=["treasury"], prefix="/treasury")


def treasurer_submitter(
    caller: Annotated[Caller, Depends(RequireHat("treasurer"))], services: ServicesDep
) -> Caller:
    return submission_allowed(caller, services)


TreasurySubmitter = Annotated[Caller, Depends(treasurer_submitter)]


def ref_hash(ref: str) -> bytes:
    return keccak(text=f"eccoo:ref:{ref}")


@router.post("/mint", response_model=SubmissionPublic, status_code=202)
def mint(
    body: MintIn,
    key: IdempotencyKey,
    request: Request,
    caller: TreasurySubmitter,
    services: ServicesDep,
    ledger: LedgerDep,
) -> object:
    return submit(
        services,
        ledger,
        caller,
        key,
        request,
        body,
        kind="mint",
        target="CareCoin",
        fn="mint",
        args=(body.to, body.amount, ref_hash(body.bank_ref)),
    )


@router.post("/burn", response_model=SubmissionPublic, status_code=202)
def burn(
    body: BurnIn,
    key: IdempotencyKey,
    request: Request,
    caller: TreasurySubmitter,
    services: ServicesDep,
    ledger: LedgerDep,
) -> object:
    return submit(
        services,
        ledger,
        caller,
        key,
        request,
        body,
        kind="burn",
        target="CareCoin",
        fn="burn",
        args=(body.from_, body.amount, ref_hash(body.payout_ref)),
    )
