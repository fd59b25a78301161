"""Every query on a small hand-built scenario on the real chain_ledger, incl. "as of block".

The scenario runs on the shared network after the workload, so expectations are
exact deltas from a block `b0` taken just before it (which "as of" makes possible).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from eccoo.client.forwarder import ForwardRequest, encode_call, sign_request
from eccoo.graph_sync.graphql import create_app
from eccoo.graph_sync.indexer import Indexer
from eccoo.graph_sync.mappers import ZERO_ADDRESS
from eccoo.graph_sync.queries import GraphQueries
from starlette.testclient import TestClient

from .workload import CARE_GIVER, FUNDERS, member_id

pytestmark = [pytest.mark.geth, pytest.mark.neo4j]


def _set_rate(chain_ledger, giver, rate):
    chain_ledger.settle([chain_ledger.send(giver, "CareLedger", "setHourlyRate", rate)])


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
    _set_rate(chain_ledger, giver, 1800)
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
    f0, f1 = ("0x" + f.hex() for f in FUNDERS[:2])

    # 60 minutes at the giver's 1,800 p: 315 p (17.5 %) on top from the pot, so 2,115 p
    # drawn (60 % = 1,269, 40 % = 846); 135 p (7.5 %) off the giver's 1,800.
    trail = q.payment_trail(s["a1"])
    payment = trail["payment"]
    assert (payment["amount"], payment["giver_share"]) == (2_115, 1_665)
    assert (payment["payer_contribution"], payment["giver_contribution"]) == (315, 135)
    assert payment["contribution"] == 450
    assert sorted((d["funder"], d["amount"]) for d in trail["draws"]) == sorted(
        [(f0, 1269), (f1, 846)]
    )
    assert trail["pot_id"] == s["pot"] and trail["giver"] == s["giver"].address.lower()
    to_giver = [t for t in trail["transfers"] if t["to"] == trail["giver"]]
    assert [t["amount"] for t in to_giver] == [trail["payment"]["giver_share"]]
    assert trail["contribution_account"] == s["admin"].address.lower()
    assert q.payment_trail(s["a2"])["payment"] is None

    earnings = q.giver_earnings(s["giver"].address, from_block=s["b0"] + 1)
    assert [(e["funder"], e["drawn"], e["payments"]) for e in earnings] == sorted(
        [(f0, 1269, 1), (f1, 846, 1)]
    )
    paid_at = chain_ledger.w3.eth.get_block(s["paid_block"])["timestamp"]
    giver_side = q.contributions(s["giver"].address, from_time=paid_at, to_time=paid_at)
    assert giver_side["as_giver"] == {"contribution": 135, "payments": 1}
    assert giver_side["as_payer"] == {"contribution": 0, "payments": 0}
    payer_side = q.contributions(s["receiver"].address, from_time=paid_at, to_time=paid_at)
    assert payer_side["as_payer"] == {"contribution": 315, "payments": 1}
    assert q.contributions(s["receiver"].address, to_time=paid_at - 1)["as_payer"]["payments"] == (
        q.contributions(s["receiver"].address)["as_payer"]["payments"] - 1
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
        ("draw", -1269),
        ("draw", -846),
    ]
    assert statement["closing"] == opening + 15_000 - 2_115
    assert statement["movements"][-1]["balance"] == statement["closing"]
    as_of = q.pot_statement(s["pot"], to_block=s["deposit_block"])
    assert as_of["closing"] == sum(
        pots.functions.balanceOf(s["pot"], f).call(block_identifier=s["deposit_block"])
        for f in FUNDERS[:2]
    )

    network = {row["address"]: row for row in q.care_network(s["giver"].address)}
    contact = network[s["receiver"].address.lower()]
    assert "cares_for" in contact["relations"]
    assert contact["shared_circles"]  # both sit in the root circle
    assert q.care_network(s["giver"].address, as_of=0) == []


def test_graphql_serves_the_same_answers_read_only(scenario, empty_graph):
    client = TestClient(create_app(empty_graph))
    query = """query($id: Long!, $pot: Long!) {
      paymentTrail(appointmentId: $id) {
        payment { amount contribution giverShare } draws { amount }
      }
      potStatement(pot: $pot) { closing movements { kind amount } }
      confirmedUnpaid { id }
    }"""
    answer = client.post(
        "/graphql",
        json={"query": query, "variables": {"id": scenario["a1"], "pot": scenario["pot"]}},
    ).json()
    assert "errors" not in answer, answer
    trail = answer["data"]["paymentTrail"]
    assert trail["payment"]["amount"] == 2115 and sum(d["amount"] for d in trail["draws"]) == 2115
    assert trail["payment"]["contribution"] == 450
    assert scenario["a2"] in {a["id"] for a in answer["data"]["confirmedUnpaid"]}
    refused = client.post("/graphql", json={"query": "mutation { x }"}).json()
    assert refused.get("errors")


def _batch(chain_ledger, account, calls):
    """`calls` signed as forward requests by `account`, relayed together in one
    `executeBatch` transaction (as the gateway's relayers send members' requests)."""
    forwarder = chain_ledger.c["Forwarder"]
    nonce = forwarder.functions.nonces(account.address).call()
    deadline = chain_ledger.w3.eth.get_block("latest")["timestamp"] + 600
    requests = []
    for i, (to, contract, (fn, args)) in enumerate(calls):
        data = encode_call(chain_ledger.c[contract], fn, *args)
        unsigned = ForwardRequest(account.address, to, 0, 400_000, nonce + i, deadline, data)
        signed = sign_request(
            account, unsigned, chain_id=chain_ledger.chain_id, forwarder_address=forwarder.address
        )
        requests.append(signed.as_call_arg())
    return chain_ledger.send(
        account, "Forwarder", "executeBatch", requests, ZERO_ADDRESS, gas=4_000_000
    )


def test_a_payment_trail_leaves_out_other_calls_of_its_transaction(
    chain_ledger, actors, make_settings, empty_graph
):
    """Two appointments released in one transaction (a batch, as relayers send them), between
    two unrelated transfers: each trail holds its own draw and payouts, nothing else."""
    receiver, giver, admin = actors.receivers[2], actors.givers[2], actors.admin
    pot, ledger = actors.pots[receiver.address], chain_ledger.c["CareLedger"]
    _set_rate(chain_ledger, giver, 1500)
    coordinator, start = actors.coordinator, chain_ledger.recent_start()
    booked = chain_ledger.settle(
        [
            chain_ledger.send(
                coordinator, "CareLedger", "book", receiver.address, giver.address, start, m, pot
            )
            for m in (60, 96)  # 1,500 p and 2,400 p
        ]
    )
    ids = [_booked_id(chain_ledger, x) for x in booked]
    chain_ledger.settle([chain_ledger.send(giver, "CareLedger", "markDelivered", a) for a in ids])
    chain_ledger.settle([chain_ledger.send(receiver, "CareLedger", "confirm", a) for a in ids])
    stranger = actors.receivers[0].address
    calls = [
        (chain_ledger.c["CareCoin"].address, "CareCoin", ("transfer", [stranger, 1500])),
        (ledger.address, "CareLedger", ("releasePayment", [ids[0]])),
        (chain_ledger.c["CareCoin"].address, "CareCoin", ("transfer", [stranger, 2400])),
        (ledger.address, "CareLedger", ("releasePayment", [ids[1]])),
        (chain_ledger.c["CareCoin"].address, "CareCoin", ("transfer", [stranger, 1500])),
    ]
    (receipt,) = chain_ledger.settle([_batch(chain_ledger, admin, calls)])
    with Indexer(make_settings()) as indexer:
        indexer.run(until_block=receipt["blockNumber"])
    q = GraphQueries(empty_graph)
    # Each draw is the price plus the payer's 17.5 %: 1,500 + 262 and 2,400 + 420.
    for appointment_id, amount in zip(ids, (1762, 2820), strict=True):
        trail = q.payment_trail(appointment_id)
        assert trail["payment"]["tx_hash"] == "0x" + bytes(receipt["transactionHash"]).hex()
        moves = trail["transfers"]
        assert stranger.lower() not in {t["to"] for t in moves}, trail
        assert moves[0]["amount"] == amount and moves[0]["to"] == ledger.address.lower()
        payouts = [(t["from"], t["to"], t["amount"]) for t in moves[1:]]
        paid, by = trail["payment"], ledger.address.lower()
        expected = [
            (by, giver.address.lower(), paid["giver_share"]),
            (by, trail["contribution_account"], paid["contribution"]),
        ]
        assert payouts == expected, trail


def test_a_care_network_holds_only_the_members_own_relations(
    chain_ledger, actors, make_settings, empty_graph
):
    """Receivers who share a giver never see each other; a cancelled booking is no relation."""
    admin, receiver = actors.admin, actors.receivers[1]
    newcomer = chain_ledger.others[len(actors.receivers) + len(actors.givers) + 1]
    membership = chain_ledger.c["Membership"].functions
    if not membership.isRegistered(newcomer.address).call():
        chain_ledger.settle(
            [
                chain_ledger.send(
                    admin,
                    "Membership",
                    "registerMember",
                    newcomer.address,
                    member_id(newcomer.address),
                )
            ]
        )
    if not membership.hasHat(newcomer.address, CARE_GIVER).call():
        chain_ledger.settle(
            [chain_ledger.send(admin, "Membership", "grantHat", newcomer.address, CARE_GIVER)]
        )
    _set_rate(chain_ledger, newcomer, 1500)
    later = chain_ledger.w3.eth.get_block("latest")["timestamp"] + 3_600
    booked = chain_ledger.settle(
        [
            chain_ledger.send(
                actors.coordinator,
                "CareLedger",
                "book",
                receiver.address,
                newcomer.address,
                later,
                60,
                actors.pots[receiver.address],
            )
        ]
    )
    cancelled = _booked_id(chain_ledger, booked[0])
    done = chain_ledger.settle(
        [chain_ledger.send(actors.coordinator, "CareLedger", "cancel", cancelled)]
    )
    with Indexer(make_settings()) as indexer:
        indexer.run(until_block=done[0]["blockNumber"])
    q = GraphQueries(empty_graph)
    live = [a for a in q.appointments() if a["status_name"] != "cancelled"]
    for r in actors.receivers:
        mine = r.address.lower()
        network = {row["address"]: row for row in q.care_network(r.address)}
        givers = {a["giver"] for a in live if a["receiver"] == mine}
        others = {x.address.lower() for x in actors.receivers} - {mine}
        assert not others & set(network), (r.address, network)  # never a fellow receiver
        cared_for_by = {a for a, row in network.items() if "cared_for_by" in row["relations"]}
        assert cared_for_by == givers
    assert newcomer.address.lower() not in {
        row["address"] for row in q.care_network(receiver.address)
    }
    assert q.care_network(newcomer.address) == []
    arranged = {row["address"]: row for row in q.care_network(actors.receivers[0].address)}
    assert arranged[actors.arranger.address.lower()]["relations"] == ["arranged_by"]
    giver = {row["address"]: row for row in q.care_network(actors.givers[0].address)}
    assert set(giver) <= {x.address.lower() for x in actors.receivers}


def test_standalone_graphql_server_refuses_a_public_bind(tmp_path):
    password = tmp_path / "password"
    password.write_text("unused\n")
    serve = ["index", "serve", "--host", "0.0.0.0", "--port", "1"]
    cli = subprocess.run(
        [sys.executable, "-m", "eccoo.cli", *serve, "--neo4j-password-file", str(password)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 2, cli
    assert "loopback" in cli.stderr and "Traceback" not in cli.stderr, cli.stderr
    assert len(cli.stderr.strip().splitlines()) == 1, cli.stderr
