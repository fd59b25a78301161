"""The gateway's view of the ledger: contracts, forward requests, the transaction manager.

Member actions are ERC-2771 forward requests signed with the member's own key (custodial,
opened only for the signature) and relayed; the contracts see the member as the sender.
A request that would revert is refused before it is queued, with the contract's error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eccoo.client.deploy import poa_web3
from eccoo.client.deployment import load_deployment
from eccoo.client.forwarder import ForwardRequest, encode_call, sign_request
from eccoo.gateway.errors import StateConflict, Unavailable
from eccoo.gateway.revert import RevertDecoder, revert_data
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction, ForwarderNonce
from eccoo.gateway.txmanager import Submitted, TransactionManager
from eccoo.node.keys import load_account
from eccoo.node.manifest import load_manifest
from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from web3 import Web3
from web3.contract import Contract

HAT_IDS = {
    "care_receiver": 0,
    "care_giver": 1,
    "arranger": 2,
    "supporter": 3,
    "coordinator": 4,
    "treasurer": 5,
    "admin": 6,
}
FORWARD_TTL_SECONDS = 900
# Gas the forwarder itself spends around the inner call (signature check, nonce, event).
FORWARDER_OVERHEAD = 90_000


class ChainRejected(StateConflict):
    """The contracts would refuse this action; `message` is the decoded custom error."""


class Ledger:
    """Contracts of one deployment, the operator key, and the transaction manager."""

    def __init__(
        self,
        settings: GatewaySettings,
        store: Store,
        on_change: Callable[[ChainTransaction], None] | None = None,
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
        self.forwarder = self.contracts["Forwarder"]
        self.operator: LocalAccount = load_account(manifest.deployer)
        self.store = store
        self.decoder = RevertDecoder(c.abi for c in self.contracts.values())
        self.decoder.inner_call = self._inner_call  # type: ignore[attr-defined]
        self._listeners = [on_change] if on_change else []
        self.tm = TransactionManager(
            store,
            self.w3,
            [load_account(r) for r in manifest.relayers],
            chain_id=self.chain_id,
            confirmations=settings.confirmations,
            poll_seconds=settings.tx_poll_seconds,
            resubmit_after_seconds=settings.tx_resubmit_after_seconds,
            decoder=self.decoder,
            on_change=self._changed,
        )
        self._nonce_lock = threading.RLock()

    def start(self) -> None:
        self.tm.start()

    def stop(self) -> None:
        self.tm.stop()

    def listen(self, fn: Callable[[ChainTransaction], None]) -> None:
        self._listeners.append(fn)

    def _changed(self, tx: ChainTransaction) -> None:
        if tx.state == "reverted" and tx.signer:
            # The forwarder did not use the nonce of a reverted request: sign from the chain's.
            with self._nonce_lock, self.store.unit() as session:
                row = session.get(ForwarderNonce, tx.signer)
                if row is not None:
                    row.next_nonce = int(self.forwarder.functions.nonces(tx.signer).call())
        for listener in self._listeners:
            listener(tx)

    # --- reads -------------------------------------------------------------------------------
    def call(self, key: str, fn: str, *args: Any) -> Any:
        try:
            return getattr(self.contracts[key].functions, fn)(*args).call()
        except Exception as exc:
            if "revert" in str(exc).lower():
                raise
            raise Unavailable("the chain does not answer") from exc

    # --- forward requests --------------------------------------------------------------------
    def _next_forward_nonce(self, address: str) -> int:
        with self._nonce_lock, self.store.unit() as session:  # re-entrant
            row = session.get(ForwarderNonce, address)
            # The chain is asked once per signer; afterwards the stored sequence is the truth
            # (it runs ahead of the chain while requests are queued), resynced on a revert.
            if row is None:
                nonce = int(self.forwarder.functions.nonces(address).call())
            else:
                nonce = row.next_nonce
            if row is None:
                session.add(ForwarderNonce(address=address, next_nonce=nonce + 1))
            else:
                row.next_nonce = nonce + 1
            return nonce

    def _inner_call(self, tx: ChainTransaction) -> dict[str, Any] | None:
        """The target call inside a relayed `execute`, as the forwarder makes it."""
        try:
            _fn, args = self.forwarder.decode_function_input(tx.data)
        except ValueError:
            return None
        req = args["request"]
        return {
            "from": self.forwarder.address,
            "to": req[1] if isinstance(req, tuple) else req["to"],
            "data": _suffixed(req),
            "gas": tx.gas,
        }

    def forward(
        self,
        signer: LocalAccount,
        *,
        subject: str,
        kind: str,
        target: str,
        fn: str,
        args: tuple[Any, ...],
        request_hash: str,
        check: bool = True,
        gas: int = 300_000,
    ) -> Submitted:
        """Sign `target.fn(*args)` as `signer`, check it would succeed, and queue it.

        `check=False` is for a request that depends on one queued just before it (an
        approve before a deposit): it cannot be simulated yet, so it gets a fixed `gas`.
        """
        existing = self.tm.find(request_hash)
        if existing is not None:
            return Submitted(existing, created=False)
        contract = self.contracts[target]
        data = encode_call(contract, fn, *args)
        if check:
            probe = {
                "from": self.forwarder.address,
                "to": contract.address,
                "data": "0x" + (data + bytes.fromhex(signer.address[2:])).hex(),
            }
            try:
                inner_gas = int(self.w3.eth.estimate_gas(probe))  # type: ignore[arg-type]
            except Exception as exc:
                name, detail = self.decoder.decode(revert_data(exc))
                raise ChainRejected(f"{name}{' ' + detail if detail else ''}", field=kind) from None
            gas = inner_gas + inner_gas // 5 + 10_000
        # Clique block times follow the validators' clocks: wall clock + TTL, no RPC per request.
        deadline = int(time.time()) + FORWARD_TTL_SECONDS
        # One lock and one commit over nonce and enqueue: a signer's requests enter the
        # queue in nonce order, and a nonce is never taken without its transaction.
        with self._nonce_lock, self.store.unit() as session:
            found = session.scalar(
                select(ChainTransaction.id).where(ChainTransaction.request_hash == request_hash)
            )
            if found is not None:
                return Submitted(found, created=False)
            row = session.get(ForwarderNonce, signer.address)
            if row is None:  # asked once per signer; then the stored sequence is the truth
                row = ForwarderNonce(
                    address=signer.address,
                    next_nonce=int(self.forwarder.functions.nonces(signer.address).call()),
                )
                session.add(row)
            nonce = row.next_nonce
            row.next_nonce = nonce + 1
            request = ForwardRequest(
                signer.address, contract.address, 0, gas, nonce, deadline, data
            )
            signed = sign_request(
                signer, request, chain_id=self.chain_id, forwarder_address=self.forwarder.address
            )
            tx = self.tm.queue_row(
                subject=subject,
                kind=kind,
                to=self.forwarder.address,
                data=self.forwarder.encode_abi("execute", args=[signed.as_call_arg()]),
                gas=gas + gas // 32 + FORWARDER_OVERHEAD,
                request_hash=request_hash,
                lane=signer.address,
                signer=signer.address,
                forward_nonce=nonce,
            )
            session.add(tx)
        self.tm.wake()
        return Submitted(tx.id, created=True)

    def forward_signed(
        self, request: ForwardRequest, *, subject: str, kind: str, request_hash: str
    ) -> Submitted:
        """Relay a request a member signed with their own linked wallet."""
        execute = self.forwarder.encode_abi("execute", args=[request.as_call_arg()])
        return self.tm.submit(
            subject=subject,
            kind=kind,
            to=self.forwarder.address,
            data=execute,
            gas=request.gas + request.gas // 32 + FORWARDER_OVERHEAD,
            request_hash=request_hash,
            lane=request.from_,
            signer=request.from_,
            forward_nonce=request.nonce,
        )

    def transactions_of(self, subject: str, limit: int = 50) -> list[ChainTransaction]:
        with self.store.unit() as session:
            return list(
                session.scalars(
                    select(ChainTransaction)
                    .where(ChainTransaction.subject == subject)
                    .order_by(ChainTransaction.created_at.desc())
                    .limit(limit)
                ).all()
            )


def _suffixed(req: Any) -> str:
    # ForwardRequestData: (from, to, value, gas, deadline, data, signature)
    sender, data = (req[0], req[5]) if isinstance(req, tuple) else (req["from"], req["data"])
    return "0x" + (bytes(data) + bytes.fromhex(Web3.to_checksum_address(sender)[2:])).hex()


def _owned(relayers: list[Any], settings: GatewaySettings) -> list[Any]:
    start = settings.relayer_offset
    end = start + settings.relayer_count if settings.relayer_count else len(relayers)
    owned = relayers[start:end]
    if not owned:
        raise Unavailable("no relayer keys are left for the gateway in the network manifest")
    return owned
