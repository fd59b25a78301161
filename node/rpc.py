"""A minimal JSON-RPC caller for the admin/clique/txpool namespaces web3 does not wrap.

Connection failures become `NodeUnreachable` (retryable); RPC errors become
`NodeError` with the node's message. It never retries on its own.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
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


def ipc_call(path: Path, method: str, params: list[Any] | None = None, *,
             timeout: float = 10.0) -> Any:  # fmt: skip
    """One JSON-RPC call over the node's IPC socket (the only way to reach `miner_*`)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    decoder = json.JSONDecoder()
    buffer = ""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(body.encode())
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk.decode()
                try:
                    payload, _ = decoder.raw_decode(buffer.strip())
                    break
                except ValueError:
                    continue  # a partial reply; read on
    except OSError as exc:
        raise NodeUnreachable(f"{path}: {method} failed ({exc})") from None
    if not buffer:
        raise NodeUnreachable(f"{path}: {method}: no reply")
    if "error" in payload:
        raise NodeError(f"{path}: {method}: {payload['error'].get('message')}")
    return payload.get("result")
