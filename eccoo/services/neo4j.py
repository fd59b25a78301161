"""A real Neo4j 5.26 Community server, run from the Maven Central jars as a process.

Bolt listens on loopback only; authentication is always on, with a password generated
at first start (stored 0600, never printed). Data and logs live under the data folder.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eccoo.engines import NEO4J_VERSION, engine_paths, java_binary
from eccoo.errors import ServiceFailed, ToolchainError
from eccoo.secret_files import ensure_secret, read_secret
from eccoo.services.process import ManagedProcess, port_answers, require_free_ports
from eccoo.settings import EccooSettings

_JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]


class Neo4jSettings(BaseSettings):
    """Where and how the local Neo4j runs (env prefix ECCOO_NEO4J_)."""

    model_config = SettingsConfigDict(env_prefix="ECCOO_NEO4J_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: EccooSettings().data_dir / "neo4j")
    bolt_port: int = Field(default=7687, ge=1, le=65535)
    heap: str = "1g"
    pagecache: str = "512m"
    start_timeout: float = 180.0


@dataclass(frozen=True)
class Neo4jEndpoint:
    """How to reach a running Neo4j: the password stays in its file."""

    bolt_url: str
    user: str
    password_file: Path

    def password(self) -> str:
        return read_secret(self.password_file)

    def auth(self) -> tuple[str, str]:
        return (self.user, self.password())

    def driver(self) -> Any:
        from neo4j import GraphDatabase

        return GraphDatabase.driver(self.bolt_url, auth=self.auth())

    def to_dict(self) -> dict[str, Any]:
        return {
            "bolt_url": self.bolt_url,
            "user": self.user,
            "password_file": str(self.password_file),
        }


class Neo4jService:
    """Start, stop and check one Neo4j server whose state lives in `settings.data_dir`."""

    def __init__(
        self, settings: Neo4jSettings | None = None, eccoo: EccooSettings | None = None
    ) -> None:
        self.settings = settings or Neo4jSettings()
        self.eccoo = eccoo or EccooSettings()
        self.home = self.settings.data_dir
        self.process = ManagedProcess("neo4j", self.home / "run")

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    def endpoint(self) -> Neo4jEndpoint:
        return Neo4jEndpoint(
            f"bolt://127.0.0.1:{self.settings.bolt_port}", "neo4j", self.password_file
        )

    def _write_config(self) -> Path:
        conf_dir = self.home / "conf"
        conf_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "# written by eccoo at every start; edit Neo4jSettings, not this file",
            "server.default_listen_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{self.settings.bolt_port}",
            "server.bolt.enabled=true",
            "server.http.enabled=false",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            f"server.directories.data={self.home / 'data'}",
            f"server.directories.logs={self.home / 'logs'}",
            f"server.directories.run={self.home / 'run'}",
            f"server.directories.import={self.home / 'import'}",
            f"server.directories.plugins={self.home / 'plugins'}",
            f"server.memory.heap.initial_size={self.settings.heap}",
            f"server.memory.heap.max_size={self.settings.heap}",
            f"server.memory.pagecache.size={self.settings.pagecache}",
            "dbms.usage_report.enabled=false",
            "db.tx_log.rotation.retention_policy=2 days",
        ]
        conf = conf_dir / "neo4j.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf_dir

    def _classpath(self) -> str:
        lib = engine_paths(self.eccoo).neo4j_lib
        if not lib.exists():
            raise ToolchainError(f"Neo4j {NEO4J_VERSION} is not installed; run `eccoo setup`")
        return f"{lib}/*"

    def _set_initial_password(self, conf_dir: Path) -> None:
        # Only effective before the first start; the auth.ini it writes seeds the system db.
        if (self.home / "data" / "databases" / "system").exists():
            return
        password = ensure_secret(self.password_file)
        env = {"NEO4J_HOME": str(self.home), "NEO4J_CONF": str(conf_dir)}
        proc = subprocess.run(
            [
                java_binary(self.eccoo),
                "-cp",
                self._classpath(),
                "org.neo4j.cli.AdminTool",
                "dbms",
                "set-initial-password",
                "--",  # a generated password may begin with "-"
                password,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise ServiceFailed(f"setting Neo4j's initial password failed: {proc.stderr[-500:]}")

    def start(self) -> Neo4jEndpoint:
        """Start (or find running) and wait until Bolt answers an authenticated query."""
        endpoint = self.endpoint()
        if self.process.running():
            self._wait(endpoint)
            return endpoint
        require_free_ports({"neo4j bolt": self.settings.bolt_port})
        conf_dir = self._write_config()
        self._set_initial_password(conf_dir)
        java = java_binary(self.eccoo)
        argv = [
            java,
            *_JVM_FLAGS,
            f"-Xmx{self.settings.heap}",
            "-cp",
            self._classpath(),
            "org.neo4j.server.CommunityEntryPoint",
            f"--home-dir={self.home}",
            f"--config-dir={conf_dir}",
        ]
        self.process.start(
            argv, env={"NEO4J_HOME": str(self.home), "NEO4J_CONF": str(conf_dir)}, cwd=self.home
        )
        self._wait(endpoint)
        return endpoint

    def _wait(self, endpoint: Neo4jEndpoint) -> None:
        def ready() -> bool:
            return port_answers(self.settings.bolt_port) and self._query_ok(endpoint)

        self.process.wait_ready(
            ready, timeout=self.settings.start_timeout, what=f"Neo4j on {endpoint.bolt_url}"
        )

    @staticmethod
    def _query_ok(endpoint: Neo4jEndpoint) -> bool:
        with endpoint.driver() as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS ok")
            return bool(records and records[0]["ok"] == 1)

    def stop(self) -> bool:
        return self.process.stop(timeout=60)

    def status(self) -> dict[str, Any]:
        endpoint = self.endpoint()
        healthy = False
        if self.process.running():
            try:
                healthy = self._query_ok(endpoint)
            except Exception:  # any driver failure means "not healthy", reported as such
                healthy = False
        return {
            **endpoint.to_dict(),
            "running": self.process.running(),
            "healthy": healthy,
            "log": str(self.home / "logs" / "neo4j.log"),
        }
