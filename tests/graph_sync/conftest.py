"""Fixtures for graph_sync tests: the real ledger on the shared Clique network, a real
Neo4j (the session server), and settings for an indexer writing to it.

Tests share one Neo4j database, so each test starts from a dropped mirror.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eccoo.graph_sync.connect import open_graph
from eccoo.graph_sync.mappers import all_rules
from eccoo.graph_sync.settings import GraphSettings
from eccoo.graph_sync.write import GraphWriter

from .workload import Actors, Ledger, care_round, setup_actors


@pytest.fixture(scope="session")
def chain_ledger(clique_network: Any) -> Ledger:
    return Ledger(clique_network.dir, clique_network.w3())


@pytest.fixture(scope="session")
def actors(chain_ledger: Ledger) -> Actors:
    actors = setup_actors(chain_ledger)
    # ~250 appointments: over 2,000 events, every event kind of the workload.
    care_round(chain_ledger, actors, 250, random.Random(1))
    return actors


@pytest.fixture
def make_settings(
    neo4j_endpoint: Any, clique_network: Any, tmp_path: Path
) -> Callable[..., GraphSettings]:
    def make(**overrides: Any) -> GraphSettings:
        values: dict[str, Any] = dict(
            network_dir=clique_network.dir,
            bolt_url=neo4j_endpoint.bolt_url,
            neo4j_user=neo4j_endpoint.user,
            neo4j_password_file=neo4j_endpoint.password_file,
            data_dir=tmp_path / "indexer",
            confirmations=6,
            poll_interval=0.1,
        )
        values.update(overrides)
        return GraphSettings(**values)

    return make


@pytest.fixture
def empty_graph(make_settings: Callable[..., GraphSettings]) -> Any:
    """A driver on the session Neo4j with the mirror dropped (off-chain data untouched)."""
    settings = make_settings(rpc_url="http://unused", deployment_file=Path("unused"))
    driver = open_graph(settings)
    GraphWriter(driver, settings.neo4j_database, all_rules()).drop_mirror()
    yield driver
    driver.close()
