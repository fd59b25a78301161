"""The ledger through the API, on real Keycloak tokens and a real Clique network.

One module, one gateway, one cast: the full journey (register, approve, fund a pot, book,
deliver, confirm, pay), then idempotency under 50 concurrent requests, then the
object-level authorization matrix over the resources the journey created.
"""

from __future__ import annotations

import collections
import dataclasses
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak
from fixtures.api import post, submit_ok, wait_tx
from fixtures.cast import FUNDER, Cast
from fixtures.identity import UserFactory

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]


@pytest.fixture(scope="module")
def cast(live_gateway: Any, realm_users: UserFactory) -> Cast:
    people = {
        "coordinator": ("coordinator",),
        "treasurer": ("treasurer",),
        "receiver": (),
        "giver": (),
        "outsider": (),
    }
    return Cast(live_gateway, realm_users, people)


@pytest.fixture(scope="module")
def journey(cast: Cast, live_gateway: Any) -> dict[str, Any]:
    """Register, approve, fund a pot, book, deliver, confirm, pay; returns what it made."""
    treas = cast["treasurer"]
    # Privileged members (IdP hats) are registered on their first call; others wait.
    assert cast.me["receiver"]["membership"] == "pending"
    cast.register({"receiver": "care_receiver", "giver": "care_giver"})
    ledger = live_gateway.services.ledger
    cast.wait_treasurer_role()

    treasurer_address = cast.me["treasurer"]["address"]
    submit_ok(
        treas,
        "/api/v1/treasury/mint",
        {"to": treasurer_address, "amount": 100_000, "bank_ref": "BANK-2026-0001"},
    )
    assert treas.get("/api/v1/me/balance").json()["balance"] == 100_000
    receiver_address = cast.me["receiver"]["address"]
    submit_ok(
        treas,
        "/api/v1/pots",
        {"receiver": receiver_address, "funders": [{"funder_id": FUNDER, "share_bps": 10_000}]},
    )
    pot_id = int(ledger.call("FundingPots", "potCount"))
    submit_ok(treas, f"/api/v1/pots/{pot_id}/deposits", {"funder_id": FUNDER, "amount": 50_000})
    submit_ok(cast["giver"], "/api/v1/me/rate", {"rate_per_hour": 2_000})
    start = int(ledger.w3.eth.get_block("latest")["timestamp"]) + 4
    submit_ok(
        cast["receiver"],
        "/api/v1/appointments",
        {
            "receiver": receiver_address,
            "giver": cast.me["giver"]["address"],
            "start": start,
            "duration_minutes": 90,
            "pot_id": pot_id,
        },
    )
    appointment_id = int(ledger.call("CareLedger", "appointmentCount"))
    while int(ledger.w3.eth.get_block("latest")["timestamp"]) < start:
        time.sleep(0.5)
    submit_ok(cast["giver"], f"/api/v1/appointments/{appointment_id}/deliver")
    confirm = submit_ok(cast["receiver"], f"/api/v1/appointments/{appointment_id}/confirm")
    return {"pot_id": pot_id, "appointment_id": appointment_id, "confirm_tx": confirm["id"]}


def test_journey_pays_the_giver(cast: Cast, journey: dict[str, Any]) -> None:
    appointment_id, pot_id = journey["appointment_id"], journey["pot_id"]
    deadline = time.monotonic() + 60
    while True:
        appointment = cast["receiver"].get(f"/api/v1/appointments/{appointment_id}").json()
        if appointment["status"] == "paid" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert appointment["status"] == "paid"
    assert appointment["amount"] == 3_000  # 90 minutes at the giver's 2,000 pennies an hour
    # The pot pays 3,000 + 17.5 % (525); the giver takes home 3,000 - 7.5 % (225).
    assert (appointment["payer_contribution"], appointment["giver_contribution"]) == (525, 225)
    giver_balance = cast["giver"].get("/api/v1/me/balance").json()["balance"]
    statement = cast["treasurer"].get(f"/api/v1/pots/{pot_id}/statement").json()
    (funder,) = statement["funders"]
    assert funder["drawn"] == 3_525 and funder["balance"] == 46_475
    # The receiver may read their own pot's statement too.
    assert cast["receiver"].get(f"/api/v1/pots/{pot_id}/statement").status_code == 200
    assert giver_balance == 2_775
    assert cast["giver"].get("/api/v1/appointments").json()[-1]["id"] == appointment_id


