"""The root of every error eccoo raises on purpose.

Each package derives its own root from `EccooError`. Whether an error is worth
retrying is a property of its type (`RetryableError` / `PermanentError`), never of its
message text, so retry loops look at `isinstance` only.
"""

from __future__ import annotations


class EccooError(Exception):
    """Root of all eccoo errors. `field` names the input that was wrong, when one was."""

    retryable: bool = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, object]:
        """The machine-readable form the API and `--json` outputs return."""
        body: dict[str, object] = {"error": type(self).__name__, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body["retryable"] = self.retryable
        return body


class RetryableError(EccooError):
    """A transient fault: the same call may succeed later (a node restarting, a busy DB)."""

    retryable = True


class PermanentError(EccooError):
    """Retrying will not help: the input, the configuration or the state is wrong."""


class ConfigError(PermanentError, ValueError):
    """A setting or a file that configures eccoo is missing or invalid."""


class InvalidInput(PermanentError, ValueError):
    """An argument or a request field is invalid; `field` names it."""


class AlreadyExists(PermanentError, FileExistsError):
    """Something would be overwritten; pass `--force` to allow it."""


class NotFound(PermanentError, LookupError):
    """A file, object or record that was named does not exist."""


class PortBusy(PermanentError, OSError):
    """A port eccoo must listen on is taken by another process."""


class ToolchainError(PermanentError, RuntimeError):
    """An engine (geth, solc, Neo4j, Keycloak) is missing or would not install."""


class ServiceUnavailable(RetryableError, ConnectionError):
    """A service eccoo talks to does not answer (yet)."""


class ServiceFailed(PermanentError, RuntimeError):
    """A service eccoo started exited or never became ready; see its log."""
