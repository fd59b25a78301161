"""Appointments on the CareLedger: book, deliver, confirm (then pay), cancel, dispute, resolve.

Every action names an appointment the caller is a party to (receiver, giver, arranger) or,
for a coordinator, any; anyone else gets 404, as if it did not exist. Reasons stay off
chain: only their hash is written.
"""

from __future__ import annotations

import os
from typing import Annotated

from eccoo.gateway.deps import (
    Caller,
    Coordinator,
    CurrentCaller,
    LedgerDep,
    ServicesDep,
    Submitter,
    custodial_signer,
    take_submission,
)
from eccoo.gateway.errors import ObjectNotFound
from eccoo.gateway.idempotency import IdempotencyKey, request_hash, submit_once
from eccoo.gateway.links import ACCEPTED
from eccoo.gateway.routes.coin import Submission, accepted
from eccoo.gateway.schemas import (
    AppointmentPublic,
    BookIn,
    DisputeIn,
    ResolveIn,
)
from eth_utils import keccak
from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

router = APIRouter(tags=["appointments"], prefix="/appointments")
STATUSES = ("none", "booked", "delivered", "confirmed", "paid", "cancelled", "disputed", "voided")
AppointmentId = Annotated[int, Path(gt=0, lt=2**63)]


def read_appointment(ledger: LedgerDep, appointment_id: int) -> AppointmentPublic | None:
    a = ledger.call("CareLedger", "appointmentOf", appointment_id)
    if int(a[5]) == 0:
        return None
    return AppointmentPublic(
        id=appointment_id,
        receiver=a[0],
        giver=a[1],
        arranger=a[2],
        start=a[3],
        duration_minutes=a[4],
        status=STATUSES[a[5]],
        pot_id=a[7],
        rate_per_hour=a[8],
        amount=a[9],
        paid_amount=a[10],
    )


def appointment_for(
    appointment_id: AppointmentId, caller: CurrentCaller, ledger: LedgerDep
) -> AppointmentPublic:
    """The appointment, if the caller is a party to it or a coordinator; else 404."""
    found = read_appointment(ledger, appointment_id)
    parties = {found.receiver, found.giver, found.arranger} if found else set()
    if found is None or (caller.member.address not in parties and not caller.has("coordinator")):
        raise ObjectNotFound("no such appointment", field="appointment_id")
    return found


VisibleAppointment = Annotated[AppointmentPublic, Depends(appointment_for)]


@router.get("/{appointment_id}", response_model=AppointmentPublic)
def get_appointment(appointment: VisibleAppointment) -> AppointmentPublic:
    return appointment


@router.get("", response_model=list[AppointmentPublic])
def my_appointments(caller: CurrentCaller, ledger: LedgerDep) -> list[AppointmentPublic]:
    count = int(ledger.call("CareLedger", "appointmentCount"))
    mine = []
    for appointment_id in range(max(1, count - 500), count + 1):
        found = read_appointment(ledger, appointment_id)
        if found and caller.member.address in (found.receiver, found.giver, found.arranger):
            mine.append(found)
    return mine


@router.post("", **ACCEPTED)
async def book(
    body: BookIn,
    caller: Submitter,
    submission: Submission,
) -> object:
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
            body.rate_per_hour,
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


router.post("/{appointment_id}/deliver", **ACCEPTED, name="deliver")(_act("markDelivered"))
router.post("/{appointment_id}/cancel", **ACCEPTED, name="cancel")(_act("cancel"))


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
    fingerprint = request_hash(request.url.path, None)

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
            request_hash=f"{subject}:{key}",
        )
        ledger.queue(
            session,
            signer,
            subject=subject,
            kind="release_payment",
            target="CareLedger",
            fn="releasePayment",
            args=(appointment.id,),
            request_hash=f"{subject}:{key}:pay",
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
