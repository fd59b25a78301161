"""The errors graph_sync raises on purpose, under one root `GraphSyncError`.

Retry loops look only at the type (`RetryableError` vs `PermanentError`), never at
message text. Nothing here may carry a secret (passwords, keys) in its message.
"""

from __future__ import annotations

from eccoo.errors import EccooError, PermanentError, RetryableError


class GraphSyncError(EccooError):
    """Root of every graph_sync error."""


class RpcUnavailable(GraphSyncError, RetryableError, ConnectionError):
    """The node did not answer (refused, timed out, 5xx): try again later."""


class RpcFailed(GraphSyncError, RetryableError, RuntimeError):
    """The node answered a call with a JSON-RPC error (may be a too-large range)."""


class ChainMoved(GraphSyncError, RetryableError, RuntimeError):
    """The chain changed between two reads of one step (a reorg raced us): redo the step."""


class GraphUnavailable(GraphSyncError, RetryableError, ConnectionError):
    """Neo4j did not answer or a transaction failed transiently."""


class DeploymentMissing(GraphSyncError, PermanentError, FileNotFoundError):
    """No deployment.json where the settings say the network lives."""


class InvalidDeployment(GraphSyncError, PermanentError, ValueError):
    """deployment.json exists but lacks a field the indexer needs."""


class WrongChain(GraphSyncError, PermanentError, ValueError):
    """The node serves another chain than the one the contracts were deployed on."""


class GraphAuthFailed(GraphSyncError, PermanentError, PermissionError):
    """Neo4j refused the user or password."""


class NodeNotReached(GraphSyncError, PermanentError, ConnectionError):
    """At start, the node never answered within the startup timeout: a wrong URL or a
    stopped network. (`eccoo.node.NodeUnreachable` is the retryable fault of one call.)"""


class GraphNotReached(GraphSyncError, PermanentError, ConnectionError):
    """At start, Neo4j never answered: a wrong URL or a stopped server."""


class ReorgTooDeep(GraphSyncError, PermanentError, RuntimeError):
    """The canonical chain changed below the unfinalized window: the graph cannot be
    repaired in place. Run `eccoo index rebuild` once the network is sane again."""


class AmountOutOfRange(GraphSyncError, PermanentError, OverflowError):
    """A money amount does not fit Neo4j's 64-bit integers; the indexer stops rather
    than store a rounded or truncated amount."""