def test_idempotency_50_concurrent(cast: Cast, live_gateway: Any, journey: dict[str, Any]) -> None:
    treas = cast["treasurer"]
    to = cast.me["giver"]["address"]
    before = treas.get("/api/v1/me/balance").json()["balance"]
    key = f"idem-{secrets.token_hex(8)}"
    body = {"to": to, "amount": 7}

    token = cast.people["treasurer"].token()

    def one(_i: int) -> httpx.Response:
        with live_gateway.client(token) as c:
            return post(c, "/api/v1/transfers", body, key)

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(one, range(50)))
    codes = [r.status_code for r in replies]
    assert set(codes) <= {202, 409}, codes
    accepted = [r.json() for r in replies if r.status_code == 202]
    assert accepted and all(a == accepted[0] for a in accepted)
    tx = wait_tx(treas, accepted[0]["transaction"]["id"])
    assert tx["state"] == "confirmed"
    replay = post(treas, "/api/v1/transfers", body, key)
    assert replay.status_code == 202 and replay.json() == accepted[0]
    assert treas.get("/api/v1/me/balance").json()["balance"] == before - 7  # exactly once
    other = post(treas, "/api/v1/transfers", {"to": to, "amount": 8}, key)
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_bad_input_names_the_field(cast: Cast, journey: dict[str, Any]) -> None:
    treas = cast["treasurer"]
    lower = cast.me["giver"]["address"].lower()
    cases = [
        ({"to": lower, "amount": 5}, "to"),
        ({"to": cast.me["giver"]["address"], "amount": 0}, "amount"),
        ({"to": cast.me["giver"]["address"], "amount": 1.5}, "amount"),
        ({"to": cast.me["giver"]["address"], "amount": -3}, "amount"),
        ({"to": cast.me["giver"]["address"]}, "amount"),
    ]
    for body, field in cases:
        reply = post(treas, "/api/v1/transfers", body)
        assert reply.status_code == 422, (body, reply.text)
        assert reply.json()["field"] == field
    missing_key = treas.post(
        "/api/v1/transfers", json={"to": cast.me["giver"]["address"], "amount": 1}
    )
    assert missing_key.status_code == 422 and "Idempotency-Key" in missing_key.json()["field"]
    huge = treas.post(
        "/api/v1/transfers",
        content=b"{" + b" " * 100_000 + b"}",
        headers={"Idempotency-Key": "k" * 10, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413


def refused(client: httpx.Client, path: str, body: Any = None) -> dict[str, Any]:
    """Accepted (202), then refused by the contracts: the transaction names the error."""
    reply = post(client, path, body)
    assert reply.status_code == 202, reply.text
    tx = wait_tx(client, reply.json()["transaction"]["id"])
    assert tx["state"] in ("failed", "reverted"), tx
    assert tx["tx_hash"] is None or tx["state"] == "reverted"
    return tx


def test_a_refused_action_names_the_contract_error(cast: Cast, journey: dict[str, Any]) -> None:
    giver = cast["giver"]
    tx = refused(giver, f"/api/v1/appointments/{journey['appointment_id']}/deliver")
    assert tx["error"] == "CareLedgerInvalidStatus", tx
    # The refusal took no forwarder nonce: the giver's next request goes through.
    submit_ok(giver, "/api/v1/transfers", {"to": cast.me["receiver"]["address"], "amount": 1})


def test_a_request_failing_on_chain_leaves_the_signers_later_requests_standing(
    cast: Cast, journey: dict[str, Any]
) -> None:
    """Three transfers back to back: the middle one overdraws. The worker simulates only a
    signer's first request while earlier ones are in flight, so the middle one normally
    reaches the chain and fails there; its forwarder nonce is used all the same (relayed
    non-atomically), so the third, signed with the next nonce, still goes through."""
    giver = cast["giver"]
    to = cast.me["receiver"]["address"]
    before = giver.get("/api/v1/me/balance").json()["balance"]
    assert before >= 2
    ids = [
        post(giver, "/api/v1/transfers", {"to": to, "amount": amount}).json()["transaction"]["id"]
        for amount in (1, before + 1_000, 1)
    ]
    first, overdraw, third = (wait_tx(giver, tx_id) for tx_id in ids)
    assert first["state"] == "confirmed", first
    assert overdraw["error"] == "ERC20InsufficientBalance", overdraw
    # On chain (reverted, with a hash) or refused by the simulation (failed, without one).
    assert (overdraw["state"], overdraw["tx_hash"] is None) in (
        ("reverted", False),
        ("failed", True),
    ), overdraw
    assert third["state"] == "confirmed", third
    assert giver.get("/api/v1/me/balance").json()["balance"] == before - 2


def _transfers_in_one_commit(
    ledger: Any, client: httpx.Client, me: dict[str, Any], to: str, amounts: list[int]
) -> list[dict[str, Any]]:
    """Queue `me`'s transfers straight into the store in one commit (so the worker takes
    them in one round), wake the worker, and wait for each to end."""
    with ledger.store.unit() as session:
        ids = [
            ledger.queue(
                session,
                me["address"],
                subject=me["subject"],
                kind="transfer",
                target="CareCoin",
                fn="transfer",
                args=(to, amount),
                dedupe_key="0x" + secrets.token_hex(32),
            ).id
            for amount in amounts
        ]
    ledger.wake()
    return [wait_tx(client, tx_id) for tx_id in ids]


def test_requests_queued_together_are_relayed_in_one_batch(
    cast: Cast, live_gateway: Any, journey: dict[str, Any]
) -> None:
    """Five transfers queued in one commit reach the worker in one round and go out as one
    `executeBatch` transaction; the overdrawing one fails inside it, alone."""
    ledger = live_gateway.services.ledger
    giver, me = cast["giver"], cast.me["giver"]
    before = giver.get("/api/v1/me/balance").json()["balance"]
    to = cast.me["receiver"]["address"]
    amounts = [1, 1, before + 1_000, 1, 1]
    txs = _transfers_in_one_commit(ledger, giver, me, to, amounts)
    states = [tx["state"] for tx in txs]
    assert states == ["confirmed", "confirmed", "reverted", "confirmed", "confirmed"], txs
    assert txs[2]["error"] == "ERC20InsufficientBalance"
    assert len({tx["tx_hash"] for tx in txs}) == 1, txs
    assert giver.get("/api/v1/me/balance").json()["balance"] == before - 4

    # A burst larger than a batch is split: at most 32 requests per transaction, and each
    # transaction's maximum fee under the node's cap (geth refuses one over it).
    txs = _transfers_in_one_commit(ledger, giver, me, to, [1] * 40)
    assert {tx["state"] for tx in txs} == {"confirmed"}, txs
    batches = collections.Counter(tx["tx_hash"] for tx in txs)
    assert len(batches) >= 2 and max(batches.values()) <= 32, batches
    for tx_hash in batches:
        sent = ledger.w3.eth.get_transaction(tx_hash)
        assert sent["gas"] * sent["gasPrice"] <= live_gateway.settings.tx_fee_cap_wei
    assert giver.get("/api/v1/me/balance").json()["balance"] == before - 44


def test_object_level_authorization_matrix(cast: Cast, journey: dict[str, Any]) -> None:
    """Every member x every other member's resource: 403 or 404, never 2xx."""
    a_id, pot_id = journey["appointment_id"], journey["pot_id"]
    confirm_tx = journey["confirm_tx"]
    challenge = (
        cast["receiver"]
        .post("/api/v1/me/wallet/challenge", json={"address": Account.create().address})
        .json()
    )
    outsider_wallet = Account.create()
    signature = outsider_wallet.sign_message(encode_defunct(text=challenge["message"])).signature
    probes = [
        ("GET", f"/api/v1/appointments/{a_id}", None),
        ("POST", f"/api/v1/appointments/{a_id}/deliver", None),
        ("POST", f"/api/v1/appointments/{a_id}/confirm", None),
        ("POST", f"/api/v1/appointments/{a_id}/cancel", None),
        ("POST", f"/api/v1/appointments/{a_id}/dispute", {"reason": "not mine"}),
        ("POST", f"/api/v1/appointments/{a_id}/resolve", {"paid_amount": 0}),
        ("GET", f"/api/v1/transactions/{confirm_tx}", None),
        ("GET", f"/api/v1/pots/{pot_id}/statement", None),
        (
            "POST",
            "/api/v1/me/wallet/link",
            {"nonce": challenge["nonce"], "signature": "0x" + bytes(signature).hex()},
        ),
        (
            "POST",
            "/api/v1/treasury/mint",
            {"to": cast.me["outsider"]["address"], "amount": 1, "bank_ref": "X"},
        ),
        (
            "POST",
            "/api/v1/pots",
            {
                "receiver": cast.me["receiver"]["address"],
                "funders": [{"funder_id": FUNDER, "share_bps": 10_000}],
            },
        ),
        ("GET", "/api/v1/hats/requests", None),
        ("POST", f"/api/v1/members/{cast.me['receiver']['subject']}/approve", None),
    ]
    results = {}
    for name in ("outsider",):
        client = cast[name]
        for method, path, body in probes:
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            reply = client.request(method, path, json=body, headers=headers)
            results[(name, method, path)] = reply.status_code
    # The giver is a party to the appointment but not to the receiver's pot or transaction.
    for method, path, body in probes[6:9]:
        reply = cast["giver"].request(
            method, path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        results[("giver", method, path)] = reply.status_code
    denied = {k: v for k, v in results.items() if v in (403, 404)}
    assert denied == results, {k: v for k, v in results.items() if v not in (403, 404)}


def test_event_stream_carries_my_transactions_only(
    cast: Cast, live_gateway: Any, journey: dict[str, Any]
) -> None:
    import json
    import threading

    seen: list[dict[str, Any]] = []
    ready = threading.Event()

    def listen(name: str, sink: list[dict[str, Any]]) -> None:
        try:
            follow(name, sink)
        except httpx.HTTPError:
            pass  # the server closes open streams when the module's gateway stops

    def follow(name: str, sink: list[dict[str, Any]]) -> None:
        token = cast.people[name].token()
        with httpx.stream(
            "GET",
            f"{live_gateway.url}/api/v1/me/events",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as reply:
            for line in reply.iter_lines():
                if line.startswith("event: hello"):
                    ready.set()
                if line.startswith("data: ") and '"transaction"' in line:
                    sink.append(json.loads(line[6:]))
                    if sink[-1]["state"] == "confirmed":
                        return

    other: list[dict[str, Any]] = []
    thread = threading.Thread(target=listen, args=("treasurer", seen), daemon=True)
    thread.start()
    threading.Thread(target=listen, args=("outsider", other), daemon=True).start()
    assert ready.wait(30)
    tx = submit_ok(
        cast["treasurer"], "/api/v1/transfers", {"to": cast.me["giver"]["address"], "amount": 3}
    )
    thread.join(60)
    assert [e["id"] for e in seen if e["state"] == "confirmed"] == [tx["id"]]
    assert other == []


def test_linked_wallet_signs_its_own_requests(
    cast: Cast, live_gateway: Any, realm_users: UserFactory, journey: dict[str, Any]
) -> None:
    from eccoo.client.forwarder import build_request, encode_call, sign_request

    own = Account.create()
    person = realm_users.create(prefix="self")
    client = live_gateway.client(person.token())
    me = client.get("/api/v1/me").json()
    challenge = client.post("/api/v1/me/wallet/challenge", json={"address": own.address}).json()
    wrong = Account.create().sign_message(encode_defunct(text=challenge["message"])).signature
    bad = client.post(
        "/api/v1/me/wallet/link",
        json={"nonce": challenge["nonce"], "signature": "0x" + bytes(wrong).hex()},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "signature"
    good = own.sign_message(encode_defunct(text=challenge["message"])).signature
    linked = client.post(
        "/api/v1/me/wallet/link",
        json={"nonce": challenge["nonce"], "signature": "0x" + bytes(good).hex()},
    )
    assert linked.json() == {"address": own.address, "wallet_kind": "linked"}
    assert cast["coordinator"].post(f"/api/v1/members/{me['subject']}/approve").status_code == 200
    deadline = time.monotonic() + 60
    while client.get("/api/v1/me").json()["membership"] != "registered":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    submit_ok(cast["treasurer"], "/api/v1/transfers", {"to": own.address, "amount": 50})
    # A custodial-style submission is refused: this member holds their own key.
    assert (
        post(
            client, "/api/v1/transfers", {"to": cast.me["giver"]["address"], "amount": 1}
        ).status_code
        == 409
    )
    ledger = live_gateway.services.ledger
    coin = ledger.contracts["CareCoin"]
    data = encode_call(coin, "transfer", cast.me["giver"]["address"], 20)
    request = build_request(ledger.forwarder, own.address, coin.address, data, gas=120_000)
    signed = sign_request(
        own, request, chain_id=ledger.chain_id, forwarder_address=ledger.forwarder.address
    ).to_json()
    reply = post(client, "/api/v1/me/forward-requests", signed)
    assert reply.status_code == 202, reply.text
    assert wait_tx(client, reply.json()["transaction"]["id"])["state"] == "confirmed"
    assert client.get("/api/v1/me/balance").json() == {"address": own.address, "balance": 30}
    # A request signed with a nonce the forwarder is not at is skipped on chain; the
    # transaction says why.
    ahead = dataclasses.replace(request, nonce=request.nonce + 7)
    reply = post(
        client,
        "/api/v1/me/forward-requests",
        sign_request(
            own, ahead, chain_id=ledger.chain_id, forwarder_address=ledger.forwarder.address
        ).to_json(),
    )
    assert reply.status_code == 202, reply.text
    skipped = wait_tx(client, reply.json()["transaction"]["id"])
    assert (skipped["state"], skipped["error"]) == ("reverted", "ERC2771ForwarderInvalidSigner")
    assert client.get("/api/v1/me/balance").json()["balance"] == 30
    # Someone else's signed request cannot be relayed as mine.
    forged = sign_request(
        Account.create(),
        request,
        chain_id=ledger.chain_id,
        forwarder_address=ledger.forwarder.address,
    ).to_json()
    assert post(client, "/api/v1/me/forward-requests", forged).status_code == 422


def test_care_notes_readers_audit_and_erasure(
    cast: Cast, live_gateway: Any, journey: dict[str, Any]
) -> None:
    a_id = journey["appointment_id"]
    giver, receiver, coord, outsider = (
        cast[n] for n in ("giver", "receiver", "coordinator", "outsider")
    )
    text = "Helped with breakfast; mild knee pain reported."
    reply = post(giver, f"/api/v1/appointments/{a_id}/notes", {"text": text})
    assert reply.status_code == 201, reply.text
    note = reply.json()["note"]
    assert note["author"] == cast.me["giver"]["member_id"]
    assert note["subject"] == cast.me["receiver"]["member_id"]
    assert note["text"] is None  # a write answers with the hash, never the content
    tx = wait_tx(giver, reply.json()["transaction"]["id"])
    assert tx["state"] == "confirmed"
    ledger = live_gateway.services.ledger
    anchored = ledger.call("CareLedger", "appointmentOfNote", bytes.fromhex(note["note_hash"][2:]))
    assert int(anchored) == a_id
    path = f"/api/v1/notes/{note['id']}"
    assert receiver.get(path).json()["text"] == text
    assert giver.get(path).json()["text"] == text
    assert outsider.get(path).status_code == 404
    assert coord.get(path).status_code == 404  # a coordinator needs an explicit grant
    assert outsider.delete(path).status_code == 404
    grant = receiver.post(
        f"{path}/readers", json={"member_id": cast.me["coordinator"]["member_id"]}
    )
    assert grant.status_code == 200
    assert coord.get(path).json()["text"] == text
    assert coord.delete(path).status_code == 404  # a reader may not erase
    audit = receiver.get(f"{path}/audit").json()
    actions = [(e["member_id"], e["action"]) for e in audit]
    assert (cast.me["coordinator"]["member_id"], "note_read") in actions
    assert any(a.startswith("note_reader_granted") for _, a in actions)
    assert sum(1 for _, a in actions if a == "note_read") == 3
    # The ciphertext at rest is not the text.
    raw = live_gateway.services.notes.raw_properties(note["id"])
    assert "Mirror" not in raw["_labels"] and text.encode() not in bytes(raw["ciphertext"])
    erased = receiver.delete(path).json()
    assert erased["erased"] is True and erased["text"] is None
    raw = live_gateway.services.notes.raw_properties(note["id"])
    assert raw["note_hash"] == note["note_hash"]
    assert not {"ciphertext", "wrapped_key", "salt", "nonce"} & set(raw)
    assert receiver.get(path).json()["text"] is None


def test_graph_agrees_with_the_chain(
    cast: Cast,
    live_gateway: Any,
    neo4j_endpoint: Any,
    deployed_network: Any,
    tmp_path: Any,
    journey: dict[str, Any],
) -> None:
    """Index the chain into the session Neo4j, then ask the graph routes."""
    from eccoo.graph_sync.indexer import Indexer
    from eccoo.graph_sync.mappers import all_rules
    from eccoo.graph_sync.settings import GraphSettings
    from eccoo.graph_sync.write import GraphWriter

    settings = GraphSettings(
        network_dir=deployed_network.dir,
        bolt_url=neo4j_endpoint.bolt_url,
        neo4j_user=neo4j_endpoint.user,
        neo4j_password_file=neo4j_endpoint.password_file,
        data_dir=tmp_path / "indexer",
        confirmations=1,
        poll_interval=0.1,
    )
    indexer = Indexer(settings).open()
    try:
        GraphWriter(indexer.driver, settings.neo4j_database, all_rules()).drop_mirror()
        indexer.close()
        indexer = Indexer(settings).open()
        head = live_gateway.services.ledger.w3.eth.block_number
        indexer.run(until_block=head)
    finally:
        indexer.close()
    graph = live_gateway.services.graph
    for name in ("treasurer", "receiver", "giver"):
        chain = cast[name].get("/api/v1/me/balance").json()["balance"]
        assert graph.balance(cast.me[name]["address"], as_of=head) == chain
    a_id = journey["appointment_id"]
    trail = cast["receiver"].get(f"/api/v1/graph/appointments/{a_id}/payment-trail")
    assert trail.status_code == 200, trail.text
    assert trail.json()["payment"]["amount"] == 3_525  # 3,000 p and the payer's 17.5 %
    assert (
        cast["outsider"].get(f"/api/v1/graph/appointments/{a_id}/payment-trail").status_code == 404
    )
    earnings = cast["giver"].get("/api/v1/graph/earnings").json()
    assert earnings == [{"funder": FUNDER, "drawn": 3_525, "payments": 1}]
    # The Commons Contribution each side paid, each asking about themselves only.
    given = cast["giver"].get("/api/v1/graph/contributions").json()
    assert given["as_giver"] == {"contribution": 225, "payments": 1}
    paid = cast["receiver"].get("/api/v1/graph/contributions").json()
    assert paid["as_payer"] == {"contribution": 525, "payments": 1}
    assert paid["as_giver"] == {"contribution": 0, "payments": 0}
    assert cast["outsider"].get("/api/v1/graph/contributions").json()["as_payer"] == {
        "contribution": 0,
        "payments": 0,
    }
    network = cast["giver"].get("/api/v1/graph/care-network").json()
    assert cast.me["receiver"]["address"].lower() in {p["address"].lower() for p in network}
    assert cast["outsider"].get("/api/v1/graph/unpaid").status_code == 403
    assert cast["coordinator"].get("/api/v1/graph/unpaid").status_code == 200


def test_cancel_dispute_and_resolve(cast: Cast, live_gateway: Any, journey: dict[str, Any]) -> None:
    ledger = live_gateway.services.ledger
    receiver, giver, coord = cast["receiver"], cast["giver"], cast["coordinator"]
    book = {
        "receiver": cast.me["receiver"]["address"],
        "giver": cast.me["giver"]["address"],
        "duration_minutes": 60,
        "pot_id": journey["pot_id"],
    }
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    submit_ok(receiver, "/api/v1/appointments", {**book, "start": now + 86_400})
    later = int(ledger.call("CareLedger", "appointmentCount"))
    submit_ok(giver, f"/api/v1/appointments/{later}/cancel")
    assert receiver.get(f"/api/v1/appointments/{later}").json()["status"] == "cancelled"

    submit_ok(receiver, "/api/v1/appointments", {**book, "start": now + 3})
    disputed = int(ledger.call("CareLedger", "appointmentCount"))
    while int(ledger.w3.eth.get_block("latest")["timestamp"]) < now + 3:
        time.sleep(0.5)
    submit_ok(giver, f"/api/v1/appointments/{disputed}/deliver")
    # A party may not resolve; a coordinator may.
    assert (
        post(receiver, f"/api/v1/appointments/{disputed}/resolve", {"paid_amount": 0}).status_code
        == 403
    )
    submit_ok(receiver, f"/api/v1/appointments/{disputed}/dispute", {"reason": "arrived late"})
    assert receiver.get(f"/api/v1/appointments/{disputed}").json()["status"] == "disputed"
    too_much = refused(coord, f"/api/v1/appointments/{disputed}/resolve", {"paid_amount": 10**6})
    assert too_much["error"] == "CareLedgerInvalidResolution", too_much
    submit_ok(coord, f"/api/v1/appointments/{disputed}/resolve", {"paid_amount": 500})
    final = receiver.get(f"/api/v1/appointments/{disputed}").json()
    assert final["status"] == "paid" and final["paid_amount"] == 500


def test_member_web_page_signs_in_with_code_and_pkce(
    cast: Cast, live_gateway: Any, identity_keycloak: Any, journey: dict[str, Any]
) -> None:
    import html
    import re

    from eccoo.gateway.identity.realm import KeycloakAdmin

    callback_uri = f"{live_gateway.url}/auth/callback"
    with KeycloakAdmin(identity_keycloak, "eccoo") as admin:  # this run's port, exactly
        client_id = admin.client_uuid("eccoo-web")
        rep = admin.call("GET", f"/clients/{client_id}").json()
        rep["redirectUris"] = sorted({*rep["redirectUris"], callback_uri})
        admin.call("PUT", f"/clients/{client_id}", json=rep)
    browser = httpx.Client(base_url=live_gateway.url, timeout=30)
    assert "Sign in" in browser.get("/web").text
    to_provider = browser.get("/web/login")
    assert to_provider.status_code == 302
    assert "code_challenge_method=S256" in to_provider.headers["location"]
    provider = httpx.Client(follow_redirects=True, timeout=30)
    form = provider.get(to_provider.headers["location"])
    found = re.search(r'<form[^>]*action="([^"]+)"', form.text)
    assert found is not None, form.text[:500]
    action = html.unescape(found.group(1))
    person = cast.people["receiver"]
    # Keycloak marks its session cookies Secure; a browser keeps them for http://127.0.0.1,
    # httpx does not, so they are sent by hand.
    jar = "; ".join(f"{c.name}={c.value}" for c in provider.cookies.jar)
    back = provider.post(
        action,
        data={"username": person.username, "password": person.password},
        headers={"Cookie": jar},
        follow_redirects=False,
    )
    assert back.status_code == 302 and back.headers["location"].startswith(callback_uri)
    signed_in = browser.get(back.headers["location"].removeprefix(live_gateway.url))
    assert signed_in.status_code == 303
    assert "httponly" in signed_in.headers["set-cookie"].lower()
    page = browser.get("/web").text
    assert "My balance" in page and "My appointments</caption>" in page
    assert ">paid<" in page
    # A replayed callback (state already used) does not sign anyone in.
    replay = httpx.get(live_gateway.url + back.headers["location"].removeprefix(live_gateway.url))
    assert "Sign-in failed" in replay.text


def test_hats_the_identity_provider_takes_away_are_revoked_on_chain(
    live_gateway: Any, realm_users: UserFactory
) -> None:
    """Roles come from the token: a treasurer whose role is removed at the IdP loses the
    hat and the coin role on chain at their next call, and gets both back when it returns."""
    from eccoo.gateway.identity.realm import KeycloakAdmin

    leaver = realm_users.create("treasurer", prefix="leaver")
    ledger = live_gateway.services.ledger
    address = live_gateway.client(leaver.token()).get("/api/v1/me").json()["address"]

    def on_chain() -> tuple[bool, bool]:
        return (
            ledger.contracts["Membership"].functions.hasHat(address, 5).call(),
            ledger.contracts["CareCoin"]
            .functions.hasRole(keccak(text="TREASURER_ROLE"), address)
            .call(),
        )

    def wait_for(expected: tuple[bool, bool]) -> None:
        deadline = time.monotonic() + 90
        while on_chain() != expected:
            assert time.monotonic() < deadline, on_chain()
            time.sleep(0.5)

    wait_for((True, True))
    with KeycloakAdmin(realm_users.endpoint, realm_users.realm.realm) as admin:
        admin.revoke_realm_roles(leaver.user_id, ["treasurer"])
    assert "treasurer" not in live_gateway.client(leaver.token()).get("/api/v1/me").json()["hats"]
    wait_for((False, False))
    with KeycloakAdmin(realm_users.endpoint, realm_users.realm.realm) as admin:
        admin.grant_realm_roles(leaver.user_id, ["treasurer"])
    assert "treasurer" in live_gateway.client(leaver.token()).get("/api/v1/me").json()["hats"]
    wait_for((True, True))
