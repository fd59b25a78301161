"""Membership: member ids, system accounts, hats and hat requests, arrangers, circles."""

from __future__ import annotations

from eth_utils import keccak
from fixtures.ledger import HAT, member_id

ZERO32 = b"\0" * 32
ZERO = "0x" + "00" * 20
CIRCLE, SUB = keccak(text="circle:home-care"), keccak(text="circle:nights")
AIM, DOMAIN = keccak(text="aim"), keccak(text="domain")


def test_register_member_both_ways(ledger):
    m = ledger.membership.functions
    new_id = keccak(text="new-member")
    receipt = ledger.tx(m.registerMember(ledger.outsider, new_id), ledger.coordinator)
    assert ledger.events(receipt, ledger.membership, "MemberRegistered") == [
        {"account": ledger.outsider, "memberId": new_id, "by": ledger.coordinator}
    ]
    assert m.isMember(ledger.outsider).call() and m.isRegistered(ledger.outsider).call()
    assert m.memberIdOf(ledger.outsider).call() == new_id
    assert m.accountOf(new_id).call() == ledger.outsider


def test_register_member_bad_input(ledger):
    m = ledger.membership.functions
    cases = [
        (m.registerMember(ZERO, keccak(text="x")), "MembershipInvalidAccount", (ZERO,)),
        (m.registerMember(ledger.outsider, ZERO32), "MembershipInvalidMemberId", (ZERO32,)),
        (m.registerMember(ledger.giver, keccak(text="x")), "MembershipAlreadyRegistered",
         (ledger.giver,)),
        (m.registerMember(ledger.outsider, member_id("giver")), "MembershipMemberIdTaken",
         (member_id("giver"),)),
        (m.registerMember(ledger.pots.address, keccak(text="y")), "MembershipAlreadyRegistered",
         (ledger.pots.address,)),
    ]  # fmt: skip
    for call, name, args in cases:
        err = ledger.reverts(call, ledger.admin)
        assert (err.name, err.args) == (name, args)
    assert not m.isRegistered(ledger.outsider).call()


def test_system_accounts(ledger):
    m = ledger.membership.functions
    receipt = ledger.tx(m.registerSystemAccount(ledger.outsider), ledger.admin)
    assert ledger.events(receipt, ledger.membership, "SystemAccountRegistered") == [
        {"account": ledger.outsider, "by": ledger.admin}
    ]
    assert m.isSystemAccount(ledger.outsider).call() and m.isRegistered(ledger.outsider).call()
    assert not m.isMember(ledger.outsider).call()
    err = ledger.reverts(m.registerSystemAccount(ledger.outsider), ledger.admin)
    assert (err.name, err.args) == ("MembershipAlreadyRegistered", (ledger.outsider,))
    err = ledger.reverts(m.registerSystemAccount(ZERO), ledger.admin)
    assert (err.name, err.args) == ("MembershipInvalidAccount", (ZERO,))
    # A system account holds coin but cannot wear hats.
    err = ledger.reverts(m.grantHat(ledger.outsider, HAT.GIVER), ledger.admin)
    assert (err.name, err.args) == ("MembershipNotMember", (ledger.outsider,))


def test_grant_and_revoke_hats(ledger):
    m = ledger.membership.functions
    receipt = ledger.tx(m.grantHat(ledger.receiver2, HAT.GIVER), ledger.coordinator)
    assert ledger.events(receipt, ledger.membership, "HatGranted") == [
        {"account": ledger.receiver2, "hat": HAT.GIVER, "by": ledger.coordinator}
    ]
    assert m.hasHat(ledger.receiver2, HAT.GIVER).call()
    assert m.hatsOf(ledger.receiver2).call() == 1 << HAT.GIVER
    receipt = ledger.tx(m.revokeHat(ledger.receiver2, HAT.GIVER), ledger.coordinator)
    assert ledger.events(receipt, ledger.membership, "HatRevoked") == [
        {"account": ledger.receiver2, "hat": HAT.GIVER, "by": ledger.coordinator}
    ]
    assert not m.hasHat(ledger.receiver2, HAT.GIVER).call()
    # Admin grants non-care hats.
    ledger.tx(m.grantHat(ledger.receiver2, HAT.TREASURER), ledger.admin)
    assert m.hasHat(ledger.receiver2, HAT.TREASURER).call()


def test_hat_bad_input(ledger):
    m = ledger.membership.functions
    cases = [
        (m.grantHat(ledger.giver, 7), "MembershipInvalidHat", (7,)),
        (m.grantHat(ledger.giver, HAT.GIVER), "MembershipHatAlreadyHeld",
         (ledger.giver, HAT.GIVER)),
        (m.revokeHat(ledger.giver, HAT.RECEIVER), "MembershipHatNotHeld",
         (ledger.giver, HAT.RECEIVER)),
        (m.grantHat(ledger.outsider, HAT.GIVER), "MembershipNotMember", (ledger.outsider,)),
    ]  # fmt: skip
    for call, name, args in cases:
        err = ledger.reverts(call, ledger.admin)
        assert (err.name, err.args) == (name, args)
    assert m.hatsOf(ledger.giver).call() == 1 << HAT.GIVER


