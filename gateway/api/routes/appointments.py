"""Appointments on the CareLedger: book, deliver, confirm (then pay), cancel, dispute, resolve.

Every action names an appointment the caller is a party to now (receiver, giver, or the
receiver's arranger as the chain has it now, not the one recorded at booking) or, for a
coordinator, any; anyone else gets 404, as if it did not exist. Reasons stay off
chain: only their hash is written.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from eccoo.client.vocabulary import AppointmentStatus, Hat
from eccoo.gateway.api.deps import (
    Caller,
    Coordinator,
    CurrentCaller,
    LedgerDep,
    ServicesDep,
    Submitter,
    custodial_signer,
    take_submission,
)
from eccoo.gateway.api.idempotency import IdempotencyKey, body_fingerprint, submit_once
from eccoo.gateway.api.openapi_links import ACCEPTED
from eccoo.gateway.api.pricing import quote_booking
from eccoo.gateway.api.schemas import (
    AppointmentPublic,
    BookIn,
    DisputeIn,
    ResolveIn,
)
from eccoo.gateway.api.submission import Submission, accepted
from eccoo.gateway.errors import ObjectNotFound
from eccoo.gateway.tx.ledger import Ledger
from eth_utils import keccak
from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

router = APIRouter(tags=["appointments"], prefix="/appointments")
AppointmentId = Annotated[int, Path(gt=0, lt=2**63)]


# A member's listing holds their latest appointments up to this many.
LISTING_LIMIT = 500


def _public(appointment_id: int, a: dict[str, Any], arranger_now: str) -> AppointmentPublic | None:
    status = AppointmentStatus(a["status"])
    if status is AppointmentStatus.NONE:
        return None
    return AppointmentPublic(
        id=appointment_id,
        receiver=a["receiver"],
        giver=a["giver"],
        arranger=arranger_now,
        start=a["start"],
        duration_minutes=a["durationMinutes"],
        status=status.key,
        pot_id=a["potId"],
        rate_per_hour=a["ratePerHour"],
        amount=a["amount"],
        payer_contribution_bps=a["payerContributionBps"],
        giver_contribution_bps=a["giverContributionBps"],
        paid_amount=a["paidAmount"],
        payer_contribution=a["payerContribution"],
        giver_contribution=a["giverContribution"],
    )


def read_appointment(ledger: Ledger, appointment_id: int) -> AppointmentPublic | None:
    """The appointment as the chain has it now, with the receiver's arranger now (the one
    recorded at booking may since have been replaced)."""
    a = ledger.call_named("CareLedger", "appointmentOf", appointment_id)
    if a["status"] == AppointmentStatus.NONE:
        return None
    return _public(appointment_id, a, ledger.call("Membership", "arrangerOf", a["receiver"]))


def appointments_of(ledger: Ledger, address: str) -> list[AppointmentPublic]:
    """The appointments `address` is a party to now (receiver, giver, or the receiver's
    arranger now), oldest first: a fixed handful of node requests, however many
    appointments the chain holds. The indexed topics of the ledger's own events find the
    candidates; one batch reads their state and their receivers' arrangers."""
    named_me = ledger.logs("Membership", "ArrangerSet", None, [address])
    arranged = {e["args"]["receiver"] for e in named_me}
    booked = ledger.logs("CareLedger", "AppointmentBooked", None, sorted(arranged | {address}))
    booked += ledger.logs("CareLedger", "AppointmentBooked", None, None, [address])
    receiver_of = {int(e["args"]["appointmentId"]): e["args"]["receiver"] for e in booked}
    ids = sorted(receiver_of)[-LISTING_LIMIT:]
    receivers = sorted({receiver_of[i] for i in ids})
    found = ledger.batch_call(
        [("CareLedger", "appointmentOf", (i,)) for i in ids]
        + [("Membership", "arrangerOf", (r,)) for r in receivers]
    )
    arranger_now = dict(zip(receivers, found[len(ids) :], strict=True))
    mine = []
    for appointment_id, raw in zip(ids, found[: len(ids)], strict=True):
        a = ledger.named("CareLedger", "appointmentOf", raw)
        public = _public(appointment_id, a, arranger_now[receiver_of[appointment_id]])
        if public is not None and address in (public.receiver, public.giver, public.arranger):
            mine.append(public)
    return mine


def appointment_for(
    appointment_id: AppointmentId, caller: CurrentCaller, ledger: LedgerDep
) -> AppointmentPublic:
    """The appointment, if the caller is a party to it now or a coordinator; else 404."""
    found = read_appointment(ledger, appointment_id)
    parties = {found.receiver, found.giver, found.arranger} if found else set()
    if found is None or (caller.member.address not in parties and not caller.has(Hat.COORDINATOR)):
        raise ObjectNotFound("no such appointment", field="appointment_id")
    return found


