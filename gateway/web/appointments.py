"""The booking journey's pages: my appointments, one appointment with its timeline and the
steps open to me, book, mark delivered, confirm, dispute, cancel.

Every page loads the appointment with the API's own `appointment_for` (404 for anyone who
is not a party now) and every form posts through the API's own handlers, so a rule lives
in one place. Forms carry the session's CSRF token and an idempotency key minted when the
page was rendered; a post answers with a redirect to the transaction's progress page.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from eccoo.gateway.api.deps import Caller, LedgerDep, ServicesDep, take_submission
from eccoo.gateway.api.pricing import quote_booking
from eccoo.gateway.api.routes import appointments as api
from eccoo.gateway.api.routes.contribution import pot_parties
from eccoo.gateway.api.schemas import AppointmentPublic, BookIn, DisputeIn, QuotePublic
from eccoo.gateway.api.submission import LedgerSubmission
from eccoo.gateway.errors import BadRequestField, GatewayError
from eccoo.gateway.web import booking_form, words
from eccoo.gateway.web.deps import WebCaller, WebForm, form_idempotency_key
from eccoo.gateway.web.render import date_time, money, page
from eccoo.gateway.web.render import gettext as _
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

router = APIRouter(include_in_schema=False, prefix="/web/appointments")
AppointmentId = Annotated[int, Path(gt=0, lt=2**63)]
STEPS = ("booked", "delivered", "confirmed", "paid")


def new_key() -> str:
    """An idempotency key for one rendering of one form."""
    return secrets.token_urlsafe(24)


async def _visible(appointment_id: int, caller: Caller, ledger: Any) -> AppointmentPublic:
    return await run_in_threadpool(api.appointment_for, appointment_id, caller, ledger)


def _after(response: Any, appointment_id: int | None = None) -> Response:
    """The API handler's answer as the next page: its transaction's progress (303), or
    the refusal it recorded for this key, as an error page."""
    body = json.loads(bytes(response.body))
    if response.status_code == 202:
        suffix = f"?appointment={appointment_id}" if appointment_id else ""
        return RedirectResponse(f"/web/transactions/{body['transaction']['id']}{suffix}", 303)
    error = GatewayError(str(body.get("message", "")), field=body.get("field"))
    error.status_code = response.status_code
    raise error


async def _submission(
    request: Request, form: Any, caller: Caller, services: Any, ledger: Any
) -> tuple[Caller, LedgerSubmission]:
    key = form_idempotency_key(form)
    return take_submission(caller, services), LedgerSubmission(services, ledger, key, request)


@router.get("")
async def my_appointments(
    request: Request,
    caller: WebCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    status: str = "",
) -> HTMLResponse:
    await api.listing_allowed(caller, services)
    mine = await run_in_threadpool(api.appointments_of, ledger, caller.member.address)
    shown = [a for a in mine if not status or a.status == status]
    rows = [
        [
            (str(a.id), f"/web/appointments/{a.id}"),
            date_time(a.start),
            words.my_part(a, caller.member.address),
            words.appointment_status(a.status),
        ]
        for a in reversed(shown)
    ]
    filters = [("", _("All"), "")] + [
        (s, words.appointment_status(s), "") for s in (*STEPS, "cancelled", "disputed")
    ]
    return page(
        request,
        "appointments.html",
        title=_("My appointments"),
        rows=rows,
        head=[_("No."), _("Starts"), _("I am"), _("Status")],
        filters=filters,
        status=status,
    )


def _steps_open(appointment: AppointmentPublic, address: str) -> list[str]:
    giver = appointment.giver == address
    receiver_side = address in (appointment.receiver, appointment.arranger) and not giver
    steps = []
    if appointment.status == "booked":
        if giver:
            steps.append("deliver")
        steps.append("cancel")
    if appointment.status == "delivered" and receiver_side:
        steps += ["confirm", "dispute"]
    return steps


def _detail(
    request: Request,
    appointment: AppointmentPublic,
    caller: Caller,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    address = caller.member.address
    reached = STEPS.index(appointment.status) if appointment.status in STEPS else -1
    timeline = [(words.appointment_status(step), i <= reached) for i, step in enumerate(STEPS)]
    rows = [
        (_("Status"), words.appointment_status(appointment.status)),
        (_("Starts"), date_time(appointment.start)),
        (_("Length"), _("%(minutes)s minutes", minutes=appointment.duration_minutes)),
        (_("I am"), words.my_part(appointment, address)),
        (_("Person getting support"), appointment.receiver),
        (_("Person giving support"), appointment.giver),
        (_("Rate per hour"), money(appointment.rate_per_hour)),
        (_("Price of the visit"), money(appointment.amount)),
        (_("Commons Contribution paid on top"), money(appointment.payer_contribution)),
        (_("Commons Contribution from the rate"), money(appointment.giver_contribution)),
        (_("Paid for the visit"), money(appointment.paid_amount)),
        (
            _("Paid to the person giving support"),
            money(appointment.paid_amount - appointment.giver_contribution),
        ),
        (_("Funding pot"), str(appointment.pot_id)),
    ]
    steps = _steps_open(appointment, address)
    keys = {step: new_key() for step in steps}
    return page(
        request,
        "appointment.html",
        status_code=status_code,
        title=_("Appointment %(number)s", number=appointment.id),
        appointment=appointment,
        rows=rows,
        timeline=timeline,
        steps=steps,
        keys=keys,
        **{"errors": [], "reason": "", **extra},
    )


@router.get("/book")
async def book_form(request: Request, caller: WebCaller, ledger: LedgerDep) -> HTMLResponse:
    choices = await _receiver_choices(caller, ledger)
    return page(request, "book.html", **_book_context(caller, choices, booking_form.Answers()))


async def _receiver_choices(caller: Caller, ledger: Any) -> list[tuple[str, str, str]]:
    """Me, and everyone I arrange support for (radio items: value, label, hint)."""
    address = caller.member.address
    arranged = await run_in_threadpool(ledger.logs, "Membership", "ArrangerSet", None, [address])
    receivers = [address, *sorted({e["args"]["receiver"] for e in arranged} - {address})]
    return [(r, _("Me") if r == address else r, "") for r in receivers]


def _book_context(
    caller: Caller, choices: list[tuple[str, str, str]], answers: booking_form.Answers
) -> dict[str, Any]:
    return {
        "title": _("Book support"),
        "answers": answers,
        "errors": answers.errors,
        "labels": booking_form.labels(),
        "extra_fields": booking_form.extra_fields(),
        "receiver_choices": choices,
        "me": caller.member.address,
        "idempotency_key": answers.values.get("idempotency_key") or new_key(),
    }


@router.post("/book")
async def book(
    request: Request, caller: WebCaller, form: WebForm, services: ServicesDep, ledger: LedgerDep
) -> Response:
    choices = await _receiver_choices(caller, ledger)
    booking, answers = booking_form.read(form, [r for r, _l, _h in choices])
    if booking is None or form.get("step") == "change":
        context = _book_context(caller, choices, answers)
        return page(request, "book.html", status_code=422 if booking is None else 200, **context)
    pot_receiver, _arranger = await run_in_threadpool(pot_parties, ledger, booking.pot_id)
    try:
        if pot_receiver != booking.receiver:  # also keeps others' pots' caps unseen
            raise BadRequestField("not this receiver's pot", field="pot_id")
        if form.get("step") != "send":
            quote = await run_in_threadpool(
                quote_booking, ledger, booking.giver, booking.duration_minutes, booking.pot_id
            )
            return _check_booking(request, booking, quote, answers)
        # The API's handler prices the booking again before signing: the figures may have
        # changed since the check page, and a refusal is shown beside its field as here.
        submitter, submission = await _submission(request, form, caller, services, ledger)
        return _after(await api.book(booking, submitter, submission, ledger))
    except BadRequestField as refused:  # no rate yet, over a funder's cap, too short to cost
        field = refused.field if refused.field in booking_form.labels() else "giver"
        if pot_receiver is None:
            message = words.revert_reason("CareLedgerUnknownPot")
        elif pot_receiver != booking.receiver:
            message = words.revert_reason("CareLedgerPotMismatch")
        else:
            message = words.pricing_refusal(refused)
        answers.errors.append((booking_form.anchor(field), message))
        context = _book_context(caller, choices, answers)
        return page(request, "book.html", status_code=422, **context)


def _check_booking(
    request: Request, booking: BookIn, quote: QuotePublic, answers: booking_form.Answers
) -> HTMLResponse:
    """Check before sending: the visit, and its price and contributions as the chain will
    compute them (integer pennies, the same formula as the ledger)."""
    visit = [
        (_("Person getting support"), booking.receiver),
        (_("Person giving support"), booking.giver),
        (_("Starts"), date_time(booking.start)),
        (_("Length"), _("%(minutes)s minutes", minutes=booking.duration_minutes)),
        (_("Funding pot"), str(booking.pot_id)),
    ]
    prices = [
        (_("Their rate per hour"), money(quote.rate_per_hour)),
        (_("Price of the visit"), money(quote.price)),
        (_("The pot pays"), money(quote.payer_pays)),
        (_("The person giving support receives"), money(quote.giver_receives)),
        (_("Commons Contribution to the cooperative"), money(quote.contribution)),
    ]
    kept = {"csrf_token", "idempotency_key", "step"}
    return page(
        request,
        "check_booking.html",
        title=_("Check the booking"),
        visit=visit,
        prices=prices,
        contribution_words=words.contribution_explained(quote),
        answers=[(k, v) for k, v in answers.values.items() if k not in kept],
        idempotency_key=answers.values.get("idempotency_key") or new_key(),
    )


@router.get("/{appointment_id}")
async def appointment_page(
    request: Request, appointment_id: AppointmentId, caller: WebCaller, ledger: LedgerDep
) -> HTMLResponse:
    return _detail(request, await _visible(appointment_id, caller, ledger), caller)


async def _step(
    request: Request,
    appointment_id: int,
    caller: Caller,
    form: Any,
    services: Any,
    ledger: Any,
    name: str,
) -> Response:
    appointment = await _visible(appointment_id, caller, ledger)
    submitter, submission = await _submission(request, form, caller, services, ledger)
    if name == "deliver":
        answer = await api.deliver(appointment, submitter, submission)
    elif name == "cancel":
        answer = await api.cancel(appointment, submitter, submission)
    else:
        answer = await api.confirm(
            appointment, submission.key, request, submitter, services, ledger
        )
    return _after(answer, appointment.id)


@router.post("/{appointment_id}/deliver")
async def deliver(
    request: Request,
    appointment_id: AppointmentId,
    caller: WebCaller,
    form: WebForm,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Response:
    return await _step(request, appointment_id, caller, form, services, ledger, "deliver")


@router.post("/{appointment_id}/cancel")
async def cancel(
    request: Request,
    appointment_id: AppointmentId,
    caller: WebCaller,
    form: WebForm,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Response:
    return await _step(request, appointment_id, caller, form, services, ledger, "cancel")


@router.post("/{appointment_id}/confirm")
async def confirm(
    request: Request,
    appointment_id: AppointmentId,
    caller: WebCaller,
    form: WebForm,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Response:
    return await _step(request, appointment_id, caller, form, services, ledger, "confirm")


@router.post("/{appointment_id}/dispute")
async def dispute(
    request: Request,
    appointment_id: AppointmentId,
    caller: WebCaller,
    form: WebForm,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Response:
    appointment = await _visible(appointment_id, caller, ledger)
    reason = str(form.get("reason", ""))
    try:
        body = DisputeIn(reason=reason.strip())
    except ValidationError:
        message = _("Say why you are disputing this visit, in up to 2000 characters")
        return _detail(
            request, appointment, caller, 422, errors=[("reason", message)], reason=reason
        )
    submitter, submission = await _submission(request, form, caller, services, ledger)
    return _after(await api.dispute(body, appointment, submitter, submission), appointment.id)
