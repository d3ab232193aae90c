"""What tells a process's event feed (resolvers/event_feed.py) of new events, for as long as the app runs.

PostgreSQL: a connection of its own LISTENs on EVENTS_CHANNEL, where every process's `record` NOTIFYs on
commit, so each worker learns of every worker's events at once. When that connection is lost, the feed
is reconnected and catches up on what was committed meanwhile from the outbox.
SQLite (one process): the outbox is read every POLL_INTERVAL seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from app.background import cancel_until_done, every
from resolvers.event_feed import EventFeed
from resolvers.events import EVENTS_CHANNEL

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.15
# How long before the newest event seen a catch-up reads from: an event's id is made just before its
# transaction commits, so one committing later than a newer one is still found. One process writes
# SQLite (its transactions one at a time); PostgreSQL has many writers, and a reconnect may take a while.
SQLITE_LOOK_BACK = 2.0
POSTGRES_LOOK_BACK = 30.0
RECONNECT_AFTER = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds; the last one repeats
KEEPALIVE = 15.0  # a query this often on the LISTEN connection notices a half-open one


@asynccontextmanager
async def feeding(feed: EventFeed, database_url: str) -> AsyncIterator[None]:
    """Keep `feed` told of new events while the block runs."""
    if database_url.startswith("sqlite://"):
        async with every(POLL_INTERVAL, lambda: feed.catch_up(SQLITE_LOOK_BACK)):
            yield
        return
    task = asyncio.create_task(listen(feed, expand_db_url(database_url)["credentials"]))
    try:
        yield
    finally:
        await cancel_until_done(task)


async def listen(feed: EventFeed, credentials: dict) -> None:
    """LISTEN, deliver what is announced; on any loss, reconnect (with backoff) and catch up."""
    failures = 0
    while True:
        started = asyncio.get_running_loop().time()
        try:
            await _listen_once(feed, credentials)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.warning("event feed: the LISTEN connection failed (%s); reconnecting", type(exc).__name__)
        except Exception:
            log.exception("event feed: delivering events failed; reconnecting")
        if asyncio.get_running_loop().time() - started > KEEPALIVE:
            failures = 0  # it had been working: back off afresh
        delay = RECONNECT_AFTER[min(failures, len(RECONNECT_AFTER) - 1)]
        failures += 1
        await asyncio.sleep(delay)


async def _listen_once(feed: EventFeed, credentials: dict) -> None:
    announced: asyncio.Queue[str | None] = asyncio.Queue()
    connection = await asyncpg.connect(
        host=credentials.get("host"), port=credentials.get("port"), user=credentials.get("user"),
        password=credentials.get("password"), database=credentials.get("database"), ssl=credentials.get("ssl"),
        timeout=10,
    )
    try:
        connection.add_termination_listener(lambda _: announced.put_nowait(None))
        await connection.add_listener(EVENTS_CHANNEL, lambda _c, _pid, _channel, event_id: announced.put_nowait(event_id))
        await feed.catch_up(POSTGRES_LOOK_BACK)  # what committed while no one listened
        log.info("event feed: listening on %s", EVENTS_CHANNEL)
        while True:
            try:
                first = await asyncio.wait_for(announced.get(), KEEPALIVE)
            except TimeoutError:
                await connection.fetchval("SELECT 1", timeout=KEEPALIVE)
                continue
            batch = [first]
            while not announced.empty():
                batch.append(announced.get_nowait())
            if None in batch:
                raise ConnectionResetError("the LISTEN connection closed")
            await feed.deliver(batch)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), 5)
