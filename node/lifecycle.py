"""Starting and stopping the geth nodes of a network, one by one or all together.

Nodes run detached (`ManagedProcess`), so they outlive the command that started them.
Start checks ports and key files first and returns only once nodes are peered and
sealing; it never kills a process it did not start.
"""

from __future__ import annotations

import time
from pathlib import Path

from eccoo.node import geth, rpc
from eccoo.node.errors import NetworkNotReady, NodeError
from eccoo.node.keys import load_account
from eccoo.node.manifest import AccountRef, NetworkManifest, NodeEntry, load_manifest
from eccoo.node.settings import NetworkSettings

from eccoo.services.process import require_free_ports


def running_nodes(manifest: NetworkManifest) -> list[NodeEntry]:
    return [n for n in manifest.nodes if geth.process(manifest, n).running()]


def _check_keys(node: NodeEntry) -> None:
    """Fail early, naming the file, rather than letting geth die with a log line."""
    if node.validator:
        load_account(
            AccountRef(
                address=node.signer, keystore=node.keystore, password_file=node.password_file
            )
        )


def _launch(manifest: NetworkManifest, node: NodeEntry, settings: NetworkSettings) -> None:
    handle = geth.process(manifest, node)
    if handle.running():
        return
    _check_keys(node)
    require_free_ports(node.ports())
    if not geth.is_initialised(node):
        geth.geth_init(settings, node, manifest.genesis_file)
    handle.start(geth.geth_argv(settings, manifest, node))


def _wait_rpc(manifest: NetworkManifest, node: NodeEntry, timeout: float) -> None:
    geth.process(manifest, node).wait_ready(
        lambda: rpc.answers(node.rpc_url), timeout=timeout, what=f"geth {node.name}"
    )


def _add_peers(node: NodeEntry, others: list[NodeEntry]) -> None:
    # Static peers are dialled at start, but a peer that was down then is retried only
    # after geth's dial back-off; admin_addPeer dials now.
    # Trusted too, as in config.toml: trusted peers are admitted even at --maxpeers.
    for other in others:
        if other.index != node.index:
            rpc.call(node.rpc_url, "admin_addTrustedPeer", [other.enode])
            rpc.call(node.rpc_url, "admin_addPeer", [other.enode])


def _peer_count(node: NodeEntry) -> int:
    return len(rpc.call(node.rpc_url, "admin_peers"))


def head_number(node: NodeEntry) -> int:
    return int(rpc.call(node.rpc_url, "eth_blockNumber"), 16)


def _wait(check: object, timeout: float, what: str, manifest: NetworkManifest) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except NodeError:
            pass  # a node still starting; keep polling until the deadline
        time.sleep(0.25)
    raise NetworkNotReady(
        f"{what} within {timeout:.0f}s ({_snapshot(manifest)}); node logs are in "
        f"{manifest.state_dir()}"
    )


def _snapshot(manifest: NetworkManifest) -> str:
    """Heads and peer counts, so a failed start says which node was behind."""
    parts = []
    for node in manifest.nodes:
        try:
            parts.append(f"{node.name}: head {head_number(node)}, {_peer_count(node)} peers")
        except NodeError:
            parts.append(f"{node.name}: not answering")
    return "; ".join(parts)


def start_network(
    network_dir: Path, *, settings: NetworkSettings | None = None, timeout: float | None = None
) -> NetworkManifest:
    """Start every node of the manifest; return once all are peered and blocks are sealed.

    Starting again resumes the existing chain; already-running nodes are left alone.
    """
    settings = settings or NetworkSettings()
    timeout = timeout or settings.start_timeout
    manifest = load_manifest(network_dir)
    for node in manifest.nodes:
        _check_keys(node)
        handle = geth.process(manifest, node)
        if not handle.running():
            require_free_ports(node.ports())
    for node in manifest.nodes:
        _launch(manifest, node, settings)
    for node in manifest.nodes:
        _wait_rpc(manifest, node, timeout)
    for node in manifest.nodes:
        _add_peers(node, manifest.nodes)
    want = len(manifest.nodes) - 1
    _wait(
        lambda: all(_peer_count(n) >= want for n in manifest.nodes),
        timeout,
        "nodes did not all peer",
        manifest,
    )
    # Seal only from a common head: a signer sealing on a head of its own makes a fork
    # that, at equal difficulty, can deadlock Clique (each side's signers "signed
    # recently" on their side).
    _settle_tip_fork(manifest)
    _wait(
        lambda: len({head_hash(n) for n in manifest.nodes}) == 1,
        timeout,
        "nodes did not agree on a head before sealing",
        manifest,
    )
    start_head = head_number(manifest.nodes[0])
    for node in manifest.nodes:
        start_sealing(manifest, node)
    _wait(
        lambda: _agree_above(manifest.nodes, start_head),
        timeout,
        "no new block was sealed and agreed on by every node",
        manifest,
    )
    return manifest


