"""The web pages' dependencies: the signed-in member from the session cookie (tokens
refreshed server-side), turned into the very `Caller` the API builds, and the CSRF and
idempotency fields every state-changing form carries.

A page never checks a hat or a party with an `if`: it declares these and the API's own
object loaders. Never put a token into a response.
"""

from __future__ import annotations

import contextlib
import hmac
import re
from typing import Annotated

from eccoo.gateway.api.deps import Caller, ServicesDep, current_caller
from eccoo.gateway.api.idempotency import KEY_PATTERN
from eccoo.gateway.errors import BadRequestField, Forbidden, SignInNeeded, Unauthorized
from eccoo.gateway.identity.tokens import Principal
from eccoo.gateway.parts import Services
from eccoo.gateway.web import provider
from eccoo.gateway.web.sessions import COOKIE, OpenSession
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData

_KEY = re.compile(KEY_PATTERN)


def _principal(services: Services, found: OpenSession) -> tuple[Principal, OpenSession]:
    """The member behind the session's access token, refreshed at the provider once it
    has expired; a session the provider no longer honours is ended."""
    try:
        return services.validator.validate(found.tokens.access_token), found
    except Unauthorized:
        fresh = provider.refresh(services.settings, found.tokens)
        if fresh is None:
            services.web_sessions.end(found)
            raise SignInNeeded("your session has ended: sign in again") from None
        found = services.web_sessions.replace_tokens(found, fresh)
        return services.validator.validate(fresh.access_token), found


async def web_session(request: Request, services: ServicesDep) -> OpenSession:
    found = services.web_sessions.open(request.cookies.get(COOKIE, ""))
    if found is None:
        raise SignInNeeded("sign in to see this page")
    return found


async def web_caller(
    request: Request,
    services: ServicesDep,
    found: Annotated[OpenSession, Depends(web_session)],
) -> Caller:
    """The API's `Caller` for the signed-in member (the same onboarding and hats)."""
    token, validator = found.tokens.access_token, services.validator
    principal: Principal | None = None
    if not validator.needs_keys(token):  # keys and recent tokens are cached in memory
        with contextlib.suppress(Unauthorized):
            principal = validator.validate(token)
    if principal is None:  # keys to fetch, or a refresh at the provider: in a thread
        checked: tuple[Principal, OpenSession] = await run_in_threadpool(
            _principal, services, found
        )
        principal, found = checked
    if principal.subject != found.subject:
        services.web_sessions.end(found)
        raise SignInNeeded("sign in again")
    request.state.web = found  # the page furniture reads its CSRF token
    return await current_caller(principal, services)


WebCaller = Annotated[Caller, Depends(web_caller)]


async def checked_form(request: Request, caller: WebCaller) -> FormData:
    """The posted form, once its CSRF token matches the session's; else 403 and nothing
    happens."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.state.web.csrf_token
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode("utf-8", "replace"), expected.encode()
    ):
        raise Forbidden("this form is out of date: go back, reload the page and send it again")
    return form


WebForm = Annotated[FormData, Depends(checked_form)]


def form_idempotency_key(form: FormData) -> str:
    """The idempotency key minted when the form was rendered."""
    key = form.get("idempotency_key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise BadRequestField("this form is out of date: reload the page", field="idempotency_key")
    return key
