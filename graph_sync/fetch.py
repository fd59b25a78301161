"""Stage 1, fetch: raw logs and block headers for a block range, from one node.

The range adapts: it shrinks when the node refuses it, and grows while answers stay
small. Every log is checked against the header of its block, so a reorg racing the
fetch surfaces as `ChainMoved` and never as a mixed answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eccoo.graph_sync.errors import ChainMoved
from eccoo.graph_sync.rpc import JsonRpc, RangeTooLarge

HEADER_BATCH = 500  # headers per batch request: big enough to amortise HTTP, small enough for geth


@dataclass(frozen=True, slots=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> BlockHeader:
        return cls(
            int(raw["number"], 16), raw["hash"], raw["parentHash"], int(raw["timestamp"], 16)
        )


@dataclass(frozen=True)
class FetchedRange:
    """Logs of blocks first..last, and the headers of every block they or the window need."""

    first: int
    last: int
    logs: list[dict[str, Any]]
    headers: dict[int, BlockHeader]


class LogFetcher:
    """Fetches ranges for a fixed set of contract addresses, adapting the range size."""

    def __init__(
        self,
        rpc: JsonRpc,
        addresses: Sequence[str],
        *,
        initial_range: int,
        min_range: int,
        max_range: int,
        target_logs: int,
    ) -> None:
        self.rpc = rpc
        self.addresses = [a.lower() for a in addresses]
        self.range = max(min_range, min(initial_range, max_range))
        self.min_range = min_range
        self.max_range = max_range
        self.target_logs = target_logs

    def _logs(self, first: int, head: int) -> tuple[int, list[dict[str, Any]]]:
        while True:
            last = min(first + self.range - 1, head)
            try:
                logs = self.rpc.logs(self.addresses, first, last)
            except RangeTooLarge:
                if self.range <= self.min_range:
                    raise
                self.range = max(self.min_range, self.range // 2)
                continue
            # Adapt for the next call; an oversized answer is still a correct answer.
            if len(logs) > 2 * self.target_logs:
                self.range = max(self.min_range, self.range // 2)
            elif len(logs) < self.target_logs // 2 and last - first + 1 >= self.range:
                self.range = min(self.max_range, self.range * 2)
            return last, logs

    def headers(self, numbers: Sequence[int]) -> dict[int, BlockHeader]:
        found: dict[int, BlockHeader] = {}
        ordered = sorted(set(numbers))
        for start in range(0, len(ordered), HEADER_BATCH):
            chunk = ordered[start : start + HEADER_BATCH]
            for raw in self.rpc.headers(chunk):
                header = BlockHeader.from_rpc(raw)
                found[header.number] = header
        return found

    def fetch(
        self, first: int, head: int, *, window_start: int, parent_hash: str | None
    ) -> FetchedRange:
        """Logs of first..(adaptive last <= head), checked against headers.

        `window_start` is the lowest unfinalized block: every header from there on is
        fetched and must link by parent hash. `parent_hash` is the cursor's hash, which
        block `first` must build on; otherwise the chain moved under the cursor.
        """
        last, logs = self._logs(first, head)
        wanted = {first, last}
        wanted.update(int(log["blockNumber"], 16) for log in logs)
        wanted.update(range(max(first, window_start - 1), last + 1))
        headers = self.headers(sorted(wanted))
        if parent_hash is not None and headers[first].parent_hash != parent_hash:
            raise ChainMoved(f"block {first} no longer builds on the cursor block")
        for number in range(max(first + 1, window_start), last + 1):
            if headers[number].parent_hash != headers[number - 1].hash:
                raise ChainMoved(f"blocks {number - 1} and {number} changed while fetching")
        for log in logs:
            if log.get("removed"):
                raise ChainMoved("the node returned a removed log")
            if headers[int(log["blockNumber"], 16)].hash != log["blockHash"]:
                raise ChainMoved(f"block {int(log['blockNumber'], 16)} changed while fetching")
        return FetchedRange(first, last, logs, headers)
