"""Care-note privacy through the API, on real Keycloak tokens, Clique and Neo4j.

A refused write leaves nothing behind; a member with a linked wallet signs the note's anchor
themselves; erasure destroys the note's key (a graph backup plus the master key no longer
decrypt it) and the request fingerprint; readers can be removed; dispute reasons and
request fingerprints are salted; Idempotency-Keys are tokens that cannot name the
gateway's own transactions.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from fixtures.api import post, submit_ok, wait_tx
from fixtures.cast import Cast
from fixtures.identity import UserFactory
from web3.logs import DISCARD

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j]


@pytest.fixture(scope="module")
def cast(live_gateway: Any, realm_users: UserFactory) -> Cast:
    people = {
        "coordinator": ("coordinator",),
        "treasurer": ("treasurer",),
        "receiver": (),
        "giver": (),
        "linked": (),
    }
    return Cast(live_gateway, realm_users, people)


@pytest.fixture(scope="module")
def own_wallet(cast: Cast) -> LocalAccount:
    """The key `linked` holds themselves, linked before they are registered."""
    own: LocalAccount = Account.create()
    client = cast["linked"]
    challenge = client.post("/api/v1/me/wallet/challenge", json={"address": own.address}).json()
    signature = own.sign_message(encode_defunct(text=challenge["message"])).signature
    reply = client.post(
        "/api/v1/me/wallet/link",
        json={"nonce": challenge["nonce"], "signature": "0x" + bytes(signature).hex()},
    )
    assert reply.json() == {"address": own.address, "wallet_kind": "linked"}, reply.text
    cast.me["linked"] = client.get("/api/v1/me").json()
    cast.own_keys["linked"] = own
    return own


@pytest.fixture(scope="module")
def appointments(cast: Cast, own_wallet: LocalAccount) -> dict[str, int]:
    """One appointment of the receiver with each giver (custodial and linked), started."""
    cast.register({"receiver": "care_receiver", "giver": "care_giver", "linked": "care_giver"})
    pot_id = cast.fund_pot("receiver", 50_000)
    with_giver = cast.book("receiver", "giver", pot_id, wait_for_start=False)
    with_linked = cast.book("receiver", "linked", pot_id)
    return {"giver": with_giver, "linked": with_linked}


def notes_of(gateway: Any, appointment_id: int) -> int:
    records, _, _ = gateway.services.driver.execute_query(
        "MATCH (n:CareNote {appointment_id: $a}) RETURN count(n) AS c", a=appointment_id
    )
    return int(records[0]["c"])


def audit_of(gateway: Any, member_id: str) -> list[tuple[str, str]]:
    from eccoo.gateway.store.models import AuditEntry
    from sqlalchemy import select

    with gateway.services.store.read() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.subject == member_id)).all()
        return [(r.action, r.object_ref) for r in rows]


def kept_fingerprint(gateway: Any, subject: str, key: str) -> str | None:
    from eccoo.gateway.store.models import IdempotencyRecord

    with gateway.services.store.read() as session:
        record = session.get(IdempotencyRecord, (subject, key))
        return None if record is None else record.body_fingerprint


def recover_text(master_key: bytes, backup: dict[str, Any], database: Path) -> str | None:
    """What someone holding the master key, a copy of the note's graph node and the
    gateway's database can read of the note (a wrapped key in either place opens it)."""
    unwrap = AESGCM(hashlib.sha256(b"eccoo care notes" + master_key).digest())
    note_id = backup["id"].encode()
    wrapped = []
    if "wrapped_key" in backup:
        wrapped.append((bytes(backup["key_nonce"]), bytes(backup["wrapped_key"])))
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        if "note_keys" in tables:
            wrapped += db.execute(
                "SELECT key_nonce, wrapped_key FROM note_keys WHERE note_id = ?", (backup["id"],)
            ).fetchall()
    for key_nonce, key in wrapped:
        data_key = unwrap.decrypt(key_nonce, key, note_id)[:32]  # then, here, the salt
        return (
            AESGCM(data_key)
            .decrypt(bytes(backup["nonce"]), bytes(backup["ciphertext"]), note_id)
            .decode()
        )
    return None


