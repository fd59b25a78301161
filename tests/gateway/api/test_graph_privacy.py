"""What the graph tells a member, through REST and GraphQL, on real engines: only their own.

Two receivers share a giver; one appointment is confirmed and paid in the same relayed
transaction as another member's transfer. The payment trail holds only the movements that
appointment caused, a care network names only the caller's own relations, and GraphQL (in
the gateway, behind the bearer token) answers exactly what the REST routes answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures.api import submit_ok, wait_tx
from fixtures.cast import Cast
from fixtures.identity import UserFactory

from ..conftest import LiveGateway, live_settings, serve

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]

UNRELATED_AMOUNT = 777  # the stranger's transfer: an amount no appointment here moves


@pytest.fixture(scope="module")
def live_gateway(
    eccoo_realm: Any,
    deployed_network: Any,
    neo4j_endpoint: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveGateway]:
    # One relayer: every request queued in one commit goes out in one executeBatch.
    yield from serve(
        live_settings(
            eccoo_realm,
            deployed_network,
            neo4j_endpoint,
            tmp_path_factory,
            "gateway-graph",
            relayer_count=1,
        )
    )


@pytest.fixture(scope="module")
def cast(live_gateway: LiveGateway, realm_users: UserFactory) -> Cast:
    people = {
        "coordinator": ("coordinator",),
        "treasurer": ("treasurer",),
        "r1": (),
        "r2": (),
        "giver": (),
        "outsider": (),
    }
    return Cast(live_gateway, realm_users, people)


def _queue(ledger: Any, session: Any, me: dict[str, Any], target: str, fn: str, *args: Any) -> str:
    return str(
        ledger.queue(
            session,
            me["address"],
            subject=me["subject"],
            kind=fn[:32],
            target=target,
            fn=fn,
            args=args,
            dedupe_key="0x" + secrets.token_hex(32),
        ).id
    )


def _index_to_head(live_gateway: LiveGateway, neo4j_endpoint: Any, network_dir: Path, tmp: Path):
    from eccoo.graph_sync.indexer import Indexer
    from eccoo.graph_sync.mappers import all_rules
    from eccoo.graph_sync.settings import GraphSettings
    from eccoo.graph_sync.write import GraphWriter

    settings = GraphSettings(
        network_dir=network_dir,
        bolt_url=neo4j_endpoint.bolt_url,
        neo4j_user=neo4j_endpoint.user,
        neo4j_password_file=neo4j_endpoint.password_file,
        data_dir=tmp / "indexer",
        confirmations=1,
        poll_interval=0.1,
    )
    indexer = Indexer(settings).open()
    try:
        GraphWriter(indexer.driver, settings.neo4j_database, all_rules()).drop_mirror()
        indexer.close()
        indexer = Indexer(settings).open()
        indexer.run(until_block=live_gateway.services.ledger.w3.eth.block_number)
    finally:
        indexer.close()


@pytest.fixture(scope="module")
def story(
    cast: Cast,
    live_gateway: LiveGateway,
    neo4j_endpoint: Any,
    deployed_network: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """r1 and r2 each book the same giver; r1's appointment is delivered, then confirmed and
    released in the very transaction that carries the treasurer's transfer to the coordinator."""
    cast.register({"r1": "care_receiver", "r2": "care_receiver", "giver": "care_giver"})
    pot1 = cast.fund_pot("r1", 20_000)
    pot2 = cast.fund_pot("r2", 20_000)
    a2 = cast.book("r2", "giver", pot2, wait_for_start=False)
    a1 = cast.book("r1", "giver", pot1, minutes=60, rate=1_200)
    submit_ok(cast["giver"], f"/api/v1/appointments/{a1}/deliver")
    treasurer_mint = {
        "to": cast.me["treasurer"]["address"],
        "amount": UNRELATED_AMOUNT,
        "bank_ref": f"BANK-graph-{secrets.token_hex(4)}",
    }
    submit_ok(cast["treasurer"], "/api/v1/treasury/mint", treasurer_mint)
    ledger = live_gateway.services.ledger
    r1, treasurer = cast.me["r1"], cast.me["treasurer"]
    with ledger.store.unit() as session:
        ids = [
            _queue(ledger, session, r1, "CareLedger", "confirm", a1),
            _queue(ledger, session, r1, "CareLedger", "releasePayment", a1),
            _queue(
                ledger,
                session,
                treasurer,
                "CareCoin",
                "transfer",
                cast.me["coordinator"]["address"],
                UNRELATED_AMOUNT,
            ),
        ]
    ledger.wake()
    waiters = [cast["r1"], cast["r1"], cast["treasurer"]]
    txs = [wait_tx(client, tx_id) for client, tx_id in zip(waiters, ids, strict=True)]
    _index_to_head(
        live_gateway, neo4j_endpoint, deployed_network.dir, tmp_path_factory.mktemp("graph")
    )
    return {"a1": a1, "a2": a2, "pot1": pot1, "txs": txs}


