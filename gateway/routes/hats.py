"""Hats and membership approval: a member asks for a hat, a coordinator decides.

Only the care hats can be requested here; coordinator, treasurer, admin and node_operator
come from the identity provider alone. Each decision is written to the audit trail.
"""

from __future__ import annotations

from typing import Annotated

from eccoo.gateway.deps import Coordinator, CurrentCaller, ServicesDep
from eccoo.gateway.errors import ObjectNotFound, StateConflict
from eccoo.gateway.links import HAT_REQUESTED
from eccoo.gateway.onboarding import grant_hat, register_on_chain
from eccoo.gateway.schemas import HatRequestIn, HatRequestPublic, MemberPublic
from eccoo.gateway.store.models import AuditEntry, HatRequest, Member
from fastapi import APIRouter, Path
from sqlalchemy import select

router = APIRouter(tags=["hats"])


def _public(req: HatRequest) -> HatRequestPublic:
    return HatRequestPublic(id=req.id, subject=req.subject, hat=req.hat, status=req.status)  # type: ignore[arg-type]


@router.post(
    "/me/hats/requests", response_model=HatRequestPublic, status_code=201, responses=HAT_REQUESTED
)
def request_hat(
    body: HatRequestIn, caller: CurrentCaller, services: ServicesDep
) -> HatRequestPublic:
    if caller.has(body.hat):
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


def _decide(
    request_id: int, status: str, caller: Coordinator, services: ServicesDep
) -> HatRequestPublic:
    with services.store.unit() as session:
        req = session.get(HatRequest, request_id)
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
    # A member already on chain gets the hat there at once; others get it at registration.
    registered = member is not None and member.membership == "registered"
    if status == "approved" and services.ledger is not None and registered:
        grant_hat(services.ledger, member, public.hat)  # type: ignore[arg-type]
    return public


# A row id: SQLite integers are 64-bit signed; a larger id is bad input (422), not a 500.
HatRequestId = Annotated[int, Path(gt=0, lt=2**63)]


@router.post(
    "/hats/requests/{request_id}/approve",
    response_model=HatRequestPublic,
    operation_id="approve_hat",
)
def approve_hat(
    request_id: HatRequestId, caller: Coordinator, services: ServicesDep
) -> HatRequestPublic:
    return _decide(request_id, "approved", caller, services)


@router.post(
    "/hats/requests/{request_id}/decline",
    response_model=HatRequestPublic,
    operation_id="decline_hat",
)
def decline_hat(
    request_id: HatRequestId, caller: Coordinator, services: ServicesDep
) -> HatRequestPublic:
    return _decide(request_id, "declined", caller, services)


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
def approve_member(subject: str, caller: Coordinator, services: ServicesDep) -> MemberPublic:
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
