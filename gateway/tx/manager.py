"""Relayed transactions, from queued to confirmed: the queue and the worker that drives it.

The request path only adds `queued` rows. One worker thread does the rest, in rounds:
simulate and sign (`forwarding`, `relayers`: nonces taken in the commit that stores the raw
bytes, so a crash loses nothing), broadcast, follow receipts (`receipts`). Every request
hash is unique, so one request is never sent twice.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from eccoo.client.vocabulary import FINAL_TX_STATES, TxState
from eccoo.gateway.store import statements
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction
from eccoo.gateway.tx.forwarding import ForwardPreparer
from eccoo.gateway.tx.receipts import ReceiptFollower
from eccoo.gateway.tx.relayers import RelayerPool
from eccoo.gateway.tx.revert import RevertDecoder
from eth_account.signers.local import LocalAccount
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from web3 import Web3

log = logging.getLogger("eccoo.gateway.tx")

# Public life of a transaction. `signed` = nonce taken, raw stored, not yet broadcast.


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
        round_seconds: float = 0.05,
        resubmit_after_seconds: float = 30.0,
        tx_fee_cap_wei: int = 10**18,
        decoder: RevertDecoder | None = None,
        on_change: Callable[[list[ChainTransaction]], None] | None = None,
        forwarding: ForwardPreparer | None = None,
        wake_event: Any = None,
    ) -> None:
        self.store = store
        self.pool = RelayerPool(
            store, w3, relayers, chain_id=chain_id, tx_fee_cap_wei=tx_fee_cap_wei
        )
        self.relayers = self.pool.accounts
        self.receipts = ReceiptFollower(
            store,
            w3,
            self.pool,
            confirmations=confirmations,
            resubmit_after_seconds=resubmit_after_seconds,
            decoder=decoder or RevertDecoder([]),
            forwarding=forwarding,
        )
        self.poll_seconds = poll_seconds
        self.round_seconds = round_seconds
        self.on_change = on_change
        self.forwarding = forwarding
        self._stop = threading.Event()
        # Set by whoever queued work; a multiprocessing.Event when the API is another process.
        self._wake: Any = wake_event if wake_event is not None else threading.Event()
        self._thread: threading.Thread | None = None
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
        dedupe_key: str,
        lane: str | None = None,
        signer: str | None = None,
        forward_nonce: int | None = None,
    ) -> ChainTransaction:
        """A `queued` row for the caller to add in its own unit of work (then `wake()`)."""
        return ChainTransaction(
            id=str(uuid.uuid4()),
            subject=subject,
            kind=kind,
            dedupe_key=dedupe_key,
            to=to,
            data=data,
            gas=gas,
            state=TxState.QUEUED,
            lane=lane,
            signer=signer,
            forward_nonce=forward_nonce,
        )

    @staticmethod
    def insert_row(session: Session, tx: ChainTransaction) -> None:
        """Add a `queued` row to the caller's unit with one INSERT (no unit-of-work flush
        on the request path); `tx` stays a plain, detached record of what was queued."""
        statements.insert_transaction(session, tx)

    def wake(self) -> None:
        self._wake.set()

    def get(self, tx_id: str) -> ChainTransaction | None:
        return read_transaction(self.store, tx_id)

    # --- the worker ------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Line the stored relayer nonces up with the node before sending anything."""
        self.pool.reconcile()

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
            self._wake.clear()  # before the round: a wake-up during it starts the next one
            try:
                self.step()
            except Exception:
                log.exception("transaction manager step failed; retrying")
            # Rounds are at least `round_seconds` apart while work keeps arriving, so a
            # burst of requests is signed, committed and sent in a few batches, not one each.
            if self._stop.wait(self.round_seconds):
                break
            self._wake.wait(self.poll_seconds)

    def step(self) -> None:
        """One round: sign what is queued, broadcast what is signed, follow what is sent."""
        signed, refused = self.pool.sign_queued(self.forwarding)
        self._changed(refused)
        if signed and self.after_sign is not None:
            self.after_sign(signed)
        with self.store.read() as session:
            waiting = session.execute(
                select(
                    ChainTransaction.id,
                    ChainTransaction.relayer,
                    ChainTransaction.raw,
                    ChainTransaction.tx_hash,
                )
                .where(ChainTransaction.state == TxState.SIGNED)
                .order_by(ChainTransaction.relayer, ChainTransaction.nonce)
            ).all()
        if waiting:
            sent = self.pool.broadcast(waiting)
            now = time.time()
            if sent:
                with self.store.unit() as session:
                    session.execute(
                        update(ChainTransaction),
                        [
                            {"id": i, "state": TxState.SENT, "sent_at": now, "updated_at": now}
                            for i in sent
                        ],
                    )
            self._changed(sent)
        self._changed(self.receipts.follow())

    def _changed(self, ids: list[str]) -> None:
        if self.on_change is None or not ids:
            return
        with self.store.read() as session:
            rows = session.scalars(
                select(ChainTransaction).where(ChainTransaction.id.in_(ids))
            ).all()
        by_id = {row.id: row for row in rows}
        self.on_change([by_id[tx_id] for tx_id in ids if tx_id in by_id])

    def wait(
        self,
        tx_id: str,
        states: Sequence[str] = tuple(FINAL_TX_STATES),
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


def read_transaction(store: Store, tx_id: str) -> ChainTransaction | None:
    with store.read() as session:
        return session.get(ChainTransaction, tx_id)
