"""The Python lists in `eccoo.client.vocabulary` say what the compiled contracts say.

Appointment statuses are CareLedger's public STATUS_* constants, read from the deployed
contract. Hats are internal constants of the Hats library (not in any ABI): their names and
numbers are read from its source, and their count and the care-hat boundary from the
deployed Membership's behaviour.
"""

from __future__ import annotations

import re

from eccoo.client.compile import CONTRACTS_DIR
from eccoo.client.vocabulary import AppointmentStatus, Hat

HAT_CONSTANT = re.compile(r"uint8 internal constant (\w+) = (\d+);")


def test_appointment_statuses_match_the_care_ledger(ledger):
    care = ledger.care.functions
    on_chain = {
        item["name"].removeprefix("STATUS_"): getattr(care, item["name"])().call()
        for item in ledger.care.abi
        if item.get("type") == "function" and item["name"].startswith("STATUS_")
    }
    assert on_chain == {s.name: s.value for s in AppointmentStatus}


def test_hats_match_the_hats_library(ledger):
    declared = dict(HAT_CONSTANT.findall((CONTRACTS_DIR / "Hats.sol").read_text()))
    count = int(declared.pop("COUNT"))
    assert {name: int(n) for name, n in declared.items()} == {h.name: h.value for h in Hat}
    assert count == len(Hat)
    m = ledger.membership.functions
    # One past the last hat is refused by the compiled contract; the last is accepted.
    assert ledger.reverts(m.requestHat(count), ledger.giver2).name == "MembershipInvalidHat"
    ledger.tx(m.requestHat(count - 1), ledger.giver2)
    # A coordinator grants exactly the care hats.
    for hat in Hat:
        call = m.grantHat(ledger.receiver2, hat.value)
        if hat.is_care_hat:
            ledger.tx(call, ledger.coordinator)
        else:
            assert ledger.reverts(call, ledger.coordinator).name == "MembershipCannotManageHat"
