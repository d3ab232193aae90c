"""The one place that turns a use case's failure outcome into the GraphQL error type."""

from graphql import GraphQLError

from providers.errors import Carrier, ProviderFailure
from resolvers.carrier_failure import carrier_failed
from resolvers.outcomes import (
    CarrierFailed,
    Failure,
    Invalid,
    InvalidArgument,
    LimitReached,
    Missing,
)
from schema.enums import Provider
from schema.errors import (
    FieldError,
    NotFoundError,
    PaymentRequiredError,
    ProviderError,
    ValidationError,
)

CARRIERS: dict[Carrier, Provider] = {Carrier.TWILIO: Provider.TWILIO, Carrier.LIVEKIT: Provider.LIVEKIT}


def to_error(outcome: Failure) -> ValidationError | PaymentRequiredError | ProviderError | NotFoundError:
    match outcome:
        case Invalid(problems=problems, message=message, code=code):
            return ValidationError(
                message=message,
                code=code,
                field_errors=[FieldError(field=p.field, code=p.code, message=p.message) for p in problems],
            )
        case LimitReached(code=code, limit=limit, current=current, message=message):
            return PaymentRequiredError(message=message, code=code, limit=limit, current=current)
        case CarrierFailed(provider=provider, code=code, message=message, retryable=retryable):
            return ProviderError(message=message, code=code, provider=CARRIERS[provider], retryable=retryable)
        case Missing(id=missing_id, message=message):
            return NotFoundError(message=message, code="NOT_FOUND", id=missing_id)
    raise TypeError(f"not a failure outcome: {outcome!r}")


def argument_error(error: InvalidArgument) -> GraphQLError:
    """A bad query argument is the caller's mistake: a readable top-level error, never masked."""
    return GraphQLError(str(error), extensions={"code": "BAD_USER_INPUT", "argument": error.argument})


def carrier_error(error: Exception) -> GraphQLError:
    """A read that needs a carrier and could not have it: a top-level error saying why, never a secret."""
    failed = carrier_failed(error, after="") if isinstance(error, ProviderFailure) else None
    if failed is None:
        return GraphQLError(str(error), extensions={"code": "NOT_CONFIGURED"})
    return GraphQLError(failed.message.strip(), extensions={"code": failed.code, "retryable": failed.retryable})
