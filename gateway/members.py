"""Members: created on their first authenticated call with a custodial wallet, pending approval.

The member id written on chain is a pseudonym (a keyed hash of the subject), never a
name or an e-mail address: care data is health data.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from eccoo.gateway.custody import KeyCustody
from eccoo.gateway.security import Principal
from eccoo.gateway.store import hot
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import Member
from sqlalchemy.exc import IntegrityError

# Hats a member may ask for; the others (coordinator, treasurer, admin, node_operator)
# are granted only by the identity provider.
REQUESTABLE_HATS = frozenset({"care_receiver", "care_giver", "arranger", "supporter"})
PRIVILEGED = frozenset({"coordinator", "treasurer", "admin"})


def pseudonym(subject: str, salt: bytes) -> str:
    return "0x" + hmac.new(salt, subject.encode(), hashlib.sha256).hexdigest()


def get_or_create(store: Store, custody: KeyCustody, principal: Principal, salt: bytes) -> Member:
    return load(store, custody, principal, salt)[0]


def load(
    store: Store, custody: KeyCustody, principal: Principal, salt: bytes
) -> tuple[Member, frozenset[str]]:
    """The caller's member row (created with a custodial wallet on the first call) and the
    hats that count for them: the token's, plus requestable hats a coordinator approved
    here. One read snapshot for both on every call after the first."""
    with store.read() as session:
        member, approved = hot.member_and_hats(session, principal.subject)
    if member is None:
        member, approved = _create(store, custody, principal, salt), []
    return member, principal.hats | (frozenset(approved) & REQUESTABLE_HATS)


def _create(store: Store, custody: KeyCustody, principal: Principal, salt: bytes) -> Member:
    sealed = custody.new_key(principal.subject)
    member = Member(
        subject=principal.subject,
        member_id=pseudonym(principal.subject, salt),
        address=sealed.address,
        wallet_kind="custodial",
        custodial_address=sealed.address,
        key_ciphertext=sealed.ciphertext,
        key_nonce=sealed.nonce,
        membership="pending",
    )
    try:
        with store.unit() as session:
            session.add(member)
    except IntegrityError:
        pass  # a concurrent first call created it; use that one
    with store.read() as session:
        found = session.get(Member, principal.subject)
        assert found is not None
        return found


def onboard(services: Any, member: Member, principal: Principal) -> Member:
    """Remember the token's hats; members the IdP made coordinator, treasurer or admin are
    approved and registered on chain on their first call (no one else could approve them).
    A member already on its way to the chain gets the IdP's later hat changes mirrored."""
    token_hats = ",".join(sorted(principal.hats))
    privileged = principal.hats & PRIVILEGED
    if member.token_hats == token_hats and not (privileged and member.membership == "pending"):
        return member
    with services.store.unit() as session:
        row = session.get(Member, member.subject)
        assert row is not None
        before = {h for h in row.token_hats.split(",") if h}
        changed = row.token_hats != token_hats
        row.token_hats = token_hats
        on_chain = row.membership in ("approved", "registered") and services.ledger is not None
        start_registration = (
            privileged and row.membership == "pending" and services.ledger is not None
        )
        if start_registration:
            row.membership = "approved"
        member = row
    # Only the request that made the change under the write lock queues its mirror.
    from eccoo.gateway import onboarding

    if start_registration:
        onboarding.register_on_chain(services.ledger, services.store, member)
    elif on_chain and changed:
        onboarding.sync_hats(services.ledger, services.store, member, before)
    return member
