"""Balances and transfers of CareCoin, signed by the member's own key and relayed.

A transfer is a ledger change: it needs an `Idempotency-Key`, is rate limited, and answers
202 with the queued transaction. Amounts are integer pennies.
"""

from __future__ import annotations

from eccoo.gateway.deps import CurrentMember, LedgerDep, ServicesDep, Submitter, signer_of
from eccoo.gateway.idempotency import IdempotencyKey, request_hash, run_once
from eccoo.gateway.routes.transactions import transaction_public
from eccoo.gateway.schemas import BalancePublic, SubmissionPublic, TransferIn
from fastapi import APIRouter, Request

router = APIRouter(tags=["coin"])


@router.get("/me/balance", response_model=BalancePublic)
def my_balance(member: CurrentMember, ledger: LedgerDep) -> BalancePublic:
    return BalancePublic(
        address=member.address, balance=int(ledger.call("CareCoin", "balanceOf", member.address))
    )


def submit(
    services: ServicesDep,
    ledger: LedgerDep,
    caller: Submitter,
    key: str,
    request: Request,
    body: object,
    *,
    kind: str,
    target: str,
    fn: str,
    args: tuple[object, ...],
) -> object:
    """The common path of every member-signed ledger POST (idempotent, 202)."""
    fingerprint = request_hash(request.url.path, body)  # type: ignore[arg-type]

    def action() -> tuple[int, dict[str, object]]:
        signer = signer_of(caller, services)
        submitted = ledger.forward(
            signer,
            subject=caller.member.subject,
            kind=kind,
            target=target,
            fn=fn,
            args=args,
            request_hash=f"{caller.member.subject}:{key}",
        )
        tx = ledger.tm.get(submitted.id)
        assert tx is not None
        return 202, SubmissionPublic(transaction=transaction_public(tx)).model_dump(mode="json")

    return run_once(services.store, caller.member.subject, key, fingerprint, action)


@router.post("/transfers", response_model=SubmissionPublic, status_code=202)
def transfer(
    body: TransferIn,
    key: IdempotencyKey,
    request: Request,
    caller: Submitter,
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
        kind="transfer",
        target="CareCoin",
        fn="transfer",
        args=(body.to, body.amount),
    )
