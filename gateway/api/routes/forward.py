"""`/me/forward-requests`: relay an EIP-712 forward request the member signed themselves.

Only for a member whose wallet is linked (self-held key). The signature must be canonical
(low s, v 27 or 28, as the forwarder requires on chain) and recover to the member's own
address, and the target must be one of the cooperative's contracts. The worker simulates it
before relaying; one that would revert ends `failed` with the contract's error.
"""

from __future__ import annotations

from typing import Any

from eccoo.client.forwarder import ForwardRequest, recover_signer
from eccoo.gateway.api.deps import LedgerDep, ServicesDep, Submitter
from eccoo.gateway.api.idempotency import IdempotencyKey, body_fingerprint, submit_once
from eccoo.gateway.api.openapi_links import ACCEPTED
from eccoo.gateway.api.schemas import Strict, checksummed
from eccoo.gateway.api.submission import accepted
from eccoo.gateway.errors import BadRequestField, StateConflict
from eth_keys.exceptions import BadSignature
from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy.orm import Session

router = APIRouter(tags=["wallet"])
# secp256k1's group order: r and s lie in [1, n), and s in the lower half (EIP-2).
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _canonical(signature: bytes) -> None:
    """Refuses what the forwarder's ECDSA would refuse on chain (OpenZeppelin's `ECDSA`:
    a high s, a `v` other than 27/28) and what cannot be a signature at all (r or s out of
    range, as in an all-zero one), before a relayer spends gas on it."""
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise BadRequestField("the signature's v must be 27 or 28", field="signature")
    if not (0 < r < _CURVE_ORDER and 0 < s <= _CURVE_ORDER // 2):
        raise BadRequestField("the signature is not a canonical ECDSA signature", field="signature")


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
    _canonical(forward.signature)
    try:
        signer = recover_signer(
            forward, chain_id=ledger.chain_id, forwarder_address=ledger.forwarder.address
        )
    except (BadSignature, ValueError):
        raise BadRequestField("the signature is invalid", field="signature") from None
    if signer != member.address:
        raise BadRequestField("the signature is not from your linked wallet", field="signature")
    fingerprint = body_fingerprint(request.url.path, body)

    def enqueue(session: Session) -> tuple[int, dict[str, object]]:
        tx = ledger.queue_signed(
            session,
            forward,
            subject=member.subject,
            kind="forwarded",
            dedupe_key=f"{member.subject}:{key}",
        )
        return 202, accepted(tx)

    return submit_once(services.store, member.subject, key, fingerprint, enqueue, ledger.wake)
