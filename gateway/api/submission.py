"""What every member-signed ledger POST shares: the submission dependency (idempotency key,
the caller's signer, the queue), the 202 body, and a transaction's public view.

Routes declare `Submission` after their caller, so authentication always answers first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from eccoo.gateway.api.deps import Caller, LedgerDep, ServicesDep, custodial_signer
from eccoo.gateway.api.idempotency import IdempotencyKey, body_fingerprint, submit_once
from eccoo.gateway.api.pricing import refusal_words
from eccoo.gateway.api.schemas import SubmissionPublic, TransactionPublic
from eccoo.gateway.parts import Services
from eccoo.gateway.store.models import ChainTransaction
from eccoo.gateway.tx.ledger import Ledger
from fastapi import Depends, Request
from sqlalchemy.orm import Session


def transaction_public(tx: ChainTransaction) -> TransactionPublic:
    return TransactionPublic(
        id=tx.id,
        kind=tx.kind,
        state=tx.state,
        tx_hash=tx.tx_hash,  # type: ignore[arg-type]
        block_number=tx.block_number,
        error=tx.error,
        error_args=tx.error_args,
        **refusal_words(tx.error),
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
        fingerprint = body_fingerprint(self.request.url.path, body)  # type: ignore[arg-type]
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
                dedupe_key=f"{caller.member.subject}:{key}",
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
