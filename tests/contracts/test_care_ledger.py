"""CareLedger: booking to payment, cancel, dispute and resolution, care notes, admin settings.

The Commons Contribution (rates, quotes, funder caps) is in test_commons_contribution.py.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak
from fixtures.ledger import HAT, LA, NHS, STATUS

NOTE = keccak(text="note:1")
REASON = keccak(text="reason:late")


def test_book_emits_and_records(ledger):
    start = ledger.now() + 3600
    ledger.tx(ledger.care.functions.setHourlyRate(1_500), ledger.giver)
    call = ledger.care.functions.book(ledger.receiver, ledger.giver, start, 90, 1)
    receipt = ledger.tx(call, ledger.arranger)
    # 2,250 p at 17.5 % (393.75, floored) on top and 7.5 % (168.75, floored) from the price.
    assert ledger.events(receipt, ledger.care, "AppointmentBooked") == [{
        "appointmentId": 1, "receiver": ledger.receiver, "giver": ledger.giver,
        "arranger": ledger.arranger, "potId": 1, "start": start, "durationMinutes": 90,
        "ratePerHour": 1_500, "amount": 2_250, "payerContribution": 393, "giverContribution": 168,
    }]  # fmt: skip
    a = ledger.appointment(1)
    assert (a["status"], a["amount"], a["paidAmount"], a["potId"]) == (STATUS.BOOKED, 2_250, 0, 1)
    assert (a["payerContributionBps"], a["giverContributionBps"]) == (1750, 750)
    assert ledger.care.functions.appointmentCount().call() == 1


@pytest.mark.parametrize("who", ["receiver", "arranger", "coordinator"])
def test_who_may_book(ledger, who):
    ledger.book(sender=getattr(ledger, who))


def test_amount_is_floored(ledger):
    appointment = ledger.book(minutes=7, rate=1_000)  # 116.66... p
    assert ledger.appointment(appointment)["amount"] == 116


def test_book_bad_input(ledger):
    care = ledger.care.functions
    ledger.tx(care.setHourlyRate(1_000), ledger.giver)
    r, g, t = ledger.receiver, ledger.giver, ledger.now() + 3600
    cases = [
        (care.book(r, g, t, 60, 1), g, "CareLedgerUnauthorized", (g, 0)),
        (care.book(g, g, t, 60, 1), ledger.coordinator, "CareLedgerMissingHat",
         (g, HAT.RECEIVER)),
        (care.book(r, ledger.giver2, t, 60, 1), ledger.arranger, "CareLedgerMissingHat",
         (ledger.giver2, HAT.GIVER)),
        (care.book(r, g, 0, 60, 1), ledger.arranger, "CareLedgerInvalidStart", (0,)),
        (care.book(r, g, t, 0, 1), ledger.arranger, "CareLedgerInvalidDuration", (0,)),
        (care.book(r, g, t, 1_441, 1), ledger.arranger, "CareLedgerInvalidDuration",
         (1_441,)),
        (care.book(r, ledger.supporter, t, 60, 1), ledger.arranger, "CareLedgerMissingHat",
         (ledger.supporter, HAT.GIVER)),
        (care.book(r, g, t, 60, 9), ledger.arranger, "CareLedgerUnknownPot", (9,)),
    ]  # fmt: skip
    for call, sender, name, args in cases:
        err = ledger.reverts(call, sender)
        assert (err.name, err.args) == (name, args)
    assert ledger.care.functions.appointmentCount().call() == 0


def test_book_parties_and_pot_must_match(ledger):
    m, care = ledger.membership.functions, ledger.care.functions
    ledger.tx(care.setHourlyRate(1_000), ledger.giver)
    ledger.tx(m.grantHat(ledger.giver, HAT.RECEIVER), ledger.coordinator)
    t = ledger.now() + 3600
    err = ledger.reverts(care.book(ledger.giver, ledger.giver, t, 60, 1), ledger.coordinator)
    assert (err.name, err.args) == ("CareLedgerInvalidParties", (ledger.giver, ledger.giver))
    ledger.tx(m.grantHat(ledger.receiver2, HAT.RECEIVER), ledger.coordinator)
    err = ledger.reverts(care.book(ledger.receiver2, ledger.giver, t, 60, 1),
                         ledger.coordinator)  # fmt: skip
    assert (err.name, err.args) == ("CareLedgerPotMismatch", (1, ledger.receiver2))


def test_full_lifecycle_to_payment(ledger):
    care = ledger.care.functions
    appointment = ledger.book(minutes=60, rate=2_001)
    err = ledger.reverts(care.markDelivered(appointment), ledger.giver)
    start = ledger.appointment(appointment)["start"]
    assert (err.name, err.args) == ("CareLedgerNotStarted", (appointment, start))
    receipt = ledger.deliver(appointment)
    [delivered] = ledger.events(receipt, ledger.care, "AppointmentDelivered")
    assert delivered["appointmentId"] == appointment and delivered["giver"] == ledger.giver
    assert ledger.appointment(appointment)["deliveredAt"] == delivered["deliveredAt"]
    receipt = ledger.tx(care.confirm(appointment), ledger.arranger)
    assert ledger.events(receipt, ledger.care, "AppointmentConfirmed") == [
        {"appointmentId": appointment, "by": ledger.arranger}
    ]
    giver_before, coop_before = ledger.balance(ledger.giver), ledger.balance(ledger.admin)
    receipt = ledger.tx(care.releasePayment(appointment), ledger.outsider)
    # Price 2,001 p; payer 17.5 % = 350.175 -> 350 on top; giver 7.5 % = 150.075 -> 150 off.
    assert ledger.events(receipt, ledger.care, "AppointmentPaid") == [{
        "appointmentId": appointment, "giver": ledger.giver, "potId": 1, "amount": 2_351,
        "giverShare": 1_851, "payerContribution": 350, "giverContribution": 150,
    }]  # fmt: skip
    # The pot's 2,351 p across LA 60 % (1,410.6) and NHS 40 % (940.4); the penny to LA.
    assert ledger.events(receipt, ledger.pots, "Drawn") == [
        {"potId": 1, "funderId": LA, "appointmentId": appointment, "amount": 1_411},
        {"potId": 1, "funderId": NHS, "appointmentId": appointment, "amount": 940},
    ]
    assert ledger.balance(ledger.giver) == giver_before + 1_851
    assert ledger.balance(ledger.admin) == coop_before + 500
    assert ledger.balance(ledger.care.address) == 0
    a = ledger.appointment(appointment)
    assert (a["status"], a["paidAmount"], a["payerContribution"], a["giverContribution"]) == (
        STATUS.PAID, 2_001, 350, 150)  # fmt: skip
    err = ledger.reverts(care.releasePayment(appointment), ledger.outsider)
    assert (err.name, err.args) == ("CareLedgerInvalidStatus", (appointment, STATUS.PAID))


def test_only_the_right_people_move_an_appointment(ledger):
    care = ledger.care.functions
    appointment = ledger.book(start_in=-60)
    for sender in (ledger.receiver, ledger.arranger, ledger.coordinator):
        err = ledger.reverts(care.markDelivered(appointment), sender)
        assert (err.name, err.args) == ("CareLedgerUnauthorized", (sender, appointment))
    ledger.deliver(appointment)
    for sender in (ledger.giver, ledger.coordinator, ledger.supporter):
        err = ledger.reverts(care.confirm(appointment), sender)
        assert (err.name, err.args) == ("CareLedgerUnauthorized", (sender, appointment))
        err = ledger.reverts(care.dispute(appointment, REASON), sender)
        assert (err.name, err.args) == ("CareLedgerUnauthorized", (sender, appointment))


def test_cancel_before_start(ledger):
    care = ledger.care.functions
    for who in ("receiver", "arranger", "giver", "coordinator"):
        appointment = ledger.book()
        receipt = ledger.tx(care.cancel(appointment), getattr(ledger, who))
        assert ledger.events(receipt, ledger.care, "AppointmentCancelled") == [
            {"appointmentId": appointment, "by": getattr(ledger, who)}
        ]
        assert ledger.appointment(appointment)["status"] == STATUS.CANCELLED
    appointment = ledger.book()
    err = ledger.reverts(care.cancel(appointment), ledger.supporter)
    assert (err.name, err.args) == ("CareLedgerUnauthorized", (ledger.supporter, appointment))
    ledger.travel(7200)
    start = ledger.appointment(appointment)["start"]
    err = ledger.reverts(care.cancel(appointment), ledger.receiver)
    assert (err.name, err.args) == ("CareLedgerTooLateToCancel", (appointment, start))
    assert ledger.appointment(appointment)["status"] == STATUS.BOOKED


def _disputed(ledger) -> int:
    appointment = ledger.book(minutes=60, rate=1_000)
    ledger.deliver(appointment)
    receipt = ledger.tx(ledger.care.functions.dispute(appointment, REASON), ledger.receiver)
    assert ledger.events(receipt, ledger.care, "AppointmentDisputed") == [
        {"appointmentId": appointment, "by": ledger.receiver, "reasonHash": REASON}
    ]
    return appointment


@pytest.mark.parametrize(("paid", "outcome"), [(1_000, 2), (400, 1)])
def test_resolve_pays_full_or_part(ledger, paid, outcome):
    appointment = _disputed(ledger)
    before = ledger.balance(ledger.giver)
    receipt = ledger.tx(ledger.care.functions.resolveDispute(appointment, paid), ledger.coordinator)
    assert ledger.events(receipt, ledger.care, "DisputeResolved") == [{
        "appointmentId": appointment, "coordinator": ledger.coordinator, "outcome": outcome,
        "paidAmount": paid}]  # fmt: skip
    [paid_event] = ledger.events(receipt, ledger.care, "AppointmentPaid")
    payer, giver = paid * 1750 // 10_000, paid * 750 // 10_000  # on the awarded part only
    assert (paid_event["payerContribution"], paid_event["giverContribution"]) == (payer, giver)
    assert paid_event["amount"] == paid + payer
    assert paid_event["giverShare"] == paid - giver
    assert ledger.balance(ledger.giver) == before + paid_event["giverShare"]
    assert ledger.appointment(appointment)["paidAmount"] == paid


def test_resolve_void(ledger):
    appointment = _disputed(ledger)
    pot_before = ledger.pot_balance(1, LA)
    receipt = ledger.tx(ledger.care.functions.resolveDispute(appointment, 0), ledger.coordinator)
    assert ledger.events(receipt, ledger.care, "AppointmentVoided") == [
        {"appointmentId": appointment}
    ]
    assert ledger.events(receipt, ledger.care, "DisputeResolved")[0]["outcome"] == 0
    assert ledger.appointment(appointment)["status"] == STATUS.VOIDED
    assert ledger.pot_balance(1, LA) == pot_before


def test_resolve_bad_input(ledger):
    care = ledger.care.functions
    appointment = _disputed(ledger)
    err = ledger.reverts(care.resolveDispute(appointment, 1_001), ledger.coordinator)
    assert (err.name, err.args) == ("CareLedgerInvalidResolution", (appointment, 1_001, 1_000))
    err = ledger.reverts(care.resolveDispute(appointment, 1), ledger.admin)
    assert (err.name, err.args) == ("CareLedgerMissingHat", (ledger.admin, HAT.COORDINATOR))
    ledger.tx(ledger.membership.functions.grantHat(ledger.giver, HAT.COORDINATOR), ledger.admin)
    err = ledger.reverts(care.resolveDispute(appointment, 1_000), ledger.giver)
    assert (err.name, err.args) == ("CareLedgerInterestedResolver", (appointment, ledger.giver))
    assert ledger.appointment(appointment)["status"] == STATUS.DISPUTED


def test_dispute_window_closes(ledger):
    care = ledger.care.functions
    appointment = ledger.book()
    ledger.deliver(appointment)
    delivered_at = ledger.appointment(appointment)["deliveredAt"]
    ledger.travel(7 * 24 * 3600 + 10)
    err = ledger.reverts(care.dispute(appointment, REASON), ledger.arranger)
    deadline = delivered_at + 7 * 24 * 3600
    assert (err.name, err.args) == ("CareLedgerDisputeWindowClosed", (appointment, deadline))
    ledger.tx(care.confirm(appointment), ledger.receiver)  # confirming is still possible


def test_wrong_state_transitions(ledger):
    care = ledger.care.functions
    booked = ledger.book()
    actions = {
        "deliver": (lambda i: care.markDelivered(i), ledger.giver),
        "confirm": (lambda i: care.confirm(i), ledger.receiver),
        "release": (lambda i: care.releasePayment(i), ledger.giver),
        "cancel": (lambda i: care.cancel(i), ledger.receiver),
        "dispute": (lambda i: care.dispute(i, REASON), ledger.receiver),
        "resolve": (lambda i: care.resolveDispute(i, 1), ledger.coordinator),
    }
    allowed = {STATUS.BOOKED: {"deliver", "cancel"}, STATUS.PAID: set(),
               STATUS.CANCELLED: set()}  # fmt: skip
    paid = ledger.book(start_in=-10)
    ledger.deliver(paid)
    ledger.tx(care.confirm(paid), ledger.receiver)
    ledger.tx(care.releasePayment(paid), ledger.giver)
    cancelled = ledger.book()
    ledger.tx(care.cancel(cancelled), ledger.receiver)
    for appointment, status in ((booked, STATUS.BOOKED), (paid, STATUS.PAID),
                                (cancelled, STATUS.CANCELLED)):  # fmt: skip
        for name, (make, sender) in actions.items():
            if name in allowed[status]:
                continue
            err = ledger.reverts(make(appointment), sender)
            assert (err.name, err.args) == ("CareLedgerInvalidStatus", (appointment, status)), name
    err = ledger.reverts(care.confirm(99), ledger.receiver)
    assert (err.name, err.args) == ("CareLedgerUnknownAppointment", (99,))


def test_anchor_care_note(ledger):
    care = ledger.care.functions
    appointment = ledger.book()
    receipt = ledger.tx(care.anchorCareNote(appointment, NOTE), ledger.giver)
    assert ledger.events(receipt, ledger.care, "CareNoteAnchored") == [
        {"appointmentId": appointment, "noteHash": NOTE, "author": ledger.giver}
    ]
    assert care.appointmentOfNote(NOTE).call() == appointment
    ledger.tx(care.anchorCareNote(appointment, keccak(text="note:2")), ledger.arranger)
    cases = [
        (care.anchorCareNote(appointment, NOTE), ledger.receiver, "CareLedgerNoteAlreadyAnchored",
         (NOTE, appointment)),
        (care.anchorCareNote(appointment, b"\0" * 32), ledger.giver, "CareLedgerInvalidNoteHash",
         (b"\0" * 32,)),
        (care.anchorCareNote(appointment, keccak(text="n3")), ledger.supporter,
         "CareLedgerUnauthorized", (ledger.supporter, appointment)),
        (care.anchorCareNote(42, keccak(text="n3")), ledger.giver, "CareLedgerUnknownAppointment",
         (42,)),
    ]  # fmt: skip
    for call, sender, name, args in cases:
        err = ledger.reverts(call, sender)
        assert (err.name, err.args) == (name, args)


def test_admin_settings(ledger):
    care = ledger.care.functions
    receipt = ledger.tx(care.setDisputeWindow(3600), ledger.admin)
    assert ledger.events(receipt, ledger.care, "DisputeWindowSet") == [
        {"seconds_": 3600, "by": ledger.admin}
    ]
    assert care.disputeWindow().call() == 3600
    err = ledger.reverts(care.setDisputeWindow(0), ledger.admin)
    assert (err.name, err.args) == ("CareLedgerInvalidDisputeWindow", (0,))


# --------------------------------------------------- two people sign every care log entry


def test_arranger_is_never_the_giver_at_booking(ledger):
    m, care = ledger.membership.functions, ledger.care.functions
    ledger.tx(m.grantHat(ledger.arranger, HAT.GIVER), ledger.coordinator)
    ledger.tx(care.setHourlyRate(1_000), ledger.arranger)
    t = ledger.now() + 3600
    for sender in (ledger.arranger, ledger.receiver, ledger.coordinator):
        err = ledger.reverts(care.book(ledger.receiver, ledger.arranger, t, 60, 1), sender)
        assert (err.name, err.args) == ("CareLedgerArrangerIsGiver",
                                        (ledger.receiver, ledger.arranger))  # fmt: skip
    assert care.appointmentCount().call() == 0


def test_giver_who_became_the_arranger_cannot_sign_for_the_receiver(ledger):
    m, care = ledger.membership.functions, ledger.care.functions
    appointment = ledger.book(start_in=-60)
    ledger.deliver(appointment)
    ledger.tx(m.grantHat(ledger.giver, HAT.ARRANGER), ledger.coordinator)
    ledger.tx(m.setArranger(ledger.receiver, ledger.giver), ledger.receiver)
    for call in (care.confirm(appointment), care.dispute(appointment, REASON)):
        err = ledger.reverts(call, ledger.giver)
        assert (err.name, err.args) == ("CareLedgerGiverCannotSign", (appointment, ledger.giver))
    # Nor does the receiver's confirmation count while their arranger is the giver.
    err = ledger.reverts(care.confirm(appointment), ledger.receiver)
    assert (err.name, err.args) == ("CareLedgerArrangerIsGiver", (ledger.receiver, ledger.giver))
    assert ledger.appointment(appointment)["status"] == STATUS.DELIVERED
    ledger.tx(m.setArranger(ledger.receiver, ledger.arranger), ledger.receiver)
    ledger.tx(care.confirm(appointment), ledger.receiver)
    assert ledger.appointment(appointment)["status"] == STATUS.CONFIRMED


def test_start_may_lie_only_a_grace_before_the_block(ledger):
    care = ledger.care.functions
    grace = care.START_GRACE().call()
    assert grace == 300
    ledger.tx(care.setHourlyRate(1_000), ledger.giver)
    start = ledger.now() - grace - 1
    err = ledger.reverts(care.book(ledger.receiver, ledger.giver, start, 60, 1),
                         ledger.arranger)  # fmt: skip
    assert err.name == "CareLedgerStartTooEarly" and err.args[0] == start
    assert err.args[1] > start  # the earliest start: that block's time minus the grace
    appointment = ledger.book(start_in=-(grace - 10))  # within the grace: accepted
    assert ledger.appointment(appointment)["status"] == STATUS.BOOKED


def test_no_interested_coordinator_resolves_a_dispute(ledger):
    m, care = ledger.membership.functions, ledger.care.functions
    appointment = _disputed(ledger)  # receiver, giver, arranger recorded at booking
    ledger.tx(m.grantHat(ledger.giver2, HAT.ARRANGER), ledger.coordinator)
    ledger.tx(m.setArranger(ledger.receiver, ledger.giver2), ledger.receiver)  # the current one
    for account in (ledger.receiver, ledger.giver, ledger.arranger, ledger.giver2):
        ledger.tx(m.grantHat(account, HAT.COORDINATOR), ledger.admin)
        err = ledger.reverts(care.resolveDispute(appointment, 1_000), account)
        assert (err.name, err.args) == ("CareLedgerInterestedResolver", (appointment, account))
    assert ledger.appointment(appointment)["status"] == STATUS.DISPUTED
    ledger.tx(care.resolveDispute(appointment, 1_000), ledger.coordinator)
    assert ledger.appointment(appointment)["status"] == STATUS.PAID
