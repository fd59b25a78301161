"""Web sessions in a real store (SQLite, no browser): the cookie is opaque and the row is
found only by its hash; tokens are sealed to their row; sessions expire and end.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import WebSession
from eccoo.gateway.web.sessions import ProviderTokens, WebSessions

KEY = bytes(range(32))
TOKENS = ProviderTokens("access-token-value", "refresh-token-value", "id-token-value")


def test_a_session_is_found_by_its_cookie_and_holds_no_token_in_clear(tmp_path: Path) -> None:
    store = Store(tmp_path / "gateway.db")
    sessions = WebSessions(store, KEY, 3600)
    cookie = sessions.start("alice", TOKENS)
    found = sessions.open(cookie)
    assert found is not None and found.subject == "alice" and found.tokens == TOKENS
    assert "token-value" not in repr(found)
    with store.read() as session:
        row = session.get(WebSession, hashlib.sha256(cookie.encode()).hexdigest())
        assert row is not None
        assert b"token-value" not in row.tokens_sealed
        assert cookie not in row.id_hash
    raw = (tmp_path / "gateway.db").read_bytes()
    assert b"access-token-value" not in raw and cookie.encode() not in raw
    assert sessions.open(cookie[:-1] + ("A" if cookie[-1] != "A" else "B")) is None
    assert sessions.open("") is None
    store.close()


def test_each_sign_in_is_a_new_session_and_sign_out_ends_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "gateway.db")
    sessions = WebSessions(store, KEY, 3600)
    first, second = sessions.start("alice", TOKENS), sessions.start("alice", TOKENS)
    assert first != second
    found = sessions.open(first)
    assert found is not None
    assert found.csrf_token != sessions.open(second).csrf_token  # type: ignore[union-attr]
    sessions.end(found)
    assert sessions.open(first) is None and sessions.open(second) is not None
    store.close()


def test_sessions_expire_and_refreshed_tokens_stay_sealed(tmp_path: Path) -> None:
    store = Store(tmp_path / "gateway.db")
    clock = [1_000.0]
    sessions = WebSessions(store, KEY, 60, now=lambda: clock[0])
    cookie = sessions.start("alice", TOKENS)
    found = sessions.open(cookie)
    assert found is not None
    fresh = ProviderTokens("new-access", "new-refresh", None)
    sessions.replace_tokens(found, fresh)
    reopened = sessions.open(cookie)
    assert reopened is not None and reopened.tokens == fresh
    assert reopened.csrf_token == found.csrf_token
    clock[0] += 61
    assert sessions.open(cookie) is None
    # Another gateway key cannot open the tokens.
    clock[0] = 1_000.0
    assert WebSessions(store, bytes(32), 60, now=lambda: clock[0]).open(cookie) is None
    store.close()
