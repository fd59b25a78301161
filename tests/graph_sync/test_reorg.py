"""Reorgs, against the SCRIPTED RPC (the one fake allowed: a real network does not
reorganise on demand) and the real Neo4j."""

from __future__ import annotations

import subprocess
import sys

import pytest
from eccoo.graph_sync.errors import ReorgTooDeep
from eccoo.graph_sync.indexer import Indexer
from eccoo.graph_sync.queries import GraphQueries

from .scripted_rpc import ScriptedChain, ScriptedRpc, address, hat, transfer
from .truth import graph_events

pytestmark = pytest.mark.neo4j

ALICE, BOB, CAROL, DAVE, ADMIN = (address(n) for n in (0xA, 0xB, 0xC, 0xD, 0xAD))


def _chain() -> ScriptedChain:
    chain = ScriptedChain()
    chain.mine([transfer(address(0), ALICE, 1_000)])
    for n in range(2, 9):
        chain.mine([transfer(ALICE, BOB, n)])
    chain.mine([hat("HatGranted", BOB, 1, ADMIN)])  # block 9
    return chain


def _settings(make_settings, rpc, chain, tmp_path):
    return make_settings(
        network_dir=None,
        rpc_url=rpc.url,
        confirmations=4,
        deployment_file=chain.write_deployment(tmp_path / "deployment.json"),
    )


def _wears(driver) -> list[tuple]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Account)-[w:WEARS]->(h:Hat) RETURN a.address AS a, w.block AS b, "
        "w.until AS u ORDER BY b"
    )
    return [(r["a"], r["b"], r["u"]) for r in records]


def test_two_block_reorg_leaves_nothing_from_orphaned_blocks(make_settings, empty_graph, tmp_path):
    chain = _chain()
    chain.mine([transfer(ALICE, DAVE, 7), hat("HatRevoked", BOB, 1, ADMIN)])  # block 10
    chain.mine([transfer(ALICE, DAVE, 11)])  # block 11
    with (
        ScriptedRpc(chain) as rpc,
        Indexer(_settings(make_settings, rpc, chain, tmp_path)) as indexer,
    ):
        indexer.run(once=True)
        orphaned = {b["hash"] for b in chain.blocks[-2:]}
        assert _wears(empty_graph) == [(BOB, 9, 10)]
        assert GraphQueries(empty_graph).balance(DAVE) == 18

        chain.reorg(2, "b", [[transfer(ALICE, CAROL, 5)], [], [transfer(BOB, CAROL, 1)]])
        indexer.run(once=True)

    found = graph_events(empty_graph)
    assert not {h for h, _ in found} & orphaned
    assert sorted(found) == sorted(
        (log["blockHash"], int(log["logIndex"], 16)) for log in chain.logs()
    )
    queries = GraphQueries(empty_graph)
    assert queries.cursor()["hash"] == chain.blocks[-1]["hash"]
    assert queries.balance(CAROL) == 6
    records, _, _ = empty_graph.execute_query(
        "MATCH (a:Account {address: $dave}) RETURN count(a) AS n", dave=DAVE
    )
    assert records[0]["n"] == 0  # only orphaned blocks ever mentioned Dave
    assert _wears(empty_graph) == [(BOB, 9, None)]  # the revoke was orphaned: open again
    assert indexer.status.state["reorgs"] == 1


def test_reorg_deeper_than_window_is_a_typed_error(make_settings, empty_graph, tmp_path):
    chain = _chain()
    with ScriptedRpc(chain) as rpc:
        settings = _settings(make_settings, rpc, chain, tmp_path)
        with Indexer(settings) as indexer:
            indexer.run(once=True)
            before = sorted(graph_events(empty_graph))
            chain.reorg(7, "deep", [[transfer(ALICE, CAROL, 1)] for _ in range(8)])
            with pytest.raises(ReorgTooDeep):
                indexer.run(once=True)
        assert sorted(graph_events(empty_graph)) == before  # left as it was, not half-undone
        assert indexer.status.state["state"] == "failed"
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "eccoo.cli",
                "index",
                "run",
                "--once",
                "--rpc-url",
                rpc.url,
                "--deployment-file",
                str(settings.deployment_file),
                "--bolt-url",
                settings.bolt_url,
                "--neo4j-password-file",
                str(settings.neo4j_password_file),
                "--data-dir",
                str(tmp_path / "cli"),
                "--confirmations",
                "4",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert cli.returncode == 2, cli.stderr
    assert "deeper than the unfinalized window" in cli.stderr
