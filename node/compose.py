"""docker-compose.yml for the same network: ethereum/client-go:v1.13.15, same genesis, flags.

The file depends only on the topology (node count, ports, chain id, gas limit), never on
keys: each container reads its signer, node key and peers from the mounted network
folder, so the committed file fits any network `eccoo network init` makes with the same
topology, and a test regenerates it to prove it has not drifted. It holds no secret.

It is the production topology: a signer is unlocked with no HTTP or WebSocket RPC at all
(operators reach it with `geth attach` over IPC inside its container), and one non-signing
`rpc` node serves clients `eth,net,web3` only. It must never publish a signer's RPC or
pass `--allow-insecure-unlock`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from eccoo.node.manifest import NetworkManifest, NodeEntry

from eccoo.engines import GETH_VERSION

IMAGE = f"ethereum/client-go:v{GETH_VERSION}"
SUBNET = "172.28.0.0/24"
NETWORK_DIR_VAR = "${ECCOO_NETWORK_DIR:-./.eccoo/network}"
# Inside its container every node uses geth's standard ports.
HTTP, WS, P2P = 8545, 8546, 30303
# What clients may call on the rpc node: reading and sending transactions, nothing that
# administers a node (admin), votes signers in or out (clique) or touches keys (personal).
PUBLIC_RPC_APIS = "eth,net,web3"
RPC_SERVICE = "rpc"
RPC_PEERS = "docker-rpc.toml"


def docker_ip(index: int) -> str:
    return f"172.28.0.{10 + index}"


def docker_peers_toml(manifest: NetworkManifest, node: NodeEntry) -> str:
    """Static/trusted peers of `node` as seen on the compose network (docker IPs)."""
    peers = [
        f"enode://{n.enode.split('//', 1)[1].split('@', 1)[0]}@{docker_ip(n.index)}:{P2P}"
        for n in manifest.nodes
        if n.index != node.index
    ]
    listed = ", ".join(f'"{p}"' for p in peers)
    return f"[Node.P2P]\nStaticNodes = [{listed}]\nTrustedNodes = [{listed}]\n"


def rpc_peers_toml(manifest: NetworkManifest) -> str:
    """The rpc node's peers: every node of the network (it is in nobody's list itself)."""
    peers = [
        f"enode://{n.enode.split('//', 1)[1].split('@', 1)[0]}@{docker_ip(n.index)}:{P2P}"
        for n in manifest.nodes
    ]
    listed = ", ".join(f'"{p}"' for p in peers)
    return f"[Node.P2P]\nStaticNodes = [{listed}]\n"


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_docker_peer_configs(manifest: NetworkManifest) -> None:
    """`<node datadir>/docker.toml`: the peers a container of the compose file dials;
    `docker-rpc.toml` at the network's root: the rpc node's."""
    for node in manifest.nodes:
        _write(node.datadir / "docker.toml", docker_peers_toml(manifest, node))
    _write(manifest.dir / RPC_PEERS, rpc_peers_toml(manifest))


def _rel(manifest: NetworkManifest, path: Path) -> str:
    return "/network/" + str(path.relative_to(manifest.dir))


def _common_flags(manifest: NetworkManifest) -> list[str]:
    return [
        "--datadir /data",
        f"--networkid {manifest.chain_id}",
        "--syncmode full --nodiscover",
        f"--netrestrict {SUBNET}",
        f"--port {P2P}",
    ]


def _tuning_flags(manifest: NetworkManifest) -> list[str]:
    return [
        f"--miner.gaslimit {manifest.gas_limit}",
        "--txpool.accountslots 2048 --txpool.globalslots 65536",
        "--txpool.accountqueue 2048 --txpool.globalqueue 16384",
        "--cache 256 --verbosity 2",
    ]


def _public_rpc_flags() -> list[str]:
    # 0.0.0.0 inside the container; the ports are published on the host's loopback only.
    return [
        f"--http --http.addr 0.0.0.0 --http.port {HTTP} --http.api {PUBLIC_RPC_APIS}",
        f"--ws --ws.addr 0.0.0.0 --ws.port {WS} --ws.api {PUBLIC_RPC_APIS}",
    ]


def _command(manifest: NetworkManifest, node: NodeEntry) -> str:
    keystore = _rel(manifest, node.keystore)
    flags = [
        *_common_flags(manifest),
        f"--config {_rel(manifest, node.datadir)}/docker.toml",
        f"--nodekey {_rel(manifest, node.datadir)}/geth/nodekey",
        *_tuning_flags(manifest),
    ]
    script = ["geth init --datadir /data /network/genesis.json"]
    if node.validator:
        # The signer is whatever key the node's keystore holds: no address in this file.
        script.append(
            f'SIGNER=0x$$(sed -n \'s/.*"address": *"\\([0-9a-fA-F]*\\)".*/\\1/p\' {keystore})'
        )
        # No HTTP or WS: geth unlocks a signer without --allow-insecure-unlock only when no
        # RPC leaves the process; IPC (/data/geth.ipc) stays for `geth attach`.
        # --mine at once: compose has no step to run miner_start after peering.
        flags.append(
            f"--mine --miner.etherbase $$SIGNER --keystore {Path(keystore).parent!s} "
            f"--unlock $$SIGNER --password {_rel(manifest, node.password_file)}"
        )
    else:
        flags[1:1] = _public_rpc_flags()
    script.append("exec geth " + " ".join(flags))
    return " && ".join(script)


def _rpc_command(manifest: NetworkManifest) -> str:
    flags = [
        *_common_flags(manifest),
        f"--config /network/{RPC_PEERS}",
        *_public_rpc_flags(),
        *_tuning_flags(manifest),
    ]
    return "geth init --datadir /data /network/genesis.json && exec geth " + " ".join(flags)


def _service(command: str, name: str, index: int, ports: list[str]) -> dict[str, Any]:
    service: dict[str, Any] = {
        "image": IMAGE,
        "restart": "unless-stopped",
        "entrypoint": ["/bin/sh", "-c"],
        "command": [command],
        "volumes": [f"{name}-chain:/data", f"{NETWORK_DIR_VAR}:/network:ro"],
    }
    if ports:
        service["ports"] = ports
    service["networks"] = {"eccoo-network": {"ipv4_address": docker_ip(index)}}
    return service


def compose_document(manifest: NetworkManifest) -> dict[str, Any]:
    services: dict[str, Any] = {}
    for node in manifest.nodes:
        published = [f"127.0.0.1:{node.http_port}:{HTTP}", f"127.0.0.1:{node.ws_port}:{WS}"]
        services[node.name] = _service(
            _command(manifest, node), node.name, node.index, [] if node.validator else published
        )
    # Clients reach the chain where they reached the first node before: its ports.
    first = manifest.nodes[0]
    services[RPC_SERVICE] = _service(
        _rpc_command(manifest),
        RPC_SERVICE,
        len(manifest.nodes),
        [f"127.0.0.1:{first.http_port}:{HTTP}", f"127.0.0.1:{first.ws_port}:{WS}"],
    )
    return {
        "name": "eccoo-network",
        "services": services,
        "volumes": {f"{name}-chain": {} for name in services},
        "networks": {"eccoo-network": {"ipam": {"config": [{"subnet": SUBNET}]}}},
    }


def render_compose(manifest: NetworkManifest) -> str:
    header = (
        "# Generated by `eccoo network compose --dir DIR` from the network manifest: do not edit.\n"
        "# tests/node/test_compose.py regenerates it and fails if it has drifted. Keys, node\n"
        "# keys and peers are read from the network folder mounted at /network\n"
        "# (ECCOO_NETWORK_DIR, default .eccoo/network as made by `eccoo up`). Signers have no\n"
        "# RPC but IPC (`docker compose exec node-0 geth attach /data/geth.ipc`); clients use\n"
        "# the rpc node (eth,net,web3) on the host's 127.0.0.1.\n"
    )
    body = yaml.safe_dump(compose_document(manifest), sort_keys=False, width=1000)
    return header + body


def write_compose(manifest: NetworkManifest, output: Path) -> Path:
    output.write_text(render_compose(manifest))
    return output
