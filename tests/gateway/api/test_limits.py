"""Limits on the submission path, with real tokens: per-member rate limit and body size."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eccoo.gateway.api.app import create_app
from eccoo.gateway.identity.realm import RealmInfo
from fastapi.testclient import TestClient
from fixtures.identity import UserFactory, bearer

from ..conftest import gateway_settings

pytestmark = pytest.mark.keycloak


def test_rate_limit_is_per_member_and_answers_429(
    eccoo_realm: RealmInfo, realm_users: UserFactory, tmp_path: Any
) -> None:
    settings = gateway_settings(eccoo_realm, tmp_path, submissions_per_minute=3)
    first, second = realm_users.create(prefix="rl"), realm_users.create(prefix="rl")
    body = {"to": "0x" + "11" * 20, "amount": 1}
    with TestClient(create_app(settings)) as client:
        codes = []
        for _ in range(5):
            reply = client.post(
                "/api/v1/transfers",
                json={**body, "to": _checksummed()},
                headers={**bearer(first.token()), "Idempotency-Key": str(uuid.uuid4())},
            )
            codes.append(reply.status_code)
        # No chain configured here: accepted submissions stop at 503; the 4th and 5th are 429.
        assert codes == [503, 503, 503, 429, 429]
        assert reply.json()["retryable"] is True
        other = client.post(
            "/api/v1/transfers",
            json={**body, "to": _checksummed()},
            headers={**bearer(second.token()), "Idempotency-Key": "k" * 12},
        )
        assert other.status_code == 503  # another member has their own allowance


def test_unreadable_bodies_and_unknown_routes_answer_in_the_error_shape(
    eccoo_realm: RealmInfo, realm_users: UserFactory, tmp_path: Any
) -> None:
    settings = gateway_settings(eccoo_realm, tmp_path)
    headers = {
        **bearer(realm_users.create(prefix="shape").token()),
        "Idempotency-Key": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    with TestClient(create_app(settings)) as client:
        for body in (b'{"to": "\xff\xfe", "amount": 1}', b"{"):  # not UTF-8; not JSON
            reply = client.post("/api/v1/transfers", content=body, headers=headers)
            assert reply.status_code == 422
            assert reply.json()["field"] == "body"
            assert reply.json()["retryable"] is False
        missing = client.get("/api/v1/no-such-thing", headers=headers)
        assert (missing.status_code, missing.json()["error"]) == (404, "NotFound")
        wrong = client.delete("/api/v1/transfers", headers=headers)
        assert (wrong.status_code, wrong.json()["error"]) == (405, "MethodNotAllowed")


def _checksummed() -> str:
    from eth_account import Account

    return Account.create().address
