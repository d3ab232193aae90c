"""Carrier steps recorded before they are taken, and settled when the operation fails.

Invariant: every carrier write of an import, a purchase, a bind or a trunk's update is in the journal
before it is sent, and a create carries a name unique to its attempt, so whatever the carrier did can be
found again and made to match our rows (resolvers/provisioning/steps.py) by this process or, after a
crash, by recovery.

One way to run steps: `async with journal.all_or_nothing(leaving=...)`; the steps taken inside are
forgotten when the block ends and settled when it raises. Import, purchase, bind, trunk update and
recovery all settle through Journal.settle, under the leases of the trunks the steps touched.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import CarrierStep, PhoneNumber, StepState, statements
from providers.errors import ProviderFailure, ProviderTimeout
from resolvers.provisioning.clients import CarrierClients
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.steps import STEPS, Create, Params, Step
from resolvers.provisioning.trunks import fit_trunk
from resolvers.services import Services

log = logging.getLogger(__name__)
JOINING_PASSES = 3


class Journal:
    """The step log of the operation on one row, owned by the row's id: a number's (an import, a purchase,
    a bind) or a trunk's (an update of its settings)."""

    def __init__(self, owner_id: str, workspace_id: str, services: Services) -> None:
        self.owner_id = owner_id
        self.workspace_id = workspace_id
        self.services = services
        self.clients = CarrierClients(services)
        self._steps: list[CarrierStep] = []
        self._next_seq = 1
        # A step that timed out may still take effect at the carrier after we looked; it stays
        # journalled (and its slot held) until recovery looks again after a grace period.
        self.unsettled = False
        self.settled = True  # False when the last settling left something for recovery
        self._writing: tuple[list[CarrierStep], asyncio.Future[None]] | None = None  # see _write

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

    async def take(self, step: type[Step], params: Params, **inputs: Any) -> Any:
        """Write the step, then take it. `params` must be enough to settle it after a crash;
        `inputs` go to the call only (objects in hand, secrets)."""
        kind = STEPS[step.name]
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        row = CarrierStep(owner_id=self.owner_id, workspace_id=self.workspace_id, seq=seq, action=step.name, params=params)
        if isinstance(kind, Create):
            row.params = {**params, "name": f"{kind.base_name(row)} {secrets.token_hex(6)}"}
        await self._write(row)
        self._steps.append(row)
        try:
            answer = await kind.act(self.clients, row, **inputs)
        except ProviderTimeout:
            self.unsettled = True
            raise
        # What it made is kept in memory only, for settling in this process; the row stays STARTED, and
        # after a crash recovery finds what a create made by its attempt's name. One write fewer per step.
        row.params = {**row.params, **kind.made(answer)}
        row.state = StepState.DONE
        return answer

    async def _write(self, row: CarrierStep) -> None:
        """Write the step's row before its call goes out. Steps taken at once (`concurrently`) share one
        transaction: each commit is a flush to disk, and one flush for the lot is as durable as one each."""
        if self._writing is not None:  # a step taken in this same pass of the event loop is being written
            rows, written = self._writing
            rows.append(row)
            await asyncio.shield(written)
            return
        rows, written = [row], asyncio.get_running_loop().create_future()
        self._writing = (rows, written)
        try:
            # The other steps started together add their rows: a `concurrently` starts its steps one pass of
            # the event loop later, a nested one a pass after that.
            for _ in range(JOINING_PASSES):
                await asyncio.sleep(0)
            self._writing = None
            await _insert(rows)
        except BaseException as failure:
            self._writing = None
            if isinstance(failure, asyncio.CancelledError):
                written.cancel()
            else:
                written.set_exception(failure)
                written.exception()  # retrieved here: the others raise it too, if there are others
            raise
        written.set_result(None)

    @asynccontextmanager
    async def all_or_nothing(self, *, leaving: bool) -> AsyncIterator[Journal]:
        """Forget the steps when the block ends; settle them when it raises (see `settle`)."""
        try:
            yield self
        except BaseException:
            await self.settle(leaving=leaving)
            raise
        await self.forget()

    async def settle(self, *, leaving: bool) -> bool:
        """Settle every step, then fit the trunks of the number and of its steps to their riders (without
        the number, which comes off them, when it is `leaving`), all under those trunks' leases (taken
        after the number's, which the caller holds), so the riders counted cannot change meanwhile.
        False, and `settled` False, when something is left for recovery: a carrier failed, a step may yet
        act, or a trunk stayed busy; the number then keeps its row, so recovery fits the trunk again.
        A trunk's journal has no number: its steps are settled under that trunk's lease, `leaving` aside."""
        number = await PhoneNumber.get_or_none(id=self.owner_id)
        trunk_ids = sorted(self.trunk_ids | ({number.trunk_id} if number and number.trunk_id else set()))
        try:
            async with AsyncExitStack() as leases:
                for each in trunk_ids:
                    await leases.enter_async_context(self.services.leases.trunk(each))
                await self._undo()
                if self._steps:  # a step may yet act, or could not be settled
                    self.settled = False
                    return False
                for each in trunk_ids:
                    await fit_trunk(self.clients, each, leaving=number if leaving else None)
        except (ProviderFailure, LeaseBusy) as failure:
            log.warning("could not yet settle what %s left at the carriers: %s", self.owner_id, failure)
            self.settled = False
            return False
        self.settled = True
        return True

    async def _undo(self) -> None:
        """Settle every step, in reverse. A step whose settling fails stays recorded for recovery and the
        others are still settled (each makes its own objects match the rows); the first failure is raised
        at the end. While unsettled, STARTED steps are settled as far as can be seen now and kept."""
        failures: list[ProviderFailure] = []
        for row in sorted(self._steps, key=lambda r: r.seq, reverse=True):
            try:
                await STEPS[row.action].settle(self.clients, row)
            except ProviderFailure as failure:
                failures.append(failure)
                continue
            if self.unsettled and row.state is StepState.STARTED:
                continue
            await statements.execute('DELETE FROM "carrier_step" WHERE "id" = ?', [row.id])
            self._steps.remove(row)
        if failures:
            raise failures[0]

    async def forget(self, connection: BaseDBAsyncClient | None = None) -> None:
        """The operation succeeded and its row records what it made: no step needs settling. Only this
        journal's steps go: a trunk's operation forgets after giving up the trunk's lease, when the next
        operation on the trunk may already have journalled its own. `connection`: the transaction of the
        change that records what the steps made (an activation), so both commit as one."""
        if self._steps:
            ids = [row.id for row in self._steps]
            await statements.execute(
                f'DELETE FROM "carrier_step" WHERE "id" IN ({", ".join("?" for _ in ids)})', ids, connection
            )
            self._steps.clear()


