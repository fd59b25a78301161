"""Care notes: written by a party to an appointment, read only by its readers, every read
audited, erasable by author or subject (only the salted hash survives, on chain and in the graph).

A coordinator reads a note only after an explicit grant by the author or the subject,
which is logged and can be withdrawn. Anyone else gets 404, as if the note did not exist.
A write is checked before anything is stored, and stores its key, node, audit row, anchor
transaction and idempotency answer together or not at all. A linked wallet signs the
anchor itself: a draft first, then its signature.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any

from eccoo.client.forwarder import ForwardRequest, build_request, encode_call, recover_signer
from eccoo.gateway.api.deps import (
    Caller,
    CurrentCaller,
    LedgerDep,
    ServicesDep,
    Submitter,
    custodial_signer,
)
from eccoo.gateway.api.idempotency import (
    IdempotencyKey,
    body_fingerprint,
    submit_once,
)
from eccoo.gateway.api.openapi_links import NOTE_DRAFTED, NOTE_WRITTEN
from eccoo.gateway.api.routes.appointments import VisibleAppointment
from eccoo.gateway.api.schemas import AppointmentPublic, Strict
from eccoo.gateway.api.submission import transaction_public
from eccoo.gateway.errors import BadRequestField, ObjectNotFound, StateConflict, Unavailable
from eccoo.gateway.notes import CareNotes, Note, SealedNote
from eccoo.gateway.store.models import AuditEntry, ChainTransaction, Member, NoteDraft
from eccoo.gateway.tx.forwarding import GAS_LIMITS
from eccoo.gateway.tx.ledger import Ledger, gateway_dedupe_key
from eth_keys.exceptions import BadSignature
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

router = APIRouter(tags=["notes"])
MEMBER_ID = r"^0x[0-9a-f]{64}$"
MemberId = Field(pattern=MEMBER_ID)
# How long a linked wallet has to sign a draft's anchor (also the request's deadline).
DRAFT_SECONDS = 600


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=20_000)
    readers: list[Annotated[str, MemberId]] = Field(default_factory=list, max_length=20)


class ReaderIn(Strict):
    member_id: Annotated[str, MemberId]


class SignatureIn(Strict):
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class NotePublic(BaseModel):
    id: str
    appointment_id: int
    note_hash: str
    author: str
    subject: str
    readers: list[str]
    erased: bool
    text: str | None = None


class NoteCreated(BaseModel):
    note: NotePublic
    transaction: Any = None


class UnsignedForwardRequest(BaseModel):
    from_: str = Field(alias="from")
    to: str
    value: int
    gas: int
    nonce: int
    deadline: int
    data: str

    model_config = {"populate_by_name": True}


class NoteDraftPublic(BaseModel):
    """What a linked wallet signs (EIP-712, the forwarder's domain) to anchor its note."""

    id: str
    appointment_id: int
    note_hash: str
    expires_at: float
    forward_request: UnsignedForwardRequest


class AuditPublic(BaseModel):
    at: float
    member_id: str
    action: str


def get_notes(services: ServicesDep) -> CareNotes:
    if services.notes is None:
        raise Unavailable("the gateway has no graph configured")
    return services.notes  # type: ignore[no-any-return]


NotesDep = Annotated[CareNotes, Depends(get_notes)]


async def linked_submitter(caller: Submitter) -> Caller:
    """Drafts are for members who hold their own key; a custodial wallet writes directly."""
    if caller.member.wallet_kind != "linked":
        raise StateConflict("your wallet is custodial: write the note itself")
    return caller


LinkedSubmitter = Annotated[Caller, Depends(linked_submitter)]


def _public(note: Note) -> NotePublic:
    return NotePublic(**{k: getattr(note, k) for k in NotePublic.model_fields})


def _audit(services: ServicesDep, caller: CurrentCaller, action: str, note_id: str) -> None:
    with services.store.unit() as session:
        _audit_in(session, caller, action, note_id)


def _audit_in(session: Session, caller: Caller, action: str, note_id: str) -> None:
    session.add(
        AuditEntry(subject=caller.member.member_id, action=action, object_ref=f"note:{note_id}")
    )


def readable_note(
    note_id: Annotated[str, Path(max_length=64)], caller: CurrentCaller, notes: NotesDep
) -> Note:
    note = notes.get(note_id)
    if note is None or not note.may_read(caller.member.member_id):
        raise ObjectNotFound("no such note", field="note_id")
    return note


def managed_note(note: Annotated[Note, Depends(readable_note)], caller: CurrentCaller) -> Note:
    if not note.may_manage(caller.member.member_id):
        raise ObjectNotFound("no such note", field="note_id")
    return note


ReadableNote = Annotated[Note, Depends(readable_note)]
ManagedNote = Annotated[Note, Depends(managed_note)]


def granted_reader(note: ManagedNote, member_id: Annotated[str, Path(pattern=MEMBER_ID)]) -> str:
    if member_id not in note.readers:
        raise ObjectNotFound("no such reader of this note", field="member_id")
    return member_id


def _subject_of(session: Session, appointment: AppointmentPublic) -> str:
    """The receiver's member id (all zeros for a receiver the gateway does not know)."""
    receiver = session.scalars(select(Member).where(Member.address == appointment.receiver)).first()
    return receiver.member_id if receiver else "0x" + "0" * 64


def _created(note: Note, tx: ChainTransaction) -> tuple[int, dict[str, Any]]:
    created = NoteCreated(note=_public(note), transaction=transaction_public(tx))
    return 201, created.model_dump(mode="json")


def _or_discard(
    notes: CareNotes, written: list[str], answer: Callable[[], JSONResponse]
) -> JSONResponse:
    """The answer; a note node written by a unit that then failed to commit is removed."""
    try:
        return answer()
    except BaseException:
        for note_id in written:
            notes.discard(note_id)
        raise


@router.post(
    "/appointments/{appointment_id}/notes",
    response_model=NoteCreated,
    status_code=201,
    responses=NOTE_WRITTEN,
)
def write_note(
    body: NoteIn,
    appointment: VisibleAppointment,
    key: IdempotencyKey,
    request: Request,
    caller: Submitter,
    services: ServicesDep,
    notes: NotesDep,
    ledger: LedgerDep,
) -> Any:
    """A custodial wallet's note, anchored by the gateway in the member's name."""
    fingerprint = body_fingerprint(request.url.path, body)
    subject, written = caller.member.subject, list[str]()

    def enqueue(session: Session) -> tuple[int, dict[str, Any]]:
        signer = custodial_signer(caller)  # a linked wallet is refused before anything is kept
        sealed = notes.seal(body.text)
        tx = ledger.queue(
            session,
            signer,
            subject=subject,
            kind="anchor_note",
            target="CareLedger",
            fn="anchorCareNote",
            args=(appointment.id, bytes.fromhex(sealed.note_hash[2:])),
            dedupe_key=gateway_dedupe_key("note", sealed.id),
        )
        _audit_in(session, caller, "note_written", sealed.id)
        written.append(sealed.id)
        note = notes.store_in(
            session,
            sealed,
            appointment_id=appointment.id,
            author=caller.member.member_id,
            subject=_subject_of(session, appointment),
            readers=body.readers,
            idempotency=(subject, key),
        )
        return _created(note, tx)

    return _or_discard(
        notes,
        written,
        lambda: submit_once(services.store, subject, key, fingerprint, enqueue, ledger.wake),
    )


@router.post(
    "/appointments/{appointment_id}/note-drafts",
    response_model=NoteDraftPublic,
    status_code=201,
    responses=NOTE_DRAFTED,
    operation_id="draft_note",
)
def draft_note(
    body: NoteIn,
    appointment: VisibleAppointment,
    caller: LinkedSubmitter,
    services: ServicesDep,
    notes: NotesDep,
    ledger: LedgerDep,
) -> NoteDraftPublic:
    """Step one for a linked wallet: the note sealed and kept as a draft, and the anchor's
    forward request for the member to sign. Nothing is in the graph or on chain yet."""
    sealed = notes.seal(body.text)
    request = _anchor_request(ledger, caller.member.address, appointment.id, sealed)
    expires_at = time.time() + DRAFT_SECONDS
    with services.store.unit() as session:
        session.execute(delete(NoteDraft).where(NoteDraft.expires_at < time.time()))
        session.add(
            NoteDraft(
                id=sealed.id,
                subject=caller.member.subject,
                appointment_id=appointment.id,
                about=_subject_of(session, appointment),
                readers=json.dumps(sorted(set(body.readers))),
                note_hash=sealed.note_hash,
                sealed=sealed.to_json(),
                forward_request=json.dumps(request.to_json()),
                expires_at=expires_at,
            )
        )
    return NoteDraftPublic(
        id=sealed.id,
        appointment_id=appointment.id,
        note_hash=sealed.note_hash,
        expires_at=expires_at,
        forward_request=UnsignedForwardRequest(**request.to_json()),
    )


def _anchor_request(
    ledger: Ledger, address: str, appointment_id: int, sealed: SealedNote
) -> ForwardRequest:
    care_ledger = ledger.contracts["CareLedger"]
    data = encode_call(
        care_ledger, "anchorCareNote", appointment_id, bytes.fromhex(sealed.note_hash[2:])
    )
    try:
        return build_request(
            ledger.forwarder,
            address,
            care_ledger.address,
            data,
            gas=GAS_LIMITS["anchorCareNote"],
            ttl=DRAFT_SECONDS,
        )
    except (OSError, ValueError) as exc:
        raise Unavailable("the chain does not answer") from exc


def _pending_draft(session: Session, draft_id: str, caller: Caller) -> NoteDraft:
    """The caller's unexpired draft, else 404. Loaded inside the unit that consumes it, and
    after the idempotency look-up, so it is signed once and a retry gets its answer."""
    draft = session.get(NoteDraft, draft_id)
    if draft is None or draft.subject != caller.member.subject or draft.expires_at < time.time():
        raise ObjectNotFound("no such note draft", field="draft_id")
    return draft


def _signed(draft: NoteDraft, signature: str, ledger: Ledger, caller: Caller) -> ForwardRequest:
    forward = ForwardRequest.from_json(
        {**json.loads(draft.forward_request), "signature": signature}
    )
    try:
        signer = recover_signer(
            forward, chain_id=ledger.chain_id, forwarder_address=ledger.forwarder.address
        )
    except (BadSignature, ValueError):
        signer = None
    if signer != caller.member.address:
        raise BadRequestField("the signature is not from your linked wallet", field="signature")
    return forward


@router.post(
    "/note-drafts/{draft_id}/signature",
    response_model=NoteCreated,
    status_code=201,
    responses=NOTE_WRITTEN,
    operation_id="sign_note_draft",
)
def sign_note_draft(
    body: SignatureIn,
    draft_id: Annotated[str, Path(max_length=64)],
    key: IdempotencyKey,
    request: Request,
    caller: LinkedSubmitter,
    services: ServicesDep,
    notes: NotesDep,
    ledger: LedgerDep,
) -> Any:
    """Step two: the member's signature of the draft's request. The note is stored, audited
    and its anchor queued for relaying, together; the draft is gone."""
    fingerprint = body_fingerprint(request.url.path, body)
    subject, written = caller.member.subject, list[str]()

    def enqueue(session: Session) -> tuple[int, dict[str, Any]]:
        draft = _pending_draft(session, draft_id, caller)
        forward = _signed(draft, body.signature, ledger, caller)
        sealed = SealedNote.from_json(draft.sealed)
        tx = ledger.queue_signed(
            session,
            forward,
            subject=subject,
            kind="anchor_note",
            dedupe_key=gateway_dedupe_key("note", sealed.id),
        )
        session.delete(draft)
        _audit_in(session, caller, "note_written", sealed.id)
        written.append(sealed.id)
        note = notes.store_in(
            session,
            sealed,
            appointment_id=draft.appointment_id,
            author=caller.member.member_id,
            subject=draft.about,
            readers=json.loads(draft.readers),
            idempotency=(subject, key),
        )
        return _created(note, tx)

    return _or_discard(
        notes,
        written,
        lambda: submit_once(services.store, subject, key, fingerprint, enqueue, ledger.wake),
    )


@router.get("/notes/{note_id}", response_model=NotePublic, operation_id="read_note")
def read_note(
    note: ReadableNote, caller: CurrentCaller, services: ServicesDep, notes: NotesDep
) -> NotePublic:
    _audit(services, caller, "note_read", note.id)
    found = notes.get(note.id, decrypt=True)
    assert found is not None
    return _public(found)


@router.post("/notes/{note_id}/readers", response_model=NotePublic, operation_id="grant_reader")
def grant_reader(
    body: ReaderIn, note: ManagedNote, caller: CurrentCaller, services: ServicesDep, notes: NotesDep
) -> NotePublic:
    """Name another reader (a coordinator only this way); the grant is logged."""
    notes.add_reader(note.id, body.member_id)
    _audit(services, caller, f"note_reader_granted:{body.member_id}", note.id)
    found = notes.get(note.id)
    assert found is not None
    return _public(found)


@router.delete(
    "/notes/{note_id}/readers/{member_id}",
    response_model=NotePublic,
    operation_id="remove_reader",
)
def remove_reader(
    note: ManagedNote,
    member_id: Annotated[str, Depends(granted_reader)],
    caller: CurrentCaller,
    services: ServicesDep,
    notes: NotesDep,
) -> NotePublic:
    """Withdraw a reader (author or subject); logged, and the reader gets 404 from now on."""
    notes.remove_reader(note.id, member_id)
    _audit(services, caller, f"note_reader_removed:{member_id}", note.id)
    found = notes.get(note.id)
    assert found is not None
    return _public(found)


@router.delete("/notes/{note_id}", response_model=NotePublic, operation_id="erase_note")
def erase_note(
    note: ManagedNote, caller: CurrentCaller, services: ServicesDep, notes: NotesDep
) -> NotePublic:
    """Erasure request: the key, content and fingerprint go; the salted hash stays (on chain)."""
    notes.erase(note.id)
    _audit(services, caller, "note_erased", note.id)
    found = notes.get(note.id)
    assert found is not None
    return _public(found)


@router.get("/notes/{note_id}/audit", response_model=list[AuditPublic], operation_id="note_audit")
def note_audit(note: ManagedNote, services: ServicesDep) -> list[AuditPublic]:
    with services.store.unit() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_ref == f"note:{note.id}")
            .order_by(AuditEntry.id)
        ).all()
        return [AuditPublic(at=r.at, member_id=r.subject, action=r.action) for r in rows]
