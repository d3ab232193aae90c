"""Run independent carrier steps at once, letting each finish so the journal knows what happened."""

import asyncio
from collections.abc import Awaitable
from typing import Any


async def concurrently(*steps: Awaitable[Any] | None) -> list[Any]:
    """Await every step (None entries are skipped); then raise the first failure, if any.

    A failed sibling does not cancel the others: a cancelled carrier call leaves its effect unknown,
    while one that finishes is either recorded as done or known not to have happened.
    """
    results = await asyncio.gather(*(step for step in steps if step is not None), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
