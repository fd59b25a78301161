"""Web sessions kept server-side in the gateway's store, behind an opaque cookie.

The browser holds 32 random bytes and nothing else; the row is found by their SHA-256, so
the database alone cannot be replayed as a cookie. The provider's tokens are sealed with
AES-GCM under a key derived from the master key and bound to their row. Every sign-in
starts a new session (no fixation). Never log or return a cookie value or a token.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import WebSession
from sqlalchemy import delete

COOKIE = "eccoo_session"


@dataclass(frozen=True)
class ProviderTokens:
    """What the identity provider gave at sign-in (or at the last refresh)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OpenSession:
    """A live session: whose it is, their tokens, and the CSRF token its forms carry."""

    id_hash: str = field(repr=False)
    subject: str
    tokens: ProviderTokens = field(repr=False)
    csrf_token: str = field(repr=False)
    expires_at: float


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "replace")).hexdigest()


class WebSessions:
    """Start, open, refresh and end web sessions."""

    def __init__(
        self,
        store: Store,
        key: bytes,
        lifetime_seconds: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._aead = AESGCM(key)
        self._lifetime = lifetime_seconds
        self._now = now

    def __repr__(self) -> str:
        return "WebSessions(<sealed>)"

    def _seal(self, id_hash: str, tokens: ProviderTokens) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        plain = json.dumps([tokens.access_token, tokens.refresh_token, tokens.id_token]).encode()
        return self._aead.encrypt(nonce, plain, id_hash.encode()), nonce

    def start(self, subject: str, tokens: ProviderTokens) -> str:
        """A new session for `subject`; returns the cookie value (shown to no one else)."""
        cookie = secrets.token_urlsafe(32)
        id_hash = _hash(cookie)
        sealed, nonce = self._seal(id_hash, tokens)
        now = self._now()
        with self._store.unit() as session:
            session.execute(delete(WebSession).where(WebSession.expires_at < now))
            session.add(
                WebSession(
                    id_hash=id_hash,
                    subject=subject,
                    tokens_sealed=sealed,
                    tokens_nonce=nonce,
                    csrf_token=secrets.token_urlsafe(32),
                    expires_at=now + self._lifetime,
                )
            )
        return cookie

    def open(self, cookie: str) -> OpenSession | None:
        """The live session behind `cookie`, or None (unknown, expired or tampered)."""
        if not cookie:
            return None
        id_hash = _hash(cookie)
        with self._store.read() as session:
            row = session.get(WebSession, id_hash)
            if row is None or row.expires_at < self._now():
                return None
            try:
                plain = self._aead.decrypt(row.tokens_nonce, row.tokens_sealed, id_hash.encode())
            except InvalidTag:
                return None
            access, refresh, id_token = json.loads(plain)
            return OpenSession(
                id_hash,
                row.subject,
                ProviderTokens(access, refresh, id_token),
                row.csrf_token,
                row.expires_at,
            )

    def replace_tokens(self, current: OpenSession, tokens: ProviderTokens) -> OpenSession:
        """Keep refreshed tokens (the cookie and the CSRF token stay)."""
        sealed, nonce = self._seal(current.id_hash, tokens)
        with self._store.unit() as session:
            row = session.get(WebSession, current.id_hash)
            if row is not None:
                row.tokens_sealed, row.tokens_nonce = sealed, nonce
        return OpenSession(
            current.id_hash, current.subject, tokens, current.csrf_token, current.expires_at
        )

    def end(self, current: OpenSession) -> None:
        with self._store.unit() as session:
            session.execute(delete(WebSession).where(WebSession.id_hash == current.id_hash))
