"""`/me`: who the caller is, their pseudonymous member id, wallet address and hats.

The first authenticated call creates the member (wallet + pending membership). It never
returns a key, a name or an e-mail address.
"""

from __future__ import annotations

from eccoo.gateway.api.deps import CurrentCaller
from eccoo.gateway.api.openapi_links import MEMBER
from eccoo.gateway.api.schemas import MemberPublic
from fastapi import APIRouter

router = APIRouter(tags=["me"])


def member_public(caller: CurrentCaller) -> MemberPublic:
    m = caller.member
    return MemberPublic(
        subject=m.subject,
        member_id=m.member_id,
        address=m.address,
        wallet_kind=m.wallet_kind,  # type: ignore[arg-type]
        membership=m.membership,  # type: ignore[arg-type]
        hats=sorted(caller.hats),
    )


@router.get("/me", response_model=MemberPublic, responses=MEMBER)
def read_me(caller: CurrentCaller) -> MemberPublic:
    return member_public(caller)
