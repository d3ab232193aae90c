"""The few exceptions a carrier call can raise, whatever the carrier."""

from __future__ import annotations

from enum import StrEnum


class Carrier(StrEnum):
    """Whom a call went to; equal to the lower-case name the carrier clients report failures under."""

    TWILIO = "twilio"
    LIVEKIT = "livekit"


class ProviderFailure(Exception):
    """A carrier call that did not succeed.

    `code` is the carrier's own code as a string ("20003", "not_found") or one of ours
    ("timeout", "connection_error"); `message` is safe to show people and never holds a secret.
    `retry_after` is the carrier's Retry-After in seconds, when it sent one.
    """

    default_retryable = False

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = Carrier(provider)
        self.message = message
        self.code = code
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        status = "" if self.status is None else f" HTTP {self.status}"
        code = f" code {self.code}" if self.code else ""
        return f"{self.provider}{status}{code}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, code={self.code!r}, "
            f"status={self.status!r}, retryable={self.retryable!r}, message={self.message!r})"
        )


class CredentialsRejected(ProviderFailure):
    """The carrier refused the credentials (HTTP 401/403). `account_sid` is the account whose credentials
    they were, when the carrier has accounts (Twilio); mask it before showing it (providers.redact)."""

    account_sid: str | None = None


class NotFound(ProviderFailure):
    """The carrier has no such resource (HTTP 404)."""


class Rejected(ProviderFailure):
    """The carrier refused the request (other 4xx); its code and message are kept."""


class Unavailable(ProviderFailure):
    """The carrier could not answer (5xx, connection error); trying later may work."""

    default_retryable = True


class RateLimited(Unavailable):
    """The carrier asked us to slow down (HTTP 429); nothing was done, so any call may repeat."""


class ProviderTimeout(Unavailable):
    """No answer within the call's timeout; the carrier may or may not have acted."""
