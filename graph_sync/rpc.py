"""A small JSON-RPC client for the calls the indexer makes, with batch requests.

It talks plain JSON-RPC over HTTP (web3's per-call formatting costs more than the
indexer's whole decode stage). It never retries by itself: callers decide, by type.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import httpx
from eccoo.graph_sync.errors import RpcFailed, RpcUnavailable


class RangeTooLarge(RpcFailed):
    """The node refused an eth_getLogs range (too many results or blocks): shrink it."""


class JsonRpc:
    """One HTTP connection pool to one node."""

    def __init__(self, url: str, *, timeout: float = 15.0) -> None:
        self.url = url
        self._ids = itertools.count(1)
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JsonRpc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, body: Any) -> Any:
        try:
            response = self._http.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise RpcUnavailable(f"node {self.url} did not answer: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise RpcUnavailable(f"node {self.url} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise RpcFailed(f"node {self.url} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise RpcUnavailable(f"node {self.url} sent a malformed answer") from exc

    @staticmethod
    def _result(method: str, answer: Any) -> Any:
        if not isinstance(answer, dict):
            raise RpcUnavailable(f"{method}: malformed answer")
        if "error" in answer and answer["error"] is not None:
            error = answer["error"]
            message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            lowered = message.lower()
            # geth and most providers word "too big" in one of these ways.
            if method == "eth_getLogs" and any(
                word in lowered for word in ("too many", "limit", "range", "exceed", "timeout")
            ):
                raise RangeTooLarge(f"{method}: {message}")
            raise RpcFailed(f"{method}: {message}")
        if "result" not in answer:
            raise RpcUnavailable(f"{method}: answer without a result")
        return answer["result"]

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        return self._result(method, self._post(body))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls in one HTTP request; results in the order of `calls`."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
            for i, (m, p) in zip(ids, calls, strict=True)
        ]
        answers = self._post(body)
        if not isinstance(answers, list):
            # A node that rejects the whole batch answers with one error object.
            return [self._result(calls[0][0], answers)]
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        results = []
        for i, (method, _) in zip(ids, calls, strict=True):
            if i not in by_id:
                raise RpcUnavailable(f"{method}: batch answer lacks id {i}")
            results.append(self._result(method, by_id[i]))
        return results

    # The calls the indexer needs, typed.
    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def headers(self, numbers: Sequence[int]) -> list[dict[str, Any]]:
        """Block headers (without transactions) for these numbers, one batch request."""
        found = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        for number, header in zip(numbers, found, strict=True):
            if header is None:
                raise RpcUnavailable(f"block {number} is not known to the node (yet)")
        return found

    def logs(self, addresses: Sequence[str], first: int, last: int) -> list[dict[str, Any]]:
        return self.call(
            "eth_getLogs",
            [{"address": list(addresses), "fromBlock": hex(first), "toBlock": hex(last)}],
        )
