"""Signing in from a terminal: the device authorization grant against the real Keycloak
realm (`eccoo-cli`), approved through Keycloak's own pages, and the session file it leaves."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eccoo.gateway.errors import LoginDenied, NotSignedIn
from eccoo.gateway.identity.device_login import Provider, SessionFile, current, member_record
from eccoo.gateway.identity.realm import RealmInfo
from fastapi.testclient import TestClient
from fixtures.identity import UserFactory, approve_device

from eccoo.errors import AlreadyExists

pytestmark = pytest.mark.keycloak


@pytest.fixture(scope="module")
def giver(realm_users: UserFactory) -> Any:
    return realm_users.create("care_giver", prefix="cli")


def test_device_login_refresh_and_logout(
    eccoo_realm: RealmInfo, giver: Any, gateway: TestClient, tmp_path: Path
) -> None:
    provider = Provider(eccoo_realm.issuer, "eccoo-cli")
    code = provider.start()
    assert code.verification_uri_complete and code.user_code in code.verification_uri_complete
    assert code.device_code not in repr(code)
    assert "Device Login Successful" in approve_device(code.verification_uri_complete, giver)
    slept: list[float] = []
    session = provider.wait(code, sleep=slept.append)
    assert session.access_token not in repr(session)

    store = SessionFile(tmp_path / "cfg" / "eccoo" / "session.json")
    store.save(session)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    with pytest.raises(AlreadyExists):
        store.save(session)  # nothing replaced without force
    me = member_record("", session.access_token, http=gateway)
    assert me["hats"] == ["care_giver"]

    # An expired access token is refreshed (and the new one stored) before use.
    store.save(dataclasses.replace(session, expires_at=0), force=True)
    renewed = current(store, lambda s: Provider(s.issuer, s.client_id))
    assert renewed.access_token != session.access_token
    assert store.load() == renewed
    assert member_record("", renewed.access_token, http=gateway)["subject"] == me["subject"]

    # Signing out ends the session at the provider: its refresh token no longer works.
    assert provider.revoke(renewed)
    with pytest.raises(NotSignedIn):
        provider.refresh(renewed)


def test_a_declined_sign_in_is_refused(eccoo_realm: RealmInfo, giver: Any) -> None:
    provider = Provider(eccoo_realm.issuer, "eccoo-cli")
    code = provider.start()
    assert code.verification_uri_complete
    approve_device(code.verification_uri_complete, giver, accept=False)
    with pytest.raises(LoginDenied):
        provider.wait(code, sleep=lambda _s: None)


def _eccoo(env: dict[str, str], *args: str) -> str:
    """Run the CLI; return its one error line (exit code 2)."""
    proc = subprocess.run(
        [sys.executable, "-c", "from eccoo.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stdout + proc.stderr
    return lines[0]


def test_cli_session_errors_are_one_line(eccoo_realm: RealmInfo, tmp_path: Path) -> None:
    session_file = tmp_path / "session.json"
    env = {"ECCOO_LOGIN_SESSION_FILE": str(session_file), "ECCOO_LOGIN_ISSUER": eccoo_realm.issuer}
    assert "not signed in" in _eccoo(env, "gateway", "whoami")
    session_file.write_text(json.dumps({"something": "else"}))
    assert "--force" in _eccoo(env, "gateway", "login")
    assert json.loads(session_file.read_text()) == {"something": "else"}  # left as it was
    assert "not a session file" in _eccoo(env, "gateway", "logout")


def test_cli_login_prints_the_code_and_keeps_the_tokens_to_itself(
    eccoo_realm: RealmInfo, giver: Any, tmp_path: Path
) -> None:
    session_file = tmp_path / "session.json"
    env = {"ECCOO_LOGIN_SESSION_FILE": str(session_file), "ECCOO_LOGIN_ISSUER": eccoo_realm.issuer}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from eccoo.cli import main; main()", "gateway", "login"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    assert proc.stderr is not None
    link = None
    shown: list[str] = []
    for line in proc.stderr:
        shown.append(line)
        if line.startswith("(or open "):
            link = line.strip().removeprefix("(or open ").removesuffix(")")
            break
    assert link, "".join(shown)
    approve_device(link, giver)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out) == {"signed_in": True, "issuer": eccoo_realm.issuer}
    session = SessionFile(session_file).load()
    assert session is not None
    assert session.access_token not in out + err + "".join(shown)
