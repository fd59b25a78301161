"""The access-control matrix: every role against every restricted function.

Each cell starts from the same snapshot; an allowed role must succeed, every other role must
revert with the function's authorisation error naming the caller and the missing role/hat.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak
from fixtures.ledger import HAT, LA, NHS, TREASURER_ROLE

ROLES = ("admin", "coordinator", "treasurer", "receiver", "giver", "arranger", "supporter",
         "member", "outsider")  # fmt: skip
ADMIN_ROLE = b"\0" * 32
REF = keccak(text="ref")


@pytest.fixture(scope="module")
def matrix(ledger_chain):
    """Treasurer duties moved from the admin to `giver2`, and one disputed appointment (1)."""
    lc = ledger_chain
    lc.reset()
    m, coin = lc.membership.functions, lc.coin.functions
    lc.tx(m.grantHat(lc.giver2, HAT.TREASURER), lc.admin)
    lc.tx(m.revokeHat(lc.admin, HAT.TREASURER), lc.admin)
    lc.tx(coin.grantRole(TREASURER_ROLE, lc.giver2), lc.admin)
    lc.tx(coin.revokeRole(TREASURER_ROLE, lc.admin), lc.admin)
    lc.tx(coin.mint(lc.giver2, 1_000, REF), lc.giver2)
    appointment = lc.book(start_in=-10)
    lc.deliver(appointment)
    lc.tx(lc.care.functions.dispute(appointment, REF), lc.receiver)
    lc.who = {r: getattr(lc, r) for r in ROLES if r not in ("treasurer", "member")}
    lc.who.update(treasurer=lc.giver2, member=lc.receiver2)
    snapshot = lc.tester.take_snapshot()
    yield lc, snapshot
    lc.reset()


def _cases(lc):
    coin, m, pots, care = (c.functions for c in (lc.coin, lc.membership, lc.pots, lc.care))
    new_circle = keccak(text="circle")
    return {
        "CareCoin.mint": (lambda s: coin.mint(lc.giver, 1, REF), {"treasurer"},
                          lambda s: ("AccessControlUnauthorizedAccount", (s, TREASURER_ROLE))),
        "CareCoin.burn": (lambda s: coin.burn(s, 1, REF), {"treasurer"},
                          lambda s: ("AccessControlUnauthorizedAccount", (s, TREASURER_ROLE))),
        "CareCoin.pause": (lambda s: coin.pause(), {"admin"},
                           lambda s: ("AccessControlUnauthorizedAccount", (s, ADMIN_ROLE))),
        "CareCoin.grantRole": (lambda s: coin.grantRole(TREASURER_ROLE, lc.giver), {"admin"},
                               lambda s: ("AccessControlUnauthorizedAccount", (s, ADMIN_ROLE))),
        "Membership.registerMember": (
            lambda s: m.registerMember(lc.outsider, keccak(text="new")), {"admin", "coordinator"},
            lambda s: ("MembershipMissingHat", (s, HAT.COORDINATOR))),
        "Membership.registerSystemAccount": (
            lambda s: m.registerSystemAccount(lc.outsider), {"admin"},
            lambda s: ("MembershipMissingHat", (s, HAT.ADMIN))),
        "Membership.grantHat(care hat)": (
            lambda s: m.grantHat(lc.receiver2, HAT.SUPPORTER), {"admin", "coordinator"},
            lambda s: ("MembershipCannotManageHat", (s, HAT.SUPPORTER))),
        "Membership.grantHat(admin hat)": (
            lambda s: m.grantHat(lc.receiver2, HAT.ADMIN), {"admin"},
            lambda s: ("MembershipCannotManageHat", (s, HAT.ADMIN))),
        "Membership.revokeHat(coordinator hat)": (
            lambda s: m.revokeHat(lc.coordinator, HAT.COORDINATOR), {"admin"},
            lambda s: ("MembershipCannotManageHat", (s, HAT.COORDINATOR))),
        "Membership.createCircle": (
            lambda s: m.createCircle(new_circle, b"\0" * 32, REF, REF), {"coordinator"},
            lambda s: ("MembershipMissingHat", (s, HAT.COORDINATOR))),
        "FundingPots.setLedger": (lambda s: pots.setLedger(lc.care.address), {"admin"},
                                  lambda s: ("FundingPotsMissingHat", (s, HAT.ADMIN))),
        "FundingPots.createPot": (lambda s: pots.createPot(lc.receiver, [LA], [10_000]),
                                  {"treasurer"},
                                  lambda s: ("FundingPotsMissingHat", (s, HAT.TREASURER))),
        "FundingPots.setShares": (lambda s: pots.setShares(1, [NHS, LA], [5_000, 5_000]),
                                  {"treasurer"},
                                  lambda s: ("FundingPotsMissingHat", (s, HAT.TREASURER))),
        "FundingPots.refund": (lambda s: pots.refund(1, LA, 10, lc.funder), {"treasurer"},
                               lambda s: ("FundingPotsMissingHat", (s, HAT.TREASURER))),
        "FundingPots.setHourlyCap": (lambda s: pots.setHourlyCap(1, LA, 2_500), {"treasurer"},
                                     lambda s: ("FundingPotsMissingHat", (s, HAT.TREASURER))),
        "CareLedger.setHourlyRate": (lambda s: care.setHourlyRate(1_500), {"giver"},
                                     lambda s: ("CareLedgerMissingHat", (s, HAT.GIVER))),
        "CareLedger.setContributionRates": (lambda s: care.setContributionRates(1_000, 500),
                                            {"admin"},
                                            lambda s: ("CareLedgerMissingHat", (s, HAT.ADMIN))),
        "CareLedger.setContributionAccount": (lambda s: care.setContributionAccount(lc.giver),
                                              {"admin"},
                                              lambda s: ("CareLedgerMissingHat", (s, HAT.ADMIN))),
        "CareLedger.setDisputeWindow": (lambda s: care.setDisputeWindow(60), {"admin"},
                                        lambda s: ("CareLedgerMissingHat", (s, HAT.ADMIN))),
        "CareLedger.resolveDispute": (lambda s: care.resolveDispute(1, 100), {"coordinator"},
                                      lambda s: ("CareLedgerMissingHat", (s, HAT.COORDINATOR))),
    }  # fmt: skip


FUNCTIONS = (
    "CareCoin.mint", "CareCoin.burn", "CareCoin.pause", "CareCoin.grantRole",
    "Membership.registerMember", "Membership.registerSystemAccount",
    "Membership.grantHat(care hat)", "Membership.grantHat(admin hat)",
    "Membership.revokeHat(coordinator hat)", "Membership.createCircle",
    "FundingPots.setLedger", "FundingPots.createPot", "FundingPots.setShares",
    "FundingPots.refund", "FundingPots.setHourlyCap", "CareLedger.setHourlyRate",
    "CareLedger.setContributionRates",
    "CareLedger.setContributionAccount",
    "CareLedger.setDisputeWindow", "CareLedger.resolveDispute",
)  # fmt: skip


@pytest.mark.parametrize("function", FUNCTIONS)
def test_matrix(matrix, function):
    lc, snapshot = matrix
    make, allowed, denial = _cases(lc)[function]
    for role in ROLES:
        lc.tester.revert_to_snapshot(snapshot)
        sender = lc.who[role]
        if role in allowed:
            lc.tx(make(sender), sender)
        else:
            err = lc.reverts(make(sender), sender)
            assert (err.name, err.args) == denial(sender), f"{function} as {role}"


def test_unpause_is_admin_only(matrix):
    lc, snapshot = matrix
    lc.tester.revert_to_snapshot(snapshot)
    lc.tx(lc.coin.functions.pause(), lc.admin)
    for role in ROLES[1:]:
        err = lc.reverts(lc.coin.functions.unpause(), lc.who[role])
        assert (err.name, err.args) == (
            "AccessControlUnauthorizedAccount",
            (lc.who[role], ADMIN_ROLE),
        )
    lc.tx(lc.coin.functions.unpause(), lc.admin)
