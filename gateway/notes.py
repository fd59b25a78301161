"""Care notes: content encrypted in the graph, each note's key in the gateway's own store.

Each note has its own data key (AES-GCM). The key and the salt of the note's anchored hash
are wrapped under the master key and kept only in the gateway's store (`NoteKey`), never in
Neo4j; erasure deletes that row (SQLite `secure_delete`), so no copy of the graph, even
with the master key, opens the note or tests a guess against its hash again. Nodes are
`:CareNote`, never `:Mirror`, and name people only by pseudonymous member ids. Nothing here
checks who may write: callers seal first, check, then store in one unit of work.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import IdempotencyRecord, NoteKey
from eth_utils import keccak
from sqlalchemy.orm import Session

SCHEMA = [
    "CREATE CONSTRAINT care_note_id IF NOT EXISTS FOR (n:CareNote) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX care_note_hash IF NOT EXISTS FOR (n:CareNote) ON (n.note_hash)",
]
SALT_BYTES = 16
# What an erased note's request fingerprint becomes: it matches no request again.
ERASED_FINGERPRINT = "erased"


@dataclass(frozen=True)
class Note:
    id: str
    appointment_id: int
    note_hash: str
    author: str
    subject: str
    readers: list[str]
    created_at: float
    erased: bool
    text: str | None = None

    def may_read(self, member_id: str) -> bool:
        return member_id in (self.author, self.subject) or member_id in self.readers

    def may_manage(self, member_id: str) -> bool:
        return member_id in (self.author, self.subject)


@dataclass(frozen=True)
class SealedNote:
    """A note ready to store, nothing written yet: the content under its own data key, the
    key and the hash's salt wrapped under the master key."""

    id: str
    note_hash: str
    ciphertext: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    wrapped_key: bytes = field(repr=False)
    key_nonce: bytes = field(repr=False)

    def to_json(self) -> str:
        return json.dumps(
            {k: v.hex() if isinstance(v, bytes) else v for k, v in asdict(self).items()}
        )

    @classmethod
    def from_json(cls, raw: str) -> SealedNote:
        values = json.loads(raw)
        return cls(
            id=values["id"],
            note_hash=values["note_hash"],
            **{
                k: bytes.fromhex(values[k])
                for k in ("ciphertext", "nonce", "wrapped_key", "key_nonce")
            },
        )


