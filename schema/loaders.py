"""Per-request loaders of agents and trunks, scoped to one workspace: one query per batch.

A page of numbers reads the agents and trunks it shows up front (`read_many`, one statement each), and
the numbers' `agent` and `trunk` fields then answer from what was read, without an awaitable per field:
a page of 100 completes its list in one pass instead of gathering 200 futures. A field whose row was not
read ahead (a single number, a mutation's result) is batched by a DataLoader as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from models import Agent, SipTrunk

M = TypeVar("M", bound=Model)
T = TypeVar("T")


class RowLoader(Generic[M]):
    def __init__(self, model: type[M], workspace_id: str) -> None:
        self._model, self._workspace_id = model, workspace_id
        self._read: dict[str, M | None] = {}
        self._shown: dict[tuple[str, Callable], object] = {}  # a row read ahead is shown once per request
        self._batched: DataLoader[str, M | None] | None = None  # made on first use: most requests need none

    async def _fetch(self, ids: Sequence[str]) -> list[M | None]:
        rows = await self._model.filter(workspace_id=self._workspace_id, id__in=list(ids))
        by_id = {row.id: row for row in rows}
        found = [by_id.get(i) for i in ids]
        self._read.update(zip(ids, found, strict=True))
        return found

    async def read_many(self, ids: Iterable[str | None]) -> None:
        """Read ahead the rows of these ids not read yet (None ids are skipped)."""
        wanted = sorted({i for i in ids if i is not None and i not in self._read})
        if wanted:
            await self._fetch(wanted)

    def shown(self, row_id: str, show: Callable[[M], T]) -> T | None | Awaitable[T | None]:
        """`show(row)`, or None when there is no such row: at once when the row was read ahead (made once
        for the page's numbers that share it), else an awaitable whose read is batched with the other fields'."""
        if row_id in self._read:
            row = self._read[row_id]
            if row is None:
                return None
            key = (row_id, show)
            if key not in self._shown:
                self._shown[key] = show(row)
            return self._shown[key]
        return _Later(lambda: self._shown_later(row_id, show))

    async def _shown_later(self, row_id: str, show: Callable[[M], T]) -> T | None:
        if self._batched is None:
            self._batched = DataLoader(load_fn=self._fetch)
        row = await self._batched.load(row_id)
        return None if row is None else show(row)


class _Later:
    """An awaitable that starts its read when awaited, not when made: a number whose agent is not asked
    for reads nothing (and leaves no coroutine behind that was never awaited)."""

    __slots__ = ("_start",)

    def __init__(self, start: Callable[[], Awaitable]) -> None:
        self._start = start

    def __await__(self):
        return self._start().__await__()


class Loaders:
    def __init__(self, workspace_id: str) -> None:
        self.agent = RowLoader(Agent, workspace_id)
        self.trunk = RowLoader(SipTrunk, workspace_id)
