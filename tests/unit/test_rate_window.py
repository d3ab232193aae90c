"""The compact in-memory moving window answers as the limits library's own MemoryStorage does, and holds
only the requests still inside a window."""

from __future__ import annotations

import time

import pytest
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from app import rate_window
from app.rate_window import CompactMemoryStorage


class Clock:
    """time.time() for both storages: a request's moment is set by the test, not by how fast it runs."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


async def answers(storage, clock: Clock, steps: list[tuple[float, str]]) -> list:
    """Each step waits `seconds`, then hits one of the keys; the answer, what `test` says next, and the
    window's remaining count and reset time as get_window_stats reports them."""
    limiter, item = MovingWindowRateLimiter(storage), parse("3/minute")
    out = []
    for seconds, key in steps:
        clock.now += seconds
        hit = await limiter.hit(item, key)
        stats = await limiter.get_window_stats(item, key)
        out.append((hit, await limiter.test(item, key), stats.remaining, stats.reset_time))
    return out


async def test_every_answer_is_the_library_memory_storage_answer(clock):
    # Bursts over the limit, requests leaving the window one by one, two keys apart.
    steps = [(0, "a"), (1, "a"), (1, "b"), (1, "a"), (0, "a"), (20, "a"), (38, "a"), (0.5, "a"), (0.6, "a"),
             (1, "a"), (30, "b"), (0, "b"), (0, "b"), (0, "b"), (61, "a"), (0, "a")]  # fmt: skip
    start = clock.now
    expected = await answers(MemoryStorage(), clock, steps)
    clock.now = start
    assert await answers(CompactMemoryStorage(), clock, steps) == expected
    assert [hit for hit, *_ in expected].count(False) >= 4  # the sequence does reach the limit


async def test_requests_that_left_the_window_are_dropped_and_idle_keys_forgotten(clock):
    storage = CompactMemoryStorage()
    limiter, item = MovingWindowRateLimiter(storage), parse("1000/minute")
    for _ in range(500):
        clock.now += 0.1  # 50 s of requests
        assert await limiter.hit(item, "busy")
    await limiter.hit(item, "idle")
    clock.now += 30
    await limiter.hit(item, "busy")
    # Only the requests of the last minute are kept: those of the first 20 s are gone.
    assert 300 <= len(storage.times[item.key_for("busy")]) <= 310
    clock.now += 61 + rate_window.SWEEP_EVERY
    await limiter.hit(item, "busy")
    assert item.key_for("idle") not in storage.times

