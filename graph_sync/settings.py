"""`GraphSettings`: the one configuration object of the indexer (env prefix ECCOO_GRAPH_).

Built once at the edge (CLI, test fixture) and passed down. It holds the path of the
Neo4j password file, never the password itself, so settings can be printed safely.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.settings import EccooSettings


def _default_data_dir() -> Path:
    return EccooSettings().data_dir / "indexer"


def _default_password_file() -> Path:
    return EccooSettings().data_dir / "neo4j" / "password"


class GraphSettings(BaseSettings):
    """Where the chain and the graph are, and how hard the indexer pushes."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_GRAPH_", extra="ignore")

    # The chain: a network folder (manifest + deployment.json), or explicit overrides.
    network_dir: Path | None = None
    rpc_url: str | None = None
    deployment_file: Path | None = None

    # The graph.
    bolt_url: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password_file: Path = Field(default_factory=_default_password_file)
    neo4j_database: str = "neo4j"

    # Where the running indexer keeps its status file.
    data_dir: Path = Field(default_factory=_default_data_dir)

    # Blocks above head - confirmations are unfinalized: kept with their hashes so a
    # reorg can be undone. A reorg deeper than this stops the indexer.
    confirmations: int = Field(default=12, ge=1, le=10_000)

    # eth_getLogs block ranges adapt between these bounds to land near target_logs. The
    # first range is small so that the first write starts early: every later range is
    # fetched while the one before it is written, and the range doubles while logs are few.
    initial_range: int = Field(default=16, ge=1)
    min_range: int = Field(default=1, ge=1)
    max_range: int = Field(default=50_000, ge=1)
    target_logs: int = Field(default=4_000, ge=10)
    # One write transaction carries at most this many events.
    batch_events: int = Field(default=4_000, ge=1)

    poll_interval: float = Field(default=0.2, gt=0)
    rpc_timeout: float = Field(default=15.0, gt=0)
    # How long a start waits for the node and Neo4j before a clear "unreachable" error.
    startup_timeout: float = Field(default=8.0, ge=0)
    max_backoff: float = Field(default=4.0, gt=0)

    @model_validator(mode="after")
    def _chain_source(self) -> GraphSettings:
        if self.network_dir is None and (self.rpc_url is None or self.deployment_file is None):
            raise ValueError("network_dir is required (or both rpc_url and deployment_file)")
        if self.min_range > self.max_range:
            raise ValueError("min_range must not exceed max_range")
        return self

    @property
    def status_file(self) -> Path:
        return self.data_dir / "status.json"

    def resolved_deployment_file(self) -> Path:
        if self.deployment_file is not None:
            return self.deployment_file
        assert self.network_dir is not None
        return self.network_dir / "deployment.json"

    def resolved_rpc_url(self) -> str:
        """The explicit rpc_url, else node 0 of the network manifest."""
        if self.rpc_url is not None:
            return self.rpc_url
        assert self.network_dir is not None
        from eccoo.node.manifest import load_manifest

        return load_manifest(self.network_dir).rpc_url(0)
