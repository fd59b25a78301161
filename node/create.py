"""Creating a network folder (`init`) and admitting a new cooperative node (`add-node`).

`init` builds everything in a hidden sibling folder and renames it into place, so a
failure leaves nothing half-written; an existing folder is replaced only with `force`.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path

from eccoo.node import geth
from eccoo.node.compose import write_docker_peer_configs
from eccoo.node.errors import InvalidAddress, NetworkExists
from eccoo.node.genesis import build_genesis, genesis_hash
from eccoo.node.keys import create_account, create_node_key
from eccoo.node.manifest import (
    MANIFEST_NAME,
    AccountRef,
    NetworkManifest,
    NodeEntry,
    load_manifest,
    save_manifest,
)
from eccoo.node.settings import NetworkSettings

from eccoo.errors import InvalidInput

DEFAULT_CHAIN_ID = 20231
DEFAULT_BASE_PORT = 8545
# Node i listens on base + STRIDE*i + {0: http, 1: ws, 2: authrpc, 3: p2p}.
PORT_STRIDE = 10
FUNDING_WEI = 10**6 * 10**18  # one million ether each for the deployer and relayers


def node_ports(base_port: int, index: int) -> dict[str, int]:
    first = base_port + PORT_STRIDE * index
    return {
        "http_port": first,
        "ws_port": first + 1,
        "authrpc_port": first + 2,
        "p2p_port": first + 3,
    }


def _new_node(root: Path, index: int, base_port: int, validator: bool) -> NodeEntry:
    datadir = root / "nodes" / f"node-{index}"
    signer = create_account(
        datadir / "keystore" / "signer.json", datadir / "password", name=f"node-{index}"
    )
    node_id = create_node_key(datadir)
    ports = node_ports(base_port, index)
    return NodeEntry(
        index=index,
        signer=signer.address,
        validator=validator,
        enode=f"enode://{node_id}@127.0.0.1:{ports['p2p_port']}",
        datadir=datadir,
        keystore=signer.keystore,
        password_file=signer.password_file,
        **ports,
    )


def _check_inputs(
    validators: int, period: int, chain_id: int, gas_limit: int, base_port: int, relayers: int
) -> None:
    if validators < 1:
        raise InvalidInput("--validators must be at least 1", field="validators")
    if period < 1:
        raise InvalidInput("--period must be at least 1 second", field="period")
    if chain_id < 1:
        raise InvalidInput("--chain-id must be a positive integer", field="chain_id")
    if gas_limit < 21_000:
        raise InvalidInput("--gas-limit must be at least 21000", field="gas_limit")
    if not 1024 <= base_port <= 65535 - PORT_STRIDE * (validators + 16):
        raise InvalidInput("--base-port leaves no room for the nodes' ports", field="base_port")
    if relayers < 1:
        raise InvalidInput("--relayers must be at least 1", field="relayers")


def _prepare_target(target: Path, force: bool) -> None:
    if not target.exists() or not any(target.iterdir()):
        return
    if not force:
        raise NetworkExists(
            f"{target}: folder is not empty (pass --force to replace it)", field="dir"
        )
    if not (target / MANIFEST_NAME).exists():
        # --force replaces a network, never an arbitrary folder the operator pointed at.
        raise NetworkExists(
            f"{target}: not a network folder (no {MANIFEST_NAME}); "
            "refusing to delete it even with --force",
            field="dir",
        )


def init_network(
    network_dir: Path,
    *,
    validators: int = 4,
    period: int = 1,
    chain_id: int = DEFAULT_CHAIN_ID,
    gas_limit: int = 30_000_000,
    base_port: int = DEFAULT_BASE_PORT,
    relayers: int = 8,
    netrestrict: str = "127.0.0.0/8",
    prefund: Mapping[str, int] | None = None,
    force: bool = False,
    settings: NetworkSettings | None = None,
) -> NetworkManifest:
    """Keys, genesis, peer configs and manifest for a new Clique network in `network_dir`.

    `prefund` adds balances (wei) for extra addresses, e.g. a benchmark's senders.
    """
    settings = settings or NetworkSettings()
    _check_inputs(validators, period, chain_id, gas_limit, base_port, relayers)
    target = Path(network_dir).resolve()
    _prepare_target(target, force)
    if target.exists() and (target / MANIFEST_NAME).exists():
        from eccoo.node.lifecycle import running_nodes  # avoid replacing a live network

        if running_nodes(load_manifest(target)):
            raise NetworkExists(f"{target}: nodes are running; stop the network first", field="dir")
    stage = target.parent / f".{target.name}.init-{secrets.token_hex(4)}"
    target.parent.mkdir(parents=True, exist_ok=True)
    stage.mkdir()
    try:
        manifest = _build(
            stage,
            validators,
            period,
            chain_id,
            gas_limit,
            base_port,
            relayers,
            netrestrict,
            prefund or {},
            settings,
        )
        if target.exists():
            shutil.rmtree(target)
        stage.replace(target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    del manifest  # its paths point into the stage folder
    return load_manifest(target)


def _build(
    stage: Path,
    validators: int,
    period: int,
    chain_id: int,
    gas_limit: int,
    base_port: int,
    relayers: int,
    netrestrict: str,
    prefund: Mapping[str, int],
    settings: NetworkSettings,
) -> NetworkManifest:
    nodes = [_new_node(stage, i, base_port, validator=True) for i in range(validators)]
    accounts = stage / "accounts"
    deployer = create_account(
        accounts / "deployer.json", accounts / "deployer.password", name="deployer"
    )
    relayer_refs: list[AccountRef] = [
        create_account(
            accounts / f"relayer-{k}.json", accounts / f"relayer-{k}.password", name=f"relayer-{k}"
        )
        for k in range(relayers)
    ]
    alloc: dict[str, int] = {a.address: FUNDING_WEI for a in [deployer, *relayer_refs]}
    for address, wei in prefund.items():
        if not isinstance(wei, int) or wei < 0:
            raise InvalidInput(f"prefund balance of {address} must be a non-negative int")
        alloc[address] = wei
    genesis = build_genesis(
        chain_id=chain_id,
        period=period,
        epoch=30_000,
        gas_limit=gas_limit,
        signers=[n.signer for n in nodes],
        alloc=alloc,
    )
    (stage / "genesis.json").write_text(json.dumps(genesis, indent=1) + "\n")
    manifest = NetworkManifest(
        chain_id=chain_id,
        period=period,
        gas_limit=gas_limit,
        genesis_hash=genesis_hash(genesis),
        netrestrict=netrestrict,
        base_port=base_port,
        nodes=nodes,
        deployer=deployer,
        relayers=relayer_refs,
        dir=stage,
    )
    save_manifest(manifest)
    geth.write_peer_configs(manifest)
    write_docker_peer_configs(manifest)
    for node in nodes:
        geth.geth_init(settings, node, manifest.genesis_file)
    return manifest


def add_node_files(
    manifest: NetworkManifest, *, validator: bool, settings: NetworkSettings
) -> NodeEntry:
    """Keys, datadir and genesis for a new node; every node's static peers now include it."""
    index = max(n.index for n in manifest.nodes) + 1
    node = _new_node(manifest.dir, index, manifest.base_port, validator=validator)
    geth.geth_init(settings, node, manifest.genesis_file)
    manifest.nodes.append(node)
    save_manifest(manifest)
    geth.write_peer_configs(manifest)
    write_docker_peer_configs(manifest)
    return node


def checksum(address: str) -> str:
    """A checksummed address, or `InvalidAddress` naming the argument.

    Mixed case must be a valid EIP-55 checksum: a typo in a signer vote is caught here.
    """
    from eth_utils import (
        is_checksum_address,
        is_checksum_formatted_address,
        is_hex_address,
        to_checksum_address,
    )

    valid = isinstance(address, str) and address.startswith("0x") and is_hex_address(address)
    if valid and is_checksum_formatted_address(address):
        valid = is_checksum_address(address)
    if not valid:
        raise InvalidAddress(
            f"{address!r} is not a 0x-prefixed 20-byte address (or its EIP-55 checksum is wrong)",
            field="address",
        )
    return to_checksum_address(address)
