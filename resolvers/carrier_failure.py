"""The one mapping from a carrier exception to the ProviderError outcome clients see."""

from providers.errors import (
    CredentialsRejected,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Unavailable,
)
from providers.redact import mask_sid
from resolvers.outcomes import CarrierFailed, ErrorCode
from resolvers.services import TwilioCredentials

_NAMES = {"twilio": "Twilio", "livekit": "LiveKit"}


NOTHING_CHANGED = " Nothing was changed; try again."
CLEANUP_PENDING = " What was started will be cleaned up shortly; try again later."


def carrier_failed(
    failure: ProviderFailure, *, after: str = NOTHING_CHANGED, platform: TwilioCredentials | None = None
) -> CarrierFailed:
    """ProviderError with retryable true for timeouts, 429 and 5xx; the message never holds a secret.
    Twilio refusing an account's credentials is CREDENTIALS_REJECTED: the customer's, to be rotated with
    rotateTwilioCredentials, or the `platform` account's, which only the operator can renew."""
    name = _NAMES.get(failure.provider, failure.provider)
    match failure:
        case ProviderTimeout():
            code, message = ErrorCode.PROVIDER_TIMEOUT, f"{name} did not answer in time."
        case RateLimited():
            code, message = ErrorCode.PROVIDER_RATE_LIMITED, f"{name} asked us to slow down."
        case Unavailable():
            code, message = ErrorCode.PROVIDER_UNAVAILABLE, f"{name} is unavailable ({failure.message})."
        case CredentialsRejected(account_sid=str(account_sid)) if platform and account_sid == platform.account_sid:
            code = ErrorCode.CREDENTIALS_REJECTED
            message = f"{name} refused the platform's credentials; the server's operator must renew them."
        case CredentialsRejected(account_sid=str(account_sid)):
            # A customer's Twilio account: only the customer can give its current credentials.
            code = ErrorCode.CREDENTIALS_REJECTED
            message = (
                f"{name} refused the stored credentials of account {mask_sid(account_sid)}; if they were changed "
                f"or revoked at {name}, give the current ones with rotateTwilioCredentials."
            )
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
