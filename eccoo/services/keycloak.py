"""A real Keycloak 26 server (the Quarkus distribution from Maven Central) as a process.

It listens on loopback only, keeps its H2 database in its own data folder and has a
bootstrap admin whose password is generated at first start and kept 0600. Realms are
provisioned by the gateway package (`eccoo.gateway.identity.realm`), not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.engines import KEYCLOAK_VERSION, engine_paths, java_binary
from eccoo.errors import ToolchainError
from eccoo.secret_files import ensure_secret, read_secret
from eccoo.services.process import ManagedProcess, require_free_ports
from eccoo.settings import EccooSettings


class KeycloakSettings(BaseSettings):
    """Where and how the local Keycloak runs (env prefix ECCOO_KEYCLOAK_)."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_KEYCLOAK_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: EccooSettings().data_dir / "keycloak")
    http_port: int = Field(default=8080, ge=1, le=65535)
    management_port: int = Field(default=9000, ge=1, le=65535)
    heap: str = "768m"
    realm: str = "eccoo"
    start_timeout: float = 240.0


@dataclass(frozen=True)
class KeycloakEndpoint:
    """How to reach a running Keycloak; the admin password stays in its file."""

    base_url: str
    admin_user: str
    admin_password_file: Path
    management_url: str
    realm: str = "eccoo"

    def admin_password(self) -> str:
        return read_secret(self.admin_password_file)

    def issuer(self, realm: str | None = None) -> str:
        return f"{self.base_url}/realms/{realm or self.realm}"

    def discovery_url(self, realm: str | None = None) -> str:
        return f"{self.issuer(realm)}/.well-known/openid-configuration"

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "issuer": self.issuer(),
            "admin_user": self.admin_user,
            "admin_password_file": str(self.admin_password_file),
        }


class KeycloakService:
    """Start, stop and check one Keycloak whose state lives in `settings.data_dir`."""

    def __init__(
        self, settings: KeycloakSettings | None = None, eccoo: EccooSettings | None = None
    ) -> None:
        self.settings = settings or KeycloakSettings()
        self.eccoo = eccoo or EccooSettings()
        self.home = self.settings.data_dir
        self.process = ManagedProcess("keycloak", self.home / "run")

    @property
    def admin_password_file(self) -> Path:
        return self.home / "admin-password"

    def endpoint(self) -> KeycloakEndpoint:
        return KeycloakEndpoint(
            base_url=f"http://127.0.0.1:{self.settings.http_port}",
            admin_user="admin",
            admin_password_file=self.admin_password_file,
            management_url=f"http://127.0.0.1:{self.settings.management_port}",
            realm=self.settings.realm,
        )

    def start(self) -> KeycloakEndpoint:
        """Start (or find running) and wait until the master realm's discovery answers."""
        endpoint = self.endpoint()
        if self.process.running():
            self._wait(endpoint)
            return endpoint
        require_free_ports(
            {
                "keycloak http": self.settings.http_port,
                "keycloak management": self.settings.management_port,
            }
        )
        kc_home = engine_paths(self.eccoo).keycloak_home
        if not (kc_home / "bin" / "kc.sh").exists():
            raise ToolchainError(f"Keycloak {KEYCLOAK_VERSION} is not installed; run `eccoo setup`")
        password = ensure_secret(self.admin_password_file)
        db_dir = self.home / "h2"
        db_dir.mkdir(parents=True, exist_ok=True)
        java = Path(java_binary(self.eccoo)).resolve()
        argv = [
            str(kc_home / "bin" / "kc.sh"),
            "start-dev",
            "--http-host=127.0.0.1",
            f"--http-port={self.settings.http_port}",
            f"--http-management-port={self.settings.management_port}",
            "--health-enabled=true",
            "--db=dev-file",
            f"--db-url=jdbc:h2:file:{db_dir / 'keycloakdb'};NON_KEYWORDS=VALUE",
            "--hostname-strict=false",
            "--log-level=WARN,org.keycloak.services:INFO",
        ]
        env = {
            "KC_BOOTSTRAP_ADMIN_USERNAME": endpoint.admin_user,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": password,
            "JAVA_HOME": str(java.parent.parent),
            "JAVA_OPTS_KC_HEAP": f"-Xms128m -Xmx{self.settings.heap}",
        }
        self.process.start(argv, env=env, cwd=self.home)
        self._wait(endpoint)
        return endpoint

    def _wait(self, endpoint: KeycloakEndpoint) -> None:
        self.process.wait_ready(
            lambda: self._discovery_ok(endpoint, "master"),
            timeout=self.settings.start_timeout,
            what=f"Keycloak on {endpoint.base_url}",
            interval=1.0,
        )

    @staticmethod
    def _discovery_ok(endpoint: KeycloakEndpoint, realm: str) -> bool:
        response = httpx.get(endpoint.discovery_url(realm), timeout=3.0)
        return response.status_code == 200 and "issuer" in response.json()

    def stop(self) -> bool:
        return self.process.stop(timeout=60)

    def status(self) -> dict[str, Any]:
        endpoint = self.endpoint()
        healthy = False
        realm_ready = False
        if self.process.running():
            try:
                healthy = self._discovery_ok(endpoint, "master")
                realm_ready = self._discovery_ok(endpoint, endpoint.realm)
            except httpx.HTTPError:
                healthy = False
        return {
            **endpoint.to_dict(),
            "running": self.process.running(),
            "healthy": healthy,
            "realm_ready": realm_ready,
            "log": str(self.process.log_file),
        }
