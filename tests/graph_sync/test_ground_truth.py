"""The mirror equals the chain after a busy run of the real contracts on real geth."""

from __future__ import annotations

import random
import subprocess
import time

import pytest
from eccoo.graph_sync.indexer import Indexer

from .truth import assert_mirror_exact, index_command
from .workload import care_round

pytestmark = [pytest.mark.geth, pytest.mark.neo4j]


def test_backfill_then_live_equals_chain(chain_ledger, actors, make_settings, empty_graph):
    settings = make_settings()
    with Indexer(settings) as indexer:
        indexer.run(once=True)
        first = assert_mirror_exact(chain_ledger, empty_graph)
        assert first["events"] >= 2_000
        # Every kind of event the contracts emitted in the run is mirrored.
        for kind in (
            "CareCoin.Transfer",
            "CareCoin.Minted",
            "CareCoin.Burned",
            "CareCoin.Approval",
            "Membership.MemberRegistered",
            "Membership.HatGranted",
            "Membership.HatRevoked",
            "Membership.ArrangerSet",
            "Membership.CircleCreated",
            "Membership.CircleRoleSet",
            "FundingPots.PotCreated",
            "FundingPots.SharesSet",
            "FundingPots.Deposited",
            "FundingPots.Drawn",
            "FundingPots.Refunded",
            "CareLedger.AppointmentBooked",
            "CareLedger.AppointmentDelivered",
            "CareLedger.AppointmentConfirmed",
            "CareLedger.AppointmentDisputed",
            "CareLedger.DisputeResolved",
            "CareLedger.AppointmentPaid",
            "CareLedger.CareNoteAnchored",
        ):
            assert first["kinds"].get(kind, 0) > 0, kind
        # Live: more activity while the indexer follows the head.
        care_round(chain_ledger, actors, 20, random.Random(2))
        head = chain_ledger.w3.eth.block_number
        indexer.run(until_block=head)
        second = assert_mirror_exact(chain_ledger, empty_graph)
    assert second["events"] > first["events"]
    status = indexer.status.state
    assert status["cursor"] >= head and status["last_error"] is None
    assert time.time() - status["updated_at"] < 60


def test_rebuild_drops_only_the_mirror_and_reindexes(
    chain_ledger, actors, make_settings, empty_graph
):
    settings = make_settings()
    empty_graph.execute_query(
        "CREATE (:CareNote {id: 'rebuild-test', appointment_id: 1, note_hash: '0x01'})"
    )
    try:
        cli = subprocess.run(
            index_command("rebuild", settings),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cli.returncode == 0, cli.stderr
        assert "rebuilt up to block" in cli.stdout
        assert_mirror_exact(chain_ledger, empty_graph)
        records, _, _ = empty_graph.execute_query(
            "MATCH (n:CareNote {id: 'rebuild-test'}) RETURN n.appointment_id AS a"
        )
        assert [r["a"] for r in records] == [1]  # off-chain data untouched
    finally:
        empty_graph.execute_query("MATCH (n:CareNote {id: 'rebuild-test'}) DELETE n")
