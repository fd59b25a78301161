"""The gateway's one settings object (`ECCOO_GATEWAY_*`), built at the edge and passed down.

Nothing else in the gateway reads the environment. The master key may come from a file
or from the environment; it is a `SecretStr` so it never shows in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.settings import REPO_ROOT

# RFC 8725 §3.1: a fixed allow-list; never taken from the token itself.
ALLOWED_ALGORITHMS = ("RS256", "ES256")


class GatewaySettings(BaseSettings):
    """Where the gateway keeps its state, whom it trusts, and its limits."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_GATEWAY_", extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / ".eccoo" / "gateway")
    host: str = "127.0.0.1"
    port: int = 8700

    # Identity: any standard OIDC provider, found by discovery from its issuer URL.
    issuer: str = ""
    audience: str = "eccoo-gateway"
    algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS
    clock_leeway_seconds: int = 5
    jwks_cache_seconds: int = 300
    jwks_refetch_min_interval_seconds: float = 10.0
    # A validated token is remembered this long (never past its `exp`); 0 checks every call.
    token_cache_seconds: int = Field(default=30, ge=0, le=300)

    # Custodial keys are encrypted under this master key (32 bytes, hex or a file of hex).
    master_key: SecretStr | None = None
    master_key_file: Path | None = None

    # The chain: the network folder written by `eccoo network` (manifest + deployment).
    network_dir: Path | None = None
    confirmations: int = Field(default=2, ge=0, le=64)
    # Which of the manifest's relayer keys this gateway owns (no other sender may use them).
    relayer_offset: int = Field(default=0, ge=0)
    relayer_count: int = Field(default=0, ge=0, description="0 = all from the offset on")
    tx_poll_seconds: float = 0.5
    tx_resubmit_after_seconds: float = 30.0
    # The node refuses a transaction whose gas limit x gas price exceeds its fee cap (geth's
    # --rpc.txfeecap, 1 ether by default); batches of forward requests are sized under it.
    tx_fee_cap_wei: int = Field(default=10**18, gt=0)
    # The worker process's niceness: requests are served first when the CPU is short.
    worker_niceness: int = Field(default=5, ge=0, le=19)

    # The graph (optional: graph routes answer 503 without it).
    neo4j_url: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password_file: Path | None = None

    # Member web pages: sign-in with the confidential web client (authorization code + PKCE).
    public_url: str = ""  # where browsers reach the gateway; default http://host:port
    web_client_id: str = "eccoo-web"
    web_client_secret_file: Path | None = None
    # A web session ends this long after sign-in (its tokens are refreshed within it).
    web_session_seconds: int = Field(default=8 * 3600, gt=0, le=7 * 24 * 3600)
    # The built CSS and JavaScript of the pages; default: the engine cache's (`eccoo setup`).
    web_assets_dir: Path | None = None

    # Hats the identity provider takes away leave the chain within this many seconds, even
    # for a member who never calls again: the worker reads members' roles with the
    # directory client's service account (view-users). 0, or no secret, turns it off.
    directory_client_id: str = "eccoo-gateway-directory"
    directory_client_secret_file: Path | None = None
    hat_sync_seconds: float = Field(default=60.0, ge=0)

    # Limits.
    max_body_bytes: int = 64 * 1024
    submissions_per_minute: int = 600
    # Listing one's appointments reads the chain's logs: its own, separate budget.
    listings_per_minute: int = Field(default=60, gt=0)
    max_amount: int = 10**30

    @field_validator("algorithms")
    @classmethod
    def _only_allowed(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [alg for alg in value if alg not in ALLOWED_ALGORITHMS]
        if bad or not value:
            raise ValueError(f"algorithms must be a subset of {ALLOWED_ALGORITHMS}, got {value}")
        return value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def database_file(self) -> Path:
        return self.data_dir / "gateway.db"
