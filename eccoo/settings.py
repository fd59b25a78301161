"""Settings shared by every component: where the engine cache and the data live.

Each component has one pydantic-settings object (this one, `NetworkSettings`,
`GraphSettings`, `GatewaySettings`...). They are built once at the edge (the CLI, a
test fixture) and passed down; nothing deep in the code reads `os.environ`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache() -> Path:
    return Path.home() / ".cache" / "eccoo"


class EccooSettings(BaseSettings):
    """Where engines are cached and where the local stack keeps its state."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_", extra="ignore")

    cache_dir: Path = Field(default_factory=_default_cache)
    data_dir: Path = Field(default=REPO_ROOT / ".eccoo")
    java_home: Path | None = None

    @property
    def engines_dir(self) -> Path:
        return self.cache_dir / "engines"
