"""Settings of the treasurer's engine: where the book lives and how matching behaves.

One pydantic-settings object, built at the edge (CLI, web app, test) and passed down;
nothing below reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.settings import REPO_ROOT


class TreasurySettings(BaseSettings):
    """`ECCOO_TREASURY_*` environment variables override these defaults."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_TREASURY_", extra="ignore")

    # The treasurer's book (SQLite, created 0600): statements, matches, decisions, periods.
    book_path: Path = REPO_ROOT / ".eccoo" / "treasury" / "book.sqlite3"
    # A suggested match is a chain movement of the same amount within this many days.
    suggest_days: int = Field(default=3, ge=0, le=31)
    # Only blocks this deep below the head are read, so nothing in the book can be reorged.
    finality_blocks: int = Field(default=6, ge=0)
    # Blocks asked for in one eth_getLogs call.
    log_chunk_blocks: int = Field(default=5_000, gt=0)
