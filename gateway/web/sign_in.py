"""A web sign-in in progress, bound to the browser that started it (OAuth 2.0 `state`, PKCE,
OpenID Connect `nonce`), so a callback only completes in that browser.

Everything travels in one short-lived, HMAC-signed, HttpOnly cookie; the gateway keeps no
table of pending sign-ins, so sign-ins started and abandoned cost it nothing. The PKCE
verifier is derived from the state under the gateway's key and never leaves the server.
The key is created once in the data folder (0600) and must never be logged or shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eccoo.errors import ConfigError
from eccoo.secret_files import SecretExists, write_secret

COOKIE = "eccoo_sign_in"
COOKIE_PATH = "/auth/callback"
LIFETIME_SECONDS = 600
KEY_FILE = "sign-in.key"
_KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_key(data_dir: Path) -> bytes:
    """The sign-in key in `data_dir`, created on first use: readable by the owner alone."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            write_secret(path, secrets.token_bytes(_KEY_BYTES))
        except SecretExists:
            pass  # a racing first start keeps the first key
    key = path.read_bytes()
    if len(key) != _KEY_BYTES:
        raise ConfigError(f"{path} is not a sign-in key ({_KEY_BYTES} bytes); remove it")
    return key


@dataclass(frozen=True)
class PendingSignIn:
    """What the callback must match: the `state` sent to the provider, the `nonce` the ID
    token must carry, and when the attempt lapses (Unix seconds)."""

    state: str
    nonce: str
    expires: int


class SignInBinding:
    """Starts sign-ins (state, nonce, PKCE) and checks a callback against its cookie."""

    def __init__(self, key: bytes, now: Callable[[], float] = time.time) -> None:
        # Separate keys for the cookie's MAC and the PKCE verifier: one never helps forge the other.
        self._mac_key = hmac.digest(key, b"eccoo sign-in cookie", hashlib.sha256)
        self._verifier_key = hmac.digest(key, b"eccoo sign-in pkce", hashlib.sha256)
        self._now = now

    def start(self) -> tuple[PendingSignIn, str]:
        """A new attempt and the cookie value that carries it."""
        pending = PendingSignIn(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            int(self._now()) + LIFETIME_SECONDS,
        )
        body = f"{pending.state}.{pending.nonce}.{pending.expires}"
        return pending, f"{body}.{self._mac(body)}"

    def verifier(self, pending: PendingSignIn) -> str:
        """The PKCE code verifier of this attempt (43 characters, RFC 7636)."""
        return _b64(hmac.digest(self._verifier_key, pending.state.encode(), hashlib.sha256))

    def challenge(self, pending: PendingSignIn) -> str:
        return _b64(hashlib.sha256(self.verifier(pending).encode()).digest())

    def check(self, cookie: str, state: str) -> PendingSignIn | None:
        """The attempt this browser started, if its cookie is intact, unexpired and names
        `state`; otherwise None (the reason is not told)."""
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(self._mac(body).encode(), mac.encode("utf-8", "replace")):
            return None
        expected_state, nonce, expires = body.split(".")
        if not hmac.compare_digest(expected_state.encode(), state.encode("utf-8", "replace")):
            return None
        if int(expires) < self._now():
            return None
        return PendingSignIn(expected_state, nonce, int(expires))

    @staticmethod
    def nonce_matches(pending: PendingSignIn, id_token: object) -> bool:
        """The ID token from the token endpoint carries this attempt's nonce. It came over
        the gateway's own authenticated back channel, so its claims are read without a
        second signature check (OpenID Connect Core 3.1.3.7)."""
        if not isinstance(id_token, str) or id_token.count(".") != 2:
            return False
        claims_part = id_token.split(".")[1]
        try:
            claims = json.loads(
                base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4))
            )
        except (ValueError, RecursionError):
            return False
        nonce = claims.get("nonce") if isinstance(claims, dict) else None
        return isinstance(nonce, str) and hmac.compare_digest(
            nonce.encode(), pending.nonce.encode()
        )

    def _mac(self, body: str) -> str:
        return _b64(hmac.digest(self._mac_key, body.encode(), hashlib.sha256))
