"""Workspaces: made by operators, each with its own phone-number limit."""

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import DoesNotExist

from models import Workspace, statements
from models.phone_number import SLOT_HOLDING_STATUSES


async def create_workspace(name: str, phone_number_limit: int) -> Workspace:
    return await Workspace.create(name=name, phone_number_limit=phone_number_limit)


async def locked_workspace(workspace_id: str, connection: BaseDBAsyncClient) -> Workspace:
    """The workspace row, locked until the transaction ends, so that what is counted against one of its limits
    cannot change meanwhile. FOR NO KEY UPDATE (on PostgreSQL): it excludes the others counting, but not the
    foreign-key checks of rows that merely name the workspace (KEY SHARE), such as an activation's event; with
    FOR UPDATE, an activation holding its number's row would wait on us while our insert of the same number
    waits on it: a deadlock."""
    lock = " FOR NO KEY UPDATE" if statements.is_postgres(connection) else ""
    found = await statements.instances(Workspace, f'SELECT * FROM "workspace" WHERE "id" = ?{lock}', [workspace_id], connection)
    if not found:
        raise DoesNotExist(Workspace)
    return found[0]


_COUNT_SLOT_HOLDERS = (
    'SELECT COUNT(*) AS "count" FROM "phone_number" WHERE "workspace_id" = ? AND "status" IN '
    f"({', '.join('?' for _ in SLOT_HOLDING_STATUSES)})"
)


async def count_slot_holders(workspace_id: str, connection: BaseDBAsyncClient | None = None) -> int:
    """Numbers that count against the workspace's cap: provisioning, active and releasing."""
    found = await statements.rows(_COUNT_SLOT_HOLDERS, _slot_holder_params(workspace_id), connection)
    return found[0]["count"]


def slot_free(workspace_id: str) -> tuple[str, list]:
    """The cap as an SQL condition and its parameters: the workspace's slot holders are fewer than its limit."""
    condition = f'({_COUNT_SLOT_HOLDERS}) < (SELECT "phone_number_limit" FROM "workspace" WHERE "id" = ?)'
    return condition, [*_slot_holder_params(workspace_id), workspace_id]


def _slot_holder_params(workspace_id: str) -> list:
    return [workspace_id, *(s.value for s in SLOT_HOLDING_STATUSES)]


async def list_workspaces() -> list[Workspace]:
    return await Workspace.all().order_by("id")


async def set_phone_number_limit(workspace_id: str, phone_number_limit: int) -> Workspace | None:
    """The workspace with its new cap; numbers it already holds stay, new ones count against the cap."""
    if await Workspace.filter(id=workspace_id).update(phone_number_limit=phone_number_limit) != 1:
        return None
    return await Workspace.get(id=workspace_id)
