"""Neo4j and Keycloak: start, answer, stop, start again with their data kept."""

from __future__ import annotations

import secrets

import pytest
from fixtures.services import make_keycloak, make_neo4j

from eccoo.errors import PortBusy
from eccoo.services.process import ManagedProcess

pytestmark = [pytest.mark.neo4j, pytest.mark.keycloak]


def test_neo4j_answers_and_keeps_data_across_restart(tmp_path):
    service = make_neo4j(tmp_path / "neo4j")
    # Generated passwords are URL-safe base64: one in 64 begins with "-", which Neo4j's
    # admin tool once took for an option. Seed such a password on purpose.
    service.password_file.parent.mkdir(parents=True)
    service.password_file.write_text("-" + secrets.token_urlsafe(24) + "\n")
    service.password_file.chmod(0o600)
    endpoint = service.start()
    try:
        assert (tmp_path / "neo4j" / "password").stat().st_mode & 0o777 == 0o600
        with endpoint.driver() as driver:
            assert driver.execute_query("RETURN 1 AS one").records[0]["one"] == 1
            driver.execute_query("CREATE (:Probe {kept: 42})")
        assert service.status()["healthy"] is True
        service.stop()
        assert service.status()["running"] is False
        service.start()
        with endpoint.driver() as driver:
            records = driver.execute_query("MATCH (p:Probe) RETURN p.kept AS kept").records
        assert [r["kept"] for r in records] == [42]
    finally:
        service.stop()


def test_neo4j_rejects_a_wrong_password(neo4j_endpoint):
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError

    with GraphDatabase.driver(neo4j_endpoint.bolt_url, auth=("neo4j", "wrong")) as driver:
        with pytest.raises(AuthError):
            driver.execute_query("RETURN 1")


def test_keycloak_answers_discovery_and_keeps_data_across_restart(tmp_path):
    import httpx

    service = make_keycloak(tmp_path / "kc")
    endpoint = service.start()
    try:
        doc = httpx.get(endpoint.discovery_url("master"), timeout=10).json()
        assert doc["issuer"] == endpoint.issuer("master")
        token = httpx.post(
            f"{endpoint.base_url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": endpoint.admin_user,
                "password": endpoint.admin_password(),
            },
            timeout=30,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            f"{endpoint.base_url}/admin/realms",
            headers=headers,
            json={"realm": "probe", "enabled": True},
            timeout=30,
        )
        assert created.status_code == 201
        service.stop()
        service.start()
        doc = httpx.get(endpoint.discovery_url("probe"), timeout=10)
        assert doc.status_code == 200
    finally:
        service.stop()


def test_a_busy_port_is_named(tmp_path, neo4j_service):
    from eccoo.services.neo4j import Neo4jService, Neo4jSettings

    busy = Neo4jService(
        Neo4jSettings(data_dir=tmp_path / "n2", bolt_port=neo4j_service.settings.bolt_port)
    )
    with pytest.raises(PortBusy) as info:
        busy.start()
    assert str(neo4j_service.settings.bolt_port) in str(info.value)
    assert info.value.field == "neo4j bolt"


def test_managed_process_survives_pid_reuse_guard(tmp_path):
    proc = ManagedProcess("sleeper", tmp_path)
    proc.start(["sleep", "30"])
    assert proc.running()
    assert proc.stop() is True
    assert not proc.running()
    assert proc.stop() is False