def test_coordinator_cannot_manage_governance_hats(ledger):
    m = ledger.membership.functions
    for hat in (HAT.COORDINATOR, HAT.TREASURER, HAT.ADMIN):
        err = ledger.reverts(m.grantHat(ledger.giver, hat), ledger.coordinator)
        assert (err.name, err.args) == ("MembershipCannotManageHat", (ledger.coordinator, hat))


def test_hat_request_approved(ledger):
    m = ledger.membership.functions
    receipt = ledger.tx(m.requestHat(HAT.SUPPORTER), ledger.giver2)
    assert ledger.events(receipt, ledger.membership, "HatRequested") == [
        {"account": ledger.giver2, "hat": HAT.SUPPORTER}
    ]
    assert m.requestedHatsOf(ledger.giver2).call() == 1 << HAT.SUPPORTER
    err = ledger.reverts(m.requestHat(HAT.SUPPORTER), ledger.giver2)
    assert (err.name, err.args) == (
        "MembershipRequestAlreadyPending",
        (ledger.giver2, HAT.SUPPORTER),
    )
    receipt = ledger.tx(m.approveHatRequest(ledger.giver2, HAT.SUPPORTER), ledger.coordinator)
    assert ledger.events(receipt, ledger.membership, "HatRequestApproved") == [
        {"account": ledger.giver2, "hat": HAT.SUPPORTER, "by": ledger.coordinator}
    ]
    assert ledger.events(receipt, ledger.membership, "HatGranted")[0]["hat"] == HAT.SUPPORTER
    assert m.hasHat(ledger.giver2, HAT.SUPPORTER).call()
    assert m.requestedHatsOf(ledger.giver2).call() == 0


def test_hat_request_declined(ledger):
    m = ledger.membership.functions
    ledger.tx(m.requestHat(HAT.TREASURER), ledger.giver2)
    err = ledger.reverts(m.declineHatRequest(ledger.giver2, HAT.TREASURER), ledger.coordinator)
    assert (err.name, err.args) == (
        "MembershipCannotManageHat",
        (ledger.coordinator, HAT.TREASURER),
    )
    receipt = ledger.tx(m.declineHatRequest(ledger.giver2, HAT.TREASURER), ledger.admin)
    assert ledger.events(receipt, ledger.membership, "HatRequestDeclined") == [
        {"account": ledger.giver2, "hat": HAT.TREASURER, "by": ledger.admin}
    ]
    assert not m.hasHat(ledger.giver2, HAT.TREASURER).call()
    err = ledger.reverts(m.approveHatRequest(ledger.giver2, HAT.TREASURER), ledger.admin)
    assert (err.name, err.args) == ("MembershipNoPendingRequest", (ledger.giver2, HAT.TREASURER))


def test_hat_request_bad_input(ledger):
    m = ledger.membership.functions
    err = ledger.reverts(m.requestHat(HAT.GIVER), ledger.outsider)
    assert (err.name, err.args) == ("MembershipNotMember", (ledger.outsider,))
    err = ledger.reverts(m.requestHat(HAT.GIVER), ledger.giver)
    assert (err.name, err.args) == ("MembershipHatAlreadyHeld", (ledger.giver, HAT.GIVER))
    err = ledger.reverts(m.requestHat(9), ledger.giver)
    assert (err.name, err.args) == ("MembershipInvalidHat", (9,))


def test_arranger(ledger):
    m = ledger.membership.functions
    assert m.arrangerOf(ledger.receiver).call() == ledger.arranger
    receipt = ledger.tx(m.setArranger(ledger.receiver, ZERO), ledger.coordinator)
    assert ledger.events(receipt, ledger.membership, "ArrangerSet") == [
        {"receiver": ledger.receiver, "arranger": ZERO, "by": ledger.coordinator}
    ]
    assert m.arrangerOf(ledger.receiver).call() == ZERO
    err = ledger.reverts(m.setArranger(ledger.receiver, ledger.giver), ledger.receiver)
    assert (err.name, err.args) == ("MembershipMissingHat", (ledger.giver, HAT.ARRANGER))
    err = ledger.reverts(m.setArranger(ledger.giver, ledger.arranger), ledger.giver)
    assert (err.name, err.args) == ("MembershipMissingHat", (ledger.giver, HAT.RECEIVER))
    err = ledger.reverts(m.setArranger(ledger.receiver, ledger.arranger), ledger.giver)
    assert (err.name, err.args) == ("MembershipMissingHat", (ledger.giver, HAT.COORDINATOR))


