"""The gateway's long-lived parts, built once from `GatewaySettings` when the app starts.

Routes reach them through `deps.get_services`; nothing here reads the environment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from eccoo.gateway.api.events import EventBroker
from eccoo.gateway.api.limits import RateLimiter
from eccoo.gateway.identity.custody import KeyCustody, load_master_key
from eccoo.gateway.identity.tokens import TokenValidator
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.store.db import Store
from eccoo.gateway.tx.ledger import Ledger
from eccoo.gateway.tx.worker import WorkerProcess


@dataclass
class Services:
    settings: GatewaySettings
    store: Store
    validator: TokenValidator
    custody: KeyCustody
    salt: bytes = field(repr=False)
    limiter: RateLimiter
    listing_limiter: RateLimiter
    ledger: Ledger | None = None  # None when no network folder is configured
    worker: WorkerProcess | None = None  # the transaction worker, with the ledger
    events: EventBroker = field(default_factory=lambda: EventBroker())
    graph: Any = None  # eccoo.graph_sync.queries.GraphQueries when Neo4j is configured
    notes: Any = None  # eccoo.gateway.notes.CareNotes when Neo4j is configured
    driver: Any = None
    web_sessions: Any = None  # eccoo.gateway.web.sessions.WebSessions

    @classmethod
    def build(cls, settings: GatewaySettings, validator: TokenValidator | None = None) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        master = load_master_key(settings)
        store = Store(settings.database_file)
        events = EventBroker()
        custody = KeyCustody(master)
        ledger = worker = None
        if settings.network_dir is not None:
            ledger = Ledger(settings, store)
            worker = WorkerProcess(
                settings, lambda change: events.publish(change["subject"], change["event"])
            )
            ledger.wake = worker.wake
        driver = graph = notes = None
        if settings.neo4j_url:
            from eccoo.gateway.notes import CareNotes
            from eccoo.graph_sync.queries import GraphQueries
            from neo4j import GraphDatabase

            password = (
                settings.neo4j_password_file.read_text().strip()
                if settings.neo4j_password_file
                else ""
            )
            driver = GraphDatabase.driver(settings.neo4j_url, auth=(settings.neo4j_user, password))
            graph = GraphQueries(driver)
            notes = CareNotes(driver, hashlib.sha256(b"eccoo care notes" + master).digest(), store)
        from eccoo.gateway.web.sessions import WebSessions

        web_sessions = WebSessions(
            store,
            hashlib.sha256(b"eccoo web sessions" + master).digest(),
            settings.web_session_seconds,
        )
        return cls(
            settings=settings,
            store=store,
            validator=validator or TokenValidator(settings),
            custody=custody,
            # The pseudonym salt derives from the master key, so ids are stable per gateway.
            salt=hashlib.sha256(b"eccoo member id" + master).digest(),
            limiter=RateLimiter(settings.submissions_per_minute),
            listing_limiter=RateLimiter(settings.listings_per_minute, "appointment listings"),
            ledger=ledger,
            worker=worker,
            events=events,
            graph=graph,
            notes=notes,
            driver=driver,
            web_sessions=web_sessions,
        )

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.store.close()
        if self.driver is not None:
            self.driver.close()
