"""Domain outcomes that use cases return instead of raising; schema/results.py maps them to GraphQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


class Keep:
    """The type of KEEP: an input field that was left out, as opposed to one sent as null."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class Invalid:
    problems: tuple[FieldProblem, ...]
    message: str = "The input is not valid."
    code: str = "VALIDATION_FAILED"


@dataclass(frozen=True)
class LimitReached:
    code: str
    limit: int
    current: int
    message: str


@dataclass(frozen=True)
class CarrierFailed:
    provider: str  # "twilio" | "livekit"
    code: str
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
