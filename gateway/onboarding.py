"""Putting an approved member on chain: register the pseudonymous id, then mirror the hats.

The operator key (the network's deployer, admin on chain) signs these requests; the
gateway decides who may ask (a coordinator's approval, or an IdP-granted privileged hat).
"""

from __future__ import annotations

from eccoo.gateway.chain import HAT_IDS, Ledger
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import HatRequest, Member
from eth_utils import keccak
from sqlalchemy import select

PRIVILEGED = frozenset({"coordinator", "treasurer", "admin"})
TREASURER_ROLE = keccak(text="TREASURER_ROLE")


def hats_to_mirror(store: Store, member: Member) -> list[str]:
    with store.unit() as session:
        approved = session.scalars(
            select(HatRequest.hat).where(
                HatRequest.subject == member.subject, HatRequest.status == "approved"
            )
        ).all()
    token = [h for h in member.token_hats.split(",") if h in HAT_IDS]
    return sorted(set(token) | set(approved))


def register_on_chain(ledger: Ledger, store: Store, member: Member) -> str:
    """Queue registerMember + one grantHat per hat; returns the registration's tx id."""
    op = ledger.operator.address
    first = ledger.forward(
        op,
        subject=member.subject,
        kind="register",
        target="Membership",
        fn="registerMember",
        args=(member.address, bytes.fromhex(member.member_id[2:])),
        request_hash=f"register:{member.member_id}",
    )
    for hat in hats_to_mirror(store, member):
        grant_hat(ledger, member, hat)
    return first.id


def grant_hat(ledger: Ledger, member: Member, hat: str) -> str:
    """Put a hat on a registered member (operator-signed); treasurers also get the coin role."""
    op = ledger.operator.address
    submitted = ledger.forward(
        op,
        subject=member.subject,
        kind="grant_hat",
        target="Membership",
        fn="grantHat",
        args=(member.address, HAT_IDS[hat]),
        request_hash=f"hat:{member.member_id}:{hat}",
    )
    if hat == "treasurer":
        ledger.forward(
            op,
            subject=member.subject,
            kind="grant_coin_role",
            target="CareCoin",
            fn="grantRole",
            args=(TREASURER_ROLE, member.address),
            request_hash=f"coinrole:{member.member_id}",
        )
    return submitted.id
