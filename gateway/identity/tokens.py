"""Access-token validation for a resource server (RFC 8725, RFC 9068), against OIDC discovery.

The algorithm comes from a fixed allow-list, never from the token; `iss`, `aud`, `exp`
and `nbf` are always checked; keys come from the provider's JWKS, cached, and refetched
at most once per interval when an unknown `kid` appears. Reasons are never echoed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from eccoo.client.vocabulary import HAT_KEYS, PROVIDER_ONLY_HATS
from eccoo.gateway.errors import Unauthorized, Unavailable
from eccoo.gateway.settings import GatewaySettings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

# Every hat a token may carry: the ledger's hats and the provider's own.
HATS = frozenset(HAT_KEYS) | PROVIDER_ONLY_HATS
_KEY_TYPE_FOR_ALG = {"RS256": "RSA", "ES256": "EC"}
_ACCESS_TOKEN_TYPES = {"jwt", "at+jwt", "application/at+jwt"}
_MAX_CACHED_TOKENS = 10_000


@dataclass(frozen=True)
class Principal:
    """Who called: the token's subject and the hats (realm roles) it carries."""

    subject: str
    roles: frozenset[str]
    client_id: str | None = None
    username: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def hats(self) -> frozenset[str]:
        return self.roles & HATS


def _token_key(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _b64json(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except RecursionError:  # nested deeper than the parser goes: refused like any bad JSON
        raise ValueError("nested too deeply") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


class JwksCache:
    """The provider's signing keys, found through discovery and refreshed on demand."""

    def __init__(self, settings: GatewaySettings, http: httpx.Client | None = None) -> None:
        self._issuer = settings.issuer.rstrip("/")
        self._ttl = settings.jwks_cache_seconds
        self._min_interval = settings.jwks_refetch_min_interval_seconds
        self._http = http or httpx.Client(timeout=10.0)
        self._lock = threading.Lock()
        self._keys: dict[str, RSAKey | ECKey] = {}
        self._jwks_uri: str | None = None
        self._fetched_at = float("-inf")
        self.fetches = 0  # how many times the JWKS was fetched (observable for tests)

    def _discover(self) -> str:
        if self._jwks_uri is None:
            url = f"{self._issuer}/.well-known/openid-configuration"
            meta = self._http.get(url).raise_for_status().json()
            if meta.get("issuer", "").rstrip("/") != self._issuer:
                raise Unavailable("the provider's discovery document names another issuer")
            self._jwks_uri = str(meta["jwks_uri"])
        return self._jwks_uri

    def _fetch(self) -> None:
        try:
            document = self._http.get(self._discover()).raise_for_status().json()
        except httpx.HTTPError as exc:
            raise Unavailable("the identity provider's keys could not be fetched") from exc
        keys: dict[str, RSAKey | ECKey] = {}
        for raw in document.get("keys", []):
            if raw.get("use", "sig") != "sig" or not raw.get("kid"):
                continue
            if raw.get("kty") not in ("RSA", "EC"):
                continue
            keys[raw["kid"]] = KeySet.import_key_set({"keys": [raw]}).keys[0]  # type: ignore[assignment]
        self._keys = keys
        self._fetched_at = time.monotonic()
        self.fetches += 1

    def would_fetch(self, kid: str) -> bool:
        """Would `key_for(kid)` go to the provider (expired cache, or an unknown kid)?"""
        age = time.monotonic() - self._fetched_at
        return age > self._ttl or (kid not in self._keys and age >= self._min_interval)

    def key_for(self, kid: str) -> RSAKey | ECKey | None:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age > self._ttl:
                self._fetch()
            elif kid not in self._keys and age >= self._min_interval:
                self._fetch()  # the provider may have rotated: look once, rate-limited
            return self._keys.get(kid)


class TokenValidator:
    """Turns a bearer token into a `Principal`, or raises `Unauthorized`."""

    def __init__(
        self,
        settings: GatewaySettings,
        jwks: JwksCache | None = None,
        now: Callable[[], int] | None = None,
    ) -> None:
        self._settings = settings
        self._issuer = settings.issuer.rstrip("/")
        self.jwks = jwks or JwksCache(settings)
        self._now = now or (lambda: int(time.time()))
        # Tokens already validated, by SHA-256: reused until min(exp, cache time), never longer.
        self._validated: dict[bytes, tuple[Principal, int]] = {}
        self._cache_seconds = settings.token_cache_seconds

    def needs_keys(self, token: str) -> bool:
        """Would validating `token` fetch the provider's keys (a network call)?"""
        if self._remembered(token) is not None:
            return False
        try:
            kid = _b64json(token.split(".")[0]).get("kid")
        except (ValueError, UnicodeError):
            return False  # refused without a fetch
        return isinstance(kid, str) and bool(kid) and self.jwks.would_fetch(kid)

    def _remembered(self, token: str) -> Principal | None:
        cached = self._validated.get(_token_key(token))
        return cached[0] if cached is not None and self._now() < cached[1] else None

    def validate(self, token: str) -> Principal:
        remembered = self._remembered(token)
        if remembered is not None:
            return remembered
        try:
            principal = self._validate(token)
        except (JoseError, ValueError, KeyError, TypeError, UnicodeError, RecursionError) as exc:
            raise Unauthorized("invalid access token") from exc
        if self._cache_seconds > 0:
            if len(self._validated) >= _MAX_CACHED_TOKENS:
                self._validated.clear()  # crude but bounded; the next calls refill it
            until = min(int(principal.claims["exp"]), self._now() + self._cache_seconds)
            self._validated[_token_key(token)] = (principal, until)
        return principal

    def _validate(self, token: str) -> Principal:
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise Unauthorized("invalid access token")
        header = _b64json(parts[0])
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._settings.algorithms:
            raise Unauthorized("invalid access token")
        if str(header.get("typ", "JWT")).lower() not in _ACCESS_TOKEN_TYPES:
            raise Unauthorized("invalid access token")
        if header.get("crit") or "jku" in header or "x5u" in header or "jwk" in header:
            raise Unauthorized("invalid access token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("invalid access token")
        key = self.jwks.key_for(kid)
        if key is None or key.key_type != _KEY_TYPE_FOR_ALG[alg]:
            raise Unauthorized("invalid access token")
        if key.get("alg") not in (None, alg):
            raise Unauthorized("invalid access token")
        decoded = jwt.decode(token, key, algorithms=[alg])
        claims = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=self._now,
            leeway=self._settings.clock_leeway_seconds,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._settings.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        registry.validate(claims)
        roles = claims.get("realm_access", {}).get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthorized("invalid access token")
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(roles),
            client_id=claims.get("client_id") or claims.get("azp"),
            username=claims.get("preferred_username"),
            claims=claims,
        )
