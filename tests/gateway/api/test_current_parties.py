"""Who counts as a party to an appointment is what the chain says now, and hats the
identity provider takes away leave the chain without waiting for the member.

One gateway for the module, with the provider sync running every two seconds and a low
listing limit; a receiver whose arranger changes after booking, a stranger booked with the
same giver, and a coordinator dismissed at the provider who never calls again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from eccoo.gateway.identity.realm import KeycloakAdmin, RealmInfo
from fixtures.api import post, wait_tx
from fixtures.cast import Cast
from fixtures.identity import UserFactory, client_credentials
from web3.middleware import Web3Middleware

from ..conftest import LiveGateway, live_settings, serve

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]
LISTINGS_PER_MINUTE = 10


@pytest.fixture(scope="module")
def live_gateway(
    eccoo_realm: RealmInfo,
    deployed_network: Any,
    neo4j_endpoint: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveGateway]:
    settings = live_settings(
        eccoo_realm,
        deployed_network,
        neo4j_endpoint,
        tmp_path_factory,
        "gateway-parties",
        directory_client_secret_file=eccoo_realm.clients.get("eccoo-gateway-directory"),
        hat_sync_seconds=2,
        listings_per_minute=LISTINGS_PER_MINUTE,
    )
    yield from serve(settings)


@pytest.fixture(scope="module")
def cast(live_gateway: LiveGateway, realm_users: UserFactory) -> Cast:
    people: dict[str, tuple[str, ...]] = {
        "coordinator": ("coordinator",),
        "treasurer": ("treasurer",),
        "receiver": (),
        "giver": (),
        "arranger1": (),
        "arranger2": (),
        "stranger": (),
    }
    cast = Cast(live_gateway, realm_users, people)
    cast.register(
        {
            "receiver": "care_receiver",
            "giver": "care_giver",
            "arranger1": "arranger",
            "arranger2": "arranger",
            "stranger": "care_receiver",
        }
    )
    return cast


def set_arranger(cast: Cast, receiver: str, arranger: str) -> None:
    """The receiver names their arranger on chain, signed with their own custodial key."""
    submitted = cast.queue_as(
        receiver,
        kind="set_arranger",
        target="Membership",
        fn="setArranger",
        args=(cast.me[receiver]["address"], cast.me[arranger]["address"]),
        dedupe_key=f"arranger:{uuid.uuid4()}",
    )
    assert wait_tx(cast[receiver], submitted.id)["state"] == "confirmed"


@pytest.fixture(scope="module")
def booked(cast: Cast) -> dict[str, int]:
    """The receiver books the giver while arranger1 arranges for them; the stranger books
    the same giver."""
    set_arranger(cast, "receiver", "arranger1")
    pot = cast.fund_pot("receiver", 20_000)
    stranger_pot = cast.fund_pot("stranger", 20_000)
    mine = cast.book("receiver", "giver", pot, wait_for_start=False)
    theirs = cast.book("stranger", "giver", stranger_pot, wait_for_start=False)
    assert (
        cast.ledger.call("CareLedger", "appointmentOf", mine)[2] == cast.me["arranger1"]["address"]
    )
    return {"mine": mine, "theirs": theirs, "stranger_pot": stranger_pot}


def listed(cast: Cast, name: str) -> set[int]:
    reply = cast[name].get("/api/v1/appointments")
    assert reply.status_code == 200, reply.text
    return {a["id"] for a in reply.json()}


def test_the_arranger_the_chain_has_now_is_the_party(cast: Cast, booked: dict[str, int]) -> None:
    """After the receiver changes arranger, the one booked with is a stranger to the
    appointment and its notes (404), and the new one acts for the receiver."""
    a_id = booked["mine"]
    path = f"/api/v1/appointments/{a_id}"
    assert cast["arranger1"].get(path).status_code == 200
    set_arranger(cast, "receiver", "arranger2")
    assert cast["arranger1"].get(path).status_code == 404
    written = post(cast["arranger1"], f"{path}/notes", {"text": "still here"})
    assert written.status_code == 404, written.text
    trail = f"/api/v1/graph/appointments/{a_id}/payment-trail"
    assert cast["arranger1"].get(trail).status_code == 404
    reply = cast["arranger2"].get(path)
    assert reply.status_code == 200, reply.text
    assert reply.json()["arranger"] == cast.me["arranger2"]["address"]
    written = post(cast["arranger2"], f"{path}/notes", {"text": "Spoke with the giver."})
    assert written.status_code == 201, written.text
    note_path = f"/api/v1/notes/{written.json()['note']['id']}"
    assert cast["arranger1"].get(note_path).status_code == 404


def test_the_listing_is_exact_and_reads_only_the_callers_appointments(
    cast: Cast, booked: dict[str, int]
) -> None:
    """Each member sees exactly the appointments they are a party to now, and a listing
    costs the same number of node calls however many other appointments the chain holds."""
    mine, theirs = booked["mine"], booked["theirs"]
    set_arranger(cast, "receiver", "arranger2")
    assert listed(cast, "receiver") == {mine}
    assert listed(cast, "arranger2") == {mine}
    assert listed(cast, "arranger1") == set()
    assert listed(cast, "stranger") == {theirs}
    assert listed(cast, "giver") == {mine, theirs}

    w3 = cast.ledger.w3
    calls: list[str] = []

    class CountCalls(Web3Middleware):
        """Every JSON-RPC call the gateway's web3 makes, batched ones one by one."""

        def request_processor(self, method: Any, params: Any) -> Any:
            calls.append(str(method))
            return method, params

    def calls_for_one_listing() -> list[str]:
        calls.clear()
        w3.middleware_onion.add(CountCalls, name="count-calls")
        try:
            assert listed(cast, "arranger2") == {mine}
        finally:
            w3.middleware_onion.remove("count-calls")
        return sorted(calls)

    before = calls_for_one_listing()
    assert before, "the listing made no node calls through the gateway's provider"
    for _ in range(3):
        cast.book("stranger", "giver", booked["stranger_pot"], wait_for_start=False)
    after = calls_for_one_listing()
    assert after == before
    assert listed(cast, "giver") > {mine, theirs}


