"""A minimal JSON-RPC caller for the admin/clique/txpool namespaces web3 does not wrap.

Connection failures become `NodeUnreachable` (retryable); RPC errors become
`NodeError` with the node's message. It never retries on its own.
"""

from __future__ import annotations

from typing import Any

import httpx
from eccoo.node.errors import NodeError, NodeUnreachable


def call(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 10.0) -> Any:
    """One JSON-RPC call; returns `result`."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    try:
        response = httpx.post(url, json=body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise NodeUnreachable(f"{url}: {method} failed ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise NodeUnreachable(f"{url}: {method} answered HTTP {response.status_code}")
    payload = response.json()
    if "error" in payload:
        raise NodeError(f"{url}: {method}: {payload['error'].get('message')}")
    return payload.get("result")


def answers(url: str) -> bool:
    """True when the node answers `eth_blockNumber`."""
    try:
        call(url, "eth_blockNumber", timeout=2.0)
    except NodeError:
        return False
    return True
