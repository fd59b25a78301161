"""Bad input ends in one clear, typed error (and exit code 2 from the CLI)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from eccoo.graph_sync.errors import (
    DeploymentMissing,
    GraphAuthFailed,
    GraphNotReached,
    NodeNotReached,
    WrongChain,
)
from eccoo.graph_sync.indexer import Indexer

from eccoo.services.process import free_port

pytestmark = [pytest.mark.geth, pytest.mark.neo4j]


def _fails(settings, error):
    with pytest.raises(error) as caught:
        Indexer(settings).open().close()
    return caught.value


def test_unreachable_node(make_settings, chain_ledger):
    url = f"http://127.0.0.1:{free_port()}"
    err = _fails(make_settings(rpc_url=url, startup_timeout=1), NodeNotReached)
    assert url in err.message and err.field == "rpc_url"


def test_wrong_chain_id(make_settings, chain_ledger, clique_network, tmp_path):
    raw = json.loads((clique_network.dir / "deployment.json").read_text())
    raw["chain_id"] += 1
    wrong = tmp_path / "deployment.json"
    wrong.write_text(json.dumps(raw))
    err = _fails(make_settings(deployment_file=wrong), WrongChain)
    assert "chain" in err.message


def test_no_deployment_file(make_settings, tmp_path):
    err = _fails(make_settings(deployment_file=tmp_path / "missing.json"), DeploymentMissing)
    assert "missing.json" in err.message


def test_neo4j_down(make_settings, chain_ledger):
    _fails(
        make_settings(bolt_url=f"bolt://127.0.0.1:{free_port()}", startup_timeout=1),
        GraphNotReached,
    )


def test_neo4j_wrong_password(make_settings, chain_ledger, tmp_path):
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password\n")
    err = _fails(make_settings(neo4j_password_file=wrong), GraphAuthFailed)
    assert "not-the-password" not in err.message  # never echo a secret


def test_cli_turns_errors_into_one_line_and_exit_2(tmp_path):
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "eccoo.cli",
            "index",
            "run",
            "--network-dir",
            str(tmp_path),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 2
    assert "error" in cli.stderr and "Traceback" not in cli.stderr