def test_a_refused_note_leaves_nothing_behind(
    cast: Cast, live_gateway: Any, appointments: dict[str, int]
) -> None:
    """The plain write is for custodial wallets; a linked wallet is refused before anything
    is stored, however often it retries."""
    a_id = appointments["linked"]
    before = notes_of(live_gateway, a_id)
    key = str(uuid.uuid4())
    path = f"/api/v1/appointments/{a_id}/notes"
    for reply in (
        post(cast["linked"], path, {"text": "Short visit."}, key),
        post(cast["linked"], path, {"text": "Short visit."}, key),
        post(cast["linked"], path, {"text": "Short visit."}),
    ):
        assert reply.status_code == 409, reply.text
    assert notes_of(live_gateway, a_id) == before
    member_id = cast.me["linked"]["member_id"]
    assert [a for a in audit_of(live_gateway, member_id) if a[0] == "note_written"] == []


def test_a_linked_wallet_signs_its_own_note_anchor(
    cast: Cast, live_gateway: Any, own_wallet: LocalAccount, appointments: dict[str, int]
) -> None:
    from eccoo.client.forwarder import ForwardRequest, sign_request

    a_id = appointments["linked"]
    client, ledger = cast["linked"], live_gateway.services.ledger
    text = "Walked to the park; in good spirits."
    drafted = client.post(f"/api/v1/appointments/{a_id}/note-drafts", json={"text": text})
    assert drafted.status_code == 201, drafted.text
    draft = drafted.json()
    assert text not in drafted.text
    assert notes_of(live_gateway, a_id) == 0  # a draft is not a note yet
    request = ForwardRequest.from_json(draft["forward_request"])
    care_ledger = ledger.contracts["CareLedger"]
    assert (request.from_, request.to) == (own_wallet.address, care_ledger.address)
    anchored_hash = bytes.fromhex(draft["note_hash"][2:])
    assert request.data == bytes.fromhex(
        care_ledger.encode_abi("anchorCareNote", args=[a_id, anchored_hash])[2:]
    )
    domain = {"chain_id": ledger.chain_id, "forwarder_address": ledger.forwarder.address}
    path = f"/api/v1/note-drafts/{draft['id']}/signature"

    forged = sign_request(Account.create(), request, **domain).signature
    refused = post(client, path, {"signature": "0x" + forged.hex()})
    assert refused.status_code == 422 and refused.json()["field"] == "signature", refused.text
    signature = "0x" + sign_request(own_wallet, request, **domain).signature.hex()
    # Only its author's: a custodial member signs no drafts, another id is no draft.
    assert post(cast["receiver"], path, {"signature": signature}).status_code == 409
    unknown = f"/api/v1/note-drafts/{uuid.uuid4()}/signature"
    assert post(client, unknown, {"signature": signature}).status_code == 404

    reply = post(client, path, {"signature": signature})
    assert reply.status_code == 201, reply.text
    note = reply.json()["note"]
    assert note["note_hash"] == draft["note_hash"] and note["text"] is None
    assert note["author"] == cast.me["linked"]["member_id"]
    assert note["subject"] == cast.me["receiver"]["member_id"]
    assert wait_tx(client, reply.json()["transaction"]["id"])["state"] == "confirmed"
    assert int(ledger.call("CareLedger", "appointmentOfNote", anchored_hash)) == a_id
    assert post(client, path, {"signature": signature}).status_code == 404  # used up
    assert notes_of(live_gateway, a_id) == 1

    note_path = f"/api/v1/notes/{note['id']}"
    assert client.get(note_path).json()["text"] == text
    assert cast["receiver"].get(note_path).json()["text"] == text
    audit = client.get(f"{note_path}/audit").json()
    assert [(e["member_id"], e["action"]) for e in audit] == [
        (cast.me["linked"]["member_id"], "note_written"),
        (cast.me["linked"]["member_id"], "note_read"),
        (cast.me["receiver"]["member_id"], "note_read"),
    ]


