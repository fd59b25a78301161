"""The errors of the contracts client (compile, deploy, forward requests).

Each derives from `EccooError` through `ClientError` and a retryable/permanent base; nothing
here carries a key, a signature or a password in its message.
"""

from __future__ import annotations

from eccoo.errors import EccooError, PermanentError, RetryableError


class ClientError(EccooError):
    """Root of the contracts client's errors."""


class CompileError(ClientError, PermanentError, RuntimeError):
    """solc rejected the contracts or could not run."""


class DeploymentError(ClientError, PermanentError, RuntimeError):
    """A deployment is missing, inconsistent with the chain, or its roles are not wired."""


class ChainUnavailable(ClientError, RetryableError, ConnectionError):
    """The node did not answer; the same call may succeed later."""


class ContractReverted(ClientError, PermanentError, RuntimeError):
    """A transaction or call reverted; `error_name` and `args` are the decoded custom error."""

    def __init__(self, message: str, *, error_name: str | None = None, args: tuple = ()) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = args
