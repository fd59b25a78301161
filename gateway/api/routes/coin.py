"""Balances and transfers of CareCoin, signed by the member's own key and relayed.

A transfer is a ledger change: it needs an `Idempotency-Key`, is rate limited, and answers
202 with the queued transaction. Amounts are integer pennies.
"""

from __future__ import annotations

from eccoo.gateway.api.deps import CurrentMember, LedgerDep, Submitter
from eccoo.gateway.api.openapi_links import ACCEPTED
from eccoo.gateway.api.schemas import BalancePublic, TransferIn
from eccoo.gateway.api.submission import Submission
from fastapi import APIRouter

router = APIRouter(tags=["coin"])


@router.get("/me/balance", response_model=BalancePublic)
def my_balance(member: CurrentMember, ledger: LedgerDep) -> BalancePublic:
    return BalancePublic(
        address=member.address, balance=int(ledger.call("CareCoin", "balanceOf", member.address))
    )


@router.post("/transfers", **ACCEPTED)
async def transfer(
    body: TransferIn,
    caller: Submitter,
    submission: Submission,
) -> object:
    return submission.send(
        caller,
        body,
        kind="transfer",
        target="CareCoin",
        fn="transfer",
        args=(body.to, body.amount),
    )
