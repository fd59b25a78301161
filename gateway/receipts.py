"""Following sent transactions: receipts block by block, K confirmations, reverts decoded,
dropped transactions broadcast again with the same bytes (never re-signed).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from eccoo.gateway.relayers import RelayerPool
from eccoo.gateway.revert import RevertDecoder
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction
from sqlalchemy import select
from web3 import Web3
from web3.exceptions import TransactionNotFound

log = logging.getLogger("eccoo.gateway.tx")


class ReceiptFollower:
    """Moves `sent` rows to `mined`, `confirmed`, `reverted` or `failed`."""

    def __init__(
        self,
        store: Store,
        w3: Web3,
        pool: RelayerPool,
        *,
        confirmations: int,
        resubmit_after_seconds: float,
        decoder: RevertDecoder,
    ) -> None:
        self.store = store
        self.w3 = w3
        self.pool = pool
        self.confirmations = confirmations
        self.resubmit_after = resubmit_after_seconds
        self.decoder = decoder
        self._scanned: int | None = None  # the last block whose receipts were matched

    def follow(self) -> list[str]:
        """Match new blocks' receipts against sent transactions; the ids that changed."""
        head = int(self.w3.eth.block_number)
        with self.store.read() as session:
            rows = session.scalars(
                select(ChainTransaction).where(ChainTransaction.state.in_(("sent", "mined")))
            ).all()
        if not rows:
            self._scanned = head
            return []
        sent = {r.tx_hash: r for r in rows if r.state == "sent"}
        found = self._receipts(sent, head) if sent else {}
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
        for tx in sent.values():
            if tx.tx_hash not in found and self._maybe_resubmit(tx):
                changed.append(tx.id)
        return changed

    def _receipts(
        self, sent: dict[str | None, ChainTransaction], head: int
    ) -> dict[str, tuple[int, int]]:
        """tx hash -> (block, status) for the sent transactions mined since the last round."""
        found: dict[str, tuple[int, int]] = {}
        if self._scanned is None:  # first round after a start: ask per transaction
            for tx_hash in sent:
                try:
                    receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                except TransactionNotFound:
                    continue
                found[str(tx_hash)] = (int(receipt["blockNumber"]), int(receipt["status"]))
            return found
        for number in range(self._scanned + 1, head + 1):
            for mined in self._block_receipts(number):
                tx_hash = str(mined["transactionHash"]).lower()
                if tx_hash in sent:
                    found[tx_hash] = (number, int(str(mined["status"]), 16))
        return found

    def _block_receipts(self, number: int) -> list[dict[str, Any]]:
        reply = self.w3.provider.make_request("eth_getBlockReceipts", [hex(number)])  # type: ignore[arg-type]
        if "error" in reply:
            raise RuntimeError(f"eth_getBlockReceipts failed: {reply['error']}")
        return [
            {"transactionHash": str(r["transactionHash"]).lower(), "status": r["status"]}
            for r in reply.get("result") or []
        ]

    def _maybe_resubmit(self, tx: ChainTransaction) -> bool:
        """A sent transaction the node no longer knows goes out again, same bytes; True if
        it can never be mined (its nonce was consumed) and is now `failed`."""
        if tx.sent_at is not None and time.time() - tx.sent_at < self.resubmit_after:
            return False
        try:
            self.w3.eth.get_transaction(tx.tx_hash)  # type: ignore[arg-type]
            return False  # still pending in the pool
        except TransactionNotFound:
            pass
        if self.w3.eth.get_transaction_count(tx.relayer, "latest") > (tx.nonce or 0):  # type: ignore[arg-type]
            with self.store.unit() as session:
                row = session.get(ChainTransaction, tx.id)
                assert row is not None
                row.state, row.error = "failed", "RelayerNonceConsumed"
            return True
        log.info("resubmitting dropped transaction %s", tx.id)
        self.pool.send_raw(tx.raw or "")
        with self.store.unit() as session:
            row = session.get(ChainTransaction, tx.id)
            assert row is not None
            row.sent_at = time.time()
        return False
