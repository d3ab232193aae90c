"""Domain outcomes that use cases return instead of raising; schema/results.py maps them to GraphQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from providers.errors import Carrier


class Keep:
    """The type of KEEP: an input field that was left out, as opposed to one sent as null."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()


class FieldCode(StrEnum):
    """What was wrong with one input field (FieldError.code); the schema's description lists these."""

    REQUIRED = "REQUIRED"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_NUMBER = "INVALID_NUMBER"
    INVALID_CHARACTERS = "INVALID_CHARACTERS"  # a control character or an unpaired surrogate
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    UNSUPPORTED_COUNTRY = "UNSUPPORTED_COUNTRY"
    NOT_ALLOWED = "NOT_ALLOWED"
    SERVER_DETERMINED = "SERVER_DETERMINED"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    IN_USE = "IN_USE"
    NOT_OWNED = "NOT_OWNED"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    CREDENTIALS_REJECTED = "CREDENTIALS_REJECTED"
    DID_IMPORT_REQUIRED = "DID_IMPORT_REQUIRED"
    NOT_AGENT_BINDABLE = "NOT_AGENT_BINDABLE"
    UNSAFE_URL = "UNSAFE_URL"  # a webhook url this server will not send to (scheme or address)


class ErrorCode(StrEnum):
    """What went wrong as a whole (UserError.code); the schema's description lists these."""

    VALIDATION_FAILED = "VALIDATION_FAILED"
    IN_USE = "IN_USE"
    NOT_FOUND = "NOT_FOUND"
    PHONE_NUMBER_LIMIT_REACHED = "PHONE_NUMBER_LIMIT_REACHED"
    SIP_TRUNK_LIMIT_REACHED = "SIP_TRUNK_LIMIT_REACHED"
    PROVIDER_TIMEOUT = "PROVIDER_TIMEOUT"
    PROVIDER_RATE_LIMITED = "PROVIDER_RATE_LIMITED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    CREDENTIALS_REJECTED = "CREDENTIALS_REJECTED"  # Twilio refused the stored credentials of an account


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: FieldCode
    message: str


@dataclass(frozen=True)
class Invalid:
    problems: tuple[FieldProblem, ...]
    message: str = "The input is not valid."
    code: ErrorCode = ErrorCode.VALIDATION_FAILED


@dataclass(frozen=True)
class LimitReached:
    code: ErrorCode
    limit: int
    current: int
    message: str


@dataclass(frozen=True)
class CarrierFailed:
    provider: Carrier
    code: ErrorCode
    message: str
    retryable: bool


@dataclass(frozen=True)
class Missing:
    id: str
    message: str = "No such object in this workspace."


Failure = Invalid | LimitReached | CarrierFailed | Missing


class InvalidArgument(ValueError):
    """A query argument out of range; reported as a GraphQL error naming the argument."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument
