"""The indexer loop: fetch -> decode -> map -> write, with reorg checks and retries.

It follows one node from the deployment block to the head, then keeps following new
heads. Transient faults (node or Neo4j) are retried with backoff and shown in status;
permanent ones (a too-deep reorg, a wrong chain) stop it with a typed error.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from eccoo.client.deployment import Deployment
from eccoo.graph_sync.connect import open_graph, open_rpc
from eccoo.graph_sync.decode import EventDecoder, LedgerEvent
from eccoo.graph_sync.deployment import cursor_key, followed_contracts, load_deployment
from eccoo.graph_sync.errors import ChainMoved, GraphAuthFailed, InvalidDeployment
from eccoo.graph_sync.fetch import BlockHeader, FetchedRange, LogFetcher
from eccoo.graph_sync.mappers import Rules, all_rules
from eccoo.graph_sync.reorg import common_ancestor, cursor_is_canonical
from eccoo.graph_sync.rpc import JsonRpc
from eccoo.graph_sync.schema import ensure_schema
from eccoo.graph_sync.settings import GraphSettings
from eccoo.graph_sync.status import StatusReporter
from eccoo.graph_sync.write import Cursor, GraphWriter
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from eccoo.errors import RetryableError


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, AuthError):
        return False
    if isinstance(exc, RetryableError):
        return True
    if isinstance(exc, Neo4jError):
        return bool(exc.is_retryable())
    return isinstance(exc, DriverError | OSError)


class Indexer:
    """One indexer for one deployment; `open()` checks everything before any write."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        rules: Rules | None = None,
        status: StatusReporter | None = None,
    ) -> None:
        self.settings = settings
        self.rules = rules or all_rules()
        self.status = status or StatusReporter(settings.status_file)
        self.deployment: Deployment
        self.rpc: JsonRpc
        self.driver: Any = None
        self.writer: GraphWriter
        self.fetcher: LogFetcher
        self.decoder: EventDecoder
        self._cursor: Cursor | None = None
        self._prefetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
        self._pending: tuple[tuple[int, str | None], Future[Any]] | None = None
        self.stop_event = threading.Event()

    # ------------------------------------------------------------------ setup
    def open(self) -> Indexer:
        """Check every input and connect; on any failure, close what was opened."""
        try:
            return self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> Indexer:
        s = self.settings
        self.deployment = load_deployment(s.resolved_deployment_file())
        self.rpc = open_rpc(s, self.deployment)
        self.driver = open_graph(s)
        self.writer = GraphWriter(self.driver, s.neo4j_database, self.rules)
        ensure_schema(self.driver, s.neo4j_database, self.rules.interval_types)
        self.fetcher = LogFetcher(
            self.rpc,
            self.deployment.addresses,
            initial_range=s.initial_range,
            min_range=s.min_range,
            max_range=s.max_range,
            target_logs=s.target_logs,
        )
        self.decoder = EventDecoder(followed_contracts(self.deployment))
        self.deployment_key = cursor_key(self.deployment)
        self._cursor = self.writer.cursor()
        if self._cursor is not None and self._cursor.deployment != self.deployment_key:
            raise InvalidDeployment(
                "the graph mirrors another deployment (another chain or contracts); run "
                "`eccoo index rebuild` to re-index this one",
                field="deployment_file",
            )
        if self._cursor is not None:  # so status shows where a restart resumes
            self.status.state.update(cursor=self._cursor.number)
        self.status.set(
            state="running",
            chain_id=self.deployment.chain_id,
            start_block=self.deployment.start_block,
        )
        return self

    def close(self) -> None:
        self._prefetcher.shutdown(wait=True, cancel_futures=True)
        if self.driver is not None:
            self.driver.close()
            self.driver = None
        rpc = getattr(self, "rpc", None)
        if rpc is not None:
            rpc.close()

    def __enter__(self) -> Indexer:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ one step
    def _head(self) -> BlockHeader:
        return BlockHeader.from_rpc(self.rpc.call("eth_getBlockByNumber", ["latest", False]))

    def step(self) -> bool:
        """Write the next range (or undo a reorg); False when already at the head."""
        head = self._head()
        cursor = self._cursor
        if cursor is not None and cursor.number > head.number:
            # The node is behind the mirror (restarted, still syncing): wait for it rather
            # than read its short chain as a reorg.
            self._report(head, 0)
            return False
        if cursor is not None and (
            cursor.number >= head.number or not self._builds_on(cursor, head)
        ):
            if not cursor_is_canonical(self.fetcher, cursor, head.number):
                self._undo_reorg(cursor, head.number)
                return True
            if cursor.number >= head.number:
                self._report(head, 0)
                return False
        first = self.deployment.start_block if cursor is None else cursor.number + 1
        window_start = head.number - self.settings.confirmations + 1
        parent = None if cursor is None else cursor.hash
        pending, self._pending = self._pending, None
        try:
            if pending is not None and pending[0] == (first, parent):
                fetched, events = pending[1].result()
            else:
                fetched, events = self._fetch_decode(first, head.number, window_start, parent)
        except ChainMoved:
            if cursor is not None and not cursor_is_canonical(self.fetcher, cursor, head.number):
                self._undo_reorg(cursor, head.number)
            return True  # the range is fetched again from a settled chain
        if fetched.last < head.number:
            # Backfill: fetch and decode the next range while this one is written. It is
            # used only if the cursor lands exactly where it starts, on the same hash.
            tip = fetched.headers[fetched.last].hash
            self._pending = (
                (fetched.last + 1, tip),
                self._prefetcher.submit(
                    self._fetch_decode, fetched.last + 1, head.number, window_start, tip
                ),
            )
        self._write(fetched, events, window_start, head)
        return True

    def _fetch_decode(
        self, first: int, head: int, window_start: int, parent: str | None
    ) -> tuple[FetchedRange, list[LedgerEvent]]:
        fetched = self.fetcher.fetch(first, head, window_start=window_start, parent_hash=parent)
        events = []
        for log in fetched.logs:
            event = self.decoder.decode(log, fetched.headers[int(log["blockNumber"], 16)])
            if event is not None:
                events.append(event)
        return fetched, events

    def _builds_on(self, cursor: Cursor, head: BlockHeader) -> bool:
        # Cheap check in live mode: the head's parent is our cursor block.
        return head.number != cursor.number + 1 or head.parent_hash == cursor.hash

    def _undo_reorg(self, cursor: Cursor, head: int) -> None:
        ancestor = common_ancestor(self.fetcher, cursor, self.writer.window(), head)
        self.writer.rollback(ancestor, self.deployment_key)
        self._cursor = Cursor(
            ancestor.number, ancestor.hash, ancestor.timestamp, self.deployment_key
        )
        self.status.state["reorgs"] += 1
        self.status.set(
            last_reorg={"from": cursor.number, "to": ancestor.number, "at": round(time.time(), 3)}
        )

    def _write(
        self,
        fetched: FetchedRange,
        events: list[LedgerEvent],
        window_start: int,
        head: BlockHeader,
    ) -> None:
        """Write the range in batches that end on block boundaries, cursor in each."""
        limit = self.settings.batch_events
        start = 0
        while start < len(events) or start == 0:
            end = min(start + limit, len(events))
            # Extend to the end of the block: a cursor never splits a block.
            while 0 < end < len(events) and events[end].block == events[end - 1].block:
                end += 1
            batch = events[start:end]
            last_block = fetched.last if end >= len(events) else batch[-1].block
            first_block = fetched.first if start == 0 else events[start].block
            tip = fetched.headers[last_block]
            window = [
                h
                for n, h in fetched.headers.items()
                if n >= window_start and first_block <= n <= last_block
            ]
            cursor = Cursor(tip.number, tip.hash, tip.timestamp, self.deployment_key)
            self.writer.write_batch(batch, cursor, window, finalized_below=window_start)
            self._cursor = cursor
            self._report(head, len(batch))
            start = end
            if end >= len(events):
                break

    def _report(self, head: BlockHeader, events: int) -> None:
        cursor = self._cursor
        if cursor is None:
            return
        self.status.progress(
            cursor=cursor.number,
            cursor_ts=cursor.timestamp,
            head=head.number,
            head_ts=head.timestamp,
            events=events,
            state="live" if cursor.number >= head.number else "backfill",
        )

    # ------------------------------------------------------------------ loops
    def run(
        self,
        *,
        until_block: int | None = None,
        once: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Follow the chain until stopped (or until `until_block` is written, or at head
        once when `once`). Transient faults are retried with jittered backoff."""
        backoff = 0.1
        while not self.stop_event.is_set():
            try:
                worked = self.step()
                self.status.recovered()
                backoff = 0.1
            except AuthError as exc:
                raise GraphAuthFailed(
                    "Neo4j refused the credentials mid-run", field="neo4j_password_file"
                ) from exc
            except Exception as exc:
                if not _is_transient(exc):
                    self.status.error(exc, retrying=False)
                    raise
                self.status.error(exc, retrying=True)
                self.stop_event.wait(backoff * (0.5 + random.random()))  # noqa: S311
                backoff = min(backoff * 2, self.settings.max_backoff)
                continue
            cursor = self._cursor
            if on_progress is not None and cursor is not None:
                on_progress(cursor.number, int(self.status.state.get("head") or 0))
            if until_block is not None and cursor is not None and cursor.number >= until_block:
                return
            if not worked:
                if once:
                    return
                self.stop_event.wait(self.settings.poll_interval)


def build_indexer(settings: GraphSettings) -> Indexer:
    return Indexer(settings)


__all__ = ["Indexer", "build_indexer", "load_deployment"]