def test_the_listing_is_rate_limited_per_member(cast: Cast, booked: dict[str, int]) -> None:
    """A member who keeps listing is refused with 429 (the bucket refills one listing every
    few seconds, far slower than these requests drain it); others are not held back."""
    client = cast["stranger"]
    codes = []
    while 429 not in codes and len(codes) < 5 * LISTINGS_PER_MINUTE:
        reply = client.get("/api/v1/appointments")
        codes.append(reply.status_code)
    assert codes[-1] == 429 and set(codes[:-1]) == {200}, codes
    assert (reply.json()["error"], reply.json()["retryable"]) == ("RateLimited", True)
    assert cast["receiver"].get("/api/v1/appointments").status_code == 200


def test_a_hat_removed_at_the_provider_leaves_the_chain_without_another_call(
    live_gateway: LiveGateway, realm_users: UserFactory
) -> None:
    """A coordinator dismissed at the provider who never calls again loses the hat; the
    token they held before counts for it no more, and does not put it back."""
    dismissed = realm_users.create("coordinator", prefix="dismissed")
    old_token = live_gateway.client(dismissed.token())
    address = old_token.get("/api/v1/me").json()["address"]
    ledger = live_gateway.services.ledger
    assert ledger is not None
    membership = ledger.contracts["Membership"].functions

    def wait_for(expected: bool) -> None:
        deadline = time.monotonic() + 120
        while membership.hasHat(address, 4).call() != expected:
            assert time.monotonic() < deadline, f"coordinator hat still {not expected}"
            time.sleep(0.5)

    wait_for(True)
    with KeycloakAdmin(realm_users.endpoint, realm_users.realm.realm) as admin:
        admin.revoke_realm_roles(dismissed.user_id, ["coordinator"])
    wait_for(False)
    # The access token issued before the dismissal has not expired yet.
    me = old_token.get("/api/v1/me").json()
    assert "coordinator" not in me["hats"], me
    assert old_token.get("/api/v1/hats/requests").status_code == 403
    latest = ledger.transactions_of(me["subject"], limit=1)
    assert [tx.kind for tx in latest] == ["revoke_hat"]  # nothing queued to put it back


def test_the_directory_account_is_no_member(
    live_gateway: LiveGateway, eccoo_realm: RealmInfo
) -> None:
    """The service account the worker reads roles with has no gateway audience: 401."""
    token = client_credentials(eccoo_realm, "eccoo-gateway-directory")
    assert live_gateway.client(token).get("/api/v1/me").status_code == 401
