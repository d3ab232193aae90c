"""Rate limits, counted in a moving window by the `limits` library: requests per API key, and failed
authentications per client address (a key guesser is stopped before it is even checked).

With TRUNKLINE_REDIS_URL every process and host counts in the same Redis; without it each process
counts alone, in memory. When Redis does not answer, requests go through (logged): a limit is a
protection, and the API must not stop with it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from app.rate_window import CompactMemoryStorage
from app.settings import Settings
from resolvers.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)
REDIS_TIMEOUT = 1.0  # seconds; a slow Redis costs every request this much at most
WARN_EVERY = 60.0


@dataclass(frozen=True)
class Exceeded:
    retry_after: int  # whole seconds until the limit lets the next request through


class RateLimits:
    def __init__(self, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.per_key = parse_many(settings.rate_limit)
        self.auth_failures = parse_many(settings.auth_failure_limit)
        self._redis_url = str(settings.redis_url) if settings.redis_url else None
        self._prefix = settings.redis_prefix
        self._pool = None
        self._clock = clock
        self._limiter = MovingWindowRateLimiter(CompactMemoryStorage(clock))
        self._warned_at = -math.inf

    @property
    def shared(self) -> bool:
        return self._redis_url is not None

    async def start(self) -> None:
        """Connect to Redis when configured (lazily: a Redis that is down is reported per request)."""
        if self._redis_url is None:
            return
        from redis.asyncio import ConnectionPool

        self._pool = ConnectionPool.from_url(
            self._redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        storage = RedisStorage(
            "async+" + self._redis_url.split("://", 1)[0] + "://",
            implementation="redispy",
            key_prefix=self._prefix,
            wrap_exceptions=True,
            connection_pool=self._pool,
        )
        self._limiter = MovingWindowRateLimiter(storage)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def take_request(self, key_id: str) -> Exceeded | None:
        """Count one request for the API key; Exceeded when it is over its limit."""
        return await self._hit(self.per_key, "api-key", key_id)

    async def take_auth_failure(self, address: str) -> None:
        await self._hit(self.auth_failures, "auth-failure", address)

    async def auth_failures_exceeded(self, address: str) -> Exceeded | None:
        """Exceeded while the address has used up its failed authentications."""
        try:
            for item in self.auth_failures:
                if not await self._limiter.test(item, "auth-failure", address):
                    return await self._exceeded(item, "auth-failure", address)
        except StorageError as exc:
            self._storage_failed(exc)
        return None

    async def _hit(self, items: list[RateLimitItem], *identifiers: str) -> Exceeded | None:
        try:
            for item in items:
                if not await self._limiter.hit(item, *identifiers):
                    return await self._exceeded(item, *identifiers)
        except StorageError as exc:
            self._storage_failed(exc)
        return None

    async def _exceeded(self, item: RateLimitItem, *identifiers: str) -> Exceeded:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return Exceeded(retry_after=max(1, math.ceil(stats.reset_time - self._clock.timestamp())))

    def _storage_failed(self, exc: StorageError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:  # one line a minute, not one per request
            self._warned_at = now
            # The exception's text may quote the URL, password included: name its type only.
            log.warning("rate limits not counted, Redis failed: %s", type(exc.storage_error).__name__)
