"""Carrier steps recorded before they are taken, and settled in reverse when the operation fails.

Invariant: every carrier write of an import, a purchase or a bind is in the journal before it is sent,
and a create carries a name unique to its attempt, so whatever the carrier did can be found again and
made to match our rows (resolvers/carrier_steps.py) by this process or, after a crash, by recovery.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from models import CarrierStep, StepState
from providers.errors import ProviderFailure, ProviderTimeout
from resolvers.provisioning.steps import UNDO, CarrierClients
from resolvers.services import Services

T = TypeVar("T")
log = logging.getLogger(__name__)


class Journal:
    """The step log of the operation on one row (an import, a purchase, a bind), owned by the row's id."""

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
        """The steps an earlier operation on the row left behind (for recovery, or before a new bind)."""
        journal = cls(owner_id, workspace_id, services)
        journal._steps = await CarrierStep.filter(owner_id=owner_id).order_by("seq")
        journal._next_seq = max((row.seq for row in journal._steps), default=0) + 1
        return journal

    @property
    def empty(self) -> bool:
        return not self._steps

    @property
    def trunk_ids(self) -> set[str]:
        """Our trunks whose carrier side the steps touched; they are settled under those trunks' leases."""
        return {row.params["trunk_id"] for row in self._steps if row.params.get("trunk_id")}

    async def step(
        self,
        action: str,
        params: dict[str, Any],
        call: Callable[[], Awaitable[T]],
        result: Callable[[T], dict[str, Any]] = lambda _: {},
    ) -> T:
        """Write the step, take it, then write what it made; `params` must be enough to settle it."""
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

    async def create(
        self,
        action: str,
        params: dict[str, Any],
        name: str,
        call: Callable[[str], Awaitable[T]],
        result: Callable[[T], dict[str, Any]] = lambda _: {},
    ) -> T:
        """A step that makes something named `name` plus a tag of this attempt, journalled before the call,
        so a create whose answer never came is found again by that name: what this attempt made, never
        what another attempt made for the same trunk or number."""
        unique = f"{name} {secrets.token_hex(6)}"
        return await self.step(action, {**params, "name": unique}, lambda: call(unique), result)

    async def undo(self) -> None:
        """Settle every step, in reverse. A step whose settling fails stays recorded for recovery and the
        others are still settled (each is independent: it makes its own objects match the rows); the
        first failure is raised at the end. While unsettled, STARTED steps are settled as far as can be
        seen now and kept for another look."""
        clients = CarrierClients(self.services)
        failures: list[ProviderFailure] = []
        for row in sorted(self._steps, key=lambda r: r.seq, reverse=True):
            try:
                await UNDO[row.action](clients, row)
            except ProviderFailure as failure:
                failures.append(failure)
                continue
            if self.unsettled and row.state is StepState.STARTED:
                continue
            await row.delete()
            self._steps.remove(row)
        if failures:
            raise failures[0]

    async def try_undo(self) -> bool:
        """Undo; False when something is left for recovery (a carrier failed to clean up, or may yet act)."""
        try:
            await self.undo()
        except ProviderFailure as failure:
            log.warning("could not yet settle the carrier steps of %s: %s", self.owner_id, failure)
            return False
        return not self._steps

    async def forget(self) -> None:
        """The operation succeeded and its row records what it made: no step needs settling."""
        await CarrierStep.filter(owner_id=self.owner_id).delete()
        self._steps.clear()
