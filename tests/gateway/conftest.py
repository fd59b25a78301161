"""A gateway app per test module, on a temporary data folder, trusting the test realm."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eccoo.client.deploy import deploy
from eccoo.gateway.api.app import create_app
from eccoo.gateway.identity.realm import RealmInfo
from eccoo.gateway.parts import Services
from eccoo.gateway.settings import GatewaySettings
from fastapi.testclient import TestClient

from eccoo.services.process import free_port


def gateway_settings(realm: RealmInfo, data_dir: Path, **extra: object) -> GatewaySettings:
    return GatewaySettings(
        issuer=realm.issuer,
        audience=realm.audience,
        data_dir=data_dir,
        jwks_refetch_min_interval_seconds=0.0,
        **extra,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def gateway(
    eccoo_realm: RealmInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = gateway_settings(eccoo_realm, tmp_path_factory.mktemp("gateway"))
    with TestClient(create_app(settings)) as client:
        yield client


@dataclass
class LiveGateway:
    """A gateway served by uvicorn on a free loopback port, with its chain configured."""

    url: str
    services: Services
    settings: GatewaySettings

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def serve(settings: GatewaySettings) -> Iterator[LiveGateway]:
    port = free_port()
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    services = Services.build(settings)
    app = create_app(settings, services)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    try:
        yield LiveGateway(f"http://127.0.0.1:{port}", services, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        server.force_exit = True  # open event streams would hold a graceful shutdown
        thread.join(timeout=10)
        services.close()  # stops the transaction worker too


@pytest.fixture(scope="module")
def deployed_network(clique_network: Any) -> Any:
    deploy(clique_network.dir)  # idempotent: verifies an existing deployment
    return clique_network


@pytest.fixture(scope="module")
def live_gateway(
    eccoo_realm: RealmInfo,
    deployed_network: Any,
    neo4j_endpoint: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveGateway]:
    yield from serve(
        live_settings(
            eccoo_realm,
            deployed_network,
            neo4j_endpoint,
            tmp_path_factory,
            "gateway-live",
            web_client_secret_file=eccoo_realm.clients["eccoo-web"],
        )
    )


def live_settings(
    realm: RealmInfo,
    network: Any,
    neo4j: Any,
    tmp_path_factory: pytest.TempPathFactory,
    folder: str,
    **extra: object,
) -> GatewaySettings:
    """A live gateway's settings on the shared network and Neo4j; `extra` overrides."""
    # The last relayers of the manifest: other test modules may send with the first ones.
    base: dict[str, object] = {
        "network_dir": network.dir,
        "relayer_offset": 4,
        "confirmations": 1,
        "tx_poll_seconds": 0.2,
        "neo4j_url": neo4j.bolt_url,
        "neo4j_user": neo4j.user,
        "neo4j_password_file": neo4j.password_file,
    }
    return gateway_settings(realm, tmp_path_factory.mktemp(folder), **{**base, **extra})