def _block_hash(node: NodeEntry, number: int) -> str:
    return str(rpc.call(node.rpc_url, "eth_getBlockByNumber", [hex(number), False])["hash"])


def _settle_tip_fork(manifest: NetworkManifest, grace: float = 15.0) -> None:
    """Bring nodes stopped on two sides of a fork back to one chain.

    Two out-of-turn blocks at one height have equal difficulty, and geth keeps the one it
    saw first: a network stopped before the next block decided between them restarts split
    and, sealing only from a common head, would wait for ever. After `grace` seconds of
    disagreement the head most nodes hold wins (then the higher, then the larger hash, so
    every start decides alike); each other node is rewound (`debug_setHead`, over IPC) to
    where its chain meets the winner's, and takes the winner's blocks from its peers.
    """
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            if len({head_hash(n) for n in manifest.nodes}) == 1:
                return
        except NodeError:
            pass
        time.sleep(0.25)
    heads = {n.index: (head_number(n), head_hash(n)) for n in manifest.nodes}
    holders: dict[tuple[int, str], list[NodeEntry]] = {}
    for node in manifest.nodes:
        holders.setdefault(heads[node.index], []).append(node)
    winner = max(holders, key=lambda head: (len(holders[head]), head[0], head[1]))
    reference = holders[winner][0]
    for node in manifest.nodes:
        if heads[node.index] == winner:
            continue
        height = min(heads[node.index][0], winner[0])
        while height > 0 and _block_hash(node, height) != _block_hash(reference, height):
            height -= 1
        rpc.ipc_call(geth.ipc_path(manifest, node), "debug_setHead", [hex(height)])


def head_hash(node: NodeEntry) -> str:
    return str(rpc.call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])["hash"])


def _agree_above(nodes: list[NodeEntry], height: int) -> bool:
    """Every node is past `height` + 1 and all hold the same block at `height` + 1."""
    if min(head_number(n) for n in nodes) < height + 2:
        return False
    block = hex(height + 1)
    hashes = {rpc.call(n.rpc_url, "eth_getBlockByNumber", [block, False])["hash"] for n in nodes}
    return len(hashes) == 1


def start_sealing(manifest: NetworkManifest, node: NodeEntry) -> None:
    """`miner_start` over IPC (never exposed over HTTP) on a validator node."""
    if node.validator:
        rpc.ipc_call(geth.ipc_path(manifest, node), "miner_start")


def stop_network(network_dir: Path) -> list[int]:
    """Stop every node (SIGTERM, so geth flushes its state); returns the stopped indexes."""
    manifest = load_manifest(network_dir)
    return [n.index for n in manifest.nodes if geth.process(manifest, n).stop(timeout=60)]


def start_node(
    network_dir: Path,
    index: int,
    *,
    settings: NetworkSettings | None = None,
    timeout: float | None = None,
) -> NodeEntry:
    """Start one node and wait until it answers and is peered with every running node."""
    settings = settings or NetworkSettings()
    timeout = timeout or settings.start_timeout
    manifest = load_manifest(network_dir)
    node = manifest.node(index)
    _launch(manifest, node, settings)
    _wait_rpc(manifest, node, timeout)
    others = [n for n in running_nodes(manifest) if n.index != index]
    _add_peers(node, others)
    for other in others:
        _add_peers(other, [node])
    _wait(
        lambda: _peer_count(node) >= len(others),
        timeout,
        f"{node.name} did not peer with the running nodes",
        manifest,
    )
    if others:
        # geth syncs with fewer than 5 peers only after its 10 s force-sync timer, and
        # until then a signer would seal on a stale head; so "started" means caught up.
        target = max(head_number(o) for o in others)
        _wait(
            lambda: head_number(node) >= target,
            timeout,
            f"{node.name} did not sync to block {target}",
            manifest,
        )
    start_sealing(manifest, node)
    return node


def stop_node(network_dir: Path, index: int, *, kill: bool = False) -> bool:
    """Stop one node (SIGKILL with `kill`, for crash drills); False if it was not running."""
    manifest = load_manifest(network_dir)
    handle = geth.process(manifest, manifest.node(index))
    return handle.kill() if kill else handle.stop(timeout=60)
