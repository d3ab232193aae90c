"""One log line and one count per carrier call (its retries included), whatever the carrier."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import TypeVar

from providers.errors import ProviderFailure, ProviderTimeout, RateLimited, Unavailable
from providers.metrics import CARRIER_DURATION, CARRIER_REQUESTS

log = logging.getLogger("trunkline.carrier")
T = TypeVar("T")


def outcome_of(failure: ProviderFailure) -> str:
    if isinstance(failure, RateLimited):
        return "rate_limited"
    if isinstance(failure, ProviderTimeout):
        return "timeout"
    if isinstance(failure, Unavailable):
        return "unavailable"
    return "rejected"


async def observed(carrier: str, operation: str, call: Awaitable[T]) -> T:
    """Await `call`; `operation` must be a fixed name (no ids: it is a metrics label)."""
    started = time.perf_counter()
    outcome, status = "ok", None
    try:
        return await call
    except ProviderFailure as failure:
        outcome, status = outcome_of(failure), failure.status
        raise
    except asyncio.CancelledError:
        outcome = "cancelled"  # the caller stopped waiting: not the carrier's doing, so not counted
        raise
    except Exception:
        outcome = "error"  # a fault of ours, logged with its traceback where it is handled
        raise
    finally:
        duration = time.perf_counter() - started
        if outcome not in ("cancelled", "error"):
            CARRIER_REQUESTS.labels(carrier, operation, outcome).inc()
            CARRIER_DURATION.labels(carrier, operation).observe(duration)
        log.info(
            "%s %s %s in %.3fs",
            carrier,
            operation,
            outcome if status is None else f"{outcome} (HTTP {status})",
            duration,
            extra={"carrier": carrier, "operation": operation, "outcome": outcome, "status": status,
                   "duration": round(duration, 4)},
        )
