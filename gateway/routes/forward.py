"""`/me/forward-requests`: relay an EIP-712 forward request the member signed themselves.

Only for a member whose wallet is linked (self-held key). The signature must recover to the
member's own address and the target must be one of the cooperative's contracts. The worker
simulates it before relaying; one that would revert ends `failed` with the contract's error.
"""

from __future__ import annotations

from typing import Any

from eccoo.client.forwarder import ForwardRequest, recover_signer
from eccoo.gateway.deps import LedgerDep, ServicesDep, Submitter
from eccoo.gateway.errors import BadRequestField, StateConflict
from eccoo.gateway.idempotency import IdempotencyKey, request_hash, submit_once
from eccoo.gateway.links import ACCEPTED
from eccoo.gateway.routes.coin import accepted
from eccoo.gateway.schemas import Strict, checksummed
from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy.orm import Session

router = APIRouter(tags=["wallet"])


class ForwardRequestIn(Strict):
    from_: str = Field(alias="from")
    to: str
    value: int = Field(ge=0, le=0)
    gas: int = Field(gt=0, le=2_000_000)
    nonce: int = Field(ge=0, lt=2**64)
    deadline: int = Field(gt=0, lt=2**48)
    data: str = Field(pattern=r"^0x([0-9a-fA-F]{2}){4,4096}$")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")

    model_config = {"extra": "forbid", "populate_by_name": True}

    def checked(self) -> ForwardRequest:
        checksummed(self.from_)
        checksummed(self.to)
        return ForwardRequest.from_json({**self.model_dump(by_alias=True)})


@router.post("/me/forward-requests", **ACCEPTED)
def relay_signed(
    body: ForwardRequestIn,
    key: IdempotencyKey,
    request: Request,
    caller: Submitter,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Any:
    member = caller.member
    if member.wallet_kind != "linked":
        raise StateConflict("only a linked wallet submits its own signed requests")
    try:
        forward = body.checked()
    except ValueError as exc:
        raise BadRequestField(str(exc), field="from") from None
    if forward.from_ != member.address:
        raise BadRequestField("`from` is not your linked wallet", field="from")
    if forward.to not in {c.address for c in ledger.contracts.values()} - {
        ledger.forwarder.address
    }:
        raise BadRequestField("`to` is not one of the cooperative's contracts", field="to")
    signer = recover_signer(
        forward, chain_id=ledger.chain_id, forwarder_address=ledger.forwarder.address
    )
    if signer != member.address:
        raise BadRequestField("the signature is not from your linked wallet", field="signature")
    fingerprint = request_hash(request.url.path, body)

    def enqueue(session: Session) -> tuple[int, dict[str, object]]:
        tx = ledger.forward_signed(
            session,
            forward,
            subject=member.subject,
            kind="forwarded",
            request_hash=f"{member.subject}:{key}",
        )
        return 202, accepted(tx)

    return submit_once(services.store, member.subject, key, fingerprint, enqueue, ledger.wake)
