"""The one mapping from a carrier failure to the ProviderError a client sees: code, retryable, the carrier's
name, what happens next, and never a secret. The end-to-end fault matrix (tests/test_import_faults.py)
shows the same answers through the API."""

from __future__ import annotations

import pytest

from providers.errors import (
    CredentialsRejected,
    NotFound,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Rejected,
    Unavailable,
)
from resolvers.carrier_failure import CLEANUP_PENDING, NOTHING_CHANGED, carrier_failed, lease_busy

# (the failure, the code, retryable, the message before what happens next)
MAPPING = [
    pytest.param(
        ProviderTimeout("twilio", "no answer within 10 s", code="timeout"),
        "PROVIDER_TIMEOUT",
        True,
        "Twilio did not answer in time.",
        id="twilio-timeout",
    ),
    pytest.param(
        ProviderTimeout("livekit", "no answer within 10 s", code="timeout"),
        "PROVIDER_TIMEOUT",
        True,
        "LiveKit did not answer in time.",
        id="livekit-timeout",
    ),
    pytest.param(
        RateLimited("twilio", "Too Many Requests", status=429, retry_after=2.0),
        "PROVIDER_RATE_LIMITED",
        True,
        "Twilio asked us to slow down.",
        id="twilio-429",
    ),
    pytest.param(
        RateLimited("livekit", "slow down", code="resource_exhausted", status=429),
        "PROVIDER_RATE_LIMITED",
        True,
        "LiveKit asked us to slow down.",
        id="livekit-429",
    ),
    pytest.param(
        Unavailable("twilio", "Service Unavailable", status=503),
        "PROVIDER_UNAVAILABLE",
        True,
        "Twilio is unavailable (Service Unavailable).",
        id="twilio-503",
    ),
    pytest.param(
        Unavailable("livekit", "connection reset", code="connection_error"),
        "PROVIDER_UNAVAILABLE",
        True,
        "LiveKit is unavailable (connection reset).",
        id="livekit-dropped",
    ),
    pytest.param(
        CredentialsRejected("twilio", "Authenticate", code="20003", status=401),
        "PROVIDER_REJECTED",
        False,
        "Twilio refused the platform's credentials.",
        id="twilio-401",
    ),
    pytest.param(
        CredentialsRejected("livekit", "invalid token", code="unauthenticated", status=401),
        "PROVIDER_REJECTED",
        False,
        "LiveKit refused the platform's credentials.",
        id="livekit-401",
    ),
    pytest.param(
        Rejected("twilio", "Invalid domain name", code="21232", status=400),
        "PROVIDER_REJECTED",
        False,
        "Twilio refused the request: Invalid domain name",
        id="twilio-400",
    ),
    pytest.param(
        Rejected("livekit", "refused by the sandbox", code="invalid_argument", status=400),
        "PROVIDER_REJECTED",
        False,
        "LiveKit refused the request: refused by the sandbox",
        id="livekit-400",
    ),
    pytest.param(
        NotFound("twilio", "The requested resource was not found", code="20404", status=404),
        "PROVIDER_REJECTED",
        False,
        "Twilio refused the request: The requested resource was not found",
        id="twilio-404",
    ),
    pytest.param(
        Unavailable("twilio", "Bad Gateway", status=502, retryable=False),
        "PROVIDER_UNAVAILABLE",
        False,
        "Twilio is unavailable (Bad Gateway).",
        id="unavailable-marked-final",
    ),
]


@pytest.mark.parametrize(("failure", "code", "retryable", "message"), MAPPING)
def test_each_carrier_failure_maps_to_one_provider_error(failure: ProviderFailure, code, retryable, message):
    outcome = carrier_failed(failure)

    assert (outcome.provider, outcome.code, outcome.retryable) == (failure.provider, code, retryable)
    assert outcome.message == message + NOTHING_CHANGED


@pytest.mark.parametrize("after", [NOTHING_CHANGED, CLEANUP_PENDING, " The trunk is kept; delete it again to finish."])
def test_the_message_ends_with_what_happens_next(after):
    outcome = carrier_failed(Unavailable("livekit", "Service Unavailable", status=503), after=after)

    assert outcome.message == "LiveKit is unavailable (Service Unavailable)." + after


def test_the_provider_is_the_carrier_that_failed_not_the_flow():
    assert carrier_failed(Rejected("livekit", "no")).provider == "livekit"
    assert carrier_failed(Rejected("twilio", "no")).provider == "twilio"


def test_a_busy_lease_is_a_retryable_unavailable_carrier():
    outcome = lease_busy("twilio")

    assert (outcome.provider, outcome.code, outcome.retryable) == ("twilio", "PROVIDER_UNAVAILABLE", True)
    assert "try again shortly" in outcome.message

