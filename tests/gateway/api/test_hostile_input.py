"""Hostile input against a live gateway: forged sign-in callbacks, tokens and signatures built
to break a parser, deciding about oneself, deciding twice. Each answers 4xx, never a 500,
and leaves nothing behind that lets it work later.

Real Keycloak (its login page for the web sign-in), a real chain and Neo4j, one gateway.
"""

from __future__ import annotations

import base64
import gc
import html
import re
import time
import tracemalloc
from typing import Any

import httpx
import pytest
from fixtures.api import post
from fixtures.cast import Cast
from fixtures.identity import UserFactory, bearer, default_recursion_limit
from fixtures.wallets import linked_member

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SESSION = "eccoo_session"


@pytest.fixture(scope="module")
def cast(live_gateway: Any, realm_users: UserFactory) -> Cast:
    people = {
        "coordinator": ("coordinator",),
        "second_coordinator": ("coordinator",),
        "member": (),
        "attacker": (),
        "victim": (),
    }
    return Cast(live_gateway, realm_users, people)


@pytest.fixture(scope="module")
def web_sign_in(live_gateway: Any, identity_keycloak: Any) -> str:
    """The web client accepts this gateway's callback (its port is this run's)."""
    from eccoo.gateway.identity.realm import KeycloakAdmin

    callback_uri = f"{live_gateway.url}/auth/callback"
    with KeycloakAdmin(identity_keycloak, "eccoo") as admin:
        client_id = admin.client_uuid("eccoo-web")
        rep = admin.call("GET", f"/clients/{client_id}").json()
        rep["redirectUris"] = sorted({*rep["redirectUris"], callback_uri})
        admin.call("PUT", f"/clients/{client_id}", json=rep)
    return callback_uri


def _sign_in_at_provider(to_provider: httpx.Response, person: Any, callback_uri: str) -> str:
    """What a browser does at Keycloak after `/web/login`: open the login page, sign in as
    `person`. Returns the callback address Keycloak sends the browser to (not followed)."""
    assert to_provider.status_code == 302, to_provider.text
    provider = httpx.Client(follow_redirects=True, timeout=30)
    form = provider.get(to_provider.headers["location"])
    found = re.search(r'<form[^>]*action="([^"]+)"', form.text)
    assert found is not None, form.text[:500]
    # Keycloak marks its cookies Secure; httpx will not send them to http://127.0.0.1.
    jar = "; ".join(f"{c.name}={c.value}" for c in provider.cookies.jar)
    back = provider.post(
        html.unescape(found.group(1)),
        data={"username": person.username, "password": person.password},
        headers={"Cookie": jar},
        follow_redirects=False,
    )
    location = back.headers.get("location", "")
    assert back.status_code == 302 and location.startswith(callback_uri), back.text[:500]
    return location


def _signed_in(browser: httpx.Client) -> bool:
    return "My balance" in browser.get("/web").text


def test_a_callback_from_another_browser_signs_nobody_in(
    cast: Cast, live_gateway: Any, web_sign_in: str
) -> None:
    """Login CSRF: the attacker starts a sign-in, signs in at the provider as themselves and
    hands the callback link (their code and state) to a victim. The victim's browser, with no
    sign-in cookie or with one of its own, is refused and stays signed out; the attacker's own
    browser, which started the sign-in, completes it."""
    attacker = httpx.Client(base_url=live_gateway.url, timeout=30)
    callback = _sign_in_at_provider(
        attacker.get("/web/login"), cast.people["attacker"], web_sign_in
    )
    path = callback.removeprefix(live_gateway.url)

    bare = httpx.Client(base_url=live_gateway.url, timeout=30)
    refused = bare.get(path)
    assert 400 <= refused.status_code < 500, refused.status_code
    assert SESSION not in refused.cookies and not _signed_in(bare)

    victim = httpx.Client(base_url=live_gateway.url, timeout=30)
    assert victim.get("/web/login").status_code == 302  # the victim's own, unrelated sign-in
    refused = victim.get(path)
    assert 400 <= refused.status_code < 500, refused.status_code
    assert SESSION not in refused.cookies and not _signed_in(victim)

    signed_in = attacker.get(path)
    assert signed_in.status_code == 303, signed_in.text
    assert _signed_in(attacker)


