"""Periodic jobs that live exactly as long as a block of the lifespan."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[Any]]


@asynccontextmanager
async def every(seconds: float, *jobs: Job, finish_within: float = 10.0) -> AsyncIterator[None]:
    """Run the jobs now and then every `seconds` while the block runs; a failing job is logged and
    tried again next time. On leaving, a pass in progress may finish (up to `finish_within` seconds)
    rather than be cut off in the middle of a database call."""
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            for job in jobs:
                try:
                    await job()
                except Exception:
                    log.exception("periodic job %s failed", getattr(job, "__name__", job))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, finish_within)
        except TimeoutError:
            log.warning("periodic jobs did not finish within %ss at shutdown", finish_within)
