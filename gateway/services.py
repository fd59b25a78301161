"""The gateway's long-lived parts, built once from `GatewaySettings` when the app starts.

Routes reach them through `deps.get_services`; nothing here reads the environment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from eccoo.gateway.custody import KeyCustody, load_master_key
from eccoo.gateway.limits import RateLimiter
from eccoo.gateway.security import TokenValidator
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.store.db import Store


@dataclass
class Services:
    settings: GatewaySettings
    store: Store
    validator: TokenValidator
    custody: KeyCustody
    salt: bytes = field(repr=False)
    limiter: RateLimiter
    chain: object | None = None  # eccoo.gateway.txmanager.TransactionManager when configured

    @classmethod
    def build(cls, settings: GatewaySettings, validator: TokenValidator | None = None) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        master = load_master_key(settings)
        return cls(
            settings=settings,
            store=Store(settings.database_file),
            validator=validator or TokenValidator(settings),
            custody=KeyCustody(master),
            # The pseudonym salt derives from the master key, so ids are stable per gateway.
            salt=hashlib.sha256(b"eccoo member id" + master).digest(),
            limiter=RateLimiter(settings.submissions_per_minute),
        )

    def close(self) -> None:
        self.store.close()
