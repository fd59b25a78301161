"""Members: created on their first authenticated call with a custodial wallet, pending approval.

The member id written on chain is a pseudonym (a keyed hash of the subject), never a
name or an e-mail address: care data is health data.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from eccoo.client.vocabulary import CARE_HAT_KEYS, PRIVILEGED_HAT_KEYS
from eccoo.gateway.identity.custody import KeyCustody
from eccoo.gateway.identity.tokens import Principal
from eccoo.gateway.store import statements
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import HatsNews, Member
from sqlalchemy.exc import IntegrityError


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
        member, approved = statements.member_and_hats(session, principal.subject)
    if member is None:
        member, approved = _create(store, custody, principal, salt), []
    hats, _ = hats_from_token(store, member, principal)
    return member, hats | (frozenset(approved) & CARE_HAT_KEYS)


def hats_from_token(
    store: Store, member: Member, principal: Principal
) -> tuple[frozenset[str], bool]:
    """The provider hats the token counts for, and whether it is news. A token issued
    before the gateway last learnt of a change (`HatsNews`: a newer token, or the worker's
    look at the provider) is not: it counts only for hats the provider still gave then, so
    a dismissed coordinator's unexpired token neither acts as one nor puts the hat back."""
    hats = principal.hats
    if ",".join(sorted(hats)) == member.token_hats:
        return hats, True  # what the gateway already mirrors: no look-up on the usual call
    with store.read() as session:
        news = session.get(HatsNews, member.subject)
    issued = principal.claims.get("iat")
    if news is None or not isinstance(issued, int | float) or issued >= news.learnt_at:
        return hats, True
    return hats & frozenset(news.hats.split(",")), False


def learnt(session: Any, subject: str, hats: str, at: float) -> None:
    """Record, in the caller's unit of work, that the member's provider hats became `hats`."""
    session.merge(HatsNews(subject=subject, hats=hats, learnt_at=at))


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
    A member already on its way to the chain gets the IdP's later hat changes mirrored;
    a token older than the last change the gateway learnt of changes nothing."""
    hats, news = hats_from_token(services.store, member, principal)
    mirrored = ",".join(sorted(hats))
    privileged = hats & PRIVILEGED_HAT_KEYS
    if not news or (
        member.token_hats == mirrored and not (privileged and member.membership == "pending")
    ):
        return member
    with services.store.unit() as session:
        row = session.get(Member, member.subject)
        assert row is not None
        before = {h for h in row.token_hats.split(",") if h}
        changed = row.token_hats != mirrored
        row.token_hats = mirrored
        if changed:
            issued = principal.claims.get("iat")
            at = float(issued) if isinstance(issued, int | float) else time.time()
            learnt(session, row.subject, mirrored, at)
        on_chain = row.membership in ("approved", "registered") and services.ledger is not None
        start_registration = (
            privileged and row.membership == "pending" and services.ledger is not None
        )
        if start_registration:
            row.membership = "approved"
        member = row
    # Only the request that made the change under the write lock queues its mirror.
    from eccoo.gateway.identity import onboarding

    if start_registration:
        onboarding.register_on_chain(services.ledger, services.store, member)
    elif on_chain and changed:
        onboarding.sync_hats(services.ledger, services.store, member, before)
    return member
