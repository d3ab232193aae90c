"""The time, read through one object where a rule waits on it (webhook retries, rate-limit windows): a
test sets and moves its own clock instead of sleeping until the time comes."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """The system's time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        """Seconds since the epoch, as time.time()."""
        return time.time()


SYSTEM_CLOCK = Clock()
