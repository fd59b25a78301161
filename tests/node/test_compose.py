"""The committed docker-compose.yml is what the generator makes from a default network.

The compose file carries no keys (containers read them from the mounted network
folder), so a freshly initialised default network must regenerate it byte for byte.
No Docker engine runs here: the file is checked, not started.
"""

from __future__ import annotations

import re

import yaml
from eccoo.node.api import init_network
from eccoo.node.compose import IMAGE, render_compose

from eccoo.settings import REPO_ROOT


def test_committed_compose_matches_a_default_network(tmp_path):
    manifest = init_network(tmp_path / "network")  # defaults, as `eccoo up` makes it
    committed = (REPO_ROOT / "docker-compose.yml").read_text()
    assert render_compose(manifest) == committed, (
        "docker-compose.yml drifted: run `eccoo network compose --dir DIR` on a default network"
    )

    document = yaml.safe_load(committed)
    assert set(document["services"]) == {n.name for n in manifest.nodes} | {"rpc"}
    assert set(document["volumes"]) == {f"{n.name}-chain" for n in manifest.nodes} | {"rpc-chain"}
    for node in manifest.nodes:
        service = document["services"][node.name]
        assert service["image"] == IMAGE == "ethereum/client-go:v1.13.15"
        command = service["command"][0]
        assert f"--networkid {manifest.chain_id}" in command
        assert f"--miner.gaslimit {manifest.gas_limit}" in command
        assert "--nodiscover" in command and "/network/genesis.json" in command
        # RPC, where there is any, is published on the host's loopback only.
        assert all(p.startswith("127.0.0.1:") for p in service.get("ports", []))
        # Every container's peer list names every other node's key, none of its own.
        peers = (node.datadir / "docker.toml").read_text()
        for other in manifest.nodes:
            node_id = other.enode.split("//")[1].split("@")[0]
            assert (node_id in peers) == (other.index != node.index)


PUBLIC_APIS = {"eth", "net", "web3"}


def test_compose_signers_unlock_over_ipc_only(tmp_path):
    """Production topology: an unlocked signer has no HTTP or WebSocket RPC at all (so geth
    needs no --allow-insecure-unlock), and the one RPC node exposes eth, net, web3 at most."""
    manifest = init_network(tmp_path / "network")
    document = yaml.safe_load(render_compose(manifest))
    assert "--allow-insecure-unlock" not in render_compose(manifest)
    for name, service in document["services"].items():
        command = service["command"][0]
        for flag in ("--http.api", "--ws.api"):
            for apis in re.findall(rf"{flag} (\S+)", command):
                assert set(apis.split(",")) <= PUBLIC_APIS, (name, flag, apis)
        assert "--ws " not in command or "--ws.api" in command, name
    for node in manifest.validators:
        service = document["services"][node.name]
        command = service["command"][0]
        assert "--unlock $$SIGNER" in command and "--mine " in command
        assert "--http" not in command and "--ws" not in command, node.name
        assert "--ipcdisable" not in command  # the operator's console: geth attach over IPC
        assert not service.get("ports"), node.name
    rpc = document["services"]["rpc"]
    assert "--unlock" not in rpc["command"][0] and "--mine " not in rpc["command"][0]
    assert "--http " in rpc["command"][0] and all(p.startswith("127.0.0.1:") for p in rpc["ports"])
