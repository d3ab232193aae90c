"""A clock the test moves: the time passes when the test says so, by exactly as much as it says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from resolvers.clock import Clock


class SetClock(Clock):
    """Stands at the system's time when made (so rows the database dates itself stay comparable), on a
    whole second (so whole and binary fractions of seconds later are exact timestamps), and moves only
    by `advance`."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.at

    def timestamp(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
