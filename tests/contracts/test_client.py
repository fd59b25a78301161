"""The contracts client without a node: compile and artifacts, deployment records, verification."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from eccoo.client.artifacts import HASH_FILE, compile_artifacts, is_fresh, load_artifacts
from eccoo.client.compile import CONTRACTS_DIR
from eccoo.client.deploy import verify_deployment
from eccoo.client.deployment import Deployment, load_deployment, save_deployment
from eccoo.client.errors import CompileError, DeploymentError

from eccoo.errors import NotFound

DEPLOYED = {"CareCoin", "CareForwarder", "CareLedger", "FundingPots", "Membership"}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Sources copied to a temp folder and compiled once into a temp build folder."""
    root = tmp_path_factory.mktemp("compile")
    shutil.copytree(CONTRACTS_DIR, root / "contracts")
    artifacts = compile_artifacts(build_dir=root / "build", contracts_dir=root / "contracts")
    return root, artifacts


def test_compile_writes_one_artifact_per_contract(compiled):
    root, artifacts = compiled
    assert set(artifacts) == DEPLOYED
    assert {p.stem for p in (root / "build").glob("*.json")} == DEPLOYED
    for artifact in artifacts.values():
        metadata = json.loads(artifact.metadata)
        assert metadata["settings"]["evmVersion"] == "paris"
        assert metadata["settings"]["optimizer"] == {"enabled": True, "runs": 200}
        assert metadata["compiler"]["version"].startswith("0.8.28")
        assert artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 1000
        # Sources are named portably, never by this machine's cache path.
        assert all(not name.startswith("/") for name in metadata["sources"])


def test_load_uses_a_fresh_build_and_recompiles_a_stale_one(compiled):
    root, artifacts = compiled
    build, sources = root / "build", root / "contracts"
    assert is_fresh(build, sources)
    before = (build / "CareCoin.json").stat().st_mtime_ns
    assert load_artifacts(build_dir=build, contracts_dir=sources) == artifacts
    assert (build / "CareCoin.json").stat().st_mtime_ns == before
    hats = sources / "Hats.sol"
    hats.write_text(hats.read_text() + "\n// a change\n")
    assert not is_fresh(build, sources)
    load_artifacts(build_dir=build, contracts_dir=sources)
    assert is_fresh(build, sources)


def test_compile_error_names_the_file_and_keeps_the_old_build(compiled, tmp_path):
    root, _ = compiled
    sources = tmp_path / "contracts"
    shutil.copytree(root / "contracts", sources)
    (sources / "Broken.sol").write_text("pragma solidity 0.8.28;\ncontract Broken { uint x = ; }\n")
    build = tmp_path / "build"
    with pytest.raises(CompileError, match=r"Broken\.sol"):
        compile_artifacts(build_dir=build, contracts_dir=sources)
    assert not (build / HASH_FILE).exists()


def _deployment(address: str = "0x" + "11" * 20) -> Deployment:
    raw = {"chain_id": 7, "contracts": {
        k: {"address": address, "abi": [], "block": 1, "tx": "0x" + "22" * 32}
        for k in ("CareCoin", "Membership", "CareLedger", "FundingPots", "Forwarder")}}  # fmt: skip
    return Deployment.from_json(raw)


def test_deployment_record_round_trip(tmp_path):
    path = save_deployment(tmp_path, _deployment())
    raw = json.loads(path.read_text())
    assert set(raw) == {"chain_id", "contracts"}
    assert set(raw["contracts"]["CareLedger"]) == {"address", "abi", "block", "tx"}
    assert load_deployment(tmp_path) == _deployment()
    assert [p.name for p in tmp_path.iterdir()] == ["deployment.json"]


def test_missing_and_malformed_deployment(tmp_path):
    with pytest.raises(NotFound, match=r"deployment\.json"):
        load_deployment(tmp_path)
    (tmp_path / "deployment.json").write_text('{"chain_id": 1, "contracts": {"CareCoin": {}}}')
    with pytest.raises(DeploymentError, match=r"deployment\.json"):
        load_deployment(tmp_path)
    (tmp_path / "deployment.json").write_text("{not json")
    with pytest.raises(DeploymentError, match="unreadable"):
        load_deployment(tmp_path)


def test_verify_catches_wrong_chain_missing_code_and_unwired_roles(ledger):
    good = ledger.deployment
    verify_deployment(ledger.w3, good, operator=ledger.admin)
    with pytest.raises(DeploymentError, match="chain 7"):
        verify_deployment(ledger.w3, _deployment(), operator=ledger.admin)
    missing = replace(good, contracts={**good.contracts,
                                       "CareCoin": replace(good.contracts["CareCoin"],
                                                           address=ledger.outsider)})  # fmt: skip
    with pytest.raises(DeploymentError, match="no code at CareCoin"):
        verify_deployment(ledger.w3, missing, operator=ledger.admin)
    ledger.tx(ledger.pots.functions.setLedger(ledger.giver), ledger.admin)
    with pytest.raises(DeploymentError, match="CareLedger may draw from FundingPots"):
        verify_deployment(ledger.w3, good, operator=ledger.admin)


def test_cli_reports_a_missing_deployment_in_one_line(tmp_path):
    eccoo = Path(sys.executable).parent / "eccoo"
    proc = subprocess.run([str(eccoo), "contracts", "show", "--network-dir", str(tmp_path)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "deployment.json" in proc.stderr


def test_deploy_refuses_when_no_node_answers(tmp_path):
    from eccoo.client.deploy import deploy
    from eccoo.client.errors import ChainUnavailable
    from eccoo.node import api

    from eccoo.services.process import free_port

    network_dir = tmp_path / "network"
    api.init_network(network_dir, validators=1, period=1, base_port=free_port())  # never started
    with pytest.raises(ChainUnavailable, match="no node answers"):
        deploy(network_dir)
    assert not (network_dir / "deployment.json").exists()
