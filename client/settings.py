"""Settings of the contracts client: where artifacts go and how a deployment is wired.

One pydantic-settings class, built at the edge (CLI, fixture, `eccoo up`) and passed down;
nothing below reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.settings import REPO_ROOT


class ContractsSettings(BaseSettings):
    """`ECCOO_CONTRACTS_*` environment variables override these defaults."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_CONTRACTS_", extra="ignore")

    build_dir: Path = REPO_ROOT / "build" / "contracts"
    # The Commons Contribution set at deployment, in basis points of the price: the payer's
    # on top (17.5 %) and the giver's taken from it (7.5 %), the cooperative's published figures.
    payer_contribution_bps: int = Field(default=1750, ge=0, le=10_000)
    giver_contribution_bps: int = Field(default=750, ge=0, le=10_000)
    # How long to wait for one transaction to be mined before giving up, in seconds.
    receipt_timeout: float = Field(default=120.0, gt=0)


class LoginSettings(BaseSettings):
    """Signing in from a terminal (`ECCOO_LOGIN_*`). With no issuer, the local stack's
    realm (recorded by `eccoo up` under the data folder) is used."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_LOGIN_", extra="ignore")

    issuer: str = ""
    client_id: str = "eccoo-cli"
    gateway_url: str = "http://127.0.0.1:8700"
    # The session's tokens: a secret, kept 0600 in a 0700 folder.
    session_file: Path = Field(
        default_factory=lambda: Path.home() / ".config" / "eccoo" / "session.json"
    )
