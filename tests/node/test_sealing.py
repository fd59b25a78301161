"""The shared 4-validator network seals with every signer and its nodes agree on the chain."""

from __future__ import annotations

import time

import pytest
from eccoo.node import rpc

pytestmark = pytest.mark.geth


def _wait_head(url: str, number: int, periods: int) -> int:
    deadline = time.monotonic() + periods
    head = 0
    while time.monotonic() < deadline:
        head = int(rpc.call(url, "eth_blockNumber"), 16)
        if head >= number:
            return head
        time.sleep(0.2)
    return head


def test_every_signer_seals_and_nodes_agree_at_head_minus_2(clique_network):
    manifest = clique_network.manifest
    url = manifest.rpc_url(0)
    # 4 signers take turns, so 12 blocks give each several in-turn slots.
    head = _wait_head(url, 12, periods=60)
    assert head >= 12

    sealers = {rpc.call(url, "clique_getSigner", [hex(n)]).lower() for n in range(1, head + 1)}
    assert sealers == {n.signer.lower() for n in manifest.nodes}

    target = hex(head - 2)
    hashes = {
        rpc.call(node.rpc_url, "eth_getBlockByNumber", [target, False])["hash"]
        for node in manifest.nodes
    }
    assert len(hashes) == 1


def test_genesis_matches_manifest_and_web3_reads_poa_blocks(clique_network):
    w3 = clique_network.w3(2)
    assert w3.eth.chain_id == clique_network.manifest.chain_id
    assert w3.eth.get_block(0)["hash"].to_0x_hex() == clique_network.manifest.genesis_hash
    # A Clique extraData (97 bytes) is moved to proofOfAuthorityData by the middleware.
    assert len(w3.eth.get_block("latest")["proofOfAuthorityData"]) >= 97
