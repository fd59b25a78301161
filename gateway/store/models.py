"""The gateway's tables: members and their keys, hat requests, idempotency, transactions.

Custodial keys and care-note keys are stored only wrapped (AES-GCM) under the master key;
the plaintext never touches a column. Care-note content lives encrypted in the graph; here
only a note a linked wallet has yet to sign, encrypted, until it is signed or expires.
"""

from __future__ import annotations

import time

from eccoo.client.vocabulary import TxState
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _now() -> float:
    return time.time()


class Base(DeclarativeBase):
    pass


class Member(Base):
    """One member, keyed by the identity provider's `sub`."""

    __tablename__ = "members"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(66), unique=True)  # pseudonymous bytes32
    address: Mapped[str] = mapped_column(String(42), unique=True)
    wallet_kind: Mapped[str] = mapped_column(String(16), default="custodial")
    custodial_address: Mapped[str] = mapped_column(String(42), unique=True)
    key_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    membership: Mapped[str] = mapped_column(String(16), default="pending")
    # Hats the identity provider gave in the latest token (mirrored on chain at registration).
    token_hats: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[float] = mapped_column(default=_now)


class HatRequest(Base):
    """A member asks for a hat; a coordinator approves or declines it."""

    __tablename__ = "hat_requests"
    # One open request per member and hat; decided ones are history (a hat declined twice
    # is two rows).
    __table_args__ = (
        Index(
            "one_pending_request_per_hat",
            "subject",
            "hat",
            unique=True,
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(ForeignKey("members.subject"))
    hat: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[float] = mapped_column(default=_now)


class LinkChallenge(Base):
    """A one-time message a member signs with their own wallet to link it."""

    __tablename__ = "link_challenges"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(ForeignKey("members.subject"))
    address: Mapped[str] = mapped_column(String(42))
    expires_at: Mapped[float] = mapped_column()
    used: Mapped[bool] = mapped_column(default=False)


class IdempotencyRecord(Base):
    """The first response to (caller, Idempotency-Key), kept so retries get it again."""

    __tablename__ = "idempotency"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    body_fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="in_flight")
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[float] = mapped_column(default=_now)


class RelayerNonce(Base):
    """The next nonce each relayer will use, assigned here and persisted before signing."""

    __tablename__ = "relayer_nonces"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_nonce: Mapped[int] = mapped_column(BigInteger)


class ChainTransaction(Base):
    """One relayed transaction and its life: queued, sent, mined, confirmed / failed / reverted."""

    __tablename__ = "transactions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(66), unique=True)  # never sent twice
    lane: Mapped[str | None] = mapped_column(String(42), default=None)  # same lane, same relayer
    signer: Mapped[str | None] = mapped_column(String(42), default=None)
    forward_nonce: Mapped[int | None] = mapped_column(BigInteger, default=None)
    to: Mapped[str] = mapped_column(String(42))
    data: Mapped[str] = mapped_column(Text)
    gas: Mapped[int] = mapped_column(BigInteger)
    relayer: Mapped[str | None] = mapped_column(String(42), default=None)
    nonce: Mapped[int | None] = mapped_column(BigInteger, default=None)
    raw: Mapped[str | None] = mapped_column(Text, default=None)
    tx_hash: Mapped[str | None] = mapped_column(String(66), default=None, index=True)
    state: Mapped[str] = mapped_column(String(16), default=TxState.QUEUED, index=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_args: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[float] = mapped_column(default=_now)
    updated_at: Mapped[float] = mapped_column(default=_now, onupdate=_now)


class ForwarderNonce(Base):
    """The next ERC-2771 forwarder nonce the gateway will sign for an address."""

    __tablename__ = "forwarder_nonces"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_nonce: Mapped[int] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Who did or read what, when (care-note reads, grants, approvals)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(default=_now)
    subject: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    object_ref: Mapped[str] = mapped_column(String(255))


class WebSession(Base):
    """A member signed in to the web pages. The browser holds only an opaque cookie; the
    row is found by its hash, and the provider's tokens are sealed (AES-GCM) under a key
    derived from the master key, bound to the row."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    tokens_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    tokens_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(index=True)
    created_at: Mapped[float] = mapped_column(default=_now)


class HatsNews(Base):
    """When the gateway last learnt of a change in a member's provider hats, and what they
    became: from a token (its `iat`) or from the worker's look at the provider (its clock).
    A token issued before then is not news: it never changes the mirror and counts for no
    hat the provider has since taken away."""

    __tablename__ = "hats_news"

    subject: Mapped[str] = mapped_column(ForeignKey("members.subject"), primary_key=True)
    hats: Mapped[str] = mapped_column(String(255), default="")
    learnt_at: Mapped[float] = mapped_column()


# --- care notes ---------------------------------------------------------------------------


class NoteKey(Base):
    """A care note's data key and salt, wrapped under the master key; the row is deleted at
    erasure, which leaves the ciphertext in the graph (and in any backup of it) unreadable.

    `idempotency_*` name the request that wrote the note, whose fingerprint goes too."""

    __tablename__ = "note_keys"

    note_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)  # data key + salt, sealed
    key_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    idempotency_subject: Mapped[str | None] = mapped_column(String(255), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[float] = mapped_column(default=_now)


class NoteDraft(Base):
    """A note from a linked wallet, waiting for its owner to sign the anchor's forward
    request: sealed like a note (content under its data key, the key wrapped), and deleted
    when signed or once expired."""

    __tablename__ = "note_drafts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the note's id to be
    subject: Mapped[str] = mapped_column(ForeignKey("members.subject"), index=True)
    appointment_id: Mapped[int] = mapped_column(BigInteger)
    about: Mapped[str] = mapped_column(String(66))  # the subject's member id
    readers: Mapped[str] = mapped_column(Text)  # JSON list of member ids
    note_hash: Mapped[str] = mapped_column(String(66))
    sealed: Mapped[str] = mapped_column(Text)  # JSON: the sealed note, hex fields
    forward_request: Mapped[str] = mapped_column(Text)  # JSON: unsigned, as sent to sign
    expires_at: Mapped[float] = mapped_column(index=True)
