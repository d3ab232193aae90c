"""The one mapping from a carrier exception to the ProviderError outcome clients see."""

from providers.errors import (
    CredentialsRejected,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Unavailable,
)
from resolvers.outcomes import CarrierFailed, ErrorCode

_NAMES = {"twilio": "Twilio", "livekit": "LiveKit"}


NOTHING_CHANGED = " Nothing was changed; try again."
CLEANUP_PENDING = " What was started will be cleaned up shortly; try again later."


def carrier_failed(failure: ProviderFailure, *, after: str = NOTHING_CHANGED) -> CarrierFailed:
    """ProviderError with retryable true for timeouts, 429 and 5xx; the message never holds a secret."""
    name = _NAMES.get(failure.provider, failure.provider)
    match failure:
        case ProviderTimeout():
            code, message = ErrorCode.PROVIDER_TIMEOUT, f"{name} did not answer in time."
        case RateLimited():
            code, message = ErrorCode.PROVIDER_RATE_LIMITED, f"{name} asked us to slow down."
        case Unavailable():
            code, message = ErrorCode.PROVIDER_UNAVAILABLE, f"{name} is unavailable ({failure.message})."
        case CredentialsRejected():
            code, message = ErrorCode.PROVIDER_REJECTED, f"{name} refused the platform's credentials."
        case _:
            code, message = ErrorCode.PROVIDER_REJECTED, f"{name} refused the request: {failure.message}"
    return CarrierFailed(provider=failure.provider, code=code, message=message + after, retryable=failure.retryable)


def lease_busy(provider: str) -> CarrierFailed:
    return CarrierFailed(
        provider=provider,
        code=ErrorCode.PROVIDER_UNAVAILABLE,
        message="Another change to this number or its trunk is still in progress; try again shortly.",
        retryable=True,
    )