def test_circles(ledger):
    m = ledger.membership.functions
    receipt = ledger.tx(m.createCircle(CIRCLE, ZERO32, AIM, DOMAIN), ledger.coordinator)
    assert ledger.events(receipt, ledger.membership, "CircleCreated") == [
        {"circleId": CIRCLE, "parentId": ZERO32, "aimHash": AIM, "domainHash": DOMAIN}
    ]
    ledger.tx(m.createCircle(SUB, CIRCLE, AIM, DOMAIN), ledger.coordinator)
    assert m.circleOf(SUB).call() == [CIRCLE, AIM, DOMAIN, True]
    new_aim = keccak(text="aim2")
    receipt = ledger.tx(m.updateCircle(SUB, new_aim, DOMAIN), ledger.coordinator)
    assert ledger.events(receipt, ledger.membership, "CircleUpdated") == [
        {"circleId": SUB, "aimHash": new_aim, "domainHash": DOMAIN}
    ]
    for role in (1, 2, 3, 0):
        receipt = ledger.tx(m.setCircleRole(SUB, ledger.giver, role), ledger.coordinator)
        assert ledger.events(receipt, ledger.membership, "CircleRoleSet") == [
            {"circleId": SUB, "account": ledger.giver, "role": role}
        ]
        assert m.circleRoleOf(SUB, ledger.giver).call() == role


def test_circle_bad_input(ledger):
    m = ledger.membership.functions
    ledger.tx(m.createCircle(CIRCLE, ZERO32, AIM, DOMAIN), ledger.coordinator)
    unknown = keccak(text="nope")
    cases = [
        (m.createCircle(CIRCLE, ZERO32, AIM, DOMAIN), "MembershipCircleExists", (CIRCLE,)),
        (m.createCircle(ZERO32, ZERO32, AIM, DOMAIN), "MembershipUnknownCircle", (ZERO32,)),
        (m.createCircle(SUB, unknown, AIM, DOMAIN), "MembershipUnknownCircle", (unknown,)),
        (m.updateCircle(unknown, AIM, DOMAIN), "MembershipUnknownCircle", (unknown,)),
        (m.setCircleRole(unknown, ledger.giver, 1), "MembershipUnknownCircle", (unknown,)),
        (m.setCircleRole(CIRCLE, ledger.giver, 4), "MembershipInvalidCircleRole", (4,)),
        (m.setCircleRole(CIRCLE, ledger.outsider, 1), "MembershipNotMember", (ledger.outsider,)),
    ]
    for call, name, args in cases:
        err = ledger.reverts(call, ledger.coordinator)
        assert (err.name, err.args) == (name, args)
    assert not m.circleOf(SUB).call()[3]


# ------------------------------------------------- every hat needs a second person


def test_nobody_grants_a_hat_to_themselves(ledger):
    m = ledger.membership.functions
    for sender, hat in ((ledger.coordinator, HAT.GIVER), (ledger.coordinator, HAT.ARRANGER),
                        (ledger.admin, HAT.COORDINATOR), (ledger.admin, HAT.GIVER)):  # fmt: skip
        err = ledger.reverts(m.grantHat(sender, hat), sender)
        assert (err.name, err.args) == ("MembershipSelfGrant", (sender, hat))
        assert not m.hasHat(sender, hat).call()
    # A second person may; taking one's own hat off needs nobody.
    ledger.tx(m.grantHat(ledger.coordinator, HAT.GIVER), ledger.admin)
    ledger.tx(m.revokeHat(ledger.coordinator, HAT.GIVER), ledger.coordinator)


def test_nobody_approves_their_own_hat_request(ledger):
    m = ledger.membership.functions
    ledger.tx(m.requestHat(HAT.GIVER), ledger.coordinator)
    err = ledger.reverts(m.approveHatRequest(ledger.coordinator, HAT.GIVER), ledger.coordinator)
    assert (err.name, err.args) == ("MembershipSelfGrant", (ledger.coordinator, HAT.GIVER))
    assert m.requestedHatsOf(ledger.coordinator).call() == 1 << HAT.GIVER
    ledger.tx(m.approveHatRequest(ledger.coordinator, HAT.GIVER), ledger.admin)
    assert m.hasHat(ledger.coordinator, HAT.GIVER).call()
    ledger.tx(m.requestHat(HAT.ARRANGER), ledger.coordinator)
    ledger.tx(m.declineHatRequest(ledger.coordinator, HAT.ARRANGER), ledger.coordinator)


def test_coordinator_never_makes_themselves_an_arranger(ledger):
    m = ledger.membership.functions
    ledger.tx(m.grantHat(ledger.coordinator, HAT.ARRANGER), ledger.admin)
    err = ledger.reverts(m.setArranger(ledger.receiver, ledger.coordinator), ledger.coordinator)
    assert (err.name, err.args) == ("MembershipSelfArrangement",
                                    (ledger.receiver, ledger.coordinator))  # fmt: skip
    assert m.arrangerOf(ledger.receiver).call() == ledger.arranger
    # The receiver (or another coordinator) may choose them.
    ledger.tx(m.setArranger(ledger.receiver, ledger.coordinator), ledger.receiver)
    assert m.arrangerOf(ledger.receiver).call() == ledger.coordinator


def test_founding_admin_wears_admin_and_treasurer(ledger):
    m = ledger.membership.functions
    assert m.hatsOf(ledger.admin).call() == (1 << HAT.ADMIN) | (1 << HAT.TREASURER)
