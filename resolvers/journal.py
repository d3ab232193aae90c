"""Carrier steps recorded before they are taken, and undone in reverse when the operation fails."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from models import CarrierStep, StepState
from providers.errors import ProviderFailure, ProviderTimeout
from resolvers.carrier_steps import UNDO, UndoContext
from resolvers.services import Services

T = TypeVar("T")
log = logging.getLogger(__name__)


class Journal:
    """The step log of one operation (an import, a purchase, a delete), owned by one row's id."""

    def __init__(self, owner_id: str, workspace_id: str, services: Services) -> None:
        self.owner_id = owner_id
        self.workspace_id = workspace_id
        self.services = services
        self._steps: list[CarrierStep] = []
        self._next_seq = 1
        # A step that timed out may still take effect at the carrier after we looked; it stays
        # journalled (and its slot held) until recovery looks again after a grace period.
        self.unsettled = False

    @classmethod
    async def resume(cls, owner_id: str, workspace_id: str, services: Services) -> Journal:
        """The journal an interrupted operation left behind, for recovery; its carrier calls have settled."""
        journal = cls(owner_id, workspace_id, services)
        journal._steps = await CarrierStep.filter(owner_id=owner_id).order_by("seq")
        journal._next_seq = max((row.seq for row in journal._steps), default=0) + 1
        return journal

    async def step(
        self,
        action: str,
        params: dict[str, Any],
        call: Callable[[], Awaitable[T]],
        result: Callable[[T], dict[str, Any]] = lambda _: {},
    ) -> T:
        """Write the step, take it, then write what it made; `params` must be enough to undo it."""
        if action not in UNDO:
            raise KeyError(f"no undo is known for carrier step {action!r}")
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        row = await CarrierStep.create(
            owner_id=self.owner_id, workspace_id=self.workspace_id, seq=seq, action=action, params=params
        )
        self._steps.append(row)
        try:
            value = await call()
        except ProviderTimeout:
            self.unsettled = True
            raise
        row.params = {**params, **result(value)}
        row.state = StepState.DONE
        await row.save(update_fields=["params", "state", "updated_at"])
        return value

    async def undo(self) -> None:
        """Undo every step in reverse; a step whose undo fails stays recorded for recovery, and so do those before it.

        While unsettled, STARTED steps are undone as far as can be seen now and kept for another look.
        """
        context = UndoContext(self.services)
        for row in sorted(self._steps, key=lambda r: r.seq, reverse=True):
            await UNDO[row.action](context, row.params, row.state)
            if self.unsettled and row.state is StepState.STARTED:
                continue
            await row.delete()
            self._steps.remove(row)

    async def try_undo(self) -> bool:
        """Undo; False when something is left for recovery (a carrier failed to clean up, or may yet act)."""
        try:
            await self.undo()
        except ProviderFailure as failure:
            log.warning("could not yet undo the carrier steps of %s: %s", self.owner_id, failure)
            return False
        return not self._steps

    async def forget(self) -> None:
        """The operation succeeded: its steps need no undoing."""
        await CarrierStep.filter(owner_id=self.owner_id).delete()
        self._steps.clear()
