"""The web client at the identity provider (authlib's OAuth 2.0 client): the authorization
URL with its PKCE challenge, the code exchange, the server-side refresh, and the address
that ends the provider's session (OpenID Connect RP-initiated logout).

Tokens travel only between the gateway and the provider; nothing here reaches a browser
except the two addresses it is sent to. Never log a token or the client secret.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.web.sessions import ProviderTokens

CALLBACK_PATH = "/auth/callback"
SIGNED_OUT_PATH = "/web/signed-out"
# What the provider may answer when a code or a refresh token is refused or unreachable.
REFUSED = (OAuthError, httpx.HTTPError, ValueError, KeyError)


def _endpoint(settings: GatewaySettings, name: str) -> str:
    return f"{settings.issuer}/protocol/openid-connect/{name}"


def client(settings: GatewaySettings) -> OAuth2Client:
    secret_file = settings.web_client_secret_file
    return OAuth2Client(
        client_id=settings.web_client_id,
        client_secret=secret_file.read_text().strip() if secret_file is not None else None,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name, not a secret)
        scope="openid",
        redirect_uri=settings.base_url + CALLBACK_PATH,
        code_challenge_method="S256",
        timeout=30,
    )


def authorization_url(settings: GatewaySettings, state: str, nonce: str, verifier: str) -> str:
    with client(settings) as provider:
        url, _ = provider.create_authorization_url(
            _endpoint(settings, "auth"), state=state, nonce=nonce, code_verifier=verifier
        )
    return str(url)


def exchange_code(settings: GatewaySettings, code: str, verifier: str) -> dict[str, str]:
    """The provider's tokens for this code (raises one of REFUSED when it will not)."""
    with client(settings) as provider:
        tokens = provider.fetch_token(
            _endpoint(settings, "token"),
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
        )
    return dict(tokens)


def refresh(settings: GatewaySettings, tokens: ProviderTokens) -> ProviderTokens | None:
    """New tokens from the refresh token, or None when the provider says no."""
    if not tokens.refresh_token:
        return None
    try:
        with client(settings) as provider:
            fresh = provider.refresh_token(
                _endpoint(settings, "token"), refresh_token=tokens.refresh_token
            )
    except REFUSED:
        return None
    return ProviderTokens(
        fresh["access_token"],
        fresh.get("refresh_token", tokens.refresh_token),
        fresh.get("id_token", tokens.id_token),
    )


def end_session_url(settings: GatewaySettings, tokens: ProviderTokens) -> str:
    """Where the browser goes to end its session at the provider too; it comes back to
    the signed-out page."""
    query = {
        "client_id": settings.web_client_id,
        "post_logout_redirect_uri": settings.base_url + SIGNED_OUT_PATH,
    }
    if tokens.id_token:
        query["id_token_hint"] = tokens.id_token
    return f"{_endpoint(settings, 'logout')}?{urlencode(query)}"
