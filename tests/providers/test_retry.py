"""Retry decisions and waits, with jitter pinned."""

import logging

import pytest

from providers import retry
from providers.errors import NotFound, ProviderTimeout, RateLimited, Rejected, Unavailable
from providers.retry import RetryPolicy, call_with_retry, delay_for, should_retry

POLICY = RetryPolicy(max_attempts=4, base_delay=0.25, max_delay=4.0, total_budget=10.0)
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, total_budget=1.0)


@pytest.fixture
def no_jitter(monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda delay: delay)


# delay_for


def test_delay_doubles_from_base_delay(no_jitter):
    assert [delay_for(n, None, POLICY) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]


def test_delay_is_capped_at_max_delay(no_jitter):
    assert delay_for(10, None, POLICY) == 4.0


def test_retry_after_wins_over_backoff(no_jitter):
    assert delay_for(1, 2.0, POLICY) == 2.0


def test_retry_after_is_capped_at_max_delay():
    assert delay_for(1, 120.0, POLICY) == 4.0


def test_jitter_stays_between_half_and_whole_delay():
    assert all(0.5 <= retry.jitter(1.0) <= 1.0 for _ in range(200))


# should_retry


@pytest.mark.parametrize(
    "failure",
    [Unavailable("twilio", "x", status=503), ProviderTimeout("twilio", "x", code="timeout")],
    ids=["5xx", "timeout"],
)
def test_idempotent_call_retries_unavailable(failure):
    assert should_retry(failure, 1, POLICY, idempotent=True)


@pytest.mark.parametrize(
    "failure",
    [Unavailable("twilio", "x", status=503), ProviderTimeout("twilio", "x", code="timeout")],
    ids=["5xx", "timeout"],
)
def test_create_is_not_retried_when_it_may_have_happened(failure):
    assert not should_retry(failure, 1, POLICY, idempotent=False)


def test_rate_limited_create_is_retried():
    assert should_retry(RateLimited("twilio", "x", status=429), 1, POLICY, idempotent=False)


@pytest.mark.parametrize(
    "failure",
    [Rejected("twilio", "x", status=400), NotFound("twilio", "x", status=404)],
    ids=["400", "404"],
)
def test_client_errors_are_final(failure):
    assert not should_retry(failure, 1, POLICY, idempotent=True)


def test_no_retry_after_last_attempt():
    assert not should_retry(Unavailable("twilio", "x"), POLICY.max_attempts, POLICY, idempotent=True)


# call_with_retry


async def test_retry_codes_until_exceeded(caplog):
    # given
    calls = []

    async def op():
        calls.append(1)
        raise Unavailable("twilio", "down", code="20503", status=503)

    # when
    with caplog.at_level(logging.WARNING, logger="providers.retry"):
        with pytest.raises(Unavailable):
            await call_with_retry(op, policy=FAST, idempotent=True, describe="list things")

    # then
    assert len(calls) == FAST.max_attempts
    assert len(caplog.records) == FAST.max_attempts - 1
    assert "list things failed" in caplog.records[0].getMessage()


async def test_success_after_failure_returns_value():
    outcomes = [Unavailable("twilio", "down", status=503), "done"]

    async def op():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await call_with_retry(op, policy=FAST, idempotent=True, describe="x") == "done"


async def test_retry_stops_when_total_budget_would_be_exceeded():
    calls = []

    async def op():
        calls.append(1)
        raise RateLimited("twilio", "slow down", status=429, retry_after=5.0)

    policy = RetryPolicy(max_attempts=10, base_delay=0.001, max_delay=5.0, total_budget=1.0)
    with pytest.raises(RateLimited):
        await call_with_retry(op, policy=policy, idempotent=True, describe="x")
    assert len(calls) == 1
