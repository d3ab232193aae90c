"""SIP trunks: read one, list."""

from models import SipTrunk, statements
from models.ids import is_valid_id


async def get_sip_trunk(workspace_id: str, trunk_id: str) -> SipTrunk | None:
    if not is_valid_id(trunk_id, "trunk"):
        return None
    return await statements.by_id(SipTrunk, trunk_id, workspace_id=workspace_id)


async def list_sip_trunks(workspace_id: str) -> list[SipTrunk]:
    return await SipTrunk.filter(workspace_id=workspace_id).order_by("id")
