"""The worker's side of ERC-2771: simulate queued member actions, sign them as forward requests.

Runs only in the transaction manager's worker thread, never in a request: it opens a
signer's key for one EIP-712 signature and takes the signer's forwarder nonce, and its
results are committed in the same unit as the relayer nonce (no forwarder-nonce gaps).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eccoo.client.forwarder import ForwardRequest
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction, ForwarderNonce
from eccoo.gateway.tx.calldata import ForwardRequestCodec
from eccoo.gateway.tx.revert import RevertDecoder
from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from web3 import Web3
from web3.contract import Contract

log = logging.getLogger("eccoo.gateway.tx")
FORWARD_TTL_SECONDS = 900
# Gas the forwarder itself spends around the inner call (signature check, nonce, event).
FORWARDER_OVERHEAD = 90_000
# Inner-call gas limits per function: the whole forwarded transaction's gas in docs/gas.md
# (which also pays the forwarder and the intrinsic 21,000), so at least ~1.5x what the
# call itself uses. Functions whose cost depends on their input (createPot) are estimated.
GAS_LIMITS = {
    "transfer": 100_000,
    "approve": 100_000,
    "mint": 150_000,
    "burn": 100_000,
    "deposit": 200_000,
    "book": 360_000,
    "setHourlyRate": 100_000,
    "setContributionRates": 100_000,
    "setHourlyCap": 100_000,
    "markDelivered": 90_000,
    "confirm": 90_000,
    "cancel": 90_000,
    "dispute": 120_000,
    "resolveDispute": 330_000,
    "releasePayment": 400_000,
    "anchorCareNote": 100_000,
    "registerMember": 120_000,
    "grantHat": 100_000,
    "revokeHat": 100_000,
    "grantRole": 100_000,
    "revokeRole": 100_000,
}
# For a request that cannot be simulated yet (an earlier one of its signer is in flight).
UNSIMULATED_GAS = 300_000


@dataclass
class Prepared:
    """What the worker learned about queued rows: ready calls, refusals, new nonces."""

    ready: dict[str, tuple[str, str, int, int]] = field(
        default_factory=dict
    )  # to, data, gas, fwd nonce
    failed: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # error, args
    forwarder_nonces: dict[str, int] = field(default_factory=dict)
    # The requests signed this round, which the relayers may put together in one batch.
    requests: dict[str, ForwardRequest] = field(default_factory=dict)


def needs_forwarding(tx: ChainTransaction) -> bool:
    """A member action queued as a plain call: to be signed as a forward request."""
    return tx.signer is not None and tx.forward_nonce is None


class ForwardPreparer:
    """The worker's preparing stage: simulates queued member actions and turns them into
    relayable `executeBatch` calls (see `relay`)."""

    def __init__(
        self,
        store: Store,
        w3: Web3,
        forwarder: Contract,
        chain_id: int,
        decoder: RevertDecoder,
        key_for: Callable[[str], LocalAccount | None],
    ) -> None:
        self.store = store
        self.w3 = w3
        self.forwarder = forwarder
        self.chain_id = chain_id
        self.decoder = decoder
        self.key_for = key_for
        self.requests = ForwardRequestCodec(forwarder, chain_id)

    def inner_call(self, tx: ChainTransaction) -> dict[str, Any] | None:
        """The target call inside a relayed request, as the forwarder makes it."""
        if needs_forwarding(tx):
            return {
                "from": self.forwarder.address,
                "to": tx.to,
                "data": _suffix(tx.data, tx.signer),
            }
        request = self.relayed_request(tx)
        if request is None:
            return None
        return {
            "from": self.forwarder.address,
            "to": request.to,
            "data": _suffix("0x" + request.data.hex(), request.from_),
            "gas": tx.gas,
        }

    def relayed_request(self, tx: ChainTransaction) -> ForwardRequest | None:
        """The forward request a row relays (`executeBatch` of one, or an older `execute`)."""
        try:
            fn, args = self.forwarder.decode_function_input(tx.data)
        except ValueError:
            return None
        req = args["requests"][0] if fn.fn_name == "executeBatch" else args["request"]
        if not isinstance(req, tuple):
            req = tuple(
                req[k] for k in ("from", "to", "value", "gas", "deadline", "data", "signature")
            )
        sender, to, value, gas, deadline, data, signature = req
        nonce = tx.forward_nonce or 0
        return ForwardRequest(
            sender, to, value, gas, nonce, deadline, bytes(data), bytes(signature)
        )

    def lone_execute(self, tx: ChainTransaction) -> dict[str, Any] | None:
        """The row's request as an atomic `execute` from its relayer: replayed where the
        forwarder skipped the request, it reverts with the reason (the nonce moved on:
        `ERC2771ForwarderInvalidSigner`; too late: `ERC2771ForwarderExpiredRequest`)."""
        request = self.relayed_request(tx)
        if request is None:
            return None
        return {
            "from": tx.relayer,
            "to": self.forwarder.address,
            "data": self.requests.execute(request),
            "gas": tx.gas,
        }

    def prepare(self, queued: Sequence[ChainTransaction], busy: set[str]) -> Prepared:
        """Simulate what can be simulated and sign member actions, in queue order.

        `busy`: signers with a request already signed or sent, whose effect the chain does
        not show yet; their later requests are not simulated (they would see stale state)
        and are left to the receipt, which is decoded if they revert.
        """
        out = Prepared()
        seen = set(busy)
        calls: list[tuple[ChainTransaction, str, list[Any]]] = []
        for tx in queued:
            if tx.signer is None:
                continue
            if tx.signer not in seen:
                call = self.inner_call(tx)
                if call is not None:
                    method = "eth_call" if call.get("gas") or tx.gas else "eth_estimateGas"
                    if method == "eth_call":
                        call["gas"] = hex(int(call.get("gas") or tx.gas))
                    params: list[Any] = [call, "latest"]
                    calls.append((tx, method, params))
            seen.add(tx.signer)
        estimated: dict[str, int] = {}
        if calls:
            replies = self.w3.provider.make_batch_request(  # type: ignore[attr-defined]
                [(method, params) for _tx, method, params in calls]
            )
            if not isinstance(replies, list):
                raise RuntimeError(f"simulation batch failed: {replies}")
            for (tx, method, _params), reply in zip(calls, replies, strict=True):
                error = reply.get("error")
                if error is not None:
                    data = error.get("data") if isinstance(error, dict) else None
                    if isinstance(data, str) and data.startswith("0x"):
                        out.failed[tx.id] = self.decoder.decode(data)
                    elif "revert" in json.dumps(error).lower():
                        out.failed[tx.id] = ("Reverted", None)
                    else:  # not a refusal: send unsimulated, never stall the queue
                        log.warning("simulation of %s failed: %s", tx.id, error)
                elif method == "eth_estimateGas":
                    inner = int(reply["result"], 16)
                    estimated[tx.id] = inner + inner // 5 + 10_000
        self._sign(queued, out, estimated)
        return out

    def _sign(
        self, queued: Sequence[ChainTransaction], out: Prepared, estimated: dict[str, int]
    ) -> None:
        deadline = int(time.time()) + FORWARD_TTL_SECONDS
        todo = [tx for tx in queued if tx.id not in out.failed and needs_forwarding(tx)]
        next_nonce = self._stored_nonces({str(tx.signer) for tx in todo})
        # Each signer's key is opened once per round and dropped with the round.
        keys: dict[str, LocalAccount | None] = {}
        for tx in todo:
            signer = str(tx.signer)
            if signer not in keys:
                keys[signer] = self.key_for(signer)
            account = keys[signer]
            if account is None:
                out.failed[tx.id] = ("NoSigningKey", None)
                continue
            nonce = next_nonce[signer]
            next_nonce[signer] = out.forwarder_nonces[signer] = nonce + 1
            gas = estimated.get(tx.id) or tx.gas or UNSIMULATED_GAS
            request = ForwardRequest(
                signer, tx.to, 0, gas, nonce, deadline, bytes.fromhex(tx.data[2:])
            )
            signed = self.requests.sign(account, request)
            out.requests[tx.id] = signed
            out.ready[tx.id] = (
                self.forwarder.address,
                self.requests.relay([signed], signer),
                gas + gas // 32 + FORWARDER_OVERHEAD,
                nonce,
            )

    def _stored_nonces(self, signers: set[str]) -> dict[str, int]:
        if not signers:
            return {}
        with self.store.read() as session:
            rows = session.scalars(
                select(ForwarderNonce).where(ForwarderNonce.address.in_(signers))
            ).all()
            found = {row.address: row.next_nonce for row in rows}
        # Asked once per signer; afterwards the stored sequence is the truth (it runs
        # ahead of the chain while requests are in flight), resynced when the chain did
        # not use a nonce.
        for signer in signers - found.keys():
            found[signer] = int(self.forwarder.functions.nonces(signer).call())
        return found

    def resync(self, signer: str) -> None:
        """The forwarder did not use a nonce (the relayed transaction reverted, or the
        forwarder skipped the request): continue from the chain's."""
        with self.store.unit() as session:
            row = session.get(ForwarderNonce, signer)
            if row is not None:
                row.next_nonce = int(self.forwarder.functions.nonces(signer).call())


def save_forwarder_nonces(session: Any, nonces: dict[str, int]) -> None:
    for address, value in nonces.items():
        row = session.get(ForwarderNonce, address)
        if row is None:
            session.add(ForwarderNonce(address=address, next_nonce=value))
        else:
            row.next_nonce = value


def _suffix(data: str, sender: str | None) -> str:
    assert sender is not None
    return data + Web3.to_checksum_address(sender)[2:].lower()
