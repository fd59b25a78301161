"""The transaction worker, in a process of its own beside the API.

It simulates, signs, relays and follows what requests queued, so its CPU-bound rounds
never compete with requests for one interpreter lock. The two share the database and
nothing else but a wake-up event and a queue of transaction changes (for members' event
streams). Beside the rounds it looks at the identity provider every `hat_sync_seconds`, so
a hat taken away there leaves the chain without waiting for the member's next call. It never
answers a request, and it exits when the API that started it is gone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from typing import Any

from eccoo.client.vocabulary import TxState
from eccoo.gateway.identity.custody import KeyCustody, load_master_key
from eccoo.gateway.identity.onboarding import sync_from_provider
from eccoo.gateway.identity.realm import MemberDirectory
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction, Member
from eccoo.gateway.tx.ledger import Ledger
from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from eccoo.errors import EccooError

log = logging.getLogger("eccoo.gateway.tx.worker")
Change = dict[str, Any]  # {"subject": ..., "event": {...}} as published to the member


class WorkerProcess:
    """The API's handle on its worker: start, wake, stop; changes go to `on_change`."""

    def __init__(self, settings: GatewaySettings, on_change: Callable[[Change], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self._wake = context.Event()
        self._stop = context.Event()
        self._changes: Any = context.Queue(10_000)
        self._on_change = on_change
        self._process = context.Process(
            target=run,
            args=(settings, self._wake, self._stop, self._changes, os.getpid()),
            name="eccoo-tx-worker",
            daemon=True,
        )
        self._pump = threading.Thread(target=self._drain, name="eccoo-tx-events", daemon=True)
        self._started = False

    def start(self) -> None:
        self._process.start()
        self._pump.start()
        self._started = True

    def wake(self) -> None:
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._started and self._process.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to finish its round and exit; kill it if it does not."""
        if not self._started:
            return
        self._started = False
        self._stop.set()
        self._wake.set()
        self._process.join(timeout)
        if self._process.is_alive():
            log.warning("the transaction worker did not stop in %.0fs; killing it", timeout)
            self._process.kill()
            self._process.join(5)
        self._changes.put(None)
        self._pump.join(5)

    def _drain(self) -> None:
        while True:
            batch = self._changes.get()  # one list per worker round
            if batch is None:
                return
            for change in batch:
                try:
                    self._on_change(change)
                except Exception:
                    log.exception("publishing a transaction change failed")


def run(
    settings: GatewaySettings,
    wake: Any,
    stop: Any,
    changes: Any,
    parent: int,
) -> None:
    """The worker process: one transaction manager until asked to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the API, which stops us
    # Acknowledging a request is what a member waits for; signing rounds can wait a little.
    os.nice(settings.worker_niceness)
    store = Store(settings.database_file)
    custody = KeyCustody(load_master_key(settings))
    ledger = Ledger(settings, store, wake_event=wake)
    ledger.key_for = custodial_keys(store, custody, ledger.key_for)
    ledger.listen(lambda txs: record_registration(store, txs))
    ledger.listen(lambda txs: report(changes, txs))
    ledger.start()
    start_hat_sync(settings, ledger, store, stop)
    try:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                log.warning("the gateway that started this worker is gone; stopping")
                break
    finally:
        ledger.stop()
        store.close()


def start_hat_sync(
    settings: GatewaySettings, ledger: Ledger, store: Store, stop: Any
) -> threading.Thread | None:
    """Mirror the provider's hat changes every `hat_sync_seconds` until `stop` (a thread
    of this process; off without a directory client secret)."""
    secret = settings.directory_client_secret_file
    if not settings.hat_sync_seconds or secret is None or not settings.issuer:
        return None
    directory = MemberDirectory(settings.issuer, settings.directory_client_id, secret)

    def loop() -> None:
        while not stop.wait(settings.hat_sync_seconds):
            try:
                sync_from_provider(ledger, store, directory)
            except EccooError as exc:  # the provider or the store is away: next period
                log.warning("syncing hats with the identity provider failed: %s", exc)
            except Exception:
                log.exception("syncing hats with the identity provider failed")
        directory.close()

    thread = threading.Thread(target=loop, name="eccoo-hat-sync", daemon=True)
    thread.start()
    return thread


def custodial_keys(
    store: Store, custody: KeyCustody, fallback: Callable[[str], LocalAccount | None]
) -> Callable[[str], LocalAccount | None]:
    """The worker's key look-up: a custodial member's key, opened for one round."""

    def key_for(address: str) -> LocalAccount | None:
        with store.read() as session:
            member = session.scalars(
                select(Member).where(Member.address == address, Member.wallet_kind == "custodial")
            ).first()
        if member is None:
            return fallback(address)
        return custody.open(member.subject, member.key_ciphertext, member.key_nonce)

    return key_for


def record_registration(store: Store, txs: list[ChainTransaction]) -> None:
    """A confirmed registration makes the member `registered` (done here, durably)."""
    for tx in txs:
        if tx.kind == "register" and tx.state == TxState.CONFIRMED:
            with store.unit() as session:
                member = session.get(Member, tx.subject)
                if member is not None:
                    member.membership = "registered"


def report(changes: Any, txs: list[ChainTransaction]) -> None:
    """Tell the API about a round's new states, for members' event streams (best effort)."""
    batch = [
        {
            "subject": tx.subject,
            "event": {
                "type": "transaction",
                "id": tx.id,
                "kind": tx.kind,
                "state": tx.state,
                "tx_hash": tx.tx_hash,
                "error": tx.error,
            },
        }
        for tx in txs
    ]
    try:
        changes.put_nowait(batch)
    except queue.Full:
        pass  # nobody is draining: streams miss it, the transactions' states are stored
