"""Every query on a small hand-built scenario on the real chain_ledger, incl. "as of block".

The scenario runs on the shared network after the workload, so expectations are
exact deltas from a block `b0` taken just before it (which "as of" makes possible).
"""

from __future__ import annotations

import pytest
from eccoo.graph_sync.graphql import create_app
from eccoo.graph_sync.indexer import Indexer
from eccoo.graph_sync.queries import GraphQueries
from starlette.testclient import TestClient

from .workload import FUNDERS

pytestmark = [pytest.mark.geth, pytest.mark.neo4j]


def _booked_id(chain_ledger, receipt):
    event = chain_ledger.c["CareLedger"].events.AppointmentBooked()
    return event.process_receipt(receipt)[0]["args"]["appointmentId"]


@pytest.fixture
def scenario(chain_ledger, actors, make_settings, empty_graph):
    receiver, giver, admin = actors.receivers[1], actors.givers[1], actors.admin
    pot = actors.pots[receiver.address]
    b0 = chain_ledger.w3.eth.block_number
    r = chain_ledger.settle(
        [
            chain_ledger.send(admin, "FundingPots", "deposit", pot, FUNDERS[0], 10_000),
            chain_ledger.send(admin, "FundingPots", "deposit", pot, FUNDERS[1], 5_000),
        ]
    )
    deposit_block = max(x["blockNumber"] for x in r)
    coordinator, start = actors.coordinator, chain_ledger.recent_start()
    booked = chain_ledger.settle(
        [
            chain_ledger.send(
                coordinator,
                "CareLedger",
                "book",
                receiver.address,
                giver.address,
                start,
                60,
                1800,
                pot,
            ),
            chain_ledger.send(
                coordinator,
                "CareLedger",
                "book",
                receiver.address,
                giver.address,
                start,
                30,
                1800,
                pot,
            ),
        ]
    )
    a1, a2 = (_booked_id(chain_ledger, x) for x in booked)
    chain_ledger.settle(
        [chain_ledger.send(giver, "CareLedger", "markDelivered", a) for a in (a1, a2)]
    )
    chain_ledger.settle([chain_ledger.send(receiver, "CareLedger", "confirm", a) for a in (a1, a2)])
    paid = chain_ledger.settle([chain_ledger.send(admin, "CareLedger", "releasePayment", a1)])
    head = chain_ledger.w3.eth.block_number
    with Indexer(make_settings()) as indexer:
        indexer.run(until_block=head)
    return dict(
        b0=b0,
        deposit_block=deposit_block,
        pot=pot,
        a1=a1,
        a2=a2,
        giver=giver,
        receiver=receiver,
        paid_block=paid[0]["blockNumber"],
        admin=admin,
    )


def test_every_query_on_the_scenario(chain_ledger, actors, scenario, empty_graph):
    q = GraphQueries(empty_graph)
    s = scenario
    pots = chain_ledger.c["FundingPots"]
    fee_bps = chain_ledger.c["CareLedger"].functions.feeBps().call()
    f0, f1 = ("0x" + f.hex() for f in FUNDERS[:2])

    trail = q.payment_trail(s["a1"])
    assert trail["payment"]["amount"] == 1800
    assert trail["payment"]["fee"] == 1800 * fee_bps // 10_000
    assert trail["payment"]["giver_share"] + trail["payment"]["fee"] == 1800
    assert sorted((d["funder"], d["amount"]) for d in trail["draws"]) == sorted(
        [(f0, 1080), (f1, 720)]
    )
    assert trail["pot_id"] == s["pot"] and trail["giver"] == s["giver"].address.lower()
    to_giver = [t for t in trail["transfers"] if t["to"] == trail["giver"]]
    assert [t["amount"] for t in to_giver] == [trail["payment"]["giver_share"]]
    if trail["payment"]["fee"]:
        assert trail["fee_account"] == s["admin"].address.lower()
    assert q.payment_trail(s["a2"])["payment"] is None

    earnings = q.giver_earnings(s["giver"].address, from_block=s["b0"] + 1)
    assert [(e["funder"], e["drawn"], e["payments"]) for e in earnings] == sorted(
        [(f0, 1080, 1), (f1, 720, 1)]
    )

    unpaid = {a["id"] for a in q.confirmed_unpaid()}
    assert s["a2"] in unpaid and s["a1"] not in unpaid
    assert s["a1"] in {a["id"] for a in q.confirmed_unpaid(as_of=s["paid_block"] - 1)}
    assert s["a1"] not in {a["id"] for a in q.appointments(as_of=s["b0"])}

    statement = q.pot_statement(s["pot"], from_block=s["b0"] + 1)
    opening = sum(
        pots.functions.balanceOf(s["pot"], f).call(block_identifier=s["b0"]) for f in FUNDERS[:2]
    )
    assert statement["opening"] == opening
    assert [(m["kind"], m["amount"]) for m in statement["movements"]] == [
        ("deposit", 10_000),
        ("deposit", 5_000),
        ("draw", -1080),
        ("draw", -720),
    ]
    assert statement["closing"] == opening + 13_200
    assert statement["movements"][-1]["balance"] == statement["closing"]
    as_of = q.pot_statement(s["pot"], to_block=s["deposit_block"])
    assert as_of["closing"] == sum(
        pots.functions.balanceOf(s["pot"], f).call(block_identifier=s["deposit_block"])
        for f in FUNDERS[:2]
    )

    network = {row["address"]: row for row in q.care_network(s["giver"].address)}
    contact = network[s["receiver"].address.lower()]
    assert contact["hops"] == 1 and "cares_for" in contact["relations"]
    assert contact["shared_circles"]  # both sit in the root circle
    assert any(row["hops"] == 2 for row in network.values())  # other givers of that receiver
    assert q.care_network(s["giver"].address, as_of=0) == []


def test_graphql_serves_the_same_answers_read_only(scenario, empty_graph):
    client = TestClient(create_app(empty_graph))
    query = """query($id: Long!, $pot: Long!) {
      paymentTrail(appointmentId: $id) { payment { amount fee giverShare } draws { amount } }
      potStatement(pot: $pot) { closing movements { kind amount } }
      confirmedUnpaid { id }
    }"""
    answer = client.post(
        "/graphql",
        json={"query": query, "variables": {"id": scenario["a1"], "pot": scenario["pot"]}},
    ).json()
    assert "errors" not in answer, answer
    trail = answer["data"]["paymentTrail"]
    assert trail["payment"]["amount"] == 1800 and sum(d["amount"] for d in trail["draws"]) == 1800
    assert scenario["a2"] in {a["id"] for a in answer["data"]["confirmedUnpaid"]}
    refused = client.post("/graphql", json={"query": "mutation { x }"}).json()
    assert refused.get("errors")
