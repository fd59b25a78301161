"""Following sent transactions: receipts block by block, K confirmations, reverts decoded,
dropped transactions broadcast again with the same bytes (never re-signed).

Forward requests are relayed in `executeBatch` transactions (see `ForwardRequestCodec.relay`),
several rows to one transaction. Each request can end three ways besides success, told
apart by the forwarder's `ExecutedForwardRequest(signer, nonce, success)` event for it:
the call failed (event with `success` false: the signer's nonce is used, their later
requests stand), the forwarder skipped the request (no event: the nonce moved on or the
deadline passed), or the whole transaction reverted. All three are `reverted`, with the
reason decoded; in the last two the chain did not use the forwarder nonce, so the signer's
nonce sequence is resynced from the chain.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from eccoo.client.vocabulary import TxState
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction
from eccoo.gateway.tx.forwarding import ForwardPreparer
from eccoo.gateway.tx.relayers import RelayerPool
from eccoo.gateway.tx.revert import RevertDecoder
from eth_utils import keccak
from sqlalchemy import select, update
from web3 import Web3
from web3.exceptions import TransactionNotFound

log = logging.getLogger("eccoo.gateway.tx")
EXECUTED = "0x" + keccak(text="ExecutedForwardRequest(address,uint256,bool)").hex()
# How a mined transaction ended: "ok"; "call_failed" (the forwarded call failed, its nonce
# used); "skipped" (the forwarder skipped the request); "reverted" (the whole transaction).
NONCE_UNUSED = ("skipped", "reverted")


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
        forwarding: ForwardPreparer | None = None,
    ) -> None:
        self.store = store
        self.forwarding = forwarding
        self.forwarder = forwarding.forwarder.address.lower() if forwarding else None
        self.w3 = w3
        self.pool = pool
        self.confirmations = confirmations
        self.resubmit_after = resubmit_after_seconds
        self.decoder = decoder
        self._scanned: int | None = None  # the last block whose receipts were matched
        # How often a round without a new block still looks for dropped transactions.
        self.drop_check_seconds = min(5.0, resubmit_after_seconds / 2)
        self._next_drop_check = 0.0

    def follow(self) -> list[str]:
        """Match new blocks' receipts against sent transactions; the ids that changed.

        States move only with a new block, so a round without one is a single
        `eth_blockNumber`, except every few seconds, when dropped transactions are looked for.
        """
        head = int(self.w3.eth.block_number)
        now = time.monotonic()
        if head == self._scanned and now < self._next_drop_check:
            return []
        self._next_drop_check = now + self.drop_check_seconds
        with self.store.read() as session:
            rows = session.execute(
                select(
                    ChainTransaction.id,
                    ChainTransaction.tx_hash,
                    ChainTransaction.state,
                    ChainTransaction.block_number,
                    ChainTransaction.sent_at,
                    ChainTransaction.signer,
                    ChainTransaction.forward_nonce,
                ).where(ChainTransaction.state.in_((TxState.SENT, TxState.MINED)))
            ).all()
        if not rows:
            self._scanned = head
            return []
        sent: dict[str, list[Any]] = {}
        for r in rows:
            if r.state == TxState.SENT:
                sent.setdefault(str(r.tx_hash), []).append(r)
        found = self._receipts(sent, head) if sent else {}
        self._scanned = head
        changes: list[dict[str, object]] = []
        reverted: list[tuple[str, int, str]] = []
        unused: set[str] = set()  # signers whose forwarder nonce the chain did not use
        for tx in rows:
            block, receipt = found.get(tx.tx_hash or "", (tx.block_number, None))
            if block is None:
                continue
            outcome = self._outcome(receipt, tx) if receipt is not None else "ok"
            if outcome != "ok":
                state = TxState.REVERTED
                if outcome in NONCE_UNUSED and tx.signer:
                    unused.add(tx.signer)
            elif head - block + 1 >= self.confirmations:
                state = TxState.CONFIRMED
            else:
                state = TxState.MINED
            if state == tx.state and block == tx.block_number:
                continue
            if state == TxState.REVERTED:
                reverted.append((tx.id, block, outcome))
            changes.append({"id": tx.id, "state": state, "block_number": block})
        explained = self._explain(reverted)
        if changes:
            stamp = time.time()
            for change in changes:
                change["updated_at"] = stamp
                change["error"], change["error_args"] = explained.get(
                    str(change["id"]), (None, None)
                )
            with self.store.unit() as session:
                session.execute(update(ChainTransaction), changes)
        if self.forwarding is not None:
            for signer in sorted(unused):
                self.forwarding.resync(signer)
        changed = [str(c["id"]) for c in changes]
        overdue = time.time() - self.resubmit_after
        for tx_hash, batch in sent.items():
            if tx_hash in found or any(
                r.sent_at is not None and r.sent_at > overdue for r in batch
            ):
                continue
            changed.extend(self._maybe_resubmit([r.id for r in batch]))
        return changed

    def _explain(self, reverted: list[tuple[str, int, str]]) -> dict[str, tuple[str, str | None]]:
        """The decoded custom error of each reverted transaction, replayed at the block
        before: a failed forwarded call as the forwarder made it (the forwarder itself only
        says `FailedCall()`), a skipped request as a lone atomic `execute`."""
        if not reverted:
            return {}
        with self.store.read() as session:
            rows = {
                row.id: row
                for row in session.scalars(
                    select(ChainTransaction).where(
                        ChainTransaction.id.in_([tx_id for tx_id, _, _ in reverted])
                    )
                ).all()
            }
        explained: dict[str, tuple[str, str | None]] = {}
        for tx_id, block, outcome in reverted:
            tx = rows[tx_id]
            call: dict[str, Any] | None = None
            if self.forwarding is not None and outcome == "skipped":
                call = self.forwarding.lone_execute(tx)
            elif self.forwarding is not None:
                call = self.forwarding.inner_call(tx)
            if call is None:
                call = {"from": tx.relayer, "to": tx.to, "data": tx.data, "gas": tx.gas}
            found = self.decoder.simulate(self.w3, call, max(block - 1, 0))
            explained[tx_id] = found or (
                ("ForwardRequestSkipped", None) if outcome == "skipped" else ("Reverted", None)
            )
        return explained

    def _outcome(self, receipt: dict[str, Any], tx: Any) -> str:
        """How the row's part of a mined transaction ended (see the module docstring)."""
        if int(str(receipt["status"]), 0) == 0:
            return "reverted"
        if self.forwarder is None or str(receipt.get("to") or "").lower() != self.forwarder:
            return "ok"
        signer = "0x" + str(tx.signer or "").lower()[2:].rjust(64, "0")
        for entry in receipt.get("logs") or []:
            topics = [_hex(t) for t in entry["topics"]]
            if str(entry["address"]).lower() != self.forwarder or topics[:2] != [EXECUTED, signer]:
                continue
            data = _hex(entry["data"])[2:]
            if tx.forward_nonce is None or int(data[:64], 16) == tx.forward_nonce:
                return "ok" if int(data[64:128], 16) == 1 else "call_failed"
        return "skipped"

    def _receipts(
        self, sent: dict[str, list[Any]], head: int
    ) -> dict[str, tuple[int, dict[str, Any]]]:
        """tx hash -> (block, receipt) for the sent transactions mined since the last round."""
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        if self._scanned is None:  # first round after a start: ask per transaction
            for tx_hash in sent:
                try:
                    receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                except TransactionNotFound:
                    continue
                found[tx_hash] = (int(receipt["blockNumber"]), dict(receipt))
            return found
        for number in range(self._scanned + 1, head + 1):
            for mined in self._block_receipts(number):
                if mined["transactionHash"] in sent:
                    found[mined["transactionHash"]] = (number, mined)
        return found

    def _block_receipts(self, number: int) -> list[dict[str, Any]]:
        reply = self.w3.provider.make_request("eth_getBlockReceipts", [hex(number)])  # type: ignore[arg-type]
        if "error" in reply:
            raise RuntimeError(f"eth_getBlockReceipts failed: {reply['error']}")
        return [
            {**r, "transactionHash": str(r["transactionHash"]).lower()}
            for r in reply.get("result") or []
        ]

    def _maybe_resubmit(self, ids: list[str]) -> list[str]:
        """A sent transaction (the rows of one batch) the node no longer knows goes out
        again, same bytes; the ids now `failed` because its nonce was consumed by another."""
        with self.store.read() as session:
            rows = [
                tx
                for tx in session.scalars(
                    select(ChainTransaction).where(ChainTransaction.id.in_(ids))
                ).all()
                if tx.state == TxState.SENT
            ]
        if not rows:
            return []
        first = rows[0]
        if first.sent_at is not None and time.time() - first.sent_at < self.resubmit_after:
            return []
        try:
            self.w3.eth.get_transaction(first.tx_hash)  # type: ignore[arg-type]
            return []  # still pending in the pool
        except TransactionNotFound:
            pass
        if self.w3.eth.get_transaction_count(first.relayer, "latest") > (first.nonce or 0):  # type: ignore[arg-type]
            stamp = time.time()
            with self.store.unit() as session:
                session.execute(
                    update(ChainTransaction),
                    [
                        {
                            "id": tx.id,
                            "state": TxState.FAILED,
                            "error": "RelayerNonceConsumed",
                            "updated_at": stamp,
                        }
                        for tx in rows
                    ],
                )
            if self.forwarding is not None:  # their forwarder nonces were not used either
                for signer in sorted({tx.signer for tx in rows if tx.signer}):
                    self.forwarding.resync(signer)
            return [tx.id for tx in rows]
        raw = next((tx.raw for tx in rows if tx.raw), None) or self._raw_of(str(first.tx_hash))
        log.info("resubmitting dropped transaction %s (%d requests)", first.tx_hash, len(rows))
        self.pool.send_raw(raw)
        stamp = time.time()
        with self.store.unit() as session:
            session.execute(
                update(ChainTransaction), [{"id": tx.id, "sent_at": stamp} for tx in rows]
            )
        return []

    def _raw_of(self, tx_hash: str) -> str:
        """A batch's raw bytes, stored with its first row."""
        with self.store.read() as session:
            raw = session.scalar(
                select(ChainTransaction.raw).where(
                    ChainTransaction.tx_hash == tx_hash, ChainTransaction.raw.is_not(None)
                )
            )
        return str(raw or "")


def _hex(value: Any) -> str:
    """A topic or data field as lower-case 0x-hex (raw JSON-RPC strings or web3's bytes)."""
    return (Web3.to_hex(value) if isinstance(value, bytes) else str(value)).lower()
