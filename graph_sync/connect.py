"""Open the two ends the indexer joins, with the start-up checks that make bad input a
clear error: an unreachable node, a wrong chain, Neo4j down or refusing the password.

Passwords are read from their file here and handed to the driver; never logged or shown.
"""

from __future__ import annotations

import time
from typing import Any

import neo4j
from eccoo.client.deployment import Deployment
from eccoo.graph_sync.errors import (
    GraphAuthFailed,
    GraphNotReached,
    NodeNotReached,
    RpcFailed,
    RpcUnavailable,
    WrongChain,
)
from eccoo.graph_sync.rpc import JsonRpc
from eccoo.graph_sync.settings import GraphSettings
from neo4j.exceptions import AuthError, DriverError, Neo4jError


def _password(settings: GraphSettings) -> str:
    path = settings.neo4j_password_file
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise GraphAuthFailed(
            f"cannot read the Neo4j password file {path}", field="neo4j_password_file"
        ) from exc


def open_graph(settings: GraphSettings) -> Any:
    """A verified neo4j driver, or GraphNotReached / GraphAuthFailed."""
    driver = neo4j.GraphDatabase.driver(
        settings.bolt_url,
        auth=(settings.neo4j_user, _password(settings)),
        connection_acquisition_timeout=10,
        connection_timeout=5,
        max_transaction_retry_time=15,
        notifications_min_severity="OFF",
    )
    deadline = time.monotonic() + settings.startup_timeout
    while True:
        try:
            driver.verify_connectivity()
            driver.execute_query("RETURN 1", database_=settings.neo4j_database)
            return driver
        except AuthError as exc:
            driver.close()
            raise GraphAuthFailed(
                f"Neo4j at {settings.bolt_url} refused user {settings.neo4j_user!r}: wrong "
                f"password in {settings.neo4j_password_file}?",
                field="neo4j_password_file",
            ) from exc
        except (DriverError, Neo4jError, OSError) as exc:
            if time.monotonic() >= deadline:
                driver.close()
                raise GraphNotReached(
                    f"Neo4j at {settings.bolt_url} did not answer "
                    f"({type(exc).__name__}); is it running?",
                    field="bolt_url",
                ) from exc
            time.sleep(0.5)


def open_rpc(settings: GraphSettings, deployment: Deployment | None = None) -> JsonRpc:
    """A JSON-RPC client whose node answered and serves the deployment's chain."""
    url = settings.resolved_rpc_url()
    rpc = JsonRpc(url, timeout=settings.rpc_timeout)
    deadline = time.monotonic() + settings.startup_timeout
    while True:
        try:
            chain_id = rpc.chain_id()
            break
        except (RpcUnavailable, RpcFailed) as exc:
            if time.monotonic() >= deadline:
                rpc.close()
                raise NodeNotReached(
                    f"the node at {url} did not answer: {exc}", field="rpc_url"
                ) from exc
            time.sleep(0.5)
    if deployment is not None and chain_id != deployment.chain_id:
        rpc.close()
        raise WrongChain(
            f"the node at {url} serves chain {chain_id}, but the contracts were deployed on "
            f"chain {deployment.chain_id}",
            field="rpc_url",
        )
    return rpc
