"""CareLedger events -> appointments (receiver, giver, arranger, pot, price and Commons
Contribution), their status events, payments with both contributions, givers' hourly rates
and care-note anchors.

An appointment's status is its latest status event as of a block; nothing is
overwritten, so a reorg only ever deletes events.
"""

from __future__ import annotations

from eccoo.client.vocabulary import AppointmentStatus
from eccoo.graph_sync.decode import LedgerEvent
from eccoo.graph_sync.mappers import ZERO_ADDRESS, Rules, Template, entity, link, money, small_int

CONTRACT = "CareLedger"
# Status keys and numbers from the one list (client/vocabulary.py).
STATUS = {s.key: int(s) for s in AppointmentStatus}
STATUS_NAMES = {int(s): s.key for s in AppointmentStatus}

_APPT = entity("ap", "Appointment", "id", "row.appointment")

BOOKED = Template(
    "AppointmentBooked",
    "SET e.appointment_id = row.appointment, e.status = 1\n"
    + _APPT
    + "SET ap.receiver = row.receiver, ap.giver = row.giver, ap.arranger = row.arranger, "
    "ap.pot_id = row.pot, ap.start = row.start, ap.duration_minutes = row.duration, "
    "ap.rate_per_hour = row.rate, ap.amount = row.amount, ap.booked_block = row.block, "
    "ap.payer_contribution = row.payer_contribution, "
    "ap.giver_contribution = row.giver_contribution\n"
    + entity("rc", "Account", "address", "row.receiver")
    + entity("gv", "Account", "address", "row.giver")
    + entity("p", "Pot", "id", "row.pot")
    + link("STATUS_OF", "e", "ap")
    + "MERGE (ap)-[r1:FOR_RECEIVER]->(rc) ON CREATE SET r1.block = row.block\n"
    + "MERGE (ap)-[r2:GIVEN_BY]->(gv) ON CREATE SET r2.block = row.block\n"
    + "MERGE (ap)-[r3:FROM_POT]->(p) ON CREATE SET r3.block = row.block\n"
    + "WITH e, row, ap\nCALL (e, row, ap) {\n"
    + f"WITH e, row, ap WHERE row.arranger <> '{ZERO_ADDRESS}'\n"
    + entity("ar", "Account", "address", "row.arranger")
    + "MERGE (ap)-[r4:ARRANGED_BY]->(ar) ON CREATE SET r4.block = row.block\n}\n",
)

# Every status change is an event node linked to its appointment, carrying `status`.
STATUS_CHANGE = Template(
    "StatusChange",
    "SET e.appointment_id = row.appointment, e.status = row.status, e.by = row.by\n"
    + _APPT
    + link("STATUS_OF", "e", "ap"),
)

RESOLVED = Template(
    "DisputeResolved",
    "SET e.appointment_id = row.appointment, e.outcome = row.outcome, "
    "e.paid_amount = row.paid_amount, e.by = row.by\n" + _APPT + link("RESOLVES", "e", "ap"),
)

PAID = Template(
    "Payment",
    "SET e.appointment_id = row.appointment, e.status = 4, e.giver = row.giver, "
    "e.pot = row.pot, e.amount = row.amount, e.giver_share = row.giver_share, "
    "e.payer_contribution = row.payer_contribution, "
    "e.giver_contribution = row.giver_contribution, e.contribution = row.contribution\n"
    + _APPT
    + entity("gv", "Account", "address", "row.giver")
    + entity("p", "Pot", "id", "row.pot")
    + link("STATUS_OF", "e", "ap")
    + link("PAYS", "e", "ap")
    + link("TO_GIVER", "e", "gv")
    + link("FROM_POT", "e", "p"),
)

# A giver's own rate: the latest event as of a block is the rate then.
RATE = Template(
    "HourlyRate",
    "SET e.giver = row.giver, e.rate_per_hour = row.rate\n"
    + entity("gv", "Account", "address", "row.giver")
    + link("RATE_OF", "e", "gv"),
)

