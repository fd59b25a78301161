"""Signing in from a terminal: the OAuth 2.0 device authorization grant (RFC 8628) against
any OIDC provider found by its issuer URL, and the session it leaves behind.

The session (access and refresh token) is a secret: it lives in one file, mode 0600 in a
0700 folder, written whole or not at all, and is never printed or logged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eccoo.gateway.errors import LoginDenied, LoginExpired, NotSignedIn, ProviderUnavailable

from eccoo.errors import AlreadyExists
from eccoo.secret_files import write_secret

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# RFC 8628 §3.5: on `slow_down` the polling interval grows by 5 seconds, for good.
SLOW_DOWN_SECONDS = 5
# An access token this close to its expiry is refreshed before use.
EXPIRY_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class DeviceCode:
    """What the provider answered to a device authorization request."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Session:
    """A signed-in member's tokens; `expires_at` is epoch seconds (from the provider)."""

    issuer: str
    client_id: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: int

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - EXPIRY_MARGIN_SECONDS


class Provider:
    """The endpoints of one issuer, from its discovery document (fetched once)."""

    def __init__(self, issuer: str, client_id: str, http: httpx.Client | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.http = http or httpx.Client(timeout=30)
        self._metadata: dict[str, Any] | None = None

    def _post(self, url: str, data: dict[str, str]) -> httpx.Response:
        try:
            return self.http.post(url, data=data)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the identity provider did not answer: {exc}") from None

    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                reply = self.http.get(url)
            except httpx.HTTPError as exc:
                raise ProviderUnavailable(f"{url} did not answer: {exc}") from None
            if reply.status_code != 200:
                raise ProviderUnavailable(f"{url} answered {reply.status_code}")
            self._metadata = dict(reply.json())
        return self._metadata

    def start(self) -> DeviceCode:
        """Ask for a device code; the member approves it in a browser, anywhere."""
        endpoint = self.metadata.get("device_authorization_endpoint")
        if not endpoint:
            raise LoginDenied(f"{self.issuer} does not offer the device authorization grant")
        reply = self._post(endpoint, {"client_id": self.client_id, "scope": "openid"})
        body = reply.json()
        if reply.status_code != 200:
            raise LoginDenied(f"the provider refused to start a sign-in: {_reason(body)}")
        return DeviceCode(
            device_code=body["device_code"],
            user_code=body["user_code"],
            verification_uri=body["verification_uri"],
            verification_uri_complete=body.get("verification_uri_complete"),
            expires_in=int(body["expires_in"]),
            interval=int(body.get("interval", 5)),
        )

    def wait(
        self,
        code: DeviceCode,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Session:
        """Poll the token endpoint at the provider's pace until the member approves."""
        deadline = clock() + code.expires_in
        interval = code.interval
        while True:
            reply = self._post(
                self.metadata["token_endpoint"],
                {
                    "grant_type": DEVICE_GRANT,
                    "client_id": self.client_id,
                    "device_code": code.device_code,
                },
            )
            body = reply.json()
            if reply.status_code == 200:
                return self._session(body)
            error = body.get("error")
            if error == "slow_down":
                interval += SLOW_DOWN_SECONDS
            elif error == "access_denied":
                raise LoginDenied("the sign-in was declined in the browser")
            elif error == "expired_token":
                raise LoginExpired("the sign-in code expired before it was approved; start again")
            elif error != "authorization_pending":
                raise LoginDenied(f"the provider refused the sign-in: {_reason(body)}")
            if clock() + interval > deadline:
                raise LoginExpired("the sign-in code expired before it was approved; start again")
            sleep(interval)

    def refresh(self, session: Session) -> Session:
        """A new access token from the refresh token; NotSignedIn when that has ended."""
        if not session.refresh_token:
            raise NotSignedIn("the session has expired; sign in again (`eccoo gateway login`)")
        reply = self._post(
            self.metadata["token_endpoint"],
            {
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "refresh_token": session.refresh_token,
            },
        )
        if reply.status_code != 200:
            raise NotSignedIn("the session has ended; sign in again (`eccoo gateway login`)")
        return self._session(reply.json(), previous=session)

    def revoke(self, session: Session) -> bool:
        """End the session at the provider (RFC 7009); False if it has no revocation endpoint."""
        endpoint = self.metadata.get("revocation_endpoint")
        if not endpoint or not session.refresh_token:
            return False
        reply = self._post(
            endpoint,
            {
                "client_id": self.client_id,
                "token": session.refresh_token,
                "token_type_hint": "refresh_token",
            },
        )
        return reply.status_code == 200

    def _session(self, body: dict[str, Any], previous: Session | None = None) -> Session:
        refresh = body.get("refresh_token") or (previous.refresh_token if previous else None)
        return Session(
            issuer=self.issuer,
            client_id=self.client_id,
            access_token=str(body["access_token"]),
            refresh_token=refresh,
            expires_at=int(time.time()) + int(body.get("expires_in", 60)),
        )


class SessionFile:
    """Where the CLI keeps the session: one JSON file, 0600, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> Session | None:
        try:
            return Session(**json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            raise NotSignedIn(f"{self.path} is not a session file; sign in again") from None

    def refuse_overwrite(self, force: bool) -> None:
        if self.path.exists() and not force:
            raise AlreadyExists(
                f"already signed in ({self.path}); `eccoo gateway logout` first, or pass --force"
            )

    def save(self, session: Session, *, force: bool = False) -> None:
        """Write the session; an existing one is replaced only with `force` (a refresh
        passes it)."""
        self.refuse_overwrite(force)
        write_secret(self.path, json.dumps(asdict(session)), replace=force, private_folder=True)

    def delete(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


def current(store: SessionFile, provider_for: Callable[[Session], Provider]) -> Session:
    """The stored session with a fresh access token (refreshed and saved if it had expired)."""
    session = store.load()
    if session is None:
        raise NotSignedIn("not signed in; run `eccoo gateway login`")
    if session.fresh(time.time()):
        return session
    renewed = provider_for(session).refresh(session)
    store.save(renewed, force=True)
    return renewed


def member_record(gateway_url: str, access_token: str, http: httpx.Client | None = None) -> Any:
    """`GET /api/v1/me` with the session's token; a refusal becomes NotSignedIn."""
    client = http or httpx.Client(base_url=gateway_url, timeout=30)
    try:
        reply = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"the gateway at {gateway_url} did not answer: {exc}") from None
    if reply.status_code == 401:
        raise NotSignedIn("the gateway refused the session; sign in again (`eccoo gateway login`)")
    if reply.status_code != 200:
        raise ProviderUnavailable(f"the gateway answered {reply.status_code}")
    return reply.json()


def _reason(body: dict[str, Any]) -> str:
    return str(body.get("error_description") or body.get("error") or "no reason given")
