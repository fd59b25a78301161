"""The Commons Contribution through the gateway, on real Keycloak tokens and a real Clique
network: a giver's own rate, the quote a booker sees before signing, a funder's cap refusing
a booking before anything is signed, and the governance hat changing the percentages.

Every refusal names its field; the figures are hand-computed pennies at 17.5 % / 7.5 %.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fixtures.api import post, submit_ok, wait_tx
from fixtures.cast import FUNDER, Cast
from fixtures.identity import UserFactory

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]


@pytest.fixture(scope="module")
def cast(live_gateway: Any, realm_users: UserFactory) -> Cast:
    people = {
        "coordinator": ("coordinator",),
        "treasurer": ("treasurer",),
        "governor": ("admin",),
        "receiver": (),
        "giver": (),
        "outsider": (),
    }
    cast = Cast(live_gateway, realm_users, people)
    cast.register({"receiver": "care_receiver", "giver": "care_giver"})
    return cast


@pytest.fixture(scope="module")
def pot_id(cast: Cast) -> int:
    return cast.fund_pot("receiver", 50_000)


def quote(cast: Cast, who: str, pot_id: int, minutes: int = 90, giver: str = "giver") -> Any:
    params = {"giver": cast.me[giver]["address"], "duration_minutes": minutes, "pot_id": pot_id}
    return cast[who].get("/api/v1/contribution/quote", params=params)


def test_a_giver_sets_their_own_rate(cast: Cast, pot_id: int) -> None:
    assert quote(cast, "receiver", pot_id).json()["field"] == "giver"  # no rate yet: 422
    submit_ok(cast["giver"], "/api/v1/me/rate", {"rate_per_hour": 2_000})
    care = cast.ledger.contracts["CareLedger"].functions
    assert care.hourlyRateOf(cast.me["giver"]["address"]).call() == 2_000
    refused = post(cast["receiver"], "/api/v1/me/rate", {"rate_per_hour": 2_000})
    assert refused.status_code == 403, refused.text  # not a care giver
    bad = post(cast["giver"], "/api/v1/me/rate", {"rate_per_hour": 0})
    assert (bad.status_code, bad.json()["field"]) == (422, "rate_per_hour")


def test_the_booker_sees_the_chains_figures_before_booking(cast: Cast, pot_id: int) -> None:
    cast.set_rate("giver", 2_000)
    reply = quote(cast, "receiver", pot_id)
    assert reply.status_code == 200, reply.text
    # 90 minutes at 2,000 p: 3,000 p; 17.5 % on top (525 p), 7.5 % off (225 p).
    assert {k: reply.json()[k] for k in ("rate_per_hour", "price", "payer_contribution",
            "giver_contribution", "payer_pays", "giver_receives", "contribution")} == {
        "rate_per_hour": 2_000, "price": 3_000, "payer_contribution": 525,
        "giver_contribution": 225, "payer_pays": 3_525, "giver_receives": 2_775,
        "contribution": 750,
    }  # fmt: skip
    on_chain = cast.ledger.contracts["CareLedger"].functions.quote(cast.me["giver"]["address"], 90)
    assert on_chain.call() == [3_000, 525, 225]
    assert quote(cast, "coordinator", pot_id).status_code == 200
    hidden = quote(cast, "outsider", pot_id)
    assert (hidden.status_code, hidden.json()["field"]) == (404, "pot_id")
    bad = cast["receiver"].get(
        "/api/v1/contribution/quote",
        params={"giver": "0xnot", "duration_minutes": 60, "pot_id": pot_id},
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "giver")


def test_a_booking_over_a_funders_cap_is_refused_before_signing(cast: Cast, pot_id: int) -> None:
    submit_ok(
        cast["treasurer"],
        f"/api/v1/pots/{pot_id}/caps",
        {"funder_id": FUNDER, "cap_per_hour": 2_350},
    )
    cast.set_rate("giver", 2_001)  # 2,001 + 350 = 2,351 p an hour to the pot
    queued = lambda: len(cast.ledger.transactions_of(cast.me["receiver"]["subject"]))  # noqa: E731
    transactions_before = queued()
    body = {
        "receiver": cast.me["receiver"]["address"],
        "giver": cast.me["giver"]["address"],
        "start": cast.block_time() + 3_600,
        "duration_minutes": 60,
        "pot_id": pot_id,
    }
    refused = post(cast["receiver"], "/api/v1/appointments", body)
    assert refused.status_code == 422, refused.text
    answer = refused.json()
    assert (answer["error"], answer["field"]) == ("OverFunderCap", "pot_id")
    assert (answer["cap_per_hour"], answer["price_per_hour"]) == (2_350, 2_351)
    assert answer["funder_id"] == FUNDER and "2350" in answer["message"]
    assert queued() == transactions_before  # nothing signed, nothing queued
    assert quote(cast, "receiver", pot_id).json()["field"] == "pot_id"
    cast.set_rate("giver", 2_000)  # at the cap: booked
    submit_ok(cast["receiver"], "/api/v1/appointments", body)
    submit_ok(
        cast["treasurer"], f"/api/v1/pots/{pot_id}/caps", {"funder_id": FUNDER, "cap_per_hour": 0}
    )


@pytest.fixture
def published_rates(cast: Cast) -> Iterator[None]:
    """Other modules share the chain: the published figures are put back afterwards."""
    yield
    submit_ok(cast["governor"], "/api/v1/contribution/rates", {"payer_bps": 1750, "giver_bps": 750})


def test_the_governance_hat_changes_the_percentages(
    cast: Cast, pot_id: int, published_rates: None
) -> None:
    assert cast["giver"].get("/api/v1/contribution/rates").json() == {
        "payer_bps": 1750,
        "giver_bps": 750,
    }
    rates = {"payer_bps": 2_000, "giver_bps": 1_000}
    assert post(cast["coordinator"], "/api/v1/contribution/rates", rates).status_code == 403
    too_much = post(cast["governor"], "/api/v1/contribution/rates", {**rates, "payer_bps": 10_001})
    assert (too_much.status_code, too_much.json()["field"]) == (422, "payer_bps")
    submit_ok(cast["governor"], "/api/v1/contribution/rates", rates)
    assert cast["giver"].get("/api/v1/contribution/rates").json() == rates
    cast.set_rate("giver", 2_000)
    figures = quote(cast, "receiver", pot_id, minutes=60).json()
    assert (figures["payer_contribution"], figures["giver_contribution"]) == (400, 200)


def test_a_refused_rate_names_its_field_in_plain_words(cast: Cast) -> None:
    """A call the chain refuses after queueing (here a rate the route would have refused,
    queued directly) comes back with the field and the reason in words."""
    tx = cast.queue_as(
        "giver",
        kind="set_hourly_rate",
        target="CareLedger",
        fn="setHourlyRate",
        args=(0,),
        dedupe_key=f"test:rate:{uuid.uuid4()}",
    )
    ended = wait_tx(cast["giver"], tx.id)
    assert ended["state"] in ("failed", "reverted"), ended
    assert (ended["error"], ended["error_field"]) == ("CareLedgerInvalidRate", "rate_per_hour")
    assert "hourly rate" in ended["error_message"]
