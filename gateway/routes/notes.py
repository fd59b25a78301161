"""Care notes: written by a party to an appointment, read only by its readers, every read
audited, erasable by author or subject (only the hash survives, on chain and in the graph).

A coordinator reads a note only after an explicit grant by the author or the subject,
which is itself logged. Anyone else gets 404, as if the note did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from eccoo.gateway.deps import CurrentCaller, LedgerDep, ServicesDep, Submitter, custodial_signer
from eccoo.gateway.errors import ObjectNotFound, Unavailable
from eccoo.gateway.idempotency import IdempotencyKey, request_hash, run_once
from eccoo.gateway.links import NOTE_WRITTEN
from eccoo.gateway.notes import CareNotes, Note
from eccoo.gateway.routes.appointments import VisibleAppointment
from eccoo.gateway.routes.transactions import transaction_public
from eccoo.gateway.schemas import Strict
from eccoo.gateway.store.models import AuditEntry, Member
from eccoo.gateway.txmanager import read_transaction
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

router = APIRouter(tags=["notes"])
MemberId = Field(pattern=r"^0x[0-9a-f]{64}$")


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=20_000)
    readers: list[Annotated[str, MemberId]] = Field(default_factory=list, max_length=20)


class ReaderIn(Strict):
    member_id: Annotated[str, MemberId]


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


class AuditPublic(BaseModel):
    at: float
    member_id: str
    action: str


def get_notes(services: ServicesDep) -> CareNotes:
    if services.notes is None:
        raise Unavailable("the gateway has no graph configured")
    return services.notes  # type: ignore[no-any-return]


NotesDep = Annotated[CareNotes, Depends(get_notes)]


def _public(note: Note) -> NotePublic:
    return NotePublic(**{k: getattr(note, k) for k in NotePublic.model_fields})


def _audit(services: ServicesDep, caller: CurrentCaller, action: str, note_id: str) -> None:
    with services.store.unit() as session:
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
    fingerprint = request_hash(request.url.path, body)

    def action() -> tuple[int, dict[str, Any]]:
        with services.store.unit() as session:
            receiver = session.scalars(
                select(Member).where(Member.address == appointment.receiver)
            ).first()
        subject = receiver.member_id if receiver else "0x" + "0" * 64
        note = notes.create(
            appointment_id=appointment.id,
            author=caller.member.member_id,
            subject=subject,
            readers=body.readers,
            text=body.text,
        )
        submitted = ledger.forward(
            custodial_signer(caller),
            subject=caller.member.subject,
            kind="anchor_note",
            target="CareLedger",
            fn="anchorCareNote",
            args=(appointment.id, bytes.fromhex(note.note_hash[2:])),
            request_hash=f"note:{note.id}",
        )
        _audit(services, caller, "note_written", note.id)
        tx = read_transaction(services.store, submitted.id)
        created = NoteCreated(
            note=_public(note), transaction=transaction_public(tx) if tx else None
        )
        return 201, created.model_dump(mode="json")

    return run_once(services.store, caller.member.subject, key, fingerprint, action)


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


@router.delete("/notes/{note_id}", response_model=NotePublic, operation_id="erase_note")
def erase_note(
    note: ManagedNote, caller: CurrentCaller, services: ServicesDep, notes: NotesDep
) -> NotePublic:
    """Erasure request: the content and its key go; the hash stays (it is on chain)."""
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
