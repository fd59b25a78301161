"""The Python API of the network: what `eccoo network`, `eccoo up` and test fixtures call.

Every function takes the network folder (its `manifest.json` says the rest) and raises
`NodeError` subclasses for expected failures. It never prints; the CLI does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from eccoo.node import geth, rpc
from eccoo.node.create import add_node_files, checksum, init_network
from eccoo.node.errors import NetworkNotReady, NodeError
from eccoo.node.lifecycle import (
    running_nodes,
    start_network,
    start_node,
    stop_network,
    stop_node,
)
from eccoo.node.manifest import NetworkManifest, NodeEntry, load_manifest
from eccoo.node.settings import NetworkSettings
from eccoo.node.status import majority, network_status

__all__ = [
    "NetworkManifest",
    "NetworkSettings",
    "add_node",
    "init_network",
    "load_manifest",
    "majority",
    "network_status",
    "propose",
    "signers",
    "start_network",
    "start_node",
    "stop_network",
    "stop_node",
]


def signers(network_dir: Path) -> list[str]:
    """The current signer set, from the first running node that answers."""
    manifest = load_manifest(network_dir)
    for node in running_nodes(manifest):
        try:
            return list(rpc.call(node.rpc_url, "clique_getSigners"))
        except NodeError:
            continue
    raise NetworkNotReady("no running node answers clique_getSigners")


def propose(network_dir: Path, action: Literal["add", "remove"], address: str) -> dict[str, Any]:
    """Cast `clique_propose` on every running signer; returns who voted.

    Each signer puts its vote in the next block it seals; the change takes effect once
    floor(N/2)+1 of the N signers have voted (shown by `network_status`).
    """
    if action not in ("add", "remove"):
        raise NodeError(f"action must be add or remove, not {action!r}", field="action")
    target = checksum(address)
    manifest = load_manifest(network_dir)
    current = {s.lower() for s in signers(network_dir)}
    voters: list[int] = []
    for node in running_nodes(manifest):
        if node.signer.lower() in current:
            rpc.call(node.rpc_url, "clique_propose", [target, action == "add"])
            voters.append(node.index)
    return {
        "address": target,
        "authorize": action == "add",
        "voters": voters,
        "signers": len(current),
        "needed": majority(len(current)),
    }


def add_node(
    network_dir: Path,
    *,
    validator: bool = False,
    start: bool | None = None,
    settings: NetworkSettings | None = None,
    timeout: float | None = None,
) -> NodeEntry:
    """Admit a new cooperative node: keys, static peers everywhere, `admin_addPeer` live.

    With `start` (default: when the network is running) the node starts and this returns
    once it has synced to the head it saw at start. A `validator` node seals only after
    a `propose add` reaches a majority.
    """
    settings = settings or NetworkSettings()
    timeout = timeout or settings.start_timeout
    manifest = load_manifest(network_dir)
    live = running_nodes(manifest)
    node = add_node_files(manifest, validator=validator, settings=settings)
    for other in live:
        rpc.call(other.rpc_url, "admin_addTrustedPeer", [node.enode])
        rpc.call(other.rpc_url, "admin_addPeer", [node.enode])
    if start is None:
        start = bool(live)
    if start:
        # start_node returns once the node has caught up with the running ones.
        start_node(network_dir, node.index, settings=settings, timeout=timeout)
    return node


def is_running(network_dir: Path, index: int) -> bool:
    manifest = load_manifest(network_dir)
    return geth.process(manifest, manifest.node(index)).running()
