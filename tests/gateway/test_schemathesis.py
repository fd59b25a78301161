"""schemathesis over the gateway's OpenAPI document: generated requests, no 5xx.

The gateway is live (uvicorn) on the real chain, Keycloak and Neo4j. Requests carry a
real token of a member who wears every hat, so generation reaches past authorization into
the handlers; positive and negative examples both run.
"""

from __future__ import annotations

import collections
import time
import uuid
from typing import Any

import pytest
import schemathesis
from eth_utils import keccak
from fixtures.api import submit_ok
from fixtures.identity import UserFactory
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]
FUNDER = "0x" + keccak(text="funder:fuzz").hex()


@pytest.fixture(scope="module")
def api_schema(live_gateway: Any, realm_users: UserFactory) -> Any:
    member = realm_users.create(
        "coordinator", "treasurer", "care_receiver", "care_giver", prefix="fuzz"
    )
    helper = realm_users.create("coordinator", "care_giver", prefix="fuzzgiver")
    # First calls register both (privileged hats), so chain routes are reachable.
    fuzz = live_gateway.client(member.token())
    me = fuzz.get("/api/v1/me").json()
    giver = live_gateway.client(helper.token()).get("/api/v1/me").json()
    ledger = live_gateway.services.ledger
    deadline = time.monotonic() + 90
    hats = ledger.contracts["Membership"].functions.hasHat
    while not (hats(giver["address"], 1).call() and hats(me["address"], 0).call()):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    # Something real for linked operations to find: the fuzzing member's own pot and an
    # appointment in which they receive care.
    submit_ok(
        fuzz, "/api/v1/treasury/mint", {"to": me["address"], "amount": 10_000, "bank_ref": "FUZZ-1"}
    )
    submit_ok(
        fuzz,
        "/api/v1/pots",
        {"receiver": me["address"], "funders": [{"funder_id": FUNDER, "share_bps": 10_000}]},
    )
    pot_id = int(ledger.call("FundingPots", "potCount"))
    submit_ok(fuzz, f"/api/v1/pots/{pot_id}/deposits", {"funder_id": FUNDER, "amount": 5_000})
    start = int(ledger.w3.eth.get_block("latest")["timestamp"]) + 3600
    booking = {
        "receiver": me["address"],
        "giver": giver["address"],
        "start": start,
        "duration_minutes": 60,
        "rate_per_hour": 1_000,
        "pot_id": pot_id,
    }
    submit_ok(fuzz, "/api/v1/appointments", booking)
    schema = schemathesis.openapi.from_url(f"{live_gateway.url}/openapi.json")
    schema.config.headers = {"Authorization": f"Bearer {member.token()}"}  # type: ignore[attr-defined]
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, api_schema: Any) -> None:
    if case.operation.path.endswith("/me/events"):
        pytest.skip("an endless event stream; covered by test_ledger_api")
    headers = {"Authorization": api_schema.config.headers["Authorization"]}
    if case.method == "POST":
        headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
    response = case.call(headers={**(case.headers or {}), **headers}, timeout=60)
    case.validate_response(response, checks=(not_a_server_error,))


SCENARIOS = 25
MAX_RUNS = 10


def _generation_diverged(exc: BaseException) -> bool:
    """Hypothesis saw two scenarios with the same start draw differently (see below): it
    raises `Flaky`, or, on a replay that draws past a value rejected earlier, asserts inside
    its data tree (the same test schemathesis's engine makes)."""
    if isinstance(exc, Flaky):
        return True
    if not isinstance(exc, AssertionError):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith(
        "hypothesis.internal.conjecture"
    )


def test_stateful_no_server_errors(api_schema: Any) -> None:
    """Call sequences that follow the OpenAPI links (and the ones schemathesis infers): a
    submission to its transaction, a care note to reading, sharing, auditing and erasing
    it, a hat request to its approval, a member to their approval. No 5xx anywhere.

    The gateway's state moves on between scenarios and with the chain (notes are erased,
    transactions mined, hats approved), so a scenario cannot be replayed: Hypothesis only
    generates (no shrinking, no replay from its database), and a server error or a failed
    call is collected with the request that caused it rather than raised mid-scenario.

    The links draw from the responses, so what a scenario draws depends on the server's
    answers; when two scenarios with the same start get different answers (a transaction
    mined in one and not yet in the other, say), Hypothesis stops its run with
    `FlakyStrategyDefinition` (CI met this twice). That is a property of generation against
    a live server, not a server error: as schemathesis's own stateful engine does, the run
    restarts with fresh generation (the next seed) until SCENARIOS scenarios have run.
    Seeds are fixed, so every run tries the same scenarios in the same order."""
    auth = api_schema.config.headers["Authorization"]
    seen: collections.Counter[tuple[str, str, int]] = collections.Counter()
    problems: list[str] = []
    scenarios = [0]
    restarts: list[str] = []
    # The event stream never ends (covered by test_ledger_api).
    machine = api_schema.exclude(path_regex=r"/me/events$").as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            if case.method in ("POST", "DELETE"):
                case.headers = {**(case.headers or {}), "Idempotency-Key": str(uuid.uuid4())}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": auth}, "timeout": 60}

        def call(self, case: Any, **kwargs: Any) -> Any:
            try:
                return super().call(case, **kwargs)
            except Exception as exc:
                problems.append(f"{case.method} {case.formatted_path}: {exc!r}")
                raise

        def teardown(self) -> None:
            super().teardown()
            scenarios[0] += 1

        def after_call(self, response: Any, case: Any) -> None:
            seen[(case.method, case.operation.path, response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            if response.status_code >= 500:
                request = response.request
                problems.append(
                    f"{request.method} {request.url} -> {response.status_code} "
                    f"{response.text[:300]!r} (body sent: {str(request.body)[:300]!r})"
                )

    attempt = 0
    try:
        while scenarios[0] < SCENARIOS and attempt < MAX_RUNS:
            attempt += 1
            seed(attempt)(Workflow)
            try:
                Workflow.run(
                    settings=settings(
                        max_examples=SCENARIOS - scenarios[0],
                        stateful_step_count=5,
                        deadline=None,
                        phases=[Phase.generate],
                        database=None,
                        suppress_health_check=list(HealthCheck),
                    )
                )
            except Exception as exc:
                if not _generation_diverged(exc) or problems:
                    raise AssertionError("\n".join(problems) or repr(exc)) from exc
                restarts.append(f"run {attempt} after {scenarios[0]} scenarios")
    finally:
        print("calls made (method, path, status): count", sorted(seen.items()))
        print(f"scenarios: {scenarios[0]}; generation restarted: {restarts or 'never'}")
    assert not problems, "\n".join(problems)
    assert scenarios[0] >= SCENARIOS, f"generation diverged in every one of {MAX_RUNS} runs"
    # The links carried real ids: some operation on a path parameter found its resource.
    found = [key for key in seen if "{" in key[1] and key[2] < 300]
    assert found, sorted(seen)