def write(client: Any, appointment_id: int, text: str, key: str) -> dict[str, Any]:
    reply = post(client, f"/api/v1/appointments/{appointment_id}/notes", {"text": text}, key)
    assert reply.status_code == 201, reply.text
    assert wait_tx(client, reply.json()["transaction"]["id"])["state"] == "confirmed"
    return reply.json()["note"]  # type: ignore[no-any-return]


def test_request_fingerprints_are_keyed(
    cast: Cast, live_gateway: Any, appointments: dict[str, int]
) -> None:
    """The idempotency record does not keep a plain SHA-256 of the request, which anyone
    could compute for a guessed short text."""
    a_id, text, key = appointments["giver"], "ok", str(uuid.uuid4())
    write(cast["giver"], a_id, text, key)
    canonical = json.dumps(
        {"path": f"/api/v1/appointments/{a_id}/notes", "body": {"readers": [], "text": text}},
        sort_keys=True,
        separators=(",", ":"),
    )
    kept = kept_fingerprint(live_gateway, cast.me["giver"]["subject"], key)
    assert kept is not None and kept != hashlib.sha256(canonical.encode()).hexdigest()


def test_erasure_shreds_the_note_key_and_its_fingerprint(
    cast: Cast, live_gateway: Any, appointments: dict[str, int]
) -> None:
    from eccoo.gateway.identity.custody import load_master_key

    giver, receiver = cast["giver"], cast["receiver"]
    text, key = "Knee pain again.", str(uuid.uuid4())
    note = write(giver, appointments["giver"], text, key)
    subject = cast.me["giver"]["subject"]
    kept = kept_fingerprint(live_gateway, subject, key)
    master = load_master_key(live_gateway.settings)
    database = live_gateway.settings.database_file
    backup = live_gateway.services.notes.raw_properties(note["id"])  # a graph backup
    assert recover_text(master, backup, database) == text  # before erasure the key opens it
    assert receiver.delete(f"/api/v1/notes/{note['id']}").status_code == 200
    assert recover_text(master, backup, database) is None
    assert "salt" not in backup  # a guessed text cannot be checked against the hash either
    assert kept_fingerprint(live_gateway, subject, key) not in (None, kept)
    assert receiver.get(f"/api/v1/notes/{note['id']}").json()["erased"] is True


def test_a_member_removes_a_reader_they_granted(
    cast: Cast, live_gateway: Any, appointments: dict[str, int]
) -> None:
    a_id = appointments["giver"]
    giver, receiver, coord = cast["giver"], cast["receiver"], cast["coordinator"]
    reply = post(giver, f"/api/v1/appointments/{a_id}/notes", {"text": "Bath and lunch."})
    assert reply.status_code == 201, reply.text
    note_path = f"/api/v1/notes/{reply.json()['note']['id']}"
    coordinator = cast.me["coordinator"]["member_id"]
    granted = receiver.post(f"{note_path}/readers", json={"member_id": coordinator})
    assert granted.status_code == 200 and coordinator in granted.json()["readers"]
    assert coord.get(note_path).status_code == 200
    assert coord.delete(f"{note_path}/readers/{coordinator}").status_code == 404
    removed = receiver.delete(f"{note_path}/readers/{coordinator}")
    assert removed.status_code == 200, removed.text
    assert coordinator not in removed.json()["readers"]
    assert coord.get(note_path).status_code == 404
    assert receiver.delete(f"{note_path}/readers/{coordinator}").status_code == 404
    actions = [e["action"] for e in receiver.get(f"{note_path}/audit").json()]
    assert f"note_reader_removed:{coordinator}" in actions


