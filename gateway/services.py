"""The gateway's long-lived parts, built once from `GatewaySettings` when the app starts.

Routes reach them through `deps.get_services`; nothing here reads the environment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from eccoo.gateway.chain import Ledger
from eccoo.gateway.custody import KeyCustody, load_master_key
from eccoo.gateway.events import EventBroker
from eccoo.gateway.limits import RateLimiter
from eccoo.gateway.security import TokenValidator
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction, Member


@dataclass
class Services:
    settings: GatewaySettings
    store: Store
    validator: TokenValidator
    custody: KeyCustody
    salt: bytes = field(repr=False)
    limiter: RateLimiter
    ledger: Ledger | None = None  # None when no network folder is configured
    events: EventBroker = field(default_factory=lambda: EventBroker())

    @classmethod
    def build(cls, settings: GatewaySettings, validator: TokenValidator | None = None) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        master = load_master_key(settings)
        store = Store(settings.database_file)
        events = EventBroker()
        ledger = None
        if settings.network_dir is not None:
            ledger = Ledger(settings, store)
            ledger.listen(lambda tx: _on_transaction(store, events, tx))
        return cls(
            settings=settings,
            store=store,
            validator=validator or TokenValidator(settings),
            custody=KeyCustody(master),
            # The pseudonym salt derives from the master key, so ids are stable per gateway.
            salt=hashlib.sha256(b"eccoo member id" + master).digest(),
            limiter=RateLimiter(settings.submissions_per_minute),
            ledger=ledger,
            events=events,
        )

    def close(self) -> None:
        self.store.close()


def _on_transaction(store: Store, events: EventBroker, tx: ChainTransaction) -> None:
    """Follow-ups of a transaction's new state: membership bookkeeping and member events."""
    if tx.kind == "register" and tx.state == "confirmed":
        with store.unit() as session:
            member = session.get(Member, tx.subject)
            if member is not None:
                member.membership = "registered"
    events.publish(
        tx.subject,
        {
            "type": "transaction",
            "id": tx.id,
            "kind": tx.kind,
            "state": tx.state,
            "tx_hash": tx.tx_hash,
            "error": tx.error,
        },
    )
