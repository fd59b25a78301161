"""Stage 5, cursor and reorgs: find where the stored chain and the canonical one part.

The mirror keeps the unfinalized blocks (the confirmation window) with their hashes.
When the node's chain no longer contains the cursor block, the newest stored block that
is still canonical is the common ancestor; if none is, the reorg is deeper than the
window and `ReorgTooDeep` is raised: the graph is never silently left wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from eccoo.graph_sync.errors import ReorgTooDeep
from eccoo.graph_sync.fetch import BlockHeader, LogFetcher
from eccoo.graph_sync.write import Cursor


def cursor_is_canonical(fetcher: LogFetcher, cursor: Cursor, head: int) -> bool:
    if cursor.number > head:
        return False
    return fetcher.headers([cursor.number])[cursor.number].hash == cursor.hash


def common_ancestor(
    fetcher: LogFetcher, cursor: Cursor, window: Sequence[BlockHeader], head: int
) -> BlockHeader:
    """The newest block the mirror holds that is still on the canonical chain."""
    stored = {h.number: h for h in window if h.number <= cursor.number}
    stored.setdefault(cursor.number, BlockHeader(cursor.number, cursor.hash, "", cursor.timestamp))
    candidates = sorted((n for n in stored if n <= head), reverse=True)
    canonical = fetcher.headers(candidates) if candidates else {}
    for number in candidates:
        if canonical[number].hash == stored[number].hash:
            return canonical[number]
    lowest = min(stored)
    raise ReorgTooDeep(
        f"the chain changed below block {lowest}, deeper than the unfinalized window the "
        f"mirror keeps ({len(stored)} blocks); the graph was left as of block "
        f"{cursor.number}. Run `eccoo index rebuild` once the network is settled."
    )
