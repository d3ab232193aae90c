"""Periodic jobs that live exactly as long as a block of the lifespan."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)


async def every(seconds: float, *jobs: Callable[[], Awaitable[Any]]) -> None:
    """Run the jobs now and then every `seconds`; a failing job is logged and tried again next time."""
    while True:
        for job in jobs:
            try:
                await job()
            except Exception:
                log.exception("periodic job %s failed", getattr(job, "__name__", job))
        await asyncio.sleep(seconds)


@asynccontextmanager
async def background(work: Awaitable[None]) -> AsyncIterator[None]:
    task = asyncio.ensure_future(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
