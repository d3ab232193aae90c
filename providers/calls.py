"""The request path every carrier call takes, whatever the carrier.

Each attempt is bounded by the call's timeout; our own timeout and a failed connection become the same
`providers.errors` for every carrier, while the carrier's own errors are mapped by its transport, which
knows their shape. Retries follow `providers.retry`; the call, retries included, is logged and counted
once by `providers.observed`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

import aiohttp

from providers.errors import NotFound, ProviderFailure, ProviderTimeout, Unavailable
from providers.observed import observed
from providers.retry import RetryPolicy, call_with_retry

T = TypeVar("T")


async def carrier_call(
    carrier: str,
    operation: str,
    describe: str,
    request: Callable[[], Awaitable[T]],
    *,
    timeout: float,
    policy: RetryPolicy,
    idempotent: bool,
    carrier_errors: tuple[type[Exception], ...],
    carrier_failure: Callable[[Exception], ProviderFailure],
    hide_cause: Callable[[Exception], bool],
) -> T:
    """Run `request` as one carrier call: timeout, error mapping and retries.

    `operation` is the metrics label (a fixed name, no ids); `describe` starts every failure message and
    retry log line, so neither may hold a secret. `carrier_errors` become failures through
    `carrier_failure`; `hide_cause(exc)` drops the original exception from the failure's chain when its
    text may repeat what the failure's message had scrubbed.
    """

    async def attempt() -> T:
        try:
            async with asyncio.timeout(timeout):
                return await request()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _transport_failure(carrier, describe, exc, timeout) from (None if hide_cause(exc) else exc)
        except carrier_errors as exc:
            raise carrier_failure(exc) from (None if hide_cause(exc) else exc)

    retried = call_with_retry(attempt, policy=policy, idempotent=idempotent, describe=describe)
    return await observed(carrier, operation, retried)


def _transport_failure(carrier: str, describe: str, exc: Exception, timeout: float) -> ProviderFailure:
    # TimeoutError first: aiohttp's ServerTimeoutError is both, and it is a timeout.
    if isinstance(exc, TimeoutError):
        return ProviderTimeout(carrier, f"{describe}: no answer within {timeout:g}s", code="timeout")
    return Unavailable(carrier, f"{describe}: connection failed ({type(exc).__name__})", code="connection_error")


async def gone_is_done(call: Awaitable[object]) -> None:
    """Await a delete or release; a resource already gone is the state it aims for.

    Deletes undo earlier steps, so they must succeed when repeated.
    """
    with suppress(NotFound):
        await call
