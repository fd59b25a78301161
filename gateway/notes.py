"""Care notes, off chain in the graph, encrypted at rest; only their hash goes on chain.

Each note has its own data key (AES-GCM), wrapped under the gateway's master key; erasure
drops the ciphertext and the wrapped key and keeps only the hash. Nodes are `:CareNote`,
never `:Mirror`, and name people only by pseudonymous member ids.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_utils import keccak

SCHEMA = [
    "CREATE CONSTRAINT care_note_id IF NOT EXISTS FOR (n:CareNote) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX care_note_hash IF NOT EXISTS FOR (n:CareNote) ON (n.note_hash)",
]


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


class CareNotes:
    """Notes in Neo4j; `master_key` wraps each note's own key."""

    def __init__(self, driver: Any, master_key: bytes, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database
        self._wrap = AESGCM(master_key)
        for statement in SCHEMA:
            driver.execute_query(statement, database_=database)

    def _run(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        records, _, _ = self.driver.execute_query(cypher, params, database_=self.database)
        return [r.data() for r in records]

    def create(
        self,
        *,
        appointment_id: int,
        author: str,
        subject: str,
        readers: list[str],
        text: str,
        note_id: str | None = None,
    ) -> Note:
        note_id = note_id or str(uuid.uuid4())
        salt = os.urandom(16)
        note_hash = "0x" + keccak(b"eccoo:note:" + note_id.encode() + salt + text.encode()).hex()
        data_key = AESGCM.generate_key(bit_length=256)
        nonce, key_nonce = os.urandom(12), os.urandom(12)
        ciphertext = AESGCM(data_key).encrypt(nonce, text.encode(), note_id.encode())
        wrapped = self._wrap.encrypt(key_nonce, data_key, note_id.encode())
        self._run(
            "MERGE (n:CareNote {id: $id}) ON CREATE SET n.appointment_id = $appointment_id, "
            "n.note_hash = $note_hash, n.author = $author, n.subject = $subject, "
            "n.readers = $readers, n.created_at = $now, n.erased = false, "
            "n.ciphertext = $ciphertext, n.nonce = $nonce, n.wrapped_key = $wrapped, "
            "n.key_nonce = $key_nonce, n.salt = $salt",
            id=note_id,
            appointment_id=appointment_id,
            note_hash=note_hash,
            author=author,
            subject=subject,
            readers=sorted(set(readers)),
            now=time.time(),
            ciphertext=ciphertext,
            nonce=nonce,
            wrapped=wrapped,
            key_nonce=key_nonce,
            salt=salt,
        )
        found = self.get(note_id)
        assert found is not None
        return found

    def get(self, note_id: str, *, decrypt: bool = False) -> Note | None:
        rows = self._run("MATCH (n:CareNote {id: $id}) RETURN n", id=note_id)
        if not rows:
            return None
        n = rows[0]["n"]
        text = None
        if decrypt and not n["erased"]:
            data_key = self._wrap.decrypt(n["key_nonce"], n["wrapped_key"], note_id.encode())
            text = AESGCM(data_key).decrypt(n["nonce"], n["ciphertext"], note_id.encode()).decode()
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

    def add_reader(self, note_id: str, member_id: str) -> None:
        self._run(
            "MATCH (n:CareNote {id: $id}) WHERE NOT $m IN n.readers SET n.readers = n.readers + $m",
            id=note_id,
            m=member_id,
        )

    def erase(self, note_id: str) -> None:
        """Remove the content and its key; the hash (also anchored on chain) stays."""
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