VisibleAppointment = Annotated[AppointmentPublic, Depends(appointment_for)]


async def listing_allowed(caller: CurrentCaller, services: ServicesDep) -> Caller:
    """Each listing reads the chain's logs: a budget per member, apart from submissions."""
    services.listing_limiter.take(caller.member.subject)
    return caller


@router.get("/{appointment_id}", response_model=AppointmentPublic)
def get_appointment(appointment: VisibleAppointment) -> AppointmentPublic:
    return appointment


@router.get("", response_model=list[AppointmentPublic])
def my_appointments(
    caller: Annotated[Caller, Depends(listing_allowed)], ledger: LedgerDep
) -> list[AppointmentPublic]:
    return appointments_of(ledger, caller.member.address)


@router.post("", **ACCEPTED)
async def book(
    body: BookIn,
    caller: Submitter,
    submission: Submission,
    ledger: LedgerDep,
) -> object:
    """Book at the giver's own rate. Refused before anything is signed (422 naming the
    field) if the giver has no rate or the hourly price is over a funder's cap."""
    await run_in_threadpool(quote_booking, ledger, body.giver, body.duration_minutes, body.pot_id)
    return submission.send(
        caller,
        body,
        kind="book",
        target="CareLedger",
        fn="book",
        args=(
            body.receiver,
            body.giver,
            body.start,
            body.duration_minutes,
            body.pot_id,
        ),
    )


def _act(fn: str, *args: object):  # type: ignore[no-untyped-def]
    async def handler(
        appointment: VisibleAppointment,
        caller: Submitter,
        submission: Submission,
    ) -> object:
        return submission.send(
            caller,
            None,
            kind=fn[:32],
            target="CareLedger",
            fn=fn,
            args=(appointment.id, *args),
        )

    return handler


deliver = router.post("/{appointment_id}/deliver", **ACCEPTED, name="deliver")(
    _act("markDelivered")
)
cancel = router.post("/{appointment_id}/cancel", **ACCEPTED, name="cancel")(_act("cancel"))


@router.post("/{appointment_id}/confirm", **ACCEPTED)
async def confirm(
    appointment: VisibleAppointment,
    key: IdempotencyKey,
    request: Request,
    caller: Submitter,
    services: ServicesDep,
    ledger: LedgerDep,
) -> object:
    """Confirm delivered care; the payment release is queued right behind it."""
    fingerprint = body_fingerprint(request.url.path, None)

    def enqueue(session: Session) -> tuple[int, dict[str, object]]:
        signer = custodial_signer(caller)
        subject = caller.member.subject
        first = ledger.queue(
            session,
            signer,
            subject=subject,
            kind="confirm",
            target="CareLedger",
            fn="confirm",
            args=(appointment.id,),
            dedupe_key=f"{subject}:{key}",
        )
        ledger.queue(
            session,
            signer,
            subject=subject,
            kind="release_payment",
            target="CareLedger",
            fn="releasePayment",
            args=(appointment.id,),
            dedupe_key=f"{subject}:{key}:pay",
        )
        return 202, accepted(first)

    return submit_once(
        services.store, caller.member.subject, key, fingerprint, enqueue, ledger.wake
    )


@router.post("/{appointment_id}/dispute", **ACCEPTED)
async def dispute(
    body: DisputeIn,
    appointment: VisibleAppointment,
    caller: Submitter,
    submission: Submission,
) -> object:
    # A fresh random salt per reason, kept nowhere: the chain records that a reason was
    # given, and no one (the gateway included) can test a guess of it against the hash.
    salt = os.urandom(32)
    reason_hash = keccak(
        b"eccoo:dispute:" + appointment.id.to_bytes(32, "big") + salt + body.reason.encode()
    )
    return submission.send(
        caller,
        body,
        kind="dispute",
        target="CareLedger",
        fn="dispute",
        args=(appointment.id, reason_hash),
    )


async def coordinator_submitter(caller: Coordinator, services: ServicesDep) -> Caller:
    return take_submission(caller, services)


@router.post("/{appointment_id}/resolve", **ACCEPTED)
async def resolve(
    body: ResolveIn,
    appointment: VisibleAppointment,
    caller: Annotated[Caller, Depends(coordinator_submitter)],
    submission: Submission,
) -> object:
    return submission.send(
        caller,
        body,
        kind="resolve",
        target="CareLedger",
        fn="resolveDispute",
        args=(appointment.id, body.paid_amount),
    )
