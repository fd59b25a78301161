"""FastAPI dependencies: the gateway's parts, the caller, and authorization as dependencies.

Handlers never check a hat with an `if`: they declare `CurrentMember` or
`RequireHat(Hat.COORDINATOR)`, and object-level checks live in `load_*_for` dependencies.
The ones here are `async` and touch only memory and the local database, never the chain,
so a request does not hop to a worker thread for each of them (a token whose keys must
first be fetched from the provider is validated in a thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from eccoo.client.vocabulary import Hat
from eccoo.gateway.errors import Forbidden, StateConflict, Unauthorized, Unavailable
from eccoo.gateway.identity import members
from eccoo.gateway.identity.tokens import Principal
from eccoo.gateway.parts import Services
from eccoo.gateway.store.models import Member
from eccoo.gateway.tx.ledger import Ledger
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool


async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


async def bearer_principal(request: Request, services: ServicesDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer access token is required")
    validator = services.validator
    if validator.needs_keys(token):  # a network call: not on the event loop
        return await run_in_threadpool(validator.validate, token)
    return validator.validate(token)


CurrentPrincipal = Annotated[Principal, Depends(bearer_principal)]


@dataclass(frozen=True)
class Caller:
    """The member behind the request and the hats that count for it."""

    principal: Principal
    member: Member
    hats: frozenset[str]

    def has(self, hat: Hat) -> bool:
        return hat.key in self.hats


async def current_caller(principal: CurrentPrincipal, services: ServicesDep) -> Caller:
    member, hats = members.load(services.store, services.custody, principal, services.salt)
    return Caller(principal, members.onboard(services, member, principal), hats)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def current_member(caller: CurrentCaller) -> Member:
    return caller.member


CurrentMember = Annotated[Member, Depends(current_member)]


class RequireHat:
    """`Depends(RequireHat(Hat.TREASURER))`: 403 unless the caller wears one of the hats."""

    def __init__(self, *hats: Hat) -> None:
        self.hats = frozenset(h.key for h in hats)

    async def __call__(self, caller: CurrentCaller) -> Caller:
        if not (caller.hats & self.hats):
            raise Forbidden(f"this needs the {' or '.join(sorted(self.hats))} hat")
        return caller


Coordinator = Annotated[Caller, Depends(RequireHat(Hat.COORDINATOR))]
Treasurer = Annotated[Caller, Depends(RequireHat(Hat.TREASURER))]


async def get_ledger(services: ServicesDep) -> Ledger:
    if services.ledger is None:
        raise Unavailable("the gateway has no chain configured")
    return services.ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def take_submission(caller: Caller, services: Services) -> Caller:
    """Rate limit on ledger-changing submissions, per member."""
    services.limiter.take(caller.member.subject)
    return caller


async def submission_allowed(caller: CurrentCaller, services: ServicesDep) -> Caller:
    return take_submission(caller, services)


Submitter = Annotated[Caller, Depends(submission_allowed)]


def custodial_signer(caller: Caller) -> str:
    """The address whose custodial key the worker will sign with; linked wallets sign themselves."""
    member = caller.member
    if member.wallet_kind != "custodial":
        raise StateConflict("your wallet is your own: submit a signed forward request instead")
    return member.address
