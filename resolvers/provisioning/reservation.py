"""Reserving a slot: the cap and the one-row-per-number rule, decided by the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from tortoise.exceptions import IntegrityError

from models import Agent, PhoneNumber, PhoneNumberEventType, SipTrunk, Workspace, statements
from models.durability import lazily_durable_transaction
from models.enums import PhoneNumberCapability, PhoneNumberSource, PhoneNumberStatus
from resolvers.events import delete_recorded, update_recorded
from resolvers.outcomes import ErrorCode, FieldCode, FieldProblem, Invalid, LimitReached
from resolvers.provisioning.leases import LeaseBusy, Leases, give_up, given_up
from resolvers.validation import not_found
from resolvers.workspaces import count_slot_holders, locked_workspace, slot_free

if TYPE_CHECKING:
    from resolvers.provisioning.journal import Journal


async def already_held(workspace_id: str, e164: str, field: str = "e164", *, anywhere: bool = True) -> Invalid | None:
    """ALREADY_EXISTS when any row holds the number; only this workspace learns which row.

    anywhere=False looks in this workspace alone, for a caller not yet proved to own the number."""
    found = await statements.rows_now('SELECT "id", "workspace_id" FROM "phone_number" WHERE "e164" = ?', [e164])
    holder = found[0] if found else None
    if holder is None or (not anywhere and holder["workspace_id"] != workspace_id):
        return None
    if holder["workspace_id"] == workspace_id:
        message = f"{e164} is already in this workspace as {holder['id']}"
    else:
        message = f"{e164} is already in use and cannot be imported"
    return Invalid((FieldProblem(field, FieldCode.ALREADY_EXISTS, message),))


class Reservation(NamedTuple):
    number: PhoneNumber  # PROVISIONING, leased to the import
    trunk: SipTrunk | None  # the trunk it rides, leased in the same transaction when asked for and free


async def reserve_number(
    workspace_id: str, e164: str, source: PhoneNumberSource, *, lease_trunk: Leases | None = None, **fields
) -> Reservation | LimitReached | Invalid:
    """Insert the number as PROVISIONING if the workspace has a free slot.

    The workspace row is locked (PostgreSQL) or the connection serialises transactions (SQLite),
    so concurrent reservations count each other; the unique e164 refuses a concurrent duplicate. The
    insert is tried first and the number looked for only when it fails, a statement fewer for an
    import that goes through; a number already held is still reported before a full workspace.
    `lease_trunk`: take the lease of the number's trunk in the same transaction, if no one holds it
    (the holder adopts it at once: Leases.trunk_in), a statement and a commit fewer than taking it after.
    """
    for _ in range(3):
        try:
            reserved = await _insert_under_cap(workspace_id, e164, source, lease_trunk, **fields)
        except IntegrityError:
            # Either the number's unique index (a concurrent import won, and may have lost again since: look
            # again) or a foreign key (the trunk or agent was deleted after it was looked up).
            if gone := await _references_gone(fields):
                return gone
            if held := await already_held(workspace_id, e164):
                return held
            continue
        if isinstance(reserved, LimitReached):
            return await already_held(workspace_id, e164) or reserved
        return reserved
    return Invalid((FieldProblem("e164", FieldCode.ALREADY_EXISTS, f"{e164} is being imported by another request"),))


async def _references_gone(fields: dict) -> Invalid | None:
    trunk, agent = fields.get("trunk"), fields.get("agent")
    problems = []
    if trunk is not None and not await SipTrunk.exists(id=trunk.id):
        problems.append(not_found("trunkId", "SIP trunk", trunk.id))
    if agent is not None and not await Agent.exists(id=agent.id):
        problems.append(not_found("agentId", "agent", agent.id))
    return Invalid(tuple(problems)) if problems else None


async def limit_reached(workspace: Workspace, connection=None) -> LimitReached | None:
    """The cap: LimitReached when the workspace's slot-holding numbers fill its limit. Decisive only inside
    the transaction that locked the workspace row; outside one, a forecast (planPhoneNumberImport)."""
    current = await count_slot_holders(workspace.id, connection)
    if current < workspace.phone_number_limit:
        return None
    return LimitReached(
        code=ErrorCode.PHONE_NUMBER_LIMIT_REACHED,
        limit=workspace.phone_number_limit,
        current=current,
        message=f"The workspace holds {current} of its {workspace.phone_number_limit} phone numbers; "
        "delete one or ask for a higher limit.",
    )


async def _insert_under_cap(
    workspace_id: str, e164: str, source: PhoneNumberSource, lease_trunk: Leases | None, **fields
) -> Reservation | LimitReached:
    # Lazily durable (models/durability.py): nothing outside the database follows from the reservation
    # before the journal's row for the first carrier call, an ordinary commit that makes it durable too.
    async with lazily_durable_transaction() as connection:
        number = PhoneNumber(
            workspace_id=workspace_id, e164=e164, source=source, status=PhoneNumberStatus.PROVISIONING, **fields
        )
        if reached := await _insert_if_slot_free(number, connection):
            return reached
        trunk = fields.get("trunk")
        held = await lease_trunk.trunk_in(trunk.id, connection) if lease_trunk and trunk else None
        return Reservation(number, held)


async def _insert_if_slot_free(number: PhoneNumber, connection) -> LimitReached | None:
    """Insert the number's row if its workspace has a free slot, else LimitReached, inside the caller's transaction."""
    if statements.is_postgres(connection):
        # The workspace row locked first: a concurrent reservation counts once this one has committed.
        workspace = await locked_workspace(number.workspace_id, connection)
        if reached := await limit_reached(workspace, connection):
            return reached
        await number.save(using_db=connection, force_create=True)
        return None
    # SQLite's writers take turns (the transaction holds the database's write lock from its BEGIN: see
    # app/sqlite_engine.py), so one statement that counts and inserts is exact: one trip to the database's
    # thread where three were taken.
    condition, params = slot_free(number.workspace_id)
    if await statements.insert_if(number, condition, params, connection):
        return None
    reached = await limit_reached(await locked_workspace(number.workspace_id, connection), connection)
    if reached is None:
        raise RuntimeError(f"the cap refused {number.e164} yet its workspace counts a free slot")
    return reached


async def drop_reservation(phone_number: PhoneNumber) -> None:
    """The import was undone or given up: its row goes, and PROVISIONING_FAILED is recorded with it."""
    await delete_recorded(phone_number, PhoneNumberEventType.PROVISIONING_FAILED, status=PhoneNumberStatus.PROVISIONING)


async def activate_number(
    journal: Journal, number: PhoneNumber, capabilities: list[PhoneNumberCapability], *,
    under: SipTrunk | None = None, **carrier_ids,
) -> PhoneNumber:
    """The carriers are done: the number is ACTIVE with what it can do and the ids to undo it later,
    IMPORTED is recorded, the journal forgotten and the number's lease given up, in one transaction, with
    the lease of the trunk it was added `under` (the row that lease yielded): the number rides the trunk
    from the moment the trunk is free again, and neither lease's release then sends anything (a commit
    fewer each, before the answer)."""

    async def forget_and_free(connection) -> None:
        await journal.forget(connection)
        if under is not None:
            await give_up(under, connection)

    active = await update_recorded(
        number.id, PhoneNumberEventType.IMPORTED, also=forget_and_free,
        status=PhoneNumberStatus.ACTIVE, capabilities=[c.value for c in capabilities], updated_at=datetime.now(UTC),
        lease_token=None, lease_expires_at=None, **carrier_ids,
    )
    if active is None:  # our lease lapsed and recovery gave the reservation up: what we made is undone
        raise LeaseBusy(number.id)
    given_up(number.lease_token)
    if under is not None:
        given_up(under.lease_token)
    return active
