"""`/me/wallet`: the caller's address, and linking a wallet of their own by signed challenge.

A linked wallet replaces the custodial one as the member's on-chain identity, so it can be
linked only before the membership is registered on chain. No route returns a key.
"""

from __future__ import annotations

import secrets
import time

from eccoo.gateway.api.deps import CurrentMember, ServicesDep
from eccoo.gateway.api.schemas import (
    LinkChallengeIn,
    LinkChallengePublic,
    LinkWalletIn,
    WalletPublic,
)
from eccoo.gateway.errors import BadRequestField, ObjectNotFound, StateConflict
from eccoo.gateway.store.models import AuditEntry, LinkChallenge, Member
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi import APIRouter

router = APIRouter(tags=["wallet"])
CHALLENGE_SECONDS = 300


def challenge_message(address: str, nonce: str, member_id: str) -> str:
    return (
        "eccoo: link this wallet to my membership\n"
        f"address: {address}\nmember: {member_id}\nnonce: {nonce}"
    )


@router.get("/me/wallet", response_model=WalletPublic)
def read_wallet(member: CurrentMember) -> WalletPublic:
    return WalletPublic(address=member.address, wallet_kind=member.wallet_kind)  # type: ignore[arg-type]


@router.post("/me/wallet/challenge", response_model=LinkChallengePublic, status_code=201)
def new_challenge(
    body: LinkChallengeIn, member: CurrentMember, services: ServicesDep
) -> LinkChallengePublic:
    nonce = secrets.token_hex(16)
    expires = time.time() + CHALLENGE_SECONDS
    with services.store.unit() as session:
        session.add(
            LinkChallenge(
                nonce=nonce, subject=member.subject, address=body.address, expires_at=expires
            )
        )
    return LinkChallengePublic(
        nonce=nonce,
        expires_at=expires,
        message=challenge_message(body.address, nonce, member.member_id),
    )


@router.post("/me/wallet/link", response_model=WalletPublic)
def link_wallet(body: LinkWalletIn, member: CurrentMember, services: ServicesDep) -> WalletPublic:
    with services.store.unit() as session:
        challenge = session.get(LinkChallenge, body.nonce)
        # Another member's challenge is indistinguishable from a missing one.
        if challenge is None or challenge.subject != member.subject:
            raise ObjectNotFound("no such challenge", field="nonce")
        if challenge.used or challenge.expires_at < time.time():
            raise BadRequestField("the challenge has expired or was used", field="nonce")
        message = challenge_message(challenge.address, challenge.nonce, member.member_id)
        try:
            signer = Account.recover_message(encode_defunct(text=message), signature=body.signature)
        except Exception:
            raise BadRequestField("the signature is invalid", field="signature") from None
        if signer != challenge.address:
            raise BadRequestField("the signature is not from that address", field="signature")
        row = session.get(Member, member.subject)
        assert row is not None
        if row.membership == "registered":
            raise StateConflict("the membership is already on chain; the wallet cannot change")
        challenge.used = True
        row.address = challenge.address
        row.wallet_kind = "linked"
        session.add(
            AuditEntry(
                subject=member.subject, action="wallet_linked", object_ref=f"member:{row.member_id}"
            )
        )
        return WalletPublic(address=row.address, wallet_kind="linked")
