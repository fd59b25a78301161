"""Following sent transactions: receipts block by block, K confirmations, reverts decoded,
dropped transactions broadcast again with the same bytes (never re-signed).

A relayed forward request (`executeBatch` of one, see `ForwardRequestSigner.relay`) can end
three ways besides success, told apart by the forwarder's `ExecutedForwardRequest` event:
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

from eccoo.gateway.forwarding import ForwardSigner
from eccoo.gateway.relayers import RelayerPool
from eccoo.gateway.revert import RevertDecoder
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction
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
        forwarding: ForwardSigner | None = None,
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
                ).where(ChainTransaction.state.in_(("sent", "mined")))
            ).all()
        if not rows:
            self._scanned = head
            return []
        sent = {r.tx_hash: r for r in rows if r.state == "sent"}
        found = self._receipts(sent, head) if sent else {}
        self._scanned = head
        changes: list[dict[str, object]] = []
        reverted: list[tuple[str, int, str]] = []
        unused: set[str] = set()  # signers whose forwarder nonce the chain did not use
        for tx in rows:
            block, outcome = found.get(tx.tx_hash or "", (tx.block_number, "ok"))
            if block is None:
                continue
            if outcome != "ok":
                state = "reverted"
                if outcome in NONCE_UNUSED and tx.signer:
                    unused.add(tx.signer)
            elif head - block + 1 >= self.confirmations:
                state = "confirmed"
            else:
                state = "mined"
            if state == tx.state and block == tx.block_number:
                continue
            if state == "reverted":
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
        for row in sent.values():
            if row.tx_hash in found or (row.sent_at is not None and row.sent_at > overdue):
                continue
            if self._maybe_resubmit(row.id):
                changed.append(row.id)
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

    def _outcome(self, receipt: dict[str, Any]) -> str:
        if int(str(receipt["status"]), 0) == 0:
            return "reverted"
        if self.forwarder is None or str(receipt.get("to") or "").lower() != self.forwarder:
            return "ok"
        for entry in receipt.get("logs") or []:
            topics = [_hex(t) for t in entry["topics"]]
            if str(entry["address"]).lower() == self.forwarder and topics[:1] == [EXECUTED]:
                return "ok" if int(_hex(entry["data"])[-64:], 16) == 1 else "call_failed"
        return "skipped"

    def _receipts(self, sent: dict[str | None, Any], head: int) -> dict[str, tuple[int, str]]:
        """tx hash -> (block, outcome) for the sent transactions mined since the last round."""
        found: dict[str, tuple[int, str]] = {}
        if self._scanned is None:  # first round after a start: ask per transaction
            for tx_hash in sent:
                try:
                    receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                except TransactionNotFound:
                    continue
                found[str(tx_hash)] = (int(receipt["blockNumber"]), self._outcome(dict(receipt)))
            return found
        for number in range(self._scanned + 1, head + 1):
            for mined in self._block_receipts(number):
                tx_hash = str(mined["transactionHash"]).lower()
                if tx_hash in sent:
                    found[tx_hash] = (number, self._outcome(mined))
        return found

    def _block_receipts(self, number: int) -> list[dict[str, Any]]:
        reply = self.w3.provider.make_request("eth_getBlockReceipts", [hex(number)])  # type: ignore[arg-type]
        if "error" in reply:
            raise RuntimeError(f"eth_getBlockReceipts failed: {reply['error']}")
        return [
            {**r, "transactionHash": str(r["transactionHash"]).lower()}
            for r in reply.get("result") or []
        ]

    def _maybe_resubmit(self, tx_id: str) -> bool:
        """A sent transaction the node no longer knows goes out again, same bytes; True if
        it can never be mined (its nonce was consumed) and is now `failed`."""
        with self.store.read() as session:
            tx = session.get(ChainTransaction, tx_id)
        if tx is None or tx.state != "sent":
            return False
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


def _hex(value: Any) -> str:
    """A topic or data field as lower-case 0x-hex (raw JSON-RPC strings or web3's bytes)."""
    return (Web3.to_hex(value) if isinstance(value, bytes) else str(value)).lower()