_COLUMNS = ("owner_id", "workspace_id", "seq", "action", "params", "state", "created_at", "updated_at")
_INSERT = 'INSERT INTO "carrier_step" ({}) VALUES {{}} RETURNING "id", "seq"'.format(", ".join(f'"{c}"' for c in _COLUMNS))
_ROW = "(" + ", ".join("?" for _ in _COLUMNS) + ")"


async def _insert(rows: list[CarrierStep]) -> None:
    """The rows in one INSERT, however many steps started together: a single statement is its own
    transaction (one flush to disk, all or none of the rows), with no BEGIN and COMMIT to send. Each row
    gets the id the database gave it, matched by its seq (the order RETURNING lists rows in is not defined)."""
    now = datetime.now(UTC)
    stamp = statements.db_value(CarrierStep, "created_at", now)
    values = []
    for row in rows:
        row.created_at = row.updated_at = now
        values += [
            row.owner_id, row.workspace_id, row.seq, row.action,
            statements.db_value(CarrierStep, "params", row.params),
            statements.db_value(CarrierStep, "state", row.state),
            stamp, stamp,
        ]
    returned = await statements.rows(_INSERT.format(", ".join(_ROW for _ in rows)), values)
    ids = {found["seq"]: found["id"] for found in returned}
    for row in rows:
        row.id = ids[row.seq]
