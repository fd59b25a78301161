"""The gateway's errors: each carries the HTTP status the API answers with.

Routes raise these; one exception handler turns them into a JSON body
(`EccooError.to_dict()`), so no handler builds an error response by hand.
"""

from __future__ import annotations

from eccoo.errors import EccooError, InvalidInput, NotFound, PermanentError, RetryableError


class GatewayError(EccooError):
    """Root of the gateway's errors."""

    status_code = 500


class Unauthorized(GatewayError, PermanentError, PermissionError):
    """No token, or a token that failed validation (the reason is never echoed in detail)."""

    status_code = 401


class SignInNeeded(Unauthorized):
    """A web page asked for without a live session: the browser is sent to sign in."""


class Forbidden(GatewayError, PermanentError, PermissionError):
    """The caller is known but lacks the hat or the relation to the object."""

    status_code = 403


class ConflictOfInterest(Forbidden):
    """The caller would decide about themselves (their own hat request or membership):
    another holder of the hat must decide."""


class ObjectNotFound(GatewayError, NotFound):
    """The object does not exist, or the caller may not know that it does."""

    status_code = 404


class BadRequestField(GatewayError, InvalidInput):
    """A request field is invalid; `field` names it."""

    status_code = 422


class OverFunderCap(BadRequestField):
    """The hourly price to the pot is over a funder's cap; the body names the cap."""

    def __init__(
        self, message: str, *, field: str, cap_per_hour: int, price_per_hour: int, funder_id: str
    ) -> None:
        super().__init__(message, field=field)
        self.cap_per_hour = cap_per_hour
        self.price_per_hour = price_per_hour
        self.funder_id = funder_id

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body.update(
            cap_per_hour=self.cap_per_hour,
            price_per_hour=self.price_per_hour,
            funder_id=self.funder_id,
        )
        return body


class IdempotencyKeyReused(GatewayError, InvalidInput):
    """The same Idempotency-Key arrived with another body."""

    status_code = 422


class InFlight(GatewayError, RetryableError):
    """A request with this Idempotency-Key is still being processed."""

    status_code = 409


class StateConflict(GatewayError, PermanentError, ValueError):
    """The object is not in a state that allows this action."""

    status_code = 409


class RateLimited(GatewayError, RetryableError):
    """Too many submissions from this caller; try again later."""

    status_code = 429


class PayloadTooLarge(GatewayError, PermanentError, ValueError):
    """The request body is larger than the gateway accepts."""

    status_code = 413


class Unavailable(GatewayError, RetryableError, ConnectionError):
    """A part the gateway needs (chain, graph, identity provider) does not answer."""

    status_code = 503


class KeyCustodyError(GatewayError, PermanentError, RuntimeError):
    """The master key is missing or cannot decrypt a custodial key."""

    status_code = 500


class StoreOutdated(GatewayError, PermanentError, RuntimeError):
    """The gateway's database was written with another layout than this gateway's."""

    status_code = 500


# The terminal sign-in (`eccoo gateway login`, identity/device_login.py).
class LoginError(GatewayError):
    """Signing in from the command line (device authorization grant) did not work."""


class LoginDenied(LoginError, PermanentError, PermissionError):
    """The member declined, or the provider refused the client or the grant."""


class LoginExpired(LoginError, PermanentError, TimeoutError):
    """The sign-in code expired before the member approved it."""


class NotSignedIn(LoginError, PermanentError, LookupError):
    """There is no session, or it has ended: sign in again."""


class ProviderUnavailable(LoginError, RetryableError, ConnectionError):
    """The identity provider or the gateway did not answer; try again later."""