class CareNotes:
    """Notes in Neo4j, their keys in `store`; `master_key` wraps each note's own key."""

    def __init__(
        self, driver: Any, master_key: bytes, store: Store, database: str = "neo4j"
    ) -> None:
        self.driver = driver
        self.database = database
        self.store = store
        self._wrap = AESGCM(master_key)
        for statement in SCHEMA:
            driver.execute_query(statement, database_=database)
        self._move_keys_out_of_the_graph()

    def __repr__(self) -> str:
        return "CareNotes(<sealed>)"

    def _move_keys_out_of_the_graph(self) -> None:
        """Notes written when keys lived on the node: move each key (and salt) to the store."""
        rows = self._run(
            "MATCH (n:CareNote) WHERE n.wrapped_key IS NOT NULL "
            "RETURN n.id AS id, n.wrapped_key AS wrapped, n.key_nonce AS nonce, n.salt AS salt"
        )
        for row in rows:
            note_id = row["id"].encode()
            data_key = self._wrap.decrypt(row["nonce"], row["wrapped"], note_id)
            key_nonce = os.urandom(12)
            wrapped = self._wrap.encrypt(key_nonce, data_key + (row["salt"] or b""), note_id)
            with self.store.unit() as session:
                if session.get(NoteKey, row["id"]) is None:
                    session.add(
                        NoteKey(note_id=row["id"], wrapped_key=wrapped, key_nonce=key_nonce)
                    )
                self._run(
                    "MATCH (n:CareNote {id: $id}) REMOVE n.wrapped_key, n.key_nonce, n.salt",
                    id=row["id"],
                )

    def _run(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        records, _, _ = self.driver.execute_query(cypher, params, database_=self.database)
        return [r.data() for r in records]

    def seal(self, text: str) -> SealedNote:
        """Encrypt a new note in memory: its id, salted hash and sealed key; nothing stored."""
        note_id = str(uuid.uuid4())
        salt = os.urandom(SALT_BYTES)
        note_hash = "0x" + keccak(b"eccoo:note:" + note_id.encode() + salt + text.encode()).hex()
        data_key = AESGCM.generate_key(bit_length=256)
        nonce, key_nonce = os.urandom(12), os.urandom(12)
        ciphertext = AESGCM(data_key).encrypt(nonce, text.encode(), note_id.encode())
        wrapped = self._wrap.encrypt(key_nonce, data_key + salt, note_id.encode())
        return SealedNote(note_id, note_hash, ciphertext, nonce, wrapped, key_nonce)

    def store_in(
        self,
        session: Session,
        sealed: SealedNote,
        *,
        appointment_id: int,
        author: str,
        subject: str,
        readers: list[str],
        idempotency: tuple[str, str] | None = None,
    ) -> Note:
        """Add the note's key to the caller's unit of work, then write its node.

        Call it last in the unit: a failure before leaves nothing, and a unit that then
        fails to commit is undone with `discard`. `idempotency` is the (subject, key) of
        the request that wrote it, whose fingerprint erasure removes too."""
        session.add(
            NoteKey(
                note_id=sealed.id,
                wrapped_key=sealed.wrapped_key,
                key_nonce=sealed.key_nonce,
                idempotency_subject=idempotency[0] if idempotency else None,
                idempotency_key=idempotency[1] if idempotency else None,
            )
        )
        session.flush()
        note = Note(
            id=sealed.id,
            appointment_id=appointment_id,
            note_hash=sealed.note_hash,
            author=author,
            subject=subject,
            readers=sorted(set(readers)),
            created_at=time.time(),
            erased=False,
        )
        self._run(
            "CREATE (n:CareNote {id: $id, appointment_id: $appointment_id, "
            "note_hash: $note_hash, author: $author, subject: $subject, readers: $readers, "
            "created_at: $now, erased: false, ciphertext: $ciphertext, nonce: $nonce})",
            id=note.id,
            appointment_id=appointment_id,
            note_hash=note.note_hash,
            author=author,
            subject=subject,
            readers=note.readers,
            now=note.created_at,
            ciphertext=sealed.ciphertext,
            nonce=sealed.nonce,
        )
        return note

    def discard(self, note_id: str) -> None:
        """Undo `store_in` whose unit did not commit (its key row is not there)."""
        with self.store.read() as session:
            if session.get(NoteKey, note_id) is not None:
                return
        self._run("MATCH (n:CareNote {id: $id}) DELETE n", id=note_id)

    def get(self, note_id: str, *, decrypt: bool = False) -> Note | None:
        rows = self._run("MATCH (n:CareNote {id: $id}) RETURN n", id=note_id)
        if not rows:
            return None
        n = rows[0]["n"]
        text = self._open(n) if decrypt and not n["erased"] else None
        return Note(
            id=n["id"],
            appointment_id=n["appointment_id"],
            note_hash=n["note_hash"],
            author=n["author"],
            subject=n["subject"],
            readers=list(n["readers"]),
            created_at=n["created_at"],
            erased=n["erased"],
            text=text,
        )

    def _open(self, n: dict[str, Any]) -> str | None:
        with self.store.read() as session:
            key = session.get(NoteKey, n["id"])
            sealed = (key.key_nonce, key.wrapped_key) if key is not None else None
        if sealed is None:
            return None
        data_key = self._wrap.decrypt(sealed[0], sealed[1], n["id"].encode())[:32]
        return AESGCM(data_key).decrypt(n["nonce"], n["ciphertext"], n["id"].encode()).decode()

    def add_reader(self, note_id: str, member_id: str) -> None:
        self._run(
            "MATCH (n:CareNote {id: $id}) WHERE NOT $m IN n.readers SET n.readers = n.readers + $m",
            id=note_id,
            m=member_id,
        )

    def remove_reader(self, note_id: str, member_id: str) -> None:
        self._run(
            "MATCH (n:CareNote {id: $id}) SET n.readers = [r IN n.readers WHERE r <> $m]",
            id=note_id,
            m=member_id,
        )

    def erase(self, note_id: str) -> None:
        """Destroy the note's key and the request's fingerprint, drop the ciphertext; the
        salted hash (also anchored on chain) and who wrote about whom stay."""
        with self.store.unit() as session:
            key = session.get(NoteKey, note_id)
            if key is not None:
                if key.idempotency_subject and key.idempotency_key:
                    record = session.get(
                        IdempotencyRecord, (key.idempotency_subject, key.idempotency_key)
                    )
                    if record is not None:
                        record.body_fingerprint = ERASED_FINGERPRINT
                session.delete(key)
            # Inside the unit: if the graph fails the key stays, and the erasure can be retried.
            self._run(
                "MATCH (n:CareNote {id: $id}) SET n.erased = true, n.erased_at = $now "
                "REMOVE n.ciphertext, n.nonce, n.wrapped_key, n.key_nonce, n.salt",
                id=note_id,
                now=time.time(),
            )

    def raw_properties(self, note_id: str) -> dict[str, Any]:
        """Every stored property of a note (for audits and tests of erasure)."""
        rows = self._run(
            "MATCH (n:CareNote {id: $id}) RETURN properties(n) AS p, labels(n) AS l", id=note_id
        )
        return {**rows[0]["p"], "_labels": rows[0]["l"]} if rows else {}
