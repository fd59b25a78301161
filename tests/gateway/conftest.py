"""A gateway app per test module, on a temporary data folder, trusting the test realm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eccoo.gateway.app import create_app
from eccoo.gateway.realm import RealmInfo
from eccoo.gateway.settings import GatewaySettings
from fastapi.testclient import TestClient


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
