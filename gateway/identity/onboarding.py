"""Putting an approved member on chain: register the pseudonymous id, then mirror the hats,
and keep mirroring them when the identity provider changes a member's hats later: seen in
the member's next token, or by the worker's periodic look at the provider (so a hat taken
away leaves the chain even if the member never calls again).

The operator key (the network's deployer, admin on chain) signs these requests; the
gateway decides who may ask (a coordinator's approval, or an IdP-granted privileged hat).
It never changes anything at the identity provider.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Protocol

from eccoo.client.vocabulary import HAT_KEYS, Hat
from eccoo.gateway.identity import members
from eccoo.gateway.identity.tokens import HATS
from eccoo.gateway.store import statements
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import Member
from eccoo.gateway.tx.ledger import Ledger, gateway_dedupe_key
from eth_utils import keccak
from sqlalchemy import select

log = logging.getLogger("eccoo.gateway.identity.onboarding")

TREASURER_ROLE = keccak(text="TREASURER_ROLE")


def hats_to_mirror(store: Store, member: Member) -> list[str]:
    with store.read() as session:
        approved = statements.approved_hats(session, member.subject)
    token = [h for h in member.token_hats.split(",") if h in HAT_KEYS]
    return sorted(set(token) | set(approved))


def register_on_chain(ledger: Ledger, store: Store, member: Member) -> str:
    """Queue registerMember + one grantHat per hat; returns the registration's tx id."""
    with ledger.store.unit() as session:
        first = ledger.queue(
            session,
            ledger.operator.address,
            subject=member.subject,
            kind="register",
            target="Membership",
            fn="registerMember",
            args=(member.address, bytes.fromhex(member.member_id[2:])),
            dedupe_key=gateway_dedupe_key("register", member.member_id),
        )
    ledger.wake()
    for hat in hats_to_mirror(store, member):
        grant_hat(ledger, member, hat)
    return first.id


def grant_hat(ledger: Ledger, member: Member, hat: str, change: str = "") -> str:
    """Put a hat on a registered member (operator-signed); treasurers also get the coin role.

    `change` tells one grant of the same hat from another (after a revocation)."""
    return _set_hat(ledger, member, hat, change, grant=True)


def revoke_hat(ledger: Ledger, member: Member, hat: str, change: str) -> str:
    """Take a hat off (operator-signed); a treasurer's coin role goes with it."""
    return _set_hat(ledger, member, hat, change, grant=False)


def _set_hat(ledger: Ledger, member: Member, hat: str, change: str, *, grant: bool) -> str:
    op, verb = ledger.operator.address, "grant" if grant else "revoke"
    suffix = (verb, change) if change else ()
    # The hat and a treasurer's coin role go in one unit: both queued, or neither.
    with ledger.store.unit() as session:
        submitted = ledger.queue(
            session,
            op,
            subject=member.subject,
            kind=f"{verb}_hat",
            target="Membership",
            fn=f"{verb}Hat",
            args=(member.address, int(Hat.from_key(hat))),
            dedupe_key=gateway_dedupe_key("hat", member.member_id, hat, *suffix),
        )
        if hat == Hat.TREASURER.key:
            ledger.queue(
                session,
                op,
                subject=member.subject,
                kind=f"{verb}_coin_role",
                target="CareCoin",
                fn=f"{verb}Role",
                args=(TREASURER_ROLE, member.address),
                dedupe_key=gateway_dedupe_key("coinrole", member.member_id, *suffix),
            )
    ledger.wake()
    return submitted.id


def sync_hats(ledger: Ledger, store: Store, member: Member, before: set[str]) -> None:
    """The identity provider changed the member's hats: grant what it added, revoke what it
    took away, except hats a coordinator approved here (those stay until revoked here)."""
    after = {h for h in member.token_hats.split(",") if h in HAT_KEYS}
    before = before & set(HAT_KEYS)
    with store.read() as session:
        approved = set(statements.approved_hats(session, member.subject))
    change = uuid.uuid4().hex
    for hat in sorted(after - before - approved):
        grant_hat(ledger, member, hat, change)
    for hat in sorted(before - after - approved):
        revoke_hat(ledger, member, hat, change)


class Directory(Protocol):
    """Where the provider's current hats come from (`realm.MemberDirectory`)."""

    def hats_of(self, subject: str, known: frozenset[str]) -> frozenset[str]: ...


def sync_from_provider(ledger: Ledger, store: Store, directory: Directory) -> int:
    """Ask the provider for the hats of every member on chain who holds any from it, and
    mirror each difference as the member's next token would have (`sync_hats`). Returns
    how many members changed. Members without provider hats have nothing to lose here;
    what the provider adds for them arrives with their next call."""
    with store.read() as session:
        holders = session.scalars(
            select(Member).where(
                Member.membership.in_(("approved", "registered")), Member.token_hats != ""
            )
        ).all()
    changed = 0
    for member in holders:
        now = ",".join(sorted(directory.hats_of(member.subject, HATS)))
        if now == member.token_hats:
            continue
        with store.unit() as session:
            row = session.get(Member, member.subject)
            # A call since the read already mirrored a newer token: that one stands.
            if row is None or row.token_hats != member.token_hats:
                continue
            row.token_hats = now
            members.learnt(session, row.subject, now, time.time())
            before = {h for h in member.token_hats.split(",") if h}
            member = row
        sync_hats(ledger, store, member, before)
        changed += 1
    if changed:
        log.info("the identity provider changed the hats of %d member(s)", changed)
    return changed