def test_payment_trail_holds_only_the_appointments_own_movements(
    cast: Cast, story: dict[str, Any]
) -> None:
    txs = story["txs"]
    assert [tx["state"] for tx in txs] == ["confirmed"] * 3, txs
    assert len({tx["tx_hash"] for tx in txs}) == 1, txs  # one relayed batch
    trail = cast["r1"].get(f"/api/v1/graph/appointments/{story['a1']}/payment-trail")
    assert trail.status_code == 200, trail.text
    trail = trail.json()
    payment = trail["payment"]
    # 1,200 p and the payer's 17.5 % (210 p) leave the pot.
    assert payment["amount"] == 1_410 and payment["tx_hash"] == txs[0]["tx_hash"]
    moved = [(t["to"], t["amount"]) for t in trail["transfers"]]
    strangers = {cast.me[name]["address"].lower() for name in ("treasurer", "coordinator")}
    touched = {t["from"] for t in trail["transfers"]} | {t["to"] for t in trail["transfers"]}
    assert not strangers & touched, trail
    assert UNRELATED_AMOUNT not in [amount for _, amount in moved], trail
    # The pot's draw reaches the ledger, which pays the giver their share (1,200 p less
    # 7.5 %) and both contributions to the cooperative.
    ledger_address = trail["transfers"][0]["to"]
    assert trail["transfers"][0]["amount"] == 1_410
    assert (payment["giver_share"], payment["contribution"]) == (1_110, 300)
    expected = [(trail["giver"], 1_110), (trail["contribution_account"], 300)]
    assert [(t["from"], t["to"], t["amount"]) for t in trail["transfers"][1:]] == [
        (ledger_address, to, amount) for to, amount in expected
    ], trail


def _addresses(rows: list[dict[str, Any]]) -> set[str]:
    return {row["address"].lower() for row in rows}


def test_a_care_network_names_only_the_callers_own_relations(
    cast: Cast, story: dict[str, Any]
) -> None:
    me = {name: cast.me[name]["address"].lower() for name in ("r1", "r2", "giver")}
    r1 = cast["r1"].get("/api/v1/graph/care-network").json()
    assert me["giver"] in _addresses(r1) and me["r2"] not in _addresses(r1), r1
    assert {row["address"].lower(): row["relations"] for row in r1}[me["giver"]] == ["cared_for_by"]
    r2 = cast["r2"].get("/api/v1/graph/care-network").json()
    assert me["r1"] not in _addresses(r2), r2
    giver = cast["giver"].get("/api/v1/graph/care-network").json()
    assert {me["r1"], me["r2"]} <= _addresses(giver)  # the giver's own receivers


def _graphql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    reply = client.post("/api/v1/graphql", json={"query": query, "variables": variables})
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


TRAIL = """query($id: Long!) { paymentTrail(appointmentId: $id) {
  payment { amount } transfers { from to amount } } }"""


def test_graphql_in_the_gateway_answers_what_rest_answers(
    cast: Cast, live_gateway: LiveGateway, story: dict[str, Any]
) -> None:
    with live_gateway.client() as anonymous:
        reply = anonymous.post("/api/v1/graphql", json={"query": "{ careNetwork { address } }"})
        assert reply.status_code == 401, reply.text
    with live_gateway.client("not-a-token") as forged:
        reply = forged.post("/api/v1/graphql", json={"query": "{ careNetwork { address } }"})
        assert reply.status_code == 401, reply.text

    me = {name: cast.me[name]["address"].lower() for name in ("r1", "r2", "giver")}
    network = _graphql(cast["r1"], "{ careNetwork { address relations sharedCircles } }")
    assert "errors" not in network, network
    named = _addresses(network["data"]["careNetwork"])
    assert me["giver"] in named and me["r2"] not in named
    rest = cast["r1"].get("/api/v1/graph/care-network").json()
    assert named == _addresses(rest)

    own = _graphql(cast["r1"], TRAIL, id=story["a1"])
    assert "errors" not in own, own
    rest_trail = cast["r1"].get(f"/api/v1/graph/appointments/{story['a1']}/payment-trail").json()
    assert own["data"]["paymentTrail"]["transfers"] == rest_trail["transfers"]
    for name in ("r2", "outsider"):  # REST answers 404 to them
        theirs = _graphql(cast[name], TRAIL, id=story["a1"])
        assert theirs["data"]["paymentTrail"] is None and theirs["errors"], theirs

    statement = "query($pot: Long!) { potStatement(pot: $pot) { closing } }"
    assert _graphql(cast["r1"], statement, pot=story["pot1"])["data"]["potStatement"]
    refused = _graphql(cast["r2"], statement, pot=story["pot1"])
    assert refused["data"]["potStatement"] is None and refused["errors"], refused

    unpaid = "{ confirmedUnpaid { id } }"
    assert _graphql(cast["r1"], unpaid)["errors"]
    assert "errors" not in _graphql(cast["coordinator"], unpaid)

    # No address argument: a member can ask only for their own network and balance.
    asking = 'query { careNetwork(address: "' + cast.me["r2"]["address"] + '") { address } }'
    other = _graphql(cast["r1"], asking)
    assert other.get("errors") and not other.get("data"), other
