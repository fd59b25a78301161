"""Balances and transfers of CareCoin, signed by the member's own key and relayed.

A transfer is a ledger change: it needs an `Idempotency-Key`, is rate limited, and answers
202 with the queued transaction. Amounts are integer pennies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from eccoo.gateway.chain import Ledger
from eccoo.gateway.deps import (
    Caller,
    CurrentMember,
    LedgerDep,
    ServicesDep,
    Submitter,
    custodial_signer,
)
from eccoo.gateway.idempotency import IdempotencyKey, request_hash, submit_once
from eccoo.gateway.links import ACCEPTED
from eccoo.gateway.routes.transactions import transaction_public
from eccoo.gateway.schemas import BalancePublic, SubmissionPublic, TransferIn
from eccoo.gateway.services import Services
from eccoo.gateway.store.models import ChainTransaction
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

router = APIRouter(tags=["coin"])


@router.get("/me/balance", response_model=BalancePublic)
def my_balance(member: CurrentMember, ledger: LedgerDep) -> BalancePublic:
    return BalancePublic(
        address=member.address, balance=int(ledger.call("CareCoin", "balanceOf", member.address))
    )


@dataclass(frozen=True)
class LedgerSubmission:
    """What every member-signed ledger POST needs besides its caller and its body."""

    services: Services
    ledger: Ledger
    key: str
    request: Request

    def send(
        self,
        caller: Caller,
        body: object,
        *,
        kind: str,
        target: str,
        fn: str,
        args: tuple[object, ...],
    ) -> object:
        """The common path of every member-signed ledger POST (idempotent, 202)."""
        fingerprint = request_hash(self.request.url.path, body)  # type: ignore[arg-type]
        ledger, key = self.ledger, self.key

        def enqueue(session: Session) -> tuple[int, dict[str, object]]:
            tx = ledger.queue(
                session,
                custodial_signer(caller),
                subject=caller.member.subject,
                kind=kind,
                target=target,
                fn=fn,
                args=args,
                request_hash=f"{caller.member.subject}:{key}",
            )
            return 202, accepted(tx)

        return submit_once(
            self.services.store, caller.member.subject, key, fingerprint, enqueue, ledger.wake
        )


async def ledger_submission(
    key: IdempotencyKey, request: Request, services: ServicesDep, ledger: LedgerDep
) -> LedgerSubmission:
    return LedgerSubmission(services, ledger, key, request)


# Declared after the caller in each route, so authentication still answers first.
Submission = Annotated[LedgerSubmission, Depends(ledger_submission)]


def accepted(tx: ChainTransaction) -> dict[str, object]:
    """The 202 body: the queued transaction, to follow at /transactions/{id}."""
    return SubmissionPublic(transaction=transaction_public(tx)).model_dump(mode="json")


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
