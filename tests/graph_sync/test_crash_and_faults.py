"""SIGKILL at random points and 10% failing RPC calls: the mirror still ends exact."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time

import pytest
from eccoo.graph_sync.indexer import Indexer
from eccoo.graph_sync.status import KEYS

from eccoo.services.process import ManagedProcess

from .fault_proxy import FaultProxy
from .truth import assert_mirror_exact, graph_events, index_command
from .workload import care_round

pytestmark = [pytest.mark.geth, pytest.mark.neo4j, pytest.mark.slow]


def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    chain_ledger, actors, make_settings, empty_graph, tmp_path
):
    settings = make_settings(batch_events=40, initial_range=8, max_range=64)
    # More activity while the indexer is being killed, so kills land mid-backfill and live.
    busy = threading.Thread(target=care_round, args=(chain_ledger, actors, 25, random.Random(3)))
    busy.start()
    process = ManagedProcess("indexer", tmp_path / "run")
    argv = index_command("run", settings)
    env = {
        "ECCOO_GRAPH_BATCH_EVENTS": "40",
        "ECCOO_GRAPH_INITIAL_RANGE": "8",
        "ECCOO_GRAPH_MAX_RANGE": "64",
    }
    rng = random.Random(11)
    progress = []
    try:
        for _ in range(9):
            process.start(argv, env=env)
            time.sleep(rng.uniform(1.5, 4.0))  # a random point: imports, backfill or live
            process.kill()
            progress.append(len(graph_events(empty_graph)))
        # The last kill waits for a first batch if none is written yet, so the check below
        # does not depend on how fast a loaded machine starts Python.
        process.start(argv, env=env)
        deadline = time.monotonic() + 180
        while not graph_events(empty_graph) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.5))
        process.kill()
        progress.append(len(graph_events(empty_graph)))
    finally:
        process.kill()
        busy.join()
    assert progress[-1] > 0
    # The killed indexer's last status is still readable, with the documented keys.
    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "eccoo.cli",
            "index",
            "status",
            "--json",
            "--data-dir",
            str(settings.data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    shown = json.loads(status.stdout)
    assert set(KEYS) <= set(shown) and shown["running"] is False and shown["cursor"] > 0
    with Indexer(settings) as indexer:
        indexer.run(until_block=chain_ledger.w3.eth.block_number)
    assert_mirror_exact(chain_ledger, empty_graph)


def test_ten_percent_failing_rpc_calls_same_result(
    chain_ledger, actors, make_settings, empty_graph, clique_network
):
    with FaultProxy(clique_network.manifest.rpc_url(0), failure_rate=0.10) as proxy:
        settings = make_settings(rpc_url=proxy.url, initial_range=16, max_backoff=0.5)
        with Indexer(settings) as indexer:
            indexer.run(until_block=chain_ledger.w3.eth.block_number)
        assert proxy.failed > 0
    truth = assert_mirror_exact(chain_ledger, empty_graph)
    assert truth["events"] > 0
    status = indexer.status.state
    assert status["retries"] > 0  # the faults were retried and reported
    assert status["last_error"]["retrying"] is True