def test_a_tampered_sign_in_cookie_is_refused(
    cast: Cast, live_gateway: Any, web_sign_in: str
) -> None:
    browser = httpx.Client(base_url=live_gateway.url, timeout=30)
    to_provider = browser.get("/web/login")
    callback = _sign_in_at_provider(to_provider, cast.people["victim"], web_sign_in)
    cookies = {c.name: c.value for c in browser.cookies.jar}
    assert cookies, "the sign-in is bound to the browser by a cookie"
    (name, value), *_ = [(n, v) for n, v in cookies.items() if n != SESSION]
    flipped = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    forged = httpx.Client(base_url=live_gateway.url, timeout=30, cookies={name: flipped})
    refused = forged.get(callback.removeprefix(live_gateway.url))
    assert 400 <= refused.status_code < 500, refused.status_code
    assert SESSION not in refused.cookies and not _signed_in(forged)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_deeply_nested_bearer_token_is_401(cast: Cast, live_gateway: Any) -> None:
    real = cast.people["member"].token()
    real_header, _real_payload, real_signature = real.split(".")
    # Deeper than the JSON parser's recursion limit, small enough for an HTTP header.
    nested = b"[" * 3_000 + b"]" * 3_000
    claim = _b64(b'{"sub":' + nested + b"}")
    kid = _b64(b'{"alg":"RS256","kid":' + nested + b"}")
    tokens = {
        "nested header": f"{_b64(nested)}.{_b64(b'{}')}.{real_signature}",
        "nested payload": f"{real_header}.{_b64(nested)}.{real_signature}",
        "nested claim": f"{real_header}.{claim}.{real_signature}",
        "nested kid": f"{kid}.{_b64(b'{}')}.{real_signature}",
    }
    client = httpx.Client(base_url=live_gateway.url, timeout=30)
    with default_recursion_limit():
        answers = {
            name: client.get("/api/v1/me", headers=bearer(token)).status_code
            for name, token in tokens.items()
        }
    assert answers == dict.fromkeys(tokens, 401)


@pytest.fixture(scope="module")
def linked(live_gateway: Any, realm_users: UserFactory) -> tuple[httpx.Client, dict[str, Any]]:
    """A member whose wallet is their own key (the only kind that sends signed requests)."""
    return linked_member(live_gateway, realm_users)


def _with_signature(signed: dict[str, Any], r: int, s: int, v: int) -> dict[str, Any]:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    return {**signed, "signature": "0x" + raw.hex()}


def test_malformed_forward_request_signatures_are_422(
    linked: tuple[httpx.Client, dict[str, Any]],
) -> None:
    """All zero, the high-s twin of a valid signature (the forwarder refuses it on chain),
    and a `v` other than 27/28 are refused before anything is queued, naming the field."""
    client, signed = linked
    raw = bytes.fromhex(signed["signature"].removeprefix("0x"))
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    variants = {
        "all zero": {**signed, "signature": "0x" + "00" * 65},
        "high s": _with_signature(signed, r, SECP256K1_N - s, 55 - v),
        "v is 0": _with_signature(signed, r, s, v - 27),
        "v is 29": _with_signature(signed, r, s, 29),
        "r is the curve order": _with_signature(signed, SECP256K1_N, s, v),
    }
    answers = {}
    for name, body in variants.items():
        reply = post(client, "/api/v1/me/forward-requests", body)
        answers[name] = (reply.status_code, reply.json().get("field"))
    assert answers == dict.fromkeys(variants, (422, "signature"))


