"""How one cooperative's geth node is configured and launched (argv, static peers, init).

Everything here derives from the manifest and `NetworkSettings`; RPC binds to 127.0.0.1
only and peers come only from the manifest. It never starts discovery or a public RPC.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

from eccoo.node.manifest import NetworkManifest, NodeEntry
from eccoo.node.settings import NetworkSettings

from eccoo.errors import ToolchainError
from eccoo.services.process import ManagedProcess

RPC_APIS = "eth,net,web3,clique,admin,txpool"


def config_toml(static_nodes: list[str]) -> str:
    """geth 1.13 reads static/trusted peers from the TOML config (static-nodes.json is gone).

    Trusted as well as static: trusted peers are let in even when `--maxpeers` is reached.
    """
    listed = json.dumps(static_nodes)
    return f"[Node.P2P]\nStaticNodes = {listed}\nTrustedNodes = {listed}\n"


def config_path(node: NodeEntry) -> Path:
    return node.datadir / "config.toml"


def write_peer_configs(manifest: NetworkManifest) -> None:
    """Every node lists every other node of the manifest as a static, trusted peer."""
    for node in manifest.nodes:
        peers = [n.enode for n in manifest.nodes if n.index != node.index]
        path = config_path(node)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(config_toml(peers))
        tmp.replace(path)


def geth_init(settings: NetworkSettings, node: NodeEntry, genesis_file: Path) -> None:
    """Write the genesis block into the node's datadir (a no-op when already there)."""
    if not settings.geth.exists():
        raise ToolchainError(f"{settings.geth}: geth is not installed (run `eccoo setup`)")
    proc = subprocess.run(
        [str(settings.geth), "--datadir", str(node.datadir), "init", str(genesis_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise ToolchainError(f"geth init of {node.name} failed:\n{tail}")


def is_initialised(node: NodeEntry) -> bool:
    return (node.datadir / "geth" / "chaindata").is_dir()


def geth_argv(settings: NetworkSettings, manifest: NetworkManifest, node: NodeEntry) -> list[str]:
    """The full command line of one node."""
    argv = [
        str(settings.geth),
        "--datadir", str(node.datadir),
        "--config", str(config_path(node)),
        "--networkid", str(manifest.chain_id),
        "--syncmode", "full",
        "--nodiscover",
        "--netrestrict", manifest.netrestrict,
        "--port", str(node.p2p_port),
        "--ipcpath", str(ipc_path(manifest, node)),
        "--http", "--http.addr", "127.0.0.1", "--http.port", str(node.http_port),
        "--http.api", RPC_APIS,
        "--ws", "--ws.addr", "127.0.0.1", "--ws.port", str(node.ws_port),
        "--ws.api", RPC_APIS,
        "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(node.authrpc_port),
        "--miner.gaslimit", str(manifest.gas_limit),
        "--txpool.accountslots", str(settings.txpool_accountslots),
        "--txpool.globalslots", str(settings.txpool_globalslots),
        "--txpool.accountqueue", str(settings.txpool_accountqueue),
        "--txpool.globalqueue", str(settings.txpool_globalqueue),
        "--cache", str(settings.cache_mb),
        "--verbosity", str(settings.verbosity),
    ]  # fmt: skip
    if node.validator:
        # geth 1.13 seals Clique blocks only with an unlocked keystore account, and
        # refuses to unlock while HTTP RPC is on unless told; the RPC is loopback-only.
        # No --mine: sealing starts over IPC once the node is peered and caught up (see
        # lifecycle.start_sealing), so a node never seals a fork of its own at start.
        argv += [
            "--miner.etherbase", node.signer,
            "--keystore", str(node.keystore.parent),
            "--unlock", node.signer,
            "--password", str(node.password_file),
            "--allow-insecure-unlock",
        ]  # fmt: skip
    return argv


def ipc_path(manifest: NetworkManifest, node: NodeEntry) -> Path:
    """The node's IPC socket (0600, all namespaces, including `miner`): local only.

    Unix socket paths are limited to ~107 bytes, so a deep network folder gets a short
    path under /tmp keyed by the folder instead.
    """
    path = manifest.state_dir() / f"{node.name}.ipc"
    if len(str(path)) < 100:
        return path
    digest = hashlib.sha256(str(manifest.dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"eccoo-{digest}-{node.name}.ipc"


def process(manifest: NetworkManifest, node: NodeEntry) -> ManagedProcess:
    """The pid/log handle of a node; logs go to `<dir>/run/node-<i>.log`."""
    return ManagedProcess(node.name, manifest.state_dir())
