"""Hats and membership approval: a member asks for a hat, a coordinator decides.

Only the care hats can be requested here; coordinator, treasurer, admin and node_operator
come from the identity provider alone. Each decision is written to the audit trail. A
coordinator never decides their own hat request or membership: another coordinator must.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from eccoo.client.vocabulary import Hat
from eccoo.gateway.api.deps import Caller, Coordinator, CurrentCaller, ServicesDep
from eccoo.gateway.api.openapi_links import HAT_REQUESTED
from eccoo.gateway.api.schemas import HatRequestIn, HatRequestPublic, MemberPublic
from eccoo.gateway.errors import ConflictOfInterest, ObjectNotFound, StateConflict
from eccoo.gateway.identity.onboarding import grant_hat, register_on_chain
from eccoo.gateway.store.models import AuditEntry, HatRequest, Member
from fastapi import APIRouter, Depends, Path
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

router = APIRouter(tags=["hats"])


def _public(req: HatRequest) -> HatRequestPublic:
    return HatRequestPublic(id=req.id, subject=req.subject, hat=req.hat, status=req.status)  # type: ignore[arg-type]


@router.post(
    "/me/hats/requests", response_model=HatRequestPublic, status_code=201, responses=HAT_REQUESTED
)
def request_hat(
    body: HatRequestIn, caller: CurrentCaller, services: ServicesDep
) -> HatRequestPublic:
    if caller.has(Hat.from_key(body.hat)):
        raise StateConflict(f"you already wear the {body.hat} hat", field="hat")
    with services.store.unit() as session:
        pending = session.scalars(
            select(HatRequest).where(
                HatRequest.subject == caller.member.subject,
                HatRequest.hat == body.hat,
                HatRequest.status == "pending",
            )
        ).first()
        if pending is not None:
            raise StateConflict(f"a request for {body.hat} is already pending", field="hat")
        req = HatRequest(subject=caller.member.subject, hat=body.hat, status="pending")
        session.add(req)
        session.flush()
        return _public(req)


@router.get("/me/hats/requests", response_model=list[HatRequestPublic])
def my_hat_requests(caller: CurrentCaller, services: ServicesDep) -> list[HatRequestPublic]:
    with services.store.unit() as session:
        rows = session.scalars(
            select(HatRequest).where(HatRequest.subject == caller.member.subject)
        ).all()
        return [_public(r) for r in rows]


@router.get("/hats/requests", response_model=list[HatRequestPublic])
def pending_hat_requests(_c: Coordinator, services: ServicesDep) -> list[HatRequestPublic]:
    with services.store.unit() as session:
        rows = session.scalars(select(HatRequest).where(HatRequest.status == "pending")).all()
        return [_public(r) for r in rows]


# A row id: SQLite integers are 64-bit signed; a larger id is bad input (422), not a 500.
HatRequestId = Annotated[int, Path(gt=0, lt=2**63)]


@dataclass(frozen=True)
class Decision:
    """A hat request the calling coordinator may decide (it is not their own)."""

    request_id: int
    caller: Caller


async def hat_request_for(
    request_id: HatRequestId, caller: Coordinator, services: ServicesDep
) -> Decision:
    """404 for an unknown request; 403 for the caller's own: approved hats are granted on
    chain by the gateway's operator, so self-approval would let one person hold both sides
    of a care log (giver and arranger)."""
    with services.store.read() as session:
        subject = session.scalar(select(HatRequest.subject).where(HatRequest.id == request_id))
    if subject is None:
        raise ObjectNotFound("no such hat request", field="request_id")
    if subject == caller.member.subject:
        raise ConflictOfInterest(
            "another coordinator must decide your own hat request", field="request_id"
        )
    return Decision(request_id, caller)


HatRequestToDecide = Annotated[Decision, Depends(hat_request_for)]


async def member_for(subject: str, caller: Coordinator) -> str:
    """403 for the caller themselves: nobody approves their own membership."""
    if subject == caller.member.subject:
        raise ConflictOfInterest(
            "another coordinator must approve your own membership", field="subject"
        )
    return subject


MemberToApprove = Annotated[str, Depends(member_for)]


def _decide(decision: Decision, status: str, services: ServicesDep) -> HatRequestPublic:
    caller = decision.caller
    try:
        with services.store.unit() as session:
            req = session.get(HatRequest, decision.request_id)
            if req is None:
                raise ObjectNotFound("no such hat request", field="request_id")
            if req.status != "pending":
                raise StateConflict(f"the request is already {req.status}")
            req.status = status
            req.decided_by = caller.member.subject
            session.add(
                AuditEntry(
                    subject=caller.member.subject,
                    action=f"hat_{status}",
                    object_ref=f"hat_request:{req.id}",
                )
            )
            member = session.get(Member, req.subject)
            public = _public(req)
    except IntegrityError:
        # A database still holding the older one-row-per-(member, hat, status) rule: the
        # unit rolled back, so the request is still pending and can be decided otherwise.
        raise StateConflict(
            "an earlier request for this hat was decided the same way", field="request_id"
        ) from None
    # A member already on chain gets the hat there at once; others get it at registration.
    registered = member is not None and member.membership == "registered"
    if status == "approved" and services.ledger is not None and registered:
        grant_hat(services.ledger, member, public.hat)  # type: ignore[arg-type]
    return public


@router.post(
    "/hats/requests/{request_id}/approve",
    response_model=HatRequestPublic,
    operation_id="approve_hat",
)
def approve_hat(decision: HatRequestToDecide, services: ServicesDep) -> HatRequestPublic:
    return _decide(decision, "approved", services)


@router.post(
    "/hats/requests/{request_id}/decline",
    response_model=HatRequestPublic,
    operation_id="decline_hat",
)
def decline_hat(decision: HatRequestToDecide, services: ServicesDep) -> HatRequestPublic:
    return _decide(decision, "declined", services)


@router.get("/members/pending", response_model=list[MemberPublic])
def pending_members(_c: Coordinator, services: ServicesDep) -> list[MemberPublic]:
    with services.store.unit() as session:
        rows = session.scalars(select(Member).where(Member.membership == "pending")).all()
        return [
            MemberPublic(
                subject=m.subject,
                member_id=m.member_id,
                address=m.address,
                wallet_kind=m.wallet_kind,
                membership=m.membership,
                hats=[],
            )  # type: ignore[arg-type]
            for m in rows
        ]


@router.post(
    "/members/{subject}/approve", response_model=MemberPublic, operation_id="approve_member"
)
def approve_member(
    subject: MemberToApprove, caller: Coordinator, services: ServicesDep
) -> MemberPublic:
    with services.store.unit() as session:
        member = session.get(Member, subject)
        if member is None:
            raise ObjectNotFound("no such member", field="subject")
        if member.membership != "pending":
            raise StateConflict(f"the membership is already {member.membership}")
        member.membership = "approved"
        session.add(
            AuditEntry(
                subject=caller.member.subject,
                action="membership_approved",
                object_ref=f"member:{member.member_id}",
            )
        )
        public = MemberPublic(
            subject=member.subject,
            member_id=member.member_id,
            address=member.address,
            wallet_kind=member.wallet_kind,  # type: ignore[arg-type]
            membership=member.membership,
            hats=[],
        )  # type: ignore[arg-type]
    if services.ledger is not None:
        register_on_chain(services.ledger, services.store, member)
    return public
