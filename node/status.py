"""What the network looks like right now: nodes, heads, peers, signers, votes, warnings.

Reads only: asks each running node over RPC and the manifest for the rest. A node that
does not answer is reported as such, never an exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eccoo.node import geth, rpc
from eccoo.node.errors import NodeError
from eccoo.node.manifest import NetworkManifest, NodeEntry, load_manifest


def majority(signer_count: int) -> int:
    """Clique's floor(N/2)+1: distinct signers needed in a row to keep sealing."""
    return signer_count // 2 + 1


def _node_status(manifest: NetworkManifest, node: NodeEntry) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "index": node.index,
        "signer": node.signer,
        "validator": node.validator,
        "running": geth.process(manifest, node).running(),
        "rpc_url": node.rpc_url,
        "ws_url": node.ws_url,
        "peers": None,
        "head": None,
    }
    if entry["running"]:
        try:
            entry["peers"] = len(rpc.call(node.rpc_url, "admin_peers", timeout=3))
            block = rpc.call(node.rpc_url, "eth_getBlockByNumber", ["latest", False], timeout=3)
            entry["head"] = {"number": int(block["number"], 16), "hash": block["hash"]}
            entry["proposals"] = rpc.call(node.rpc_url, "clique_proposals", timeout=3)
            entry["sealing"] = bool(rpc.call(node.rpc_url, "eth_mining", timeout=3))
        except NodeError as exc:
            entry["error"] = exc.message
    return entry


def network_status(network_dir: Path) -> dict[str, Any]:
    """The JSON of `eccoo network status --json` (see docs/network.md for every key)."""
    manifest = load_manifest(network_dir)
    nodes = [_node_status(manifest, n) for n in manifest.nodes]
    answering = [manifest.node(e["index"]) for e in nodes if e["head"] is not None]
    status: dict[str, Any] = {
        "chain_id": manifest.chain_id,
        "genesis_hash": manifest.genesis_hash,
        "period": manifest.period,
        "gas_limit": manifest.gas_limit,
        "signers": [],
        "nodes": nodes,
        "pending_votes": {},
        "clique_status": None,
        "warnings": [],
    }
    if not answering:
        status["warnings"].append("no node is running")
        status["healthy"] = False
        return status
    # Ask the node with the highest head: a lagging node may still see the old signers.
    best = max(
        answering, key=lambda n: next(e for e in nodes if e["index"] == n.index)["head"]["number"]
    )
    try:
        signers = rpc.call(best.rpc_url, "clique_getSigners")
        snapshot = rpc.call(best.rpc_url, "clique_getSnapshot", ["latest"])
        status["clique_status"] = rpc.call(best.rpc_url, "clique_status")
    except NodeError as exc:
        status["warnings"].append(f"node-{best.index} did not answer clique calls: {exc}")
        status["healthy"] = False
        return status
    status["signers"] = signers
    need = majority(len(signers))
    status["majority"] = need
    status["pending_votes"] = {
        address: {"authorize": t["authorize"], "votes": t["votes"], "needed": need}
        for address, t in (snapshot.get("tally") or {}).items()
    }
    lowered = {s.lower() for s in signers}
    running_signers = [e for e in nodes if e["head"] is not None and e["signer"].lower() in lowered]
    status["running_signers"] = len(running_signers)
    if len(running_signers) < need:
        status["warnings"].append(
            f"only {len(running_signers)} of {len(signers)} signers running: below "
            f"floor(N/2)+1 = {need}, no block can be sealed"
        )
    elif len(running_signers) == need:
        status["warnings"].append(
            f"{len(running_signers)} of {len(signers)} signers running: at floor(N/2)+1 = "
            f"{need}, one more failure stops sealing"
        )
    status["healthy"] = len(running_signers) >= need and all(e["running"] for e in nodes)
    return status
