"""The in-memory moving window, kept as one array of timestamps per key.

The `limits` library's MemoryStorage keeps each counted request as an object at the head of a list
(an O(n) insert per request) and hands every expiry sweep to a thread, one per request under load. With
a limit of thousands of requests a minute that is megabytes of objects and a thread hop per request.
Here a request is 8 bytes appended to an array; expired ones are cut off at most once a second per key,
and keys left idle are dropped by a sweep every SWEEP_EVERY seconds. The answers are the library's, but
for one instant it answers both ways: here a request exactly `expiry` old has left the window in every
answer alike, so a client that waits exactly Retry-After seconds gets through.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right

from limits.aio.storage import MemoryStorage

from resolvers.clock import SYSTEM_CLOCK, Clock

PRUNE_EVERY = 1.0
SWEEP_EVERY = 10.0


class CompactMemoryStorage(MemoryStorage):
    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__()
        self.clock = clock
        self.times: dict[str, array] = {}  # ascending request times per key
        self.expiries: dict[str, int] = {}
        self.pruned_at: dict[str, float] = {}
        self.swept_at = clock.timestamp()

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        # No await in here: one request's check and count cannot interleave with another's.
        if amount > limit:
            return False
        now = self.clock.timestamp()
        self._tidy(key, expiry, now)
        times = self.times.setdefault(key, array("d"))
        self.expiries[key] = expiry
        index = len(times) - 1 - (limit - amount)  # the request that must have left the window
        if index >= 0 and times[index] > now - expiry:
            return False
        times.extend([now] * amount)
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(start of the window, requests in it), as MemoryStorage answers."""
        now = self.clock.timestamp()
        times = self.times.get(key)
        if not times:
            return now, 0
        first = bisect_right(times, now - expiry)
        count = len(times) - first
        return (times[first] if count else times[0]), count

    async def clear(self, key: str) -> None:
        await super().clear(key)
        self._forget(key)

    async def reset(self) -> int | None:
        cleared = max(await super().reset() or 0, len(self.times))
        self.times.clear()
        self.expiries.clear()
        self.pruned_at.clear()
        return cleared

    def _tidy(self, key: str, expiry: int, now: float) -> None:
        times = self.times.get(key)
        if times and now - self.pruned_at.get(key, 0.0) >= PRUNE_EVERY:
            self.pruned_at[key] = now
            del times[: bisect_right(times, now - expiry)]
        if now - self.swept_at >= SWEEP_EVERY:
            self.swept_at = now
            for idle in [k for k, t in self.times.items() if not t or t[-1] < now - self.expiries[k]]:
                self._forget(idle)

    def _forget(self, key: str) -> None:
        self.times.pop(key, None)
        self.expiries.pop(key, None)
        self.pruned_at.pop(key, None)
