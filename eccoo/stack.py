"""The whole local stack on embedded defaults: what `eccoo up`, `down` and `status` drive.

It starts every component that exists, in dependency order (network, Neo4j, Keycloak,
contracts, indexer, gateway), each from its own package's API, and never reaches into
a component's internals. State lives under one data folder.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.services.keycloak import KeycloakService, KeycloakSettings
from eccoo.services.neo4j import Neo4jService, Neo4jSettings
from eccoo.services.process import ManagedProcess
from eccoo.settings import EccooSettings


class StackSettings(BaseSettings):
    """Ports and sizes of the local stack (env prefix ECCOO_STACK_)."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_STACK_", extra="ignore")

    validators: int = Field(default=4, ge=1, le=16)
    period: int = Field(default=1, ge=1)
    network_base_port: int = Field(default=8545, ge=1024, le=65000)
    neo4j_bolt_port: int = 7687
    keycloak_port: int = 8080
    keycloak_management_port: int = 9000
    gateway_port: int = 8700


@dataclass
class Stack:
    """The components of one data folder and how to start, stop and check each."""

    data_dir: Path
    settings: StackSettings = field(default_factory=StackSettings)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.eccoo = EccooSettings(data_dir=self.data_dir)
        self.neo4j = Neo4jService(
            Neo4jSettings(
                data_dir=self.data_dir / "neo4j", bolt_port=self.settings.neo4j_bolt_port
            ),
            self.eccoo,
        )
        self.keycloak = KeycloakService(
            KeycloakSettings(
                data_dir=self.data_dir / "keycloak",
                http_port=self.settings.keycloak_port,
                management_port=self.settings.keycloak_management_port,
            ),
            self.eccoo,
        )

    @property
    def network_dir(self) -> Path:
        return self.data_dir / "network"

    # -- steps, in the order `up` runs them -------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("network", self._start_network),
            ("neo4j", lambda: self.neo4j.start().to_dict()),
            ("keycloak", self._start_keycloak),
            ("contracts", self._deploy_contracts),
            ("indexer", self._start_indexer),
            ("gateway", self._start_gateway),
        ]
        return steps

    def _start_network(self) -> dict[str, Any]:
        from eccoo.node.api import init_network, load_manifest, start_network

        if not (self.network_dir / "manifest.json").exists():
            init_network(
                self.network_dir,
                validators=self.settings.validators,
                period=self.settings.period,
                base_port=self.settings.network_base_port,
            )
        start_network(self.network_dir)
        manifest = load_manifest(self.network_dir)
        return {
            "rpc_url": manifest.rpc_url(0),
            "ws_url": manifest.ws_url(0),
            "chain_id": manifest.chain_id,
        }

    def _start_keycloak(self) -> dict[str, Any]:
        endpoint = self.keycloak.start()
        info: dict[str, Any] = {"issuer": endpoint.issuer()}
        from eccoo.gateway.identity.realm import ensure_realm

        realm = ensure_realm(endpoint, self.data_dir / "keycloak")
        # Where each demo member's generated password is (the file, never the password).
        info["demo_users"] = {name: str(path) for name, path in realm.demo_users.items()}
        return info

    def _deploy_contracts(self) -> dict[str, Any]:
        from eccoo.client.deploy import deploy

        deployment = deploy(self.network_dir)
        contracts = getattr(deployment, "contracts", {}) or {}
        return {"contracts": sorted(contracts)}

    def _component_process(self, name: str) -> ManagedProcess:
        return ManagedProcess(name, self.data_dir / name / "run")

    def _start_indexer(self) -> dict[str, Any]:
        proc = self._component_process("indexer")
        proc.start(
            [
                sys.executable,
                "-m",
                "eccoo.cli",
                "index",
                "run",
                "--network-dir",
                str(self.network_dir),
                "--data-dir",
                str(self.data_dir / "indexer"),
                "--bolt-url",
                self.neo4j.endpoint().bolt_url,
                "--neo4j-password-file",
                str(self.neo4j.password_file),
            ]
        )
        return {"log": str(proc.log_file)}

    def _start_gateway(self) -> dict[str, Any]:
        proc = self._component_process("gateway")
        port = self.settings.gateway_port
        proc.start(
            [
                sys.executable,
                "-m",
                "eccoo.cli",
                "gateway",
                "run",
                "--data-dir",
                str(self.data_dir / "gateway"),
                "--network-dir",
                str(self.network_dir),
                "--keycloak-data-dir",
                str(self.data_dir / "keycloak"),
                "--bolt-url",
                self.neo4j.endpoint().bolt_url,
                "--neo4j-password-file",
                str(self.neo4j.password_file),
                "--port",
                str(port),
            ]
        )
        proc.wait_ready(self._gateway_answers, timeout=60, what="gateway")
        return {"url": self._gateway_url, "web": f"{self._gateway_url}/web"}

    # -- down and status ---------------------------------------------------------------

    def down(self) -> list[str]:
        """Stop everything, newest first; returns what was running."""
        stopped = []
        for name in ("gateway", "indexer"):
            if self._component_process(name).stop():
                stopped.append(name)
        for name, service in (("keycloak", self.keycloak), ("neo4j", self.neo4j)):
            if service.stop():
                stopped.append(name)
        if (self.network_dir / "manifest.json").exists():
            from eccoo.node.api import stop_network

            if stop_network(self.network_dir):
                stopped.append("network")
        return stopped

    def status(self) -> dict[str, Any]:
        """One entry per component, each with `healthy`."""
        report: dict[str, Any] = {}
        if (self.network_dir / "manifest.json").exists():
            from eccoo.node.api import network_status

            network = network_status(self.network_dir)
            nodes = network.get("nodes", [])
            network["healthy"] = bool(nodes) and all(n.get("running") for n in nodes)
            report["network"] = network
        else:
            report["network"] = {"healthy": False, "detail": "not initialised"}
        report["neo4j"] = self.neo4j.status()
        report["keycloak"] = self.keycloak.status()
        report["indexer"] = self._indexer_status()
        report["gateway"] = self._gateway_status()
        return report

    def _indexer_status(self) -> dict[str, Any]:
        from eccoo.graph_sync.status import read_status

        proc = self._component_process("indexer")
        entry: dict[str, Any] = {"running": proc.running(), "log": str(proc.log_file)}
        entry.update(read_status(self.data_dir / "indexer" / "status.json") or {})
        entry["running"] = proc.running()
        entry["healthy"] = proc.running() and not entry.get("last_error")
        return entry

    @property
    def _gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    def _gateway_answers(self) -> bool:
        """Health as the gateway reports it (`/healthz`), for start-up and status alike."""
        import httpx

        try:
            return httpx.get(f"{self._gateway_url}/healthz", timeout=3.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _gateway_status(self) -> dict[str, Any]:
        proc = self._component_process("gateway")
        return {
            "url": self._gateway_url,
            "running": proc.running(),
            "healthy": proc.running() and self._gateway_answers(),
            "log": str(proc.log_file),
        }
