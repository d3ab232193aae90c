"""Leases on rows: one operation at a time changes a trunk's or a number's carrier side, in any process.

A lease is a token and an expiry on the row, taken by a conditional update, so it works the same on
SQLite and PostgreSQL. Its holder renews it while it works, so it lapses only when the holder died
(after TRUNKLINE_LEASE), never under a slow but live operation.

Leases nest in one order only, a number's before its trunk's, so two operations never wait on each other.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from models import PhoneNumber, SipTrunk, statements

M = TypeVar("M", bound=Model)
log = logging.getLogger(__name__)
# The leases this process holds, by token: True once the holder cleared its lease itself, in the
# transaction that finished its work (an import's activation), so that the release has nothing to write.
_holding: dict[str, bool] = {}


class LeaseBusy(Exception):
    """Another operation held the row for longer than we were willing to wait."""


@dataclass(frozen=True)
class Leases:
    """`duration`: how long a dead holder's lease outlives it (TRUNKLINE_LEASE; every process of a
    deployment uses the same); a live holder renews it every third of this. `wait`: how long to wait
    for a busy row before LeaseBusy."""

    duration: timedelta = timedelta(seconds=120)
    wait: float = 30.0

    def number(
        self, phone_number_id: str, *, wait: float | None = None, held: str | None = None
    ) -> AbstractAsyncContextManager[PhoneNumber | None]:
        """`held`: the token of a lease already taken (a reservation is inserted leased), adopted as it is:
        renewed and given up like any other, yielding None since the holder has the row."""
        return lease(PhoneNumber, phone_number_id, self.duration, self.wait if wait is None else wait, held)

    def taken_now(self) -> dict[str, object]:
        """The lease columns of a row inserted already leased to its inserter."""
        return {"lease_token": secrets.token_hex(16), "lease_expires_at": datetime.now(UTC) + self.duration}

    def trunk(
        self, trunk_id: str, *, wait: float | None = None, held: SipTrunk | None = None
    ) -> AbstractAsyncContextManager[SipTrunk | None]:
        """`held`: the row `trunk_in` returned, whose lease is adopted as it is (and yielded)."""
        token = held.lease_token if held is not None else None
        return lease(SipTrunk, trunk_id, self.duration, self.wait if wait is None else wait, token, held)

    async def trunk_in(self, trunk_id: str, connection: BaseDBAsyncClient) -> SipTrunk | None:
        """The trunk's row, leased by the caller's transaction if no one holds it (None if someone does: then
        take it with `trunk`, waiting). Its holder adopts it with `trunk(..., held=row)` as soon as the
        transaction commits, with nothing awaited in between, so that the lease always has a live holder."""
        return await _take(SipTrunk, trunk_id, secrets.token_hex(16), self.duration, connection)


def given_up(token: str | None) -> None:
    """The holder of the lease `token` has cleared it in a statement of its own, now committed."""
    if token in _holding:
        _holding[token] = True


async def give_up(held: Model, connection: BaseDBAsyncClient) -> None:
    """Clear the lease on `held` (the row `lease` yielded) in the caller's transaction, so that the lease ends
    with the change made under it; once that commits, `given_up(held.lease_token)` spares the release."""
    await _release(type(held), held.id, held.lease_token, connection)


async def _release(model: type[Model], row_id: str, token: str, connection: BaseDBAsyncClient | None = None) -> None:
    await statements.execute(
        f'UPDATE "{model._meta.db_table}" SET "lease_token" = NULL, "lease_expires_at" = NULL '
        'WHERE "id" = ? AND "lease_token" = ?',
        [row_id, token], connection,
    )


@asynccontextmanager
async def lease(
    model: type[M], row_id: str, duration: timedelta, wait: float, held: str | None = None, row: M | None = None
) -> AsyncIterator[M | None]:
    """Hold the row's lease and yield the row as it is now (None when the row is gone). `held`: the token of
    a lease already taken, adopted; `row`, the row it was taken with, is then what is yielded."""
    token = held or secrets.token_hex(16)
    deadline = asyncio.get_running_loop().time() + wait
    pause = 0.01
    taken = row
    while not held and (taken := await _take(model, row_id, token, duration)) is None:
        if not await model.exists(id=row_id):
            yield None
            return
        if asyncio.get_running_loop().time() >= deadline:
            raise LeaseBusy(row_id)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.25)
    _holding[token] = False
    renewal = _Renewal(model, row_id, token, duration)
    try:
        yield taken
    finally:
        renewal.stop()
        if not _holding.pop(token):
            await _release(model, row_id, token)


# Every import, bind and delete takes and gives up leases: their statements are written out (models/statements.py).
async def _take(
    model: type[M], row_id: str, token: str, duration: timedelta, connection: BaseDBAsyncClient | None = None
) -> M | None:
    """The row, leased to `token` by the same statement; None while another holds it (or it is gone)."""
    now = datetime.now(UTC)
    expires, lapsed = (statements.db_value(model, "lease_expires_at", at) for at in (now + duration, now))
    taken = await statements.instances(
        model,
        f'UPDATE "{model._meta.db_table}" SET "lease_token" = ?, "lease_expires_at" = ? '
        'WHERE "id" = ? AND ("lease_token" IS NULL OR "lease_expires_at" < ?) RETURNING *',
        [token, expires, row_id, lapsed], connection,
    )
    return taken[0] if taken else None


class _Renewal:
    """Renews a held lease every third of its duration: a timer, and a task only while a renewal runs, so
    that a holder done within the first third (every import) made no task and waits for none to end."""

    def __init__(self, model: type[Model], row_id: str, token: str, duration: timedelta) -> None:
        self.model, self.row_id, self.token, self.duration = model, row_id, token, duration
        self.loop = asyncio.get_running_loop()
        self.running: asyncio.Task | None = None
        self.timer: asyncio.TimerHandle | None = None
        self._next()

    def _next(self) -> None:
        self.timer = self.loop.call_later(self.duration.total_seconds() / 3, self._start)

    def _start(self) -> None:
        self.timer = None
        self.running = self.loop.create_task(self._renew())

    async def _renew(self) -> None:
        try:
            expires = datetime.now(UTC) + self.duration
            if not await self.model.filter(id=self.row_id, lease_token=self.token).update(lease_expires_at=expires):
                return  # the row is gone, or the lease was given up
        except Exception:  # a database hiccup: the next renewal tries again, well before expiry
            log.warning("could not renew the lease on %s", self.row_id, exc_info=True)
        self.running = None
        self._next()

    def stop(self) -> None:
        """No renewal after this; one under way may still land, and then changes nothing: it renews only
        while the row holds our token, which the release clears."""
        if self.timer is not None:
            self.timer.cancel()
        if self.running is not None:
            self.running.cancel()
