"""`eccoo up --detach`, `status --json` and `down`: the whole local stack, for real.

Runs the commands a person runs, in subprocesses, on free ports in a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from eccoo.services.process import free_port
from eccoo.settings import REPO_ROOT

pytestmark = [pytest.mark.geth, pytest.mark.neo4j, pytest.mark.keycloak, pytest.mark.slow]

EXPECTED = {"network", "neo4j", "keycloak"}


def _free_block(width: int = 40) -> int:
    """A base port with `width` free ports above it (the nodes use base + 10 i + 0..3)."""
    from eccoo.services.process import port_is_free

    for _ in range(200):
        base = free_port()
        if base + width < 65000 and all(port_is_free(base + i) for i in range(width)):
            return base
    raise RuntimeError("no free port block")


def _eccoo(*argv: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "eccoo"), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def stack_env(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            "ECCOO_STACK_NETWORK_BASE_PORT": str(_free_block()),
            "ECCOO_STACK_NEO4J_BOLT_PORT": str(free_port()),
            "ECCOO_STACK_KEYCLOAK_PORT": str(free_port()),
            "ECCOO_STACK_KEYCLOAK_MANAGEMENT_PORT": str(free_port()),
            "ECCOO_STACK_GATEWAY_PORT": str(free_port()),
        }
    )
    data_dir = tmp_path / "stack"
    yield env, data_dir
    _eccoo("down", "--data-dir", str(data_dir), env=env)


def test_up_status_down(stack_env):
    env, data_dir = stack_env
    up = _eccoo("up", "--detach", "--data-dir", str(data_dir), env=env)
    assert up.returncode == 0, up.stderr[-3000:]

    status = _eccoo("status", "--json", "--data-dir", str(data_dir), env=env)
    assert status.returncode == 0, status.stderr[-2000:]
    report = json.loads(status.stdout)
    assert EXPECTED <= set(report)
    unhealthy = {name: entry for name, entry in report.items() if not entry.get("healthy")}
    assert not unhealthy
    assert report["network"]["chain_id"] > 0
    assert len(report["network"]["signers"]) == 4
    assert report["neo4j"]["bolt_url"].startswith("bolt://127.0.0.1:")
    assert report["keycloak"]["issuer"].endswith("/realms/eccoo")
    for secret in (report["neo4j"]["password_file"], report["keycloak"]["admin_password_file"]):
        assert os.stat(secret).st_mode & 0o777 == 0o600
    # No secret value is printed by any of the commands.
    for path in (report["neo4j"]["password_file"], report["keycloak"]["admin_password_file"]):
        value = open(path).read().strip()
        assert value not in up.stdout + up.stderr + status.stdout

    if (data_dir / "network" / "deployment.json").exists():
        first = json.loads((data_dir / "network" / "deployment.json").read_text())
        again = _eccoo("up", "--detach", "--data-dir", str(data_dir), env=env)
        assert again.returncode == 0, again.stderr[-3000:]
        second = json.loads((data_dir / "network" / "deployment.json").read_text())
        assert second == first  # a second `up` resumes; it deploys nothing new

    down = _eccoo("down", "--data-dir", str(data_dir), env=env)
    assert down.returncode == 0
    after = json.loads(_eccoo("status", "--json", "--data-dir", str(data_dir), env=env).stdout)
    assert not any(entry.get("healthy") for entry in after.values())
