"""Relayed transactions: a pool of relayer keys, nonces assigned and persisted here.

A transaction is signed and its raw bytes stored in the same database commit that takes
its nonce, so a crash between signing and broadcasting loses nothing: on restart the
stored raw transaction is broadcast again (same hash), never re-signed with a new nonce.
Every request hash is unique, so one request is never sent twice.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from eccoo.gateway.forwarding import ForwardSigner, Prepared, save_forwarder_nonces
from eccoo.gateway.revert import RevertDecoder
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction, RelayerNonce
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from web3 import Web3
from web3.exceptions import TransactionNotFound

log = logging.getLogger("eccoo.gateway.tx")

# Public life of a transaction. `signed` = nonce taken, raw stored, not yet broadcast.
STATES = ("queued", "signed", "sent", "mined", "confirmed", "failed", "reverted")
OPEN_STATES = ("signed", "sent", "mined")


@dataclass(frozen=True)
class Submitted:
    id: str
    created: bool  # False when the same request had been submitted before


class TransactionManager:
    """Queues, signs, sends and follows transactions until confirmed after K blocks."""

    def __init__(
        self,
        store: Store,
        w3: Web3,
        relayers: Sequence[LocalAccount],
        *,
        chain_id: int,
        confirmations: int = 2,
        poll_seconds: float = 0.5,
        resubmit_after_seconds: float = 30.0,
        decoder: RevertDecoder | None = None,
        on_change: Callable[[ChainTransaction], None] | None = None,
        forwarding: ForwardSigner | None = None,
    ) -> None:
        if not relayers:
            raise ValueError("the transaction manager needs at least one relayer key")
        self.store = store
        self.w3 = w3
        self.relayers = {r.address: r for r in relayers}
        self.chain_id = chain_id
        self.confirmations = confirmations
        self.poll_seconds = poll_seconds
        self.resubmit_after = resubmit_after_seconds
        self.decoder = decoder or RevertDecoder([])
        self.on_change = on_change
        self.forwarding = forwarding
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._gas_price: int | None = None
        self._scanned: int | None = None  # the last block whose receipts were matched
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(relayers)), thread_name_prefix="eccoo-send"
        )
        # Test hook for the crash drill: called after a commit of signed rows, before sending.
        self.after_sign: Callable[[list[str]], None] | None = None

    # --- submission (fast: one insert) ----------------------------------------------------
    @staticmethod
    def queue_row(
        *,
        subject: str,
        kind: str,
        to: str,
        data: str,
        gas: int,
        request_hash: str,
        lane: str | None = None,
        signer: str | None = None,
        forward_nonce: int | None = None,
    ) -> ChainTransaction:
        """A `queued` row for the caller to add in its own unit of work (then `wake()`)."""
        return ChainTransaction(
            id=str(uuid.uuid4()),
            subject=subject,
            kind=kind,
            request_hash=request_hash,
            to=to,
            data=data,
            gas=gas,
            state="queued",
            lane=lane,
            signer=signer,
            forward_nonce=forward_nonce,
        )

    def wake(self) -> None:
        self._wake.set()

    def submit(
        self,
        *,
        subject: str,
        kind: str,
        to: str,
        data: str,
        gas: int,
        request_hash: str,
        lane: str | None = None,
        signer: str | None = None,
        forward_nonce: int | None = None,
    ) -> Submitted:
        """Queue one transaction; a `lane` (the signer's address) keeps its order on one relayer."""
        tx = self.queue_row(
            subject=subject,
            kind=kind,
            to=to,
            data=data,
            gas=gas,
            request_hash=request_hash,
            lane=lane,
            signer=signer,
            forward_nonce=forward_nonce,
        )
        try:
            with self.store.unit() as session:
                session.add(tx)
        except IntegrityError:
            with self.store.read() as session:
                found = session.scalar(
                    select(ChainTransaction.id).where(ChainTransaction.request_hash == request_hash)
                )
                assert found is not None
                return Submitted(found, created=False)
        self._wake.set()
        return Submitted(tx.id, created=True)

    def find(self, request_hash: str) -> str | None:
        with self.store.read() as session:
            return session.scalar(
                select(ChainTransaction.id).where(ChainTransaction.request_hash == request_hash)
            )

    def get(self, tx_id: str) -> ChainTransaction | None:
        with self.store.read() as session:
            return session.get(ChainTransaction, tx_id)

    # --- the worker ------------------------------------------------------------------------
    def start(self) -> None:
        self.reconcile()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="eccoo-tx", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("transaction manager step failed; retrying")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def step(self) -> None:
        """One round: sign what is queued, broadcast what is signed, follow what is sent."""
        signed = self._sign_queued()
        if signed and self.after_sign is not None:
            self.after_sign(signed)
        self._broadcast_signed()
        self._follow_sent()

    # --- reconciliation after a (re)start ------------------------------------------------------
    def reconcile(self) -> None:
        """Line the stored nonces up with the node before sending anything."""
        for address in self.relayers:
            on_chain = self.w3.eth.get_transaction_count(address, "pending")
            with self.store.unit() as session:
                row = session.get(RelayerNonce, address)
                highest = session.scalar(
                    select(func.max(ChainTransaction.nonce)).where(
                        ChainTransaction.relayer == address
                    )
                )
                stored_next = row.next_nonce if row else 0
                want = max(on_chain, stored_next, (highest + 1) if highest is not None else 0)
                if row is None:
                    session.add(RelayerNonce(address=address, next_nonce=want))
                elif row.next_nonce != want:
                    log.warning(
                        "relayer %s: stored next nonce %d, node says %d; using %d",
                        address,
                        row.next_nonce,
                        on_chain,
                        want,
                    )
                    row.next_nonce = want
        # Signed-but-unsent rows keep their nonce and raw bytes: the next step sends them.

    def _gas_price_now(self) -> int:
        price = int(self.w3.eth.gas_price)
        return max(price * 2, 1_000_000_000)

    def _sign_queued(self, limit: int = 256) -> list[str]:
        """Simulate, take nonces and sign. Only this worker thread changes relayer and
        forwarder nonces and queued rows, so it signs outside the write lock and commits
        the result (signed rows, refusals, both nonce sequences) in one short unit."""
        with self.store.read() as session:
            queued = session.scalars(
                select(ChainTransaction)
                .where(ChainTransaction.state == "queued")
                .order_by(text("transactions.rowid"))
                .limit(limit)
            ).all()
            if not queued:
                return []
            next_nonce = {a: session.get(RelayerNonce, a).next_nonce for a in self.relayers}  # type: ignore[union-attr]
            busy = set(
                session.scalars(
                    select(ChainTransaction.signer)
                    .where(ChainTransaction.state.in_(("signed", "sent")))
                    .distinct()
                ).all()
            )
        prepared = (
            self.forwarding.prepare(queued, {b for b in busy if b})
            if self.forwarding is not None
            else Prepared()
        )
        gas_price = self._gas_price_now()
        addresses = sorted(self.relayers)
        signed_rows: list[tuple[str, str, int, str, str]] = []
        for i, tx in enumerate(queued):
            if tx.id in prepared.failed:
                continue
            to, data, gas, _fwd = prepared.ready.get(tx.id, (tx.to, tx.data, tx.gas, 0))
            # Forward requests of one signer must be mined in nonce order: one relayer.
            slot = int(tx.lane, 16) if tx.lane else i
            address = addresses[slot % len(addresses)]
            nonce = next_nonce[address]
            signed = self.relayers[address].sign_transaction(
                {
                    "to": Web3.to_checksum_address(to),
                    "data": data,
                    "value": 0,
                    "gas": gas,
                    "gasPrice": gas_price,
                    "nonce": nonce,
                    "chainId": self.chain_id,
                }
            )
            next_nonce[address] = nonce + 1
            signed_rows.append(
                (
                    tx.id,
                    address,
                    nonce,
                    "0x" + bytes(signed.raw_transaction).hex(),
                    "0x" + bytes(signed.hash).hex(),
                )
            )
        with self.store.unit() as session:
            for tx_id, address, nonce, raw, tx_hash in signed_rows:
                row = session.get(ChainTransaction, tx_id)
                assert row is not None and row.state == "queued"
                if tx_id in prepared.ready:
                    row.to, row.data, row.gas, row.forward_nonce = prepared.ready[tx_id]
                row.relayer, row.nonce, row.raw, row.tx_hash = address, nonce, raw, tx_hash
                row.state = "signed"
            for tx_id, (error, args) in prepared.failed.items():
                row = session.get(ChainTransaction, tx_id)
                assert row is not None and row.state == "queued"
                row.state, row.error, row.error_args = "failed", error, args
            for address, value in next_nonce.items():
                nonce_row = session.get(RelayerNonce, address)
                assert nonce_row is not None
                nonce_row.next_nonce = value
            save_forwarder_nonces(session, prepared.forwarder_nonces)
        for tx_id in prepared.failed:
            self._changed(tx_id)
        return [r[0] for r in signed_rows]

    def _broadcast_signed(self) -> None:
        """Send every signed row: one JSON-RPC batch per relayer, relayers in parallel."""
        with self.store.read() as session:
            rows = session.scalars(
                select(ChainTransaction)
                .where(ChainTransaction.state == "signed")
                .order_by(ChainTransaction.relayer, ChainTransaction.nonce)
            ).all()
        if not rows:
            return
        lanes: dict[str, list[ChainTransaction]] = {}
        for tx in rows:
            lanes.setdefault(tx.relayer or "", []).append(tx)
        if len(lanes) == 1:
            results = [self._send_batch(next(iter(lanes.values())))]
        else:
            results = list(self._pool.map(self._send_batch, lanes.values()))
        accepted = [tx_id for sent in results for tx_id in sent]
        if not accepted:
            return
        now = time.time()
        with self.store.unit() as session:
            for tx_id in accepted:
                row = session.get(ChainTransaction, tx_id)
                assert row is not None
                row.state, row.sent_at = "sent", now
        for tx_id in accepted:
            self._changed(tx_id)

    def _send_batch(self, rows: list[ChainTransaction]) -> list[str]:
        """One relayer's raw transactions in nonce order; the ids the node accepted."""
        replies = self.w3.provider.make_batch_request(  # type: ignore[attr-defined]
            [("eth_sendRawTransaction", [tx.raw]) for tx in rows]
        )
        if not isinstance(replies, list):
            log.warning("broadcast batch refused: %s", replies.get("error"))
            return []
        accepted = []
        for tx, reply in zip(rows, replies, strict=True):
            error = reply.get("error")
            message = str(error.get("message", "")).lower() if isinstance(error, dict) else ""
            # Already in the pool or already mined with this nonce: the same bytes, fine.
            if error is None or "already known" in message or "nonce too low" in message:
                accepted.append(tx.id)
            else:
                log.warning("broadcast of %s refused: %s", tx.id, message)
                break  # later nonces of this relayer would only wait behind the gap
        return accepted

    def _send_raw(self, tx: ChainTransaction) -> None:
        try:
            self.w3.eth.send_raw_transaction(tx.raw)  # type: ignore[arg-type]
        except ValueError as exc:
            text = str(exc).lower()
            # Already in the pool or already mined with this nonce: the same bytes, fine.
            if "already known" in text or "nonce too low" in text:
                return
            raise

    def _follow_sent(self) -> None:
        """Match new blocks' receipts against sent transactions; confirm after K blocks."""
        head = int(self.w3.eth.block_number)
        with self.store.read() as session:
            rows = session.scalars(
                select(ChainTransaction).where(ChainTransaction.state.in_(("sent", "mined")))
            ).all()
        if not rows:
            self._scanned = head
            return
        sent = {r.tx_hash: r for r in rows if r.state == "sent"}
        found: dict[str, tuple[int, int]] = {}  # tx hash -> (block, status)
        if sent:
            if self._scanned is None:  # first round after a start: ask per transaction
                for tx_hash in sent:
                    try:
                        receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                    except TransactionNotFound:
                        continue
                    found[tx_hash] = (int(receipt["blockNumber"]), int(receipt["status"]))
            else:
                for number in range(self._scanned + 1, head + 1):
                    for receipt in self._block_receipts(number):
                        tx_hash = str(receipt["transactionHash"]).lower()
                        if tx_hash in sent:
                            found[tx_hash] = (number, int(str(receipt["status"]), 16))
        self._scanned = head
        changed: list[str] = []
        with self.store.unit() as session:
            for tx in rows:
                block, status = found.get(tx.tx_hash or "", (tx.block_number, 1))
                if block is None:
                    continue
                if status == 0:
                    state = "reverted"
                elif head - block + 1 >= self.confirmations:
                    state = "confirmed"
                else:
                    state = "mined"
                if state == tx.state and block == tx.block_number:
                    continue
                row = session.get(ChainTransaction, tx.id)
                assert row is not None
                row.state, row.block_number = state, block
                if state == "reverted":
                    row.error, row.error_args = self.decoder.explain_failed(self.w3, tx, block)
                changed.append(tx.id)
        for tx_id in changed:
            self._changed(tx_id)
        for tx in sent.values():
            if tx.tx_hash not in found:
                self._maybe_resubmit(tx)

    def _block_receipts(self, number: int) -> list[dict[str, Any]]:
        reply = self.w3.provider.make_request("eth_getBlockReceipts", [hex(number)])  # type: ignore[arg-type]
        if "error" in reply:
            raise RuntimeError(f"eth_getBlockReceipts failed: {reply['error']}")
        return [
            {"transactionHash": str(r["transactionHash"]).lower(), "status": r["status"]}
            for r in reply.get("result") or []
        ]

    def _maybe_resubmit(self, tx: ChainTransaction) -> None:
        """A sent transaction that the node no longer knows is broadcast again, same bytes."""
        if tx.sent_at is not None and time.time() - tx.sent_at < self.resubmit_after:
            return
        try:
            self.w3.eth.get_transaction(tx.tx_hash)  # type: ignore[arg-type]
            return  # still pending in the pool
        except TransactionNotFound:
            pass
        if self.w3.eth.get_transaction_count(tx.relayer, "latest") > (tx.nonce or 0):  # type: ignore[arg-type]
            # The nonce was used by something else: this one can never be mined.
            with self.store.unit() as session:
                row = session.get(ChainTransaction, tx.id)
                assert row is not None
                row.state, row.error = "failed", "RelayerNonceConsumed"
            self._changed(tx.id)
            return
        log.info("resubmitting dropped transaction %s", tx.id)
        self._send_raw(tx)
        with self.store.unit() as session:
            row = session.get(ChainTransaction, tx.id)
            assert row is not None
            row.sent_at = time.time()

    def _changed(self, tx_id: str) -> None:
        if self.on_change is not None:
            found = self.get(tx_id)
            if found is not None:
                self.on_change(found)

    def wait(
        self,
        tx_id: str,
        states: Sequence[str] = ("confirmed", "failed", "reverted"),
        timeout: float = 60.0,
    ) -> ChainTransaction:
        """Block until the transaction reaches one of `states` (for tools and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tx = self.get(tx_id)
            if tx is not None and tx.state in states:
                return tx
            time.sleep(0.1)
        raise TimeoutError(f"transaction {tx_id} did not reach {states} in {timeout:.0f}s")
