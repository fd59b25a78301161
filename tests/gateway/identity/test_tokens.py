"""Token attacks against the gateway, with real tokens from the real Keycloak: all 401.

Each forged or misdirected token is presented to `GET /api/v1/me`; a legitimately rotated
signing key (a new RSA provider added through the admin API) is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from eccoo.gateway.identity.realm import KeycloakAdmin, RealmInfo
from eccoo.gateway.identity.tokens import TokenValidator
from eccoo.gateway.settings import GatewaySettings
from fastapi.testclient import TestClient
from fixtures.identity import UserFactory, bearer, client_credentials, password_grant
from joserfc import jwt
from joserfc.jwk import RSAKey

pytestmark = pytest.mark.keycloak


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(h))),
        json.loads(base64.urlsafe_b64decode(pad(p))),
        s,
    )


def _jwks(realm: RealmInfo) -> list[dict[str, Any]]:
    meta = httpx.get(f"{realm.issuer}/.well-known/openid-configuration").json()
    return httpx.get(meta["jwks_uri"]).json()["keys"]


@pytest.fixture(scope="module")
def member(realm_users: UserFactory) -> Any:
    return realm_users.create("care_receiver")


@pytest.fixture(scope="module")
def special_clients(identity_keycloak: Any, eccoo_realm: RealmInfo) -> dict[str, str]:
    """Test-only clients: one without the gateway audience, one stamping a future `nbf`."""
    base = {
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": False,
        "directAccessGrantsEnabled": True,
    }
    future = str(int(time.time()) + 3600)
    with KeycloakAdmin(identity_keycloak, eccoo_realm.realm) as admin:
        admin.ensure_client({**base, "clientId": "eccoo-test-noaud"})
        admin.ensure_client(
            {
                **base,
                "clientId": "eccoo-test-nbf",
                "protocolMappers": [
                    {
                        "name": "gateway-audience",
                        "protocol": "openid-connect",
                        "protocolMapper": "oidc-audience-mapper",
                        "config": {
                            "included.custom.audience": eccoo_realm.audience,
                            "access.token.claim": "true",
                        },
                    },
                    {
                        "name": "future-nbf",
                        "protocol": "openid-connect",
                        "protocolMapper": "oidc-hardcoded-claim-mapper",
                        "config": {
                            "claim.name": "nbf",
                            "claim.value": future,
                            "jsonType.label": "long",
                            "access.token.claim": "true",
                        },
                    },
                ],
            }
        )
    return {"noaud": "eccoo-test-noaud", "nbf": "eccoo-test-nbf"}


def test_a_real_token_is_accepted(gateway: TestClient, member: Any) -> None:
    reply = gateway.get("/api/v1/me", headers=bearer(member.token()))
    assert reply.status_code == 200, reply.text
    assert reply.json()["hats"] == ["care_receiver"]


def test_service_account_tokens_are_accepted(gateway: TestClient, eccoo_realm: RealmInfo) -> None:
    """Client-credentials tokens of the realm's service accounts (treasury tools, indexer)
    carry the gateway audience and their realm roles."""
    treasury = _parts(client_credentials(eccoo_realm, "eccoo-treasury"))[1]
    assert eccoo_realm.audience in treasury["aud"]
    assert "treasurer" in treasury["realm_access"]["roles"]
    for client_id, hats in (("eccoo-treasury", ["treasurer"]), ("eccoo-indexer", [])):
        token = client_credentials(eccoo_realm, client_id)
        reply = gateway.get("/api/v1/me", headers=bearer(token))
        assert reply.status_code == 200, (client_id, reply.text)
        assert reply.json()["hats"] == hats, client_id


def test_missing_or_malformed_authorization_is_401(gateway: TestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Bearer a.b"},
    ):
        reply = gateway.get("/api/v1/me", headers=headers)
        assert reply.status_code == 401
        assert reply.headers["www-authenticate"].startswith("Bearer")
        assert reply.json()["error"] == "Unauthorized"


def _forgeries(realm: RealmInfo, token: str) -> dict[str, str]:
    header, payload, signature = _parts(token)
    body = _b64(json.dumps(payload).encode())
    forged: dict[str, str] = {}
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": header["kid"]}).encode())
    forged["alg none, empty signature"] = f"{none_header}.{body}."
    forged["alg none, kept signature"] = f"{none_header}.{body}.{signature}"
    # HS256 "signed" with the provider's public key as the HMAC secret.
    public = next(k for k in _jwks(realm) if k["kid"] == header["kid"])
    pem = RSAKey.import_key(public).as_pem(private=False)
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}).encode())
    mac = hmac.new(pem, f"{hs_header}.{body}".encode(), hashlib.sha256).digest()
    forged["HS256 with the public key"] = f"{hs_header}.{body}.{_b64(mac)}"
    # Tampered: a claim changed under the original signature, and a flipped signature byte.
    escalated = dict(payload, realm_access={"roles": ["treasurer", "admin"]})
    h_part = token.split(".")[0]
    forged["payload tampered"] = f"{h_part}.{_b64(json.dumps(escalated).encode())}.{signature}"
    raw_sig = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw_sig[10] ^= 0x01
    forged["signature tampered"] = f"{h_part}.{token.split('.')[1]}.{_b64(bytes(raw_sig))}"
    # A well-formed RS256 token signed by a key the provider never published.
    attacker = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    forged["unknown kid"] = jwt.encode({"alg": "RS256", "kid": "attacker-key"}, payload, attacker)
    forged["known kid, other key"] = jwt.encode(
        {"alg": "RS256", "kid": header["kid"]}, payload, attacker
    )
    return forged


def test_forged_tokens_are_401(gateway: TestClient, eccoo_realm: RealmInfo, member: Any) -> None:
    forged = _forgeries(eccoo_realm, member.token())
    results = {
        name: gateway.get("/api/v1/me", headers=bearer(tok)).status_code
        for name, tok in forged.items()
    }
    assert results == dict.fromkeys(forged, 401)


def test_wrong_audience_is_401(
    gateway: TestClient, eccoo_realm: RealmInfo, member: Any, special_clients: dict[str, str]
) -> None:
    token = password_grant(
        eccoo_realm, member.username, member.password, client_id=special_clients["noaud"]
    )
    assert eccoo_realm.audience not in _parts(token)[1].get("aud", [])
    assert gateway.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_wrong_issuer_is_401(gateway: TestClient, eccoo_realm: RealmInfo, member: Any) -> None:
    # Keycloak names the issuer after the host it was asked on: same keys, other `iss`.
    other_host = eccoo_realm.base_url.replace("127.0.0.1", "localhost")
    token = password_grant(eccoo_realm, member.username, member.password, base_url=other_host)
    assert _parts(token)[1]["iss"] != eccoo_realm.issuer
    assert gateway.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_future_nbf_is_401(
    gateway: TestClient, eccoo_realm: RealmInfo, member: Any, special_clients: dict[str, str]
) -> None:
    token = password_grant(
        eccoo_realm, member.username, member.password, client_id=special_clients["nbf"]
    )
    assert _parts(token)[1]["nbf"] > time.time() + 600
    assert gateway.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_expired_token_is_rejected(eccoo_realm: RealmInfo, member: Any) -> None:
    """A real token presented after its `exp` (the validator's clock is moved, not Keycloak's)."""
    token = member.token()
    exp = _parts(token)[1]["exp"]
    settings = GatewaySettings(issuer=eccoo_realm.issuer, audience=eccoo_realm.audience)
    assert TokenValidator(settings).validate(token).subject
    late = TokenValidator(settings, now=lambda: exp + settings.clock_leeway_seconds + 1)
    with pytest.raises(PermissionError):
        late.validate(token)


def test_a_remembered_token_still_expires(eccoo_realm: RealmInfo, member: Any) -> None:
    """Validated tokens are remembered for a few seconds, never past their `exp`."""
    token = member.token()
    exp = _parts(token)[1]["exp"]
    settings = GatewaySettings(issuer=eccoo_realm.issuer, audience=eccoo_realm.audience)
    clock = {"now": int(time.time())}
    validator = TokenValidator(settings, now=lambda: clock["now"])
    assert validator.validate(token).subject
    assert validator.validate(token).subject  # from memory
    clock["now"] = exp + settings.clock_leeway_seconds + 1
    with pytest.raises(PermissionError):
        validator.validate(token)


def test_unknown_kid_refetch_is_rate_limited(eccoo_realm: RealmInfo, member: Any) -> None:
    settings = GatewaySettings(
        issuer=eccoo_realm.issuer,
        audience=eccoo_realm.audience,
        jwks_refetch_min_interval_seconds=3600,
    )
    validator = TokenValidator(settings)
    validator.validate(member.token())
    assert validator.jwks.fetches == 1
    forged = _forgeries(eccoo_realm, member.token())["unknown kid"]
    for _ in range(20):
        with pytest.raises(PermissionError):
            validator.validate(forged)
    assert validator.jwks.fetches == 1  # a flood of unknown kids does not hammer the provider


def test_rotated_key_is_accepted(
    gateway: TestClient, identity_keycloak: Any, eccoo_realm: RealmInfo, member: Any
) -> None:
    before = _parts(member.token())[0]["kid"]
    assert gateway.get("/api/v1/me", headers=bearer(member.token())).status_code == 200
    with KeycloakAdmin(identity_keycloak, eccoo_realm.realm) as admin:
        stamp = int(time.time())
        admin.add_rsa_key_provider(f"rotated-{stamp}", priority=1000 + stamp % 1000)
    token = member.token()
    after = _parts(token)[0]["kid"]
    assert after != before
    assert gateway.get("/api/v1/me", headers=bearer(token)).status_code == 200
