"""Workspaces: made by operators, each with its own phone-number limit."""

from models import Workspace
from models.phone_number import SLOT_HOLDING_STATUSES, PhoneNumber


async def create_workspace(name: str, phone_number_limit: int) -> Workspace:
    return await Workspace.create(name=name, phone_number_limit=phone_number_limit)


async def count_slot_holders(workspace_id: str) -> int:
    """Numbers that count against the workspace's cap: provisioning, active and releasing."""
    return await PhoneNumber.filter(workspace_id=workspace_id, status__in=SLOT_HOLDING_STATUSES).count()