def test_idempotency_keys_are_tokens(cast: Cast, appointments: dict[str, int]) -> None:
    body = {"to": cast.me["giver"]["address"], "amount": 1}
    for bad in ("abcdefgh:pay", "with space 1", "k" * 129, "short", "slash/1234"):
        reply = post(cast["treasurer"], "/api/v1/transfers", body, bad)
        assert reply.status_code == 422, (bad, reply.text)
        assert reply.json()["field"] == "Idempotency-Key", reply.text
    assert post(cast["treasurer"], "/api/v1/transfers", body, "Ab0._~-x").status_code == 202


def test_the_gateways_own_transactions_are_outside_every_member_key(
    cast: Cast, live_gateway: Any, appointments: dict[str, int]
) -> None:
    """A member's keyed request queues `subject:key[:step]`; the gateway's own
    (registration, hats, note anchors) never hold a colon, so no member key names one."""
    from eccoo.gateway.store.models import ChainTransaction
    from sqlalchemy import select

    with live_gateway.services.store.read() as session:
        rows = session.execute(select(ChainTransaction.kind, ChainTransaction.dedupe_key)).all()
    own = {"register", "anchor_note"} | {
        f"{verb}_{what}" for verb in ("grant", "revoke") for what in ("hat", "coin_role")
    }
    assert {kind for kind, _ in rows} >= {"register", "grant_hat", "book"}
    for kind, key in rows:
        assert (":" not in key) == (kind in own), (kind, key)


def test_a_dispute_reason_is_hashed_with_a_salt(
    cast: Cast, live_gateway: Any, appointments: dict[str, int]
) -> None:
    a_id = appointments["giver"]
    submit_ok(cast["giver"], f"/api/v1/appointments/{a_id}/deliver")
    tx = submit_ok(cast["receiver"], f"/api/v1/appointments/{a_id}/dispute", {"reason": "no"})
    ledger = live_gateway.services.ledger
    receipt = ledger.w3.eth.get_transaction_receipt(tx["tx_hash"])
    disputed = ledger.contracts["CareLedger"].events.AppointmentDisputed()
    hashes = [
        bytes(e["args"]["reasonHash"])
        for e in disputed.process_receipt(receipt, errors=DISCARD)
        if int(e["args"]["appointmentId"]) == a_id
    ]
    assert len(hashes) == 1
    assert hashes[0] != keccak(text=f"eccoo:dispute:{a_id}:no")


def test_keys_kept_in_the_graph_before_move_to_the_store(live_gateway: Any) -> None:
    """A note whose wrapped key sat on its node (the earlier layout) reads the same after a
    start, and its node holds no key any more."""
    import os

    from eccoo.gateway.identity.custody import load_master_key
    from eccoo.gateway.notes import CareNotes

    services = live_gateway.services
    master = hashlib.sha256(b"eccoo care notes" + load_master_key(services.settings)).digest()
    note_id, text = str(uuid.uuid4()), "Written before keys left the graph."
    data_key, nonce, key_nonce = AESGCM.generate_key(bit_length=256), os.urandom(12), os.urandom(12)
    services.driver.execute_query(
        "CREATE (n:CareNote {id: $id, appointment_id: 0, note_hash: '0x01', author: 'a', "
        "subject: 's', readers: [], created_at: 0.0, erased: false, ciphertext: $c, "
        "nonce: $n, wrapped_key: $w, key_nonce: $kn, salt: $salt})",
        id=note_id,
        c=AESGCM(data_key).encrypt(nonce, text.encode(), note_id.encode()),
        n=nonce,
        w=AESGCM(master).encrypt(key_nonce, data_key, note_id.encode()),
        kn=key_nonce,
        salt=os.urandom(16),
    )
    notes = CareNotes(services.driver, master, services.store)
    assert not {"wrapped_key", "key_nonce", "salt"} & set(notes.raw_properties(note_id))
    found = notes.get(note_id, decrypt=True)
    assert found is not None and found.text == text
