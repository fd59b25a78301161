"""Server-rendered member pages: sign in with the web client (code + PKCE, the attempt bound
to the browser by `sign_in`), see my balance and my appointments. Plain, accessible HTML
(landmarks, labels, no script).

The access token lives only in an HttpOnly, SameSite=Lax cookie; the page shows nothing a
member could not get from the API, and never another member's data.
"""

from __future__ import annotations

import html
import time
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from eccoo.gateway.errors import GatewayError
from eccoo.gateway.identity import members
from eccoo.gateway.web import sign_in
from eccoo.gateway.web.sign_in import SignInBinding
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)
COOKIE = "eccoo_session"


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · eccoo</title></head><body>"
        '<header><p><a href="/web">eccoo care cooperative</a></p></header>'
        f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status_code=status_code,
    )


def _redirect_uri(request: Request) -> str:
    return f"{request.app.state.services.settings.base_url}/auth/callback"


def _provider(request: Request) -> OAuth2Client:
    """The web client at the identity provider (authlib's OAuth 2.0 client): it builds the
    authorization URL with the PKCE challenge (S256) and exchanges the code for tokens."""
    settings = request.app.state.services.settings
    secret_file = settings.web_client_secret_file
    return OAuth2Client(
        client_id=settings.web_client_id,
        client_secret=secret_file.read_text().strip() if secret_file is not None else None,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name, not a secret)
        scope="openid",
        redirect_uri=_redirect_uri(request),
        code_challenge_method="S256",
        timeout=30,
    )


def _binding(request: Request) -> SignInBinding:
    binding = getattr(request.app.state, "sign_in", None)
    if binding is None:
        key = sign_in.load_key(request.app.state.services.settings.data_dir)
        binding = request.app.state.sign_in = SignInBinding(key)
    return binding  # type: ignore[no-any-return]


def _secure(request: Request) -> bool:
    return bool(request.app.state.services.settings.base_url.startswith("https://"))


def _sign_in_failed(request: Request, reason: str) -> HTMLResponse:
    # 400, and the attempt is spent: a refused callback never signs anyone in.
    response = _page(
        "Sign-in failed", f'<p>{html.escape(reason)} <a href="/web/login">Try again</a>.</p>', 400
    )
    response.delete_cookie(
        sign_in.COOKIE, path=sign_in.COOKIE_PATH, secure=_secure(request), httponly=True
    )
    return response


@router.get("/web/login")
def login(request: Request) -> RedirectResponse:
    settings = request.app.state.services.settings
    binding = _binding(request)
    pending, cookie = binding.start()
    with _provider(request) as provider:
        url, _ = provider.create_authorization_url(
            f"{settings.issuer}/protocol/openid-connect/auth",
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=binding.verifier(pending),
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
        secure=_secure(request),
    )
    return response


@router.get("/auth/callback")
def callback(request: Request, code: str = "", state: str = "") -> Any:
    settings = request.app.state.services.settings
    binding = _binding(request)
    pending = binding.check(request.cookies.get(sign_in.COOKIE, ""), state)
    if pending is None or not code or settings.web_client_secret_file is None:
        return _sign_in_failed(
            request, "The sign-in could not be completed in this browser (or it took too long)."
        )
    try:
        with _provider(request) as provider:
            tokens = provider.fetch_token(
                f"{settings.issuer}/protocol/openid-connect/token",
                grant_type="authorization_code",
                code=code,
                code_verifier=binding.verifier(pending),
            )
    except (OAuthError, httpx.HTTPError, ValueError):
        return _sign_in_failed(request, "The identity provider refused the sign-in.")
    if "id_token" in tokens and not binding.nonce_matches(pending, tokens["id_token"]):
        return _sign_in_failed(request, "The identity provider's answer was not for this sign-in.")
    response = RedirectResponse("/web", 303)
    response.set_cookie(
        COOKIE,
        tokens["access_token"],
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(
        sign_in.COOKIE, path=sign_in.COOKIE_PATH, secure=_secure(request), httponly=True
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
        from eccoo.gateway.api.routes.appointments import appointments_of

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
