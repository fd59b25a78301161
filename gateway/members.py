"""Members: created on their first authenticated call with a custodial wallet, pending approval.

The member id written on chain is a pseudonym (a keyed hash of the subject), never a
name or an e-mail address: care data is health data.
"""

from __future__ import annotations

import hashlib
import hmac

from eccoo.gateway.custody import KeyCustody
from eccoo.gateway.security import Principal
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import HatRequest, Member
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

# Hats a member may ask for; the others (coordinator, treasurer, admin, node_operator)
# are granted only by the identity provider.
REQUESTABLE_HATS = frozenset({"care_receiver", "care_giver", "arranger", "supporter"})


def pseudonym(subject: str, salt: bytes) -> str:
    return "0x" + hmac.new(salt, subject.encode(), hashlib.sha256).hexdigest()


def get_or_create(store: Store, custody: KeyCustody, principal: Principal, salt: bytes) -> Member:
    with store.unit() as session:
        member = session.get(Member, principal.subject)
        if member is not None:
            return member
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
    with store.unit() as session:
        found = session.get(Member, principal.subject)
        assert found is not None
        return found


def effective_hats(store: Store, principal: Principal) -> frozenset[str]:
    """Hats from the token, plus requestable hats a coordinator approved here."""
    with store.unit() as session:
        approved = session.scalars(
            select(HatRequest.hat).where(
                HatRequest.subject == principal.subject, HatRequest.status == "approved"
            )
        ).all()
    return principal.hats | (frozenset(approved) & REQUESTABLE_HATS)
