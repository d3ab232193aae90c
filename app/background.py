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


async def cancel_until_done(task: asyncio.Task) -> None:
    """Cancel the task, again and again until it has ended. On Python 3.11 a cancellation that meets an
    asyncio.wait_for's own timeout can come out of it as a TimeoutError, which a loop that outlives timeouts
    (the event feed's keep-alive) survives: one cancel() would leave it running and its waiter waiting."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    with contextlib.suppress(asyncio.CancelledError):
        await task

