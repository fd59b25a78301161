"""`NetworkSettings`: how eccoo runs geth (binary, log level, txpool limits, timeouts).

Built once at the edge (CLI, fixture, `eccoo up`) and passed down; the chain's own
parameters (chain id, period, ports) live in the manifest, not here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.engines import engine_paths
from eccoo.settings import EccooSettings


def _default_geth() -> Path:
    return engine_paths(EccooSettings()).geth


class NetworkSettings(BaseSettings):
    """Process-level knobs for the geth nodes; env prefix `ECCOO_NETWORK_`."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_NETWORK_", extra="ignore")

    geth: Path = Field(default_factory=_default_geth)
    verbosity: int = 2
    # Relayers send bursts from a few accounts: geth's defaults (16 executable and 64
    # queued per account, 5120 pool-wide) would drop or delay them.
    txpool_accountslots: int = 2048
    txpool_globalslots: int = 65536
    txpool_accountqueue: int = 2048
    txpool_globalqueue: int = 16384
    # geth's default trie/db cache is 1 GB per node; four nodes on a shared 2-core box
    # gain nothing from it.
    cache_mb: int = 256
    start_timeout: float = 120.0