def _fresh(cast: Cast, name: str) -> httpx.Client:
    """`name`'s client with a new token (the cast's first ones expire during long runs)."""
    cast.clients[name] = cast.gateway.client(cast.people[name].token())
    return cast.clients[name]


def _hat_request(cast: Cast, name: str, hat: str) -> int:
    reply = cast[name].post("/api/v1/me/hats/requests", json={"hat": hat})
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


def test_declining_twice_is_409_and_a_new_request_stays_decidable(cast: Cast) -> None:
    coordinator, _ = _fresh(cast, "coordinator"), _fresh(cast, "member")
    first = _hat_request(cast, "member", "supporter")
    assert coordinator.post(f"/api/v1/hats/requests/{first}/decline").status_code == 200
    again = coordinator.post(f"/api/v1/hats/requests/{first}/decline")
    assert again.status_code == 409 and again.json()["error"] == "StateConflict"
    # Asked again, declined again: a decision, not a clash with the earlier one.
    second = _hat_request(cast, "member", "supporter")
    declined = coordinator.post(f"/api/v1/hats/requests/{second}/decline")
    assert declined.status_code == 200, declined.text
    assert coordinator.post(f"/api/v1/hats/requests/{second}/decline").status_code == 409
    third = _hat_request(cast, "member", "supporter")
    approved = coordinator.post(f"/api/v1/hats/requests/{third}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    statuses = [r["status"] for r in cast["member"].get("/api/v1/me/hats/requests").json()]
    assert sorted(statuses) == ["approved", "declined", "declined"]


def test_a_coordinator_cannot_decide_about_themselves(cast: Cast) -> None:
    """The gateway signs approved hats on chain with its operator account: a coordinator
    approving their own care_giver hat could then stand on both sides of a care log."""
    me, _ = _fresh(cast, "coordinator"), _fresh(cast, "second_coordinator")
    own = _hat_request(cast, "coordinator", "care_giver")
    for decision in ("approve", "decline"):
        refused = me.post(f"/api/v1/hats/requests/{own}/{decision}")
        assert refused.status_code == 403, (decision, refused.text)
        assert refused.json() == {
            "error": "ConflictOfInterest",
            "message": refused.json()["message"],
            "field": "request_id",
            "retryable": False,
        }
    subject = cast.me["coordinator"]["subject"]
    refused = me.post(f"/api/v1/members/{subject}/approve")
    assert refused.status_code == 403 and refused.json()["error"] == "ConflictOfInterest"
    assert refused.json()["field"] == "subject"
    # Still pending, and another coordinator decides it.
    pending = [r["id"] for r in cast["second_coordinator"].get("/api/v1/hats/requests").json()]
    assert own in pending
    approved = cast["second_coordinator"].post(f"/api/v1/hats/requests/{own}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    deadline = time.monotonic() + 60
    while "care_giver" not in me.get("/api/v1/me").json()["hats"]:
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_many_sign_in_starts_keep_nothing_on_the_server(live_gateway: Any) -> None:
    """Unauthenticated `/web/login` calls: whatever a sign-in needs travels with the browser,
    so a thousand abandoned starts leave no memory held by the sign-in code."""
    from eccoo.gateway.web import pages as web

    client = httpx.Client(base_url=live_gateway.url, timeout=30)
    assert client.get("/web/login").status_code == 302  # first use may load the cookie key
    tracemalloc.start(25)
    try:
        gc.collect()
        before = tracemalloc.take_snapshot()
        for _ in range(1_000):
            assert client.get("/web/login").status_code == 302
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    only_web = [tracemalloc.Filter(True, str(web.__file__), all_frames=True)]
    grown = sum(
        stat.size_diff
        for stat in after.filter_traces(only_web).compare_to(
            before.filter_traces(only_web), "filename"
        )
    )
    # 1,000 stored sign-ins would hold hundreds of kilobytes; a stateless start holds none.
    assert grown < 32_000, grown
