"""The relayer pool: relayer keys, their nonce sequences (assigned here, persisted), signing
and broadcasting. A nonce is taken only in the commit that stores the signed raw bytes, so a
crash never leaves a gap; after a restart `reconcile` lines the sequences up with the node.

The forward requests a round signs for one relayer go out together, as one `executeBatch`
transaction (up to `MAX_BATCH` requests): every row of the batch stores the same relayer
nonce, raw bytes and hash, and its own request (whose outcome the receipt's
`ExecutedForwardRequest` event gives).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from eccoo.client.vocabulary import TxState
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction, RelayerNonce
from eccoo.gateway.tx.forwarding import ForwardPreparer, Prepared, save_forwarder_nonces
from eccoo.gateway.tx.signing import TransactionSigner
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select, text, update
from web3 import Web3

log = logging.getLogger("eccoo.gateway.tx")
GAS_PRICE_SECONDS = 5.0
# Forward requests per relayed transaction, and the batch's gas limit as a share of the
# block's (a transaction over the block gas limit would never be mined).
MAX_BATCH = 32
BATCH_GAS_SHARE = 4
# Gas of a batch around its requests' own calls: the transaction and the loop, then per
# request the signature check, the nonce, the event and the call's overhead, and 16 per
# byte of its calldata.
BATCH_BASE_GAS = 40_000
BATCHED_REQUEST_GAS = 60_000
# A batch's fee stays this far under the node's fee cap (the gas price moves between rounds).
FEE_CAP_MARGIN = 0.8


@dataclass
class Signed:
    """One queued row after the worker's round: relayer, nonce, raw bytes and hash (the
    raw bytes of a batch are stored once, with its first row)."""

    id: str
    relayer: str
    nonce: int
    raw: str | None
    tx_hash: str


class RelayerPool:
    """Only the worker thread calls this: it alone changes relayer nonces and queued rows."""

    def __init__(
        self,
        store: Store,
        w3: Web3,
        relayers: Sequence[LocalAccount],
        *,
        chain_id: int,
        tx_fee_cap_wei: int = 10**18,
    ) -> None:
        if not relayers:
            raise ValueError("the transaction manager needs at least one relayer key")
        self.store = store
        self.w3 = w3
        self.accounts = {r.address: r for r in relayers}
        self._signers: dict[str, TransactionSigner] = {
            r.address: TransactionSigner(bytes(r.key), chain_id) for r in relayers
        }
        self.chain_id = chain_id
        self._senders = ThreadPoolExecutor(len(relayers), thread_name_prefix="eccoo-send")
        self._gas_price_value, self._gas_price_until = 0, float("-inf")
        self.max_batch_gas = int(w3.eth.get_block("latest")["gasLimit"]) // BATCH_GAS_SHARE
        self.tx_fee_cap_wei = tx_fee_cap_wei

    def reconcile(self) -> None:
        """Line the stored nonces up with the node before sending anything."""
        for address in self.accounts:
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

    def sign_queued(
        self, forwarding: ForwardPreparer | None, limit: int = 256
    ) -> tuple[list[str], list[str]]:
        """Simulate, take nonces and sign; `(signed ids, refused ids)`.

        Signing happens outside the write lock; the result (signed rows, refusals, relayer
        and forwarder nonces) is committed in one short unit.
        """
        with self.store.read() as session:
            queued = session.scalars(
                select(ChainTransaction)
                .where(ChainTransaction.state == TxState.QUEUED)
                .order_by(text("transactions.rowid"))
                .limit(limit)
            ).all()
            if not queued:
                return [], []
            next_nonce: dict[str, int] = {}
            for address in self.accounts:
                stored = session.get(RelayerNonce, address)
                assert stored is not None, "reconcile() runs before the first round"
                next_nonce[address] = stored.next_nonce
            busy = session.scalars(
                select(ChainTransaction.signer)
                .where(ChainTransaction.state.in_((TxState.SIGNED, TxState.SENT)))
                .distinct()
            ).all()
        prepared = forwarding.prepare(queued, {b for b in busy if b}) if forwarding else Prepared()
        signed = self._sign(queued, prepared, next_nonce, forwarding)
        now = time.time()
        changes: list[dict[str, object]] = []
        for one in signed:
            change: dict[str, object] = {
                "id": one.id,
                "relayer": one.relayer,
                "nonce": one.nonce,
                "raw": one.raw,
                "tx_hash": one.tx_hash,
                "state": TxState.SIGNED,
                "updated_at": now,
            }
            if one.id in prepared.ready:
                change["to"], change["data"], change["gas"], change["forward_nonce"] = (
                    prepared.ready[one.id]
                )
            changes.append(change)
        for tx_id, (error, args) in prepared.failed.items():
            changes.append(
                {
                    "id": tx_id,
                    "state": TxState.FAILED,
                    "error": error,
                    "error_args": args,
                    "updated_at": now,
                }
            )
        with self.store.unit() as session:
            # Only this thread moves rows out of `queued`, so they are still queued here.
            # Bulk UPDATE by primary key, grouped by the columns each row sets.
            for group in _by_columns(changes):
                session.execute(update(ChainTransaction), group)
            for relayer, value in next_nonce.items():
                nonce_row = session.get(RelayerNonce, relayer)
                assert nonce_row is not None
                nonce_row.next_nonce = value
            save_forwarder_nonces(session, prepared.forwarder_nonces)
        return [s.id for s in signed], list(prepared.failed)

    def _sign(
        self,
        queued: Sequence[ChainTransaction],
        prepared: Prepared,
        next_nonce: dict[str, int],
        forwarding: ForwardPreparer | None,
    ) -> list[Signed]:
        """One relayer transaction per row, except that the requests signed this round for
        one relayer are batched (in queue order, so each signer's stay in nonce order; a row
        that cannot join closes its relayer's batch first, so the relayer's order is kept).
        A batch's gas limit stays under a share of the block's and under the node's fee cap."""
        gas_price = self._gas_price()
        gas_cap = min(self.max_batch_gas, int(self.tx_fee_cap_wei * FEE_CAP_MARGIN) // gas_price)
        addresses: list[str] = sorted(self.accounts)
        signed: list[Signed] = []
        batches: dict[str, list[ChainTransaction]] = {}
        batch_gas: dict[str, int] = {}

        def send_as_one(
            relayer: str, rows: list[ChainTransaction], to: str, data: str, gas: int
        ) -> None:
            nonce = next_nonce[relayer]
            raw, tx_hash = self._signers[relayer].sign(
                nonce=nonce, gas_price=gas_price, gas=gas, to=to, data=data
            )
            next_nonce[relayer] = nonce + 1
            for n, tx in enumerate(rows):
                first_raw = None if n else "0x" + raw.hex()
                signed.append(Signed(tx.id, relayer, nonce, first_raw, "0x" + tx_hash.hex()))

        def close(relayer: str) -> None:
            rows = batches.pop(relayer, [])
            gas = batch_gas.pop(relayer, 0)
            if len(rows) == 1:
                to, data, gas, _ = prepared.ready[rows[0].id]
            elif rows:
                assert forwarding is not None
                requests = [prepared.requests[tx.id] for tx in rows]
                to, data = (
                    forwarding.forwarder.address,
                    forwarding.requests.relay(requests, relayer),
                )
            else:
                return
            send_as_one(relayer, rows, to, data, gas)

        for i, tx in enumerate(queued):
            if tx.id in prepared.failed:
                continue
            # Forward requests of one signer must be mined in nonce order: one relayer.
            slot = int(tx.lane, 16) if tx.lane else i
            relayer = addresses[slot % len(addresses)]
            request = prepared.requests.get(tx.id)
            if request is not None:
                gas = request.gas + request.gas // 32 + BATCHED_REQUEST_GAS + 16 * len(request.data)
                if relayer in batches and (
                    len(batches[relayer]) >= MAX_BATCH or batch_gas[relayer] + gas > gas_cap
                ):
                    close(relayer)
                batches.setdefault(relayer, []).append(tx)
                batch_gas[relayer] = batch_gas.get(relayer, BATCH_BASE_GAS) + gas
                continue
            close(relayer)
            to, data, gas, _ = prepared.ready.get(tx.id, (tx.to, tx.data, tx.gas, 0))
            send_as_one(relayer, [tx], to, data, gas)
        for open_relayer in list(batches):
            close(open_relayer)
        return signed

    def _gas_price(self) -> int:
        """Twice the node's suggestion (at least 1 gwei), asked at most every few seconds."""
        now = time.monotonic()
        if now >= self._gas_price_until:
            self._gas_price_value = max(int(self.w3.eth.gas_price) * 2, 1_000_000_000)
            self._gas_price_until = now + GAS_PRICE_SECONDS
        return self._gas_price_value

    def broadcast(self, rows: Sequence[Any]) -> list[str]:
        """Send signed rows: one JSON-RPC batch per relayer, relayers in parallel; the ids
        the node accepted."""
        lanes: dict[str, list[Any]] = {}
        for tx in rows:
            lanes.setdefault(tx.relayer or "", []).append(tx)
        if len(lanes) == 1:
            results = [self._send_batch(next(iter(lanes.values())))]
        else:
            results = list(self._senders.map(self._send_batch, lanes.values()))
        return [tx_id for accepted in results for tx_id in accepted]

    def _send_batch(self, rows: list[Any]) -> list[str]:
        """One relayer's raw transactions in nonce order (the rows of a batch share one
        transaction, whose raw bytes only the first carries)."""
        ids_of: dict[str, list[str]] = {}
        raw_of: dict[str, str] = {}
        for tx in rows:
            ids_of.setdefault(tx.tx_hash, []).append(tx.id)
            if tx.raw:
                raw_of[tx.tx_hash] = tx.raw
        hashes = [h for h in ids_of if h in raw_of]
        replies = self.w3.provider.make_batch_request(  # type: ignore[attr-defined]
            [("eth_sendRawTransaction", [raw_of[h]]) for h in hashes]
        )
        if not isinstance(replies, list):
            log.warning("broadcast batch refused: %s", replies.get("error"))
            return []
        accepted: list[str] = []
        for tx_hash, reply in zip(hashes, replies, strict=True):
            error = reply.get("error")
            message = str(error.get("message", "")).lower() if isinstance(error, dict) else ""
            if error is None or _same_bytes_known(message):
                accepted.extend(ids_of[tx_hash])
            else:
                log.warning("broadcast of %s refused: %s", ids_of[tx_hash], message)
                break  # later nonces of this relayer would only wait behind the gap
        return accepted

    def send_raw(self, raw: str) -> None:
        try:
            self.w3.eth.send_raw_transaction(raw)  # type: ignore[arg-type]
        except ValueError as exc:
            if not _same_bytes_known(str(exc).lower()):
                raise

    def close(self) -> None:
        self._senders.shutdown(wait=False)


def _by_columns(changes: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    """Rows that set the same columns, together (one executemany each)."""
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for change in changes:
        groups.setdefault(tuple(sorted(change)), []).append(change)
    return list(groups.values())


def _same_bytes_known(message: str) -> bool:
    # Already in the pool or already mined with this nonce: the same bytes, fine.
    return "already known" in message or "nonce too low" in message
