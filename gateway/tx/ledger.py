"""The gateway's view of the ledger: contracts, member actions queued for relaying.

A member action is queued as a plain call (target, calldata, signer); the transaction
manager's worker simulates it, signs it as an ERC-2771 forward request with the member's
own key and relays it, so the contracts see the member as the sender. A request never
waits for the chain: a refusal shows up as the transaction's `failed`/`reverted` state
with the contract's custom error decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eccoo.client.abi import named_output
from eccoo.client.deploy import poa_web3
from eccoo.client.deployment import load_deployment
from eccoo.client.forwarder import ForwardRequest
from eccoo.gateway.errors import Unavailable
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.store import statements
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction
from eccoo.gateway.tx.calldata import Calldata
from eccoo.gateway.tx.forwarding import FORWARDER_OVERHEAD, GAS_LIMITS, ForwardPreparer
from eccoo.gateway.tx.manager import TransactionManager
from eccoo.gateway.tx.revert import RevertDecoder
from eccoo.node.keys import load_account
from eccoo.node.manifest import load_manifest
from eth_account.signers.local import LocalAccount
from eth_utils import event_abi_to_log_topic
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.contract import Contract
from web3.types import EventData


class Ledger:
    """Contracts of one deployment, the operator key, and the transaction manager."""

    def __init__(
        self,
        settings: GatewaySettings,
        store: Store,
        on_change: Callable[[list[ChainTransaction]], None] | None = None,
        wake_event: Any = None,
    ) -> None:
        if settings.network_dir is None:
            raise Unavailable("no network folder is configured")
        network_dir = Path(settings.network_dir)
        manifest = load_manifest(network_dir)
        deployment = load_deployment(network_dir)
        self.w3: Web3 = poa_web3(manifest.rpc_url(manifest.nodes[0].index))
        self.chain_id = manifest.chain_id
        self.contracts: dict[str, Contract] = {
            key: deployment.contract(self.w3, key)
            for key in ("Forwarder", "Membership", "CareCoin", "FundingPots", "CareLedger")
        }
        self.deployed_at = {key: deployment.contracts[key].block for key in self.contracts}
        self.forwarder = self.contracts["Forwarder"]
        self.calldata = {key: Calldata(c) for key, c in self.contracts.items()}
        self.operator: LocalAccount = load_account(manifest.deployer)
        self.store = store
        self.decoder = RevertDecoder(c.abi for c in self.contracts.values())
        self._listeners = [on_change] if on_change else []
        # Who signs a signer's requests in the worker; the app adds custodial members.
        self.key_for: Callable[[str], LocalAccount | None] = self._operator_key
        self.forwarding = ForwardPreparer(
            store, self.w3, self.forwarder, self.chain_id, self.decoder, lambda a: self.key_for(a)
        )
        self._settings, self._wake_event = settings, wake_event
        self._relayers = _owned(manifest.relayers, settings)
        # Built by `start`, in the worker process only: the API never opens relayer keys.
        self.tm: TransactionManager | None = None
        # What a request calls after queueing: the API points it at its worker process.
        self.wake: Callable[[], None] = lambda: None

    def _operator_key(self, address: str) -> LocalAccount | None:
        return self.operator if address == self.operator.address else None

    def start(self) -> None:
        """Run the transaction manager here (in the worker process; see `worker`)."""
        settings = self._settings
        self.tm = TransactionManager(
            self.store,
            self.w3,
            [load_account(r) for r in self._relayers],
            chain_id=self.chain_id,
            confirmations=settings.confirmations,
            poll_seconds=settings.tx_poll_seconds,
            resubmit_after_seconds=settings.tx_resubmit_after_seconds,
            tx_fee_cap_wei=settings.tx_fee_cap_wei,
            decoder=self.decoder,
            on_change=self._changed,
            forwarding=self.forwarding,
            wake_event=self._wake_event,
        )
        self.wake = self.tm.wake
        self.tm.start()

    def stop(self) -> None:
        if self.tm is not None:
            self.tm.stop()

    def listen(self, fn: Callable[[list[ChainTransaction]], None]) -> None:
        """Call `fn` with the transactions whose state changed, a round's worth at a time."""
        self._listeners.append(fn)

    def _changed(self, txs: list[ChainTransaction]) -> None:
        for listener in self._listeners:
            listener(txs)

    # --- reads -------------------------------------------------------------------------------
    def call(self, key: str, fn: str, *args: Any) -> Any:
        try:
            return getattr(self.contracts[key].functions, fn)(*args).call()
        except Exception as exc:
            if "revert" in str(exc).lower():
                raise
            raise Unavailable("the chain does not answer") from exc

    def call_named(self, key: str, fn: str, *args: Any) -> dict[str, Any]:
        """A view call's result by the contract's field names (`a["status"]`, never `a[5]`)."""
        return self.named(key, fn, self.call(key, fn, *args))

    def named(self, key: str, fn: str, value: Any) -> dict[str, Any]:
        """`value`, a result of `fn` (from `call` or `batch_call`), by its field names."""
        return named_output(self.contracts[key].abi, fn, value)

    def batch_call(self, calls: Sequence[tuple[str, str, tuple[Any, ...]]]) -> list[Any]:
        """Several view calls `(key, fn, args)` in one JSON-RPC batch; results in order."""
        if not calls:
            return []
        try:
            with self.w3.batch_requests() as batch:
                for key, fn, args in calls:
                    batch.add(getattr(self.contracts[key].functions, fn)(*args))
                return list(batch.execute())
        except Exception as exc:
            if "revert" in str(exc).lower():
                raise
            raise Unavailable("the chain does not answer") from exc

    def logs(self, key: str, event: str, *indexed: Sequence[str] | None) -> list[EventData]:
        """`event`'s logs since `key` was deployed, in one eth_getLogs, whose indexed address
        arguments (in order) are each one of the given addresses (None: any)."""
        if any(allowed is not None and not allowed for allowed in indexed):
            return []  # an empty topic list would match everything, not nothing
        contract_event = getattr(self.contracts[key].events, event)()
        topics: list[Any] = ["0x" + event_abi_to_log_topic(contract_event.abi).hex()]
        topics += [None if a is None else [_address_topic(x) for x in a] for a in indexed]
        try:
            found = self.w3.eth.get_logs(
                {
                    "address": self.contracts[key].address,
                    "fromBlock": self.deployed_at[key],
                    "toBlock": "latest",
                    "topics": topics,
                }
            )
        except Exception as exc:
            raise Unavailable("the chain does not answer") from exc
        return [contract_event.process_log(log) for log in found]

    # --- member actions ----------------------------------------------------------------------
    def queue(self, session: Session, signer: str, **action: Any) -> ChainTransaction:
        """Add `target.fn(*args)`, signed here by `signer` (a custodial key or the operator),
        to the caller's unit of work (then `wake()`). With `queue_signed` (a request the
        member signed themselves) the only ways a transaction enters the queue.

        No chain access: the worker simulates, signs and relays it. Gas is the fixed limit
        for `fn` (or `gas`); a function without one is estimated by the worker. A request
        hash queued before gives back that transaction. `action` is `_queue_new`'s keywords.
        """
        found = _queued_earlier(session, action["dedupe_key"])
        return found if found is not None else self._queue_new(session, signer, **action)

    def _queue_new(
        self,
        session: Session,
        signer: str,
        *,
        subject: str,
        kind: str,
        target: str,
        fn: str,
        args: tuple[Any, ...],
        dedupe_key: str,
        gas: int | None = None,
    ) -> ChainTransaction:
        contract = self.contracts[target]
        tx = TransactionManager.queue_row(
            subject=subject,
            kind=kind,
            to=contract.address,
            data="0x" + self.calldata[target].encode(fn, *args).hex(),
            gas=gas or GAS_LIMITS.get(fn, 0),
            dedupe_key=dedupe_key,
            lane=signer,
            signer=signer,
        )
        TransactionManager.insert_row(session, tx)
        return tx

    def queue_signed(
        self,
        session: Session,
        request: ForwardRequest,
        *,
        subject: str,
        kind: str,
        dedupe_key: str,
    ) -> ChainTransaction:
        """Add a forward request the member signed with their own linked wallet to the
        caller's unit of work (then `wake()`); the worker simulates and relays it."""
        found = _queued_earlier(session, dedupe_key)
        if found is not None:
            return found
        tx = TransactionManager.queue_row(
            subject=subject,
            kind=kind,
            to=self.forwarder.address,
            data=self.forwarding.requests.relay([request], request.from_),
            gas=request.gas + request.gas // 32 + FORWARDER_OVERHEAD,
            dedupe_key=dedupe_key,
            lane=request.from_,
            signer=request.from_,
            forward_nonce=request.nonce,
        )
        TransactionManager.insert_row(session, tx)
        return tx

    def transactions_of(self, subject: str, limit: int = 50) -> list[ChainTransaction]:
        with self.store.read() as session:
            return list(
                session.scalars(
                    select(ChainTransaction)
                    .where(ChainTransaction.subject == subject)
                    .order_by(ChainTransaction.created_at.desc())
                    .limit(limit)
                ).all()
            )


def gateway_dedupe_key(*parts: str) -> str:
    """The `dedupe_key` of a transaction the gateway queues on its own (registration,
    hats, note anchors): `gateway/part/part`, never a colon. A member's keyed request
    queues `subject:key` (and `subject:key:step`), always with one, so no member's
    key can name the gateway's transaction, nor, being colon-free, another key's step.
    Parts are percent-encoded, so a part cannot carry a separator either."""
    return "/".join(("gateway", *(quote(part, safe="") for part in parts)))


def _queued_earlier(session: Session, dedupe_key: str) -> ChainTransaction | None:
    """The transaction queued under this dedupe key before, if any (one indexed look-up)."""
    tx_id = statements.queued_id(session, dedupe_key)
    return None if tx_id is None else session.get(ChainTransaction, tx_id)


def _address_topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:].lower()


def _owned(relayers: list[Any], settings: GatewaySettings) -> list[Any]:
    start = settings.relayer_offset
    end = start + settings.relayer_count if settings.relayer_count else len(relayers)
    owned = relayers[start:end]
    if not owned:
        raise Unavailable("no relayer keys are left for the gateway in the network manifest")
    return owned
