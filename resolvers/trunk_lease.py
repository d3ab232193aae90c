"""A lease on a SIP trunk: one operation at a time changes its carrier side, in any process."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from models import SipTrunk

# Long enough for a trunk's slowest operation with retries; a crashed holder's lease lapses after it.
LEASE_DURATION = timedelta(seconds=120)
WAIT_FOR_LEASE = 30.0


class TrunkBusy(Exception):
    """Another operation held the trunk for longer than we were willing to wait."""


def set_lease_duration(seconds: float) -> None:
    """Set once at start-up from TRUNKLINE_TRUNK_LEASE; every process of a deployment uses the same."""
    global LEASE_DURATION
    LEASE_DURATION = timedelta(seconds=seconds)


@asynccontextmanager
async def trunk_lease(trunk_id: str, *, wait: float = WAIT_FOR_LEASE) -> AsyncIterator[SipTrunk]:
    """Hold the trunk's lease and yield the trunk as it is now."""
    token = secrets.token_hex(16)
    deadline = asyncio.get_running_loop().time() + wait
    pause = 0.01
    while not await _take(trunk_id, token):
        if asyncio.get_running_loop().time() >= deadline:
            raise TrunkBusy(trunk_id)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.25)
    try:
        yield await SipTrunk.get(id=trunk_id)
    finally:
        await SipTrunk.filter(id=trunk_id, lease_token=token).update(lease_token=None, lease_expires_at=None)


async def _take(trunk_id: str, token: str) -> bool:
    now = datetime.now(UTC)
    free = Q(lease_token=None) | Q(lease_expires_at__lt=now)
    taken = await SipTrunk.filter(Q(id=trunk_id) & free).update(lease_token=token, lease_expires_at=now + LEASE_DURATION)
    return taken == 1
