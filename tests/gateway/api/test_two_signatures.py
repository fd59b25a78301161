"""Two people sign every care log entry, through the gateway's own routes and custodial
wallets, on real Keycloak tokens and a real Clique network.

The gateway has no route that sets a receiver's arranger, so the receiver's choice is sent
as the receiver: a forward request signed with their custodial key by the gateway's own
relaying (`Ledger.forward`). A coordinator's own on-chain approval of their hat request is
sent the same way; the gateway's hat routes are signed by the operator instead.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eccoo.client.vocabulary import Hat
from fixtures.api import post, submit_ok, wait_tx
from fixtures.cast import Cast
from fixtures.identity import UserFactory

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]


@pytest.fixture(scope="module")
def cast(live_gateway: Any, realm_users: UserFactory) -> Cast:
    people = {
        "coordinator": ("coordinator",),
        "treasurer": ("treasurer",),
        "receiver": (),
        "double": (),  # arranges and gives care
    }
    cast = Cast(live_gateway, realm_users, people)
    cast.register({"receiver": "care_receiver", "double": ("arranger", "care_giver")})
    return cast


@pytest.fixture(scope="module")
def pot_id(cast: Cast) -> int:
    return cast.fund_pot("receiver", 50_000)


def as_member(cast: Cast, name: str, fn: str, *args: Any) -> dict[str, Any]:
    """`fn` on Membership, signed with `name`'s custodial key; the ended transaction."""
    submitted = cast.queue_as(
        name,
        kind=fn[:32],
        target="Membership",
        fn=fn,
        args=args,
        dedupe_key=f"test:{fn}:{uuid.uuid4()}",
    )
    return wait_tx(cast[name], submitted.id)


def set_arranger(cast: Cast, arranger: str) -> None:
    tx = as_member(cast, "receiver", "setArranger", cast.me["receiver"]["address"],
                   cast.me[arranger]["address"])  # fmt: skip
    assert tx["state"] == "confirmed", tx


def refused(client: Any, path: str, body: Any = None) -> dict[str, Any]:
    reply = post(client, path, body)
    assert reply.status_code == 202, reply.text
    tx = wait_tx(client, reply.json()["transaction"]["id"])
    assert tx["state"] in ("failed", "reverted"), tx
    return tx


def test_arranger_cannot_book_themselves_as_the_giver(cast: Cast, pot_id: int) -> None:
    set_arranger(cast, "double")
    cast.set_rate("double", 2_000)
    receiver, double = cast.me["receiver"]["address"], cast.me["double"]["address"]
    body = {
        "receiver": receiver,
        "giver": double,
        "start": cast.block_time() - 60,
        "duration_minutes": 60,
        "pot_id": pot_id,
    }
    tx = refused(cast["double"], "/api/v1/appointments", body)
    assert tx["error"] == "CareLedgerArrangerIsGiver", tx
    assert tx["error_args"] is not None and double.lower() in tx["error_args"].lower()
    appointments = cast["double"].get("/api/v1/appointments").json()
    assert not [a for a in appointments if a["giver"] == double], appointments


def test_giver_who_became_the_arranger_cannot_confirm(cast: Cast, pot_id: int) -> None:
    # The receiver books the double as giver while they do not arrange for them...
    tx = as_member(cast, "receiver", "setArranger", cast.me["receiver"]["address"],
                   "0x" + "00" * 20)  # fmt: skip
    assert tx["state"] == "confirmed", tx
    appointment_id = cast.book("receiver", "double", pot_id, starts_in=4)
    # ...then makes them their arranger; the double delivers and tries to confirm.
    set_arranger(cast, "double")
    submit_ok(cast["double"], f"/api/v1/appointments/{appointment_id}/deliver")
    tx = refused(cast["double"], f"/api/v1/appointments/{appointment_id}/confirm")
    assert tx["error"] == "CareLedgerGiverCannotSign", tx
    appointment = cast["receiver"].get(f"/api/v1/appointments/{appointment_id}").json()
    assert appointment["status"] == "delivered"
    balance = cast["double"].get("/api/v1/me/balance").json()["balance"]
    assert balance == 0


def test_coordinator_cannot_approve_their_own_hat_request(cast: Cast) -> None:
    hat = Hat.CARE_GIVER
    coordinator = cast.me["coordinator"]["address"]
    assert as_member(cast, "coordinator", "requestHat", hat)["state"] == "confirmed"
    tx = as_member(cast, "coordinator", "approveHatRequest", coordinator, hat)
    assert tx["state"] in ("failed", "reverted") and tx["error"] == "MembershipSelfGrant", tx
    membership = cast.ledger.contracts["Membership"].functions
    assert not membership.hasHat(coordinator, hat).call()
