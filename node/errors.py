"""The errors the network package raises on purpose, all under `NodeError`.

Permanent ones name the file or field that is wrong; retryable ones are transient RPC
or process faults. Callers branch on the type, never on the message.
"""

from __future__ import annotations

from eccoo.errors import EccooError, PermanentError, RetryableError


class NodeError(EccooError):
    """Root of every error raised by `eccoo.node`."""


class ManifestError(NodeError, PermanentError, ValueError):
    """The network manifest (or a file it points to) is missing or corrupt; names the file."""


class KeystoreError(NodeError, PermanentError, ValueError):
    """A keystore or password file is missing, unreadable or does not decrypt."""


class NetworkExists(NodeError, PermanentError, FileExistsError):
    """`init` would overwrite a folder that is not empty (pass `--force`)."""


class InvalidAddress(NodeError, PermanentError, ValueError):
    """An argument is not a 0x-prefixed 20-byte Ethereum address."""


class NodeIndexError(NodeError, PermanentError, LookupError):
    """No node with that index in the manifest."""


class NodeUnreachable(NodeError, RetryableError, ConnectionError):
    """A node's RPC endpoint did not answer (it may be starting or stopped)."""


class NetworkNotReady(NodeError, PermanentError, RuntimeError):
    """The network did not reach the wanted state (peered, sealing) in time."""
