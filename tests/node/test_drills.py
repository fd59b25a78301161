"""Drills on a private 4-validator network: voting a fifth signer in and out, losing one
then two signers, and restarting the whole network.

The network is this module's own (never the shared session one) because the drills
stop nodes and change the signer set; the tests run in file order on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from eccoo.node import api, rpc
from fixtures.network import RunningNetwork, start_clique

pytestmark = pytest.mark.geth
PERIOD = 1


@pytest.fixture(scope="module")
def drill_network(tmp_path_factory, network_settings) -> Iterator[RunningNetwork]:
    network = start_clique(tmp_path_factory.mktemp("drills") / "network", network_settings)
    try:
        yield network
    finally:
        network.stop()


def head(network: RunningNetwork, index: int = 0) -> int:
    return int(rpc.call(network.manifest.rpc_url(index), "eth_blockNumber"), 16)


def signer_set(network: RunningNetwork) -> set[str]:
    return {s.lower() for s in api.signers(network.dir)}


def eventually(check: Callable[[], bool], periods: float) -> bool:
    """True if `check` holds within `periods` block periods."""
    deadline = time.monotonic() + periods * PERIOD
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_majority_votes_a_fifth_signer_in_and_out(drill_network):
    net = drill_network
    newcomer = api.add_node(net.dir, validator=True)
    net.reload()
    assert newcomer.index == 4
    # add-node started it and it synced: it is a peer of every running node.
    assert head(net, 4) >= head(net, 0) - 2
    assert newcomer.signer.lower() not in signer_set(net)

    vote = api.propose(net.dir, "add", newcomer.signer)
    assert vote["voters"] == [0, 1, 2, 3] and vote["needed"] == 3
    # Every signer now carries the proposal; status shows it until the majority lands.
    status = api.network_status(net.dir)
    for entry in status["nodes"][:4]:
        assert {a.lower() for a in entry["proposals"]} == {newcomer.signer.lower()}
    assert eventually(lambda: len(signer_set(net)) == 5, periods=30)
    assert newcomer.signer.lower() in signer_set(net)
    # The newcomer now seals too.
    start = head(net)
    assert eventually(
        lambda: any(
            rpc.call(net.manifest.rpc_url(0), "clique_getSigner", [hex(n)]).lower()
            == newcomer.signer.lower()
            for n in range(start + 1, head(net) + 1)
        ),
        periods=30,
    )

    vote = api.propose(net.dir, "remove", newcomer.signer)
    assert len(vote["voters"]) == 5 and vote["needed"] == 3
    assert eventually(lambda: len(signer_set(net)) == 4, periods=30)
    assert newcomer.signer.lower() not in signer_set(net)


def test_losing_one_then_two_signers_and_recovering(drill_network):
    net = drill_network
    # After the vote test node 4 runs as a plain node; signers are nodes 0-3.
    api.stop_node(net.dir, 3)
    before = head(net)
    assert eventually(lambda: head(net) >= before + 10, periods=20)

    api.stop_node(net.dir, 2)
    stopped_at = head(net)
    # Two of four signers cannot seal: each may sign once per floor(4/2)+1 = 3 blocks,
    # so at most two more blocks appear, then the head must stay still for 5 periods.
    stalled = None
    deadline = time.monotonic() + 15 * PERIOD
    while time.monotonic() < deadline and stalled is None:
        mark = head(net)
        if not eventually(lambda m=mark: head(net) > m, periods=5):
            stalled = mark
    assert stalled is not None, "blocks kept coming with 2 of 4 signers"
    assert stalled <= stopped_at + 2
    status = api.network_status(net.dir)
    assert any("below floor(N/2)+1" in w for w in status["warnings"])

    api.start_node(net.dir, 2)  # returns once node 2 is peered and caught up
    assert eventually(lambda: head(net) > stalled, periods=3)
    api.start_node(net.dir, 3)


def test_whole_network_restart_keeps_the_chain(drill_network):
    net = drill_network
    genesis = net.manifest.genesis_hash
    before = head(net)
    assert sorted(api.stop_network(net.dir)) == [n.index for n in net.manifest.nodes]
    assert not any(n["running"] for n in api.network_status(net.dir)["nodes"])

    api.start_network(net.dir)  # returns once a new block reached every node
    for node in net.manifest.nodes:
        block0 = rpc.call(node.rpc_url, "eth_getBlockByNumber", ["0x0", False])
        assert block0["hash"] == genesis
    assert head(net) > before
