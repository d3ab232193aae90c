"""When to repeat a failed carrier call, and how long to wait first."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

from providers.errors import ProviderFailure, RateLimited

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying: attempts in all, backoff in seconds, and a total time budget."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0
    total_budget: float = 10.0


def should_retry(failure: ProviderFailure, attempt: int, policy: RetryPolicy, *, idempotent: bool) -> bool:
    """Decide whether attempt number `attempt` (1-based) may be followed by another."""
    if attempt >= policy.max_attempts:
        return False
    if isinstance(failure, RateLimited):
        # The carrier refused before acting, so even a create is safe to send again.
        return True
    if not failure.retryable:
        return False
    # A 5xx or timeout on a create may hide a success; repeating it could make a second one.
    return idempotent


def jitter(delay: float) -> float:
    """Spread `delay` over [delay/2, delay]; split out so tests can pin it."""
    return random.uniform(delay / 2, delay)


def delay_for(attempt: int, retry_after: float | None, policy: RetryPolicy) -> float:
    """Seconds to wait after attempt `attempt`: the carrier's Retry-After when given, else backoff."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.max_delay)
    backoff = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
    return jitter(backoff)


async def call_with_retry(
    op: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    idempotent: bool,
    describe: str,
) -> T:
    """Run `op`, repeating it on retryable failures within `policy`.

    Raises the last `ProviderFailure` once no retry is allowed or the time budget would be
    exceeded. Logs one warning per retry; `describe` must not hold a secret.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await op()
        except ProviderFailure as failure:
            if not should_retry(failure, attempt, policy, idempotent=idempotent):
                raise
            delay = delay_for(attempt, failure.retry_after, policy)
            if loop.time() - started + delay > policy.total_budget:
                raise
            logger.warning(
                "%s failed (%s); retry %d of %d in %.2fs",
                describe,
                failure,
                attempt,
                policy.max_attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header value (delta-seconds or HTTP date), if any."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)
