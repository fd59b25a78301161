"""What members read for the ledger's states and refusals: appointment statuses, where a
transaction is, and a chain revert explained without hex. One place, through gettext.

Never show a revert's raw arguments or a transaction's data to a member.
"""

from __future__ import annotations

from typing import Any

from eccoo.gateway.web.render import gettext as _
from eccoo.gateway.web.render import money


def appointment_status(status: str) -> str:
    return {
        "booked": _("booked"),
        "delivered": _("delivered"),
        "confirmed": _("confirmed"),
        "paid": _("paid"),
        "cancelled": _("cancelled"),
        "disputed": _("disputed"),
        "voided": _("voided"),
    }.get(status, status)


def my_part(appointment: Any, address: str) -> str:
    """The member's part in an appointment, in the cooperative's words."""
    if appointment.giver == address:
        return _("giving support")
    if appointment.receiver == address:
        return _("getting support")
    if appointment.arranger == address:
        return _("arranging support")
    return _("coordinating")


def transaction_state(state: str) -> str:
    return {
        "queued": _("Waiting to be sent to the ledger."),
        "signed": _("Signed, about to be sent to the ledger."),
        "sent": _("Sent to the ledger, waiting to be recorded."),
        "mined": _("Recorded on the ledger, waiting for confirmation."),
        "confirmed": _("Done: the ledger has recorded it for good."),
        "failed": _("Not sent: the gateway could not send it."),
        "reverted": _("Refused by the ledger: nothing changed."),
    }.get(state, state)


def transaction_kind(kind: str) -> str:
    return {
        "book": _("Booking support"),
        "markDelivered": _("Marking support as delivered"),
        "confirm": _("Confirming support"),
        "release_payment": _("Paying the person giving support"),
        "cancel": _("Cancelling an appointment"),
        "dispute": _("Disputing an appointment"),
        "resolve": _("Resolving a dispute"),
        "transfer": _("Sending CARE"),
    }.get(kind, _("A change to the ledger"))


def revert_reason(error: str | None) -> str:
    """Why the ledger refused, in words a member understands."""
    reasons = {
        "CareLedgerInvalidStatus": _(
            "The appointment had already moved on (booked, delivered, confirmed or "
            "cancelled) so this step no longer applies."
        ),
        "CareLedgerUnauthorized": _("Only the people in this appointment can do this."),
        "CareLedgerMissingHat": _("You do not wear the hat this needs."),
        "CareLedgerInvalidParties": _(
            "The person getting support and the person giving it must be two different members."
        ),
        "CareLedgerInvalidStart": _("The start time is not valid."),
        "CareLedgerStartTooEarly": _("The appointment cannot start in the past."),
        "CareLedgerInvalidDuration": _("The length of the appointment is not valid."),
        "CareLedgerInvalidRate": _("The rate is not valid."),
        "CareLedgerZeroPayment": _("The appointment is too short to cost a penny."),
        "CareLedgerNoHourlyRate": _(
            "The person giving support has not set their hourly rate yet: ask them to set it."
        ),
        "CareLedgerOverFunderCap": _(
            "The hourly price is over what a funder of this pot pays: choose another pot "
            "or ask the person giving support about their rate."
        ),
        "CareLedgerUnknownPot": _("There is no funding pot with that number."),
        "CareLedgerPotMismatch": _("That funding pot is not for the person getting support."),
        "CareLedgerNotStarted": _("This can only be done once the appointment has started."),
        "CareLedgerTooLateToCancel": _(
            "The appointment has started, so it can no longer be cancelled."
        ),
        "CareLedgerDisputeWindowClosed": _("The time to dispute this appointment has passed."),
        "CareLedgerUnregisteredAccount": _("One of the people is not yet a registered member."),
        "CareLedgerArrangerIsGiver": _(
            "The person arranging support cannot also be the person giving it."
        ),
        "CareLedgerGiverCannotSign": _(
            "The person giving support cannot confirm or dispute their own visit."
        ),
        "FundingPotsInsufficientFunds": _(
            "The funding pot does not hold enough to pay for this appointment."
        ),
        "MembershipMissingHat": _("You do not wear the hat this needs."),
    }
    if error in reasons:
        return reasons[error]
    return _(
        "The ledger refused this change. Nothing was changed; check the details and try "
        "again, or ask a coordinator."
    )


def pricing_refusal(refused: Any) -> str:
    """Why a booking cannot be priced, beside the field it concerns."""
    field = getattr(refused, "field", None)
    cap = getattr(refused, "cap_per_hour", None)
    if field == "pot_id":
        if isinstance(cap, int):
            return _(
                "The hourly price is over this pot's funder cap of %(cap)s an hour: choose "
                "another pot",
                cap=money(cap),
            )
        return _("The hourly price is over what a funder of this pot pays: choose another pot")
    if field == "duration_minutes":
        return _("The visit is too short to cost a penny: make it longer")
    return _("The person giving support has not set their hourly rate yet: ask them to set it")


def contribution_explained(quote: Any) -> str:
    """The Commons Contribution in one sentence, with this booking's figures."""
    return _(
        "The Commons Contribution pays for the cooperative: %(payer)s on top of the price, "
        "paid by the pot, and %(giver)s taken from the price, %(total)s in all.",
        payer=money(quote.payer_contribution),
        giver=money(quote.giver_contribution),
        total=money(quote.contribution),
    )
