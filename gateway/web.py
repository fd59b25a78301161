"""Server-rendered member pages: sign in with the web client (code + PKCE), see my balance
and my appointments. Plain, accessible HTML (landmarks, labels, no script).

The access token lives only in an HttpOnly, SameSite=Lax cookie; the page shows nothing a
member could not get from the API, and never another member's data.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from eccoo.gateway import members
from eccoo.gateway.errors import GatewayError
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)
COOKIE = "eccoo_session"
_pending: dict[str, tuple[str, float]] = {}  # state -> (PKCE verifier, expiry)
_lock = threading.Lock()


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · eccoo</title></head><body>"
        '<header><p><a href="/web">eccoo care cooperative</a></p></header>'
        f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


def _redirect_uri(request: Request) -> str:
    return f"{request.app.state.services.settings.base_url}/auth/callback"


@router.get("/web/login")
def login(request: Request) -> RedirectResponse:
    settings = request.app.state.services.settings
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    with _lock:
        now = time.time()
        for key in [k for k, (_, exp) in _pending.items() if exp < now]:
            del _pending[key]
        _pending[state] = (verifier, now + 600)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.web_client_id,
            "scope": "openid",
            "redirect_uri": _redirect_uri(request),
            "state": state,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    return RedirectResponse(f"{settings.issuer}/protocol/openid-connect/auth?{query}", 302)


@router.get("/auth/callback")
def callback(request: Request, code: str = "", state: str = "") -> Any:
    settings = request.app.state.services.settings
    with _lock:
        pending = _pending.pop(state, None)
    if pending is None or not code or settings.web_client_secret_file is None:
        return _page(
            "Sign-in failed",
            '<p>The sign-in could not be completed. <a href="/web/login">Try again</a>.</p>',
        )
    reply = httpx.post(
        f"{settings.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": pending[0],
            "redirect_uri": _redirect_uri(request),
            "client_id": settings.web_client_id,
            "client_secret": settings.web_client_secret_file.read_text().strip(),
        },
        timeout=30,
    )
    if reply.status_code != 200:
        return _page(
            "Sign-in failed",
            '<p>The identity provider refused the sign-in. <a href="/web/login">Try again</a>.</p>',
        )
    response = RedirectResponse("/web", 303)
    response.set_cookie(
        COOKIE,
        reply.json()["access_token"],
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
        path="/",
    )
    return response


@router.get("/web")
def home(request: Request) -> HTMLResponse:
    services = request.app.state.services
    token = request.cookies.get(COOKIE, "")
    try:
        principal = services.validator.validate(token)
    except GatewayError:
        return _page(
            "Welcome",
            '<p><a href="/web/login">Sign in</a> to see your balance and your appointments.</p>',
        )
    member = members.get_or_create(services.store, services.custody, principal, services.salt)
    rows = []
    balance = "unavailable"
    if services.ledger is not None:
        ledger = services.ledger
        balance = f"{int(ledger.call('CareCoin', 'balanceOf', member.address)) / 100:.2f} CARE"
        from eccoo.gateway.routes.appointments import appointments_of

        services.listing_limiter.take(member.subject)
        for found in appointments_of(ledger, member.address):
            role = "giver" if member.address == found.giver else "receiver side"
            start = time.strftime("%Y-%m-%d %H:%M", time.gmtime(found.start))
            rows.append(
                f"<tr><td>{found.id}</td><td>{start} UTC</td>"
                f"<td>{found.duration_minutes} min</td><td>{role}</td>"
                f"<td>{html.escape(found.status)}</td></tr>"
            )
    table = (
        (
            '<table><caption>My appointments</caption><thead><tr><th scope="col">No.</th>'
            '<th scope="col">Start</th><th scope="col">Length</th><th scope="col">'
            'I am</th><th scope="col">Status</th></tr></thead><tbody>'
            + "".join(rows)
            + "</tbody></table>"
        )
        if rows
        else "<p>You have no appointments yet.</p>"
    )
    body = (
        f'<section aria-labelledby="bal"><h2 id="bal">My balance</h2>'
        f"<p>{html.escape(balance)}</p></section>"
        f'<section aria-labelledby="app"><h2 id="app">My appointments</h2>{table}'
        f"</section><p>Membership: {html.escape(member.membership)}</p>"
    )
    return _page("My care", body)