NOTE = Template(
    "CareNoteAnchor",
    "SET e.appointment_id = row.appointment, e.note_hash = row.note_hash, "
    "e.author = row.author\n"
    + _APPT
    + entity("au", "Account", "address", "row.author")
    + link("ANCHORS_NOTE_OF", "e", "ap")
    + link("AUTHORED", "au", "e"),
)


def _appointment(ev: LedgerEvent) -> int:
    return small_int(ev.args["appointmentId"], "CareLedger.appointmentId")


def _booked(ev: LedgerEvent) -> dict[str, object]:
    a = ev.args
    return {
        "appointment": _appointment(ev),
        "receiver": a["receiver"],
        "giver": a["giver"],
        "arranger": a["arranger"],
        "pot": small_int(a["potId"], "CareLedger.potId"),
        "start": int(a["start"]),
        "duration": int(a["durationMinutes"]),
        "rate": money(a["ratePerHour"], "CareLedger.ratePerHour"),
        "amount": money(a["amount"], "CareLedger.AppointmentBooked.amount"),
        "payer_contribution": money(a["payerContribution"], "CareLedger.payerContribution"),
        "giver_contribution": money(a["giverContribution"], "CareLedger.giverContribution"),
    }


def _status(name: str, by_arg: str | None):
    def row(ev: LedgerEvent) -> dict[str, object]:
        by = ev.args[by_arg] if by_arg else None
        return {"appointment": _appointment(ev), "status": STATUS[name], "by": by}

    return row


def _paid(ev: LedgerEvent) -> dict[str, object]:
    a = ev.args
    return {
        "appointment": _appointment(ev),
        "giver": a["giver"],
        "pot": small_int(a["potId"], "CareLedger.potId"),
        "amount": money(a["amount"], "CareLedger.AppointmentPaid.amount"),
        "giver_share": money(a["giverShare"], "CareLedger.AppointmentPaid.giverShare"),
        "payer_contribution": money(a["payerContribution"], "CareLedger.payerContribution"),
        "giver_contribution": money(a["giverContribution"], "CareLedger.giverContribution"),
        "contribution": money(
            a["payerContribution"] + a["giverContribution"], "CareLedger.contribution"
        ),
    }


def register(rules: Rules) -> None:
    rules.on(CONTRACT, "AppointmentBooked", BOOKED, _booked)
    rules.on(CONTRACT, "AppointmentDelivered", STATUS_CHANGE, _status("delivered", "giver"))
    rules.on(CONTRACT, "AppointmentConfirmed", STATUS_CHANGE, _status("confirmed", "by"))
    rules.on(CONTRACT, "AppointmentCancelled", STATUS_CHANGE, _status("cancelled", "by"))
    rules.on(CONTRACT, "AppointmentDisputed", STATUS_CHANGE, _status("disputed", "by"))
    rules.on(CONTRACT, "AppointmentVoided", STATUS_CHANGE, _status("voided", None))
    rules.on(
        CONTRACT,
        "DisputeResolved",
        RESOLVED,
        lambda ev: {
            "appointment": _appointment(ev),
            "outcome": int(ev.args["outcome"]),
            "paid_amount": money(ev.args["paidAmount"], "paidAmount"),
            "by": ev.args["coordinator"],
        },
    )
    rules.on(CONTRACT, "AppointmentPaid", PAID, _paid)
    rules.on(
        CONTRACT,
        "HourlyRateSet",
        RATE,
        lambda ev: {
            "giver": ev.args["giver"],
            "rate": money(ev.args["ratePerHour"], "CareLedger.ratePerHour"),
        },
    )
    rules.on(
        CONTRACT,
        "CareNoteAnchored",
        NOTE,
        lambda ev: {
            "appointment": _appointment(ev),
            "note_hash": ev.args["noteHash"],
            "author": ev.args["author"],
        },
    )
