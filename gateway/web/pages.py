"""The member pages' front door: sign in (code + PKCE, bound to the browser by `sign_in`),
the session that follows, sign out (here and at the provider), and the home page.

A session starts only at a completed sign-in, under a new id; the tokens stay in the
store. Home shows nothing the API would not show this member, through the API's own code.
"""

from __future__ import annotations

from typing import Any

from eccoo.client.vocabulary import FINAL_TX_STATES
from eccoo.gateway.api.deps import ServicesDep
from eccoo.gateway.api.routes.appointments import appointments_of, listing_allowed
from eccoo.gateway.errors import GatewayError, SignInNeeded
from eccoo.gateway.parts import Services
from eccoo.gateway.store.models import ChainTransaction
from eccoo.gateway.web import provider, sign_in, words
from eccoo.gateway.web.deps import WebForm, web_caller, web_session
from eccoo.gateway.web.render import date_time, page
from eccoo.gateway.web.render import gettext as _
from eccoo.gateway.web.sessions import COOKIE, ProviderTokens
from eccoo.gateway.web.sign_in import SignInBinding
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

router = APIRouter(include_in_schema=False)


def _binding(request: Request) -> SignInBinding:
    binding = getattr(request.app.state, "sign_in", None)
    if binding is None:
        key = sign_in.load_key(request.app.state.services.settings.data_dir)
        binding = request.app.state.sign_in = SignInBinding(key)
    return binding  # type: ignore[no-any-return]


def _secure(services: Services) -> bool:
    return services.settings.base_url.startswith("https://")


def _sign_in_failed(request: Request, services: Services, reason: str) -> HTMLResponse:
    # 400, and the attempt is spent: a refused callback never signs anyone in.
    response = page(
        request,
        "message.html",
        status_code=400,
        title=_("Sign-in failed"),
        paragraphs=[reason],
        next_href="/web/login",
        next_label=_("Try signing in again"),
    )
    response.delete_cookie(
        sign_in.COOKIE, path=sign_in.COOKIE_PATH, secure=_secure(services), httponly=True
    )
    return response


@router.get("/web/login")
def login(request: Request, services: ServicesDep) -> RedirectResponse:
    binding = _binding(request)
    pending, cookie = binding.start()
    url = provider.authorization_url(
        services.settings, pending.state, pending.nonce, binding.verifier(pending)
    )
    response = RedirectResponse(url, 302)
    # SameSite=Lax still reaches the callback: the provider sends the browser back with a
    # top-level GET. Only this browser holds it, so only this browser can finish.
    response.set_cookie(
        sign_in.COOKIE,
        cookie,
        max_age=sign_in.LIFETIME_SECONDS,
        path=sign_in.COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(services),
    )
    return response


@router.get(provider.CALLBACK_PATH)
def callback(request: Request, services: ServicesDep, code: str = "", state: str = "") -> Any:
    settings = services.settings
    binding = _binding(request)
    pending = binding.check(request.cookies.get(sign_in.COOKIE, ""), state)
    if pending is None or not code or settings.web_client_secret_file is None:
        return _sign_in_failed(
            request,
            services,
            _("The sign-in could not be completed in this browser (or it took too long)."),
        )
    try:
        tokens = provider.exchange_code(settings, code, binding.verifier(pending))
    except provider.REFUSED:
        return _sign_in_failed(request, services, _("The identity provider refused the sign-in."))
    if "id_token" in tokens and not binding.nonce_matches(pending, tokens["id_token"]):
        return _sign_in_failed(
            request, services, _("The identity provider's answer was not for this sign-in.")
        )
    try:
        principal = services.validator.validate(tokens["access_token"])
    except GatewayError:
        return _sign_in_failed(request, services, _("The identity provider refused the sign-in."))
    # Always a new session id: whatever cookie the browser had before is not kept.
    cookie = services.web_sessions.start(
        principal.subject,
        ProviderTokens(tokens["access_token"], tokens.get("refresh_token"), tokens.get("id_token")),
    )
    response = RedirectResponse("/web", 303)
    response.set_cookie(
        COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(services), path="/"
    )
    response.delete_cookie(
        sign_in.COOKIE, path=sign_in.COOKIE_PATH, secure=_secure(services), httponly=True
    )
    return response


@router.post("/web/logout")
async def logout(request: Request, services: ServicesDep, _form: WebForm) -> Response:
    """End the session here, then at the provider (RP-initiated logout)."""
    found = await web_session(request, services)
    services.web_sessions.end(found)
    response = RedirectResponse(provider.end_session_url(services.settings, found.tokens), 303)
    response.delete_cookie(COOKIE, path="/", secure=_secure(services), httponly=True)
    return response


@router.get(provider.SIGNED_OUT_PATH)
def signed_out(request: Request) -> HTMLResponse:
    return page(
        request,
        "message.html",
        title=_("You have signed out"),
        paragraphs=[_("You have signed out of eccoo on this device.")],
        next_href="/web/login",
        next_label=_("Sign in again"),
    )


def _home_data(services: Services, caller: Any) -> dict[str, Any]:
    """Everything the home page shows, read through the API's own functions."""
    ledger = services.ledger
    address = caller.member.address
    balance = None
    appointments = []
    if ledger is not None:
        balance = int(ledger.call("CareCoin", "balanceOf", address))
        appointments = appointments_of(ledger, address)
    actions = []
    for appointment in appointments:
        if appointment.status == "booked" and appointment.giver == address:
            actions.append((appointment, _("Mark delivered")))
        elif appointment.status == "delivered" and appointment.giver != address:
            actions.append((appointment, _("Confirm or dispute")))
    with services.store.read() as session:
        pending = session.scalars(
            select(ChainTransaction)
            .where(ChainTransaction.subject == caller.member.subject)
            .where(ChainTransaction.state.not_in([s.value for s in FINAL_TX_STATES]))
            .order_by(ChainTransaction.created_at.desc())
            .limit(20)
        ).all()
        in_progress = [
            {
                "id": tx.id,
                "what": words.transaction_kind(tx.kind),
                "state_words": words.transaction_state(tx.state),
            }
            for tx in pending
        ]
    head = [_("No."), _("Starts"), _("Length"), _("I am"), _("Status")]
    rows = [
        [
            (str(a.id), f"/web/appointments/{a.id}"),
            date_time(a.start),
            _("%(minutes)s minutes", minutes=a.duration_minutes),
            words.my_part(a, address),
            words.appointment_status(a.status),
        ]
        for a in appointments
    ]
    return {
        "balance": balance,
        "actions": actions,
        "head": head,
        "upcoming": rows,
        "in_progress": in_progress,
        "membership": caller.member.membership,
    }


@router.get("/web")
async def home(request: Request, services: ServicesDep) -> HTMLResponse:
    try:
        caller = await web_caller(request, services, await web_session(request, services))
    except SignInNeeded:
        return page(request, "welcome.html", title=_("Welcome"))
    await listing_allowed(caller, services)
    data = await run_in_threadpool(_home_data, services, caller)
    return page(request, "home.html", title=_("My care"), **data)
