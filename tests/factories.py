"""Rows made straight in the real database, for read-side tests that need data the API cannot yet make."""

from models import Agent, PhoneNumber, SipTrunk, Workspace
from models.enums import PhoneNumberSource, PhoneNumberStatus, SipTrunkDirection, SipTrunkProvider


async def add_phone_number(workspace: Workspace, e164: str, **fields) -> PhoneNumber:
    defaults = {
        "source": PhoneNumberSource.BYOC,
        "status": PhoneNumberStatus.ACTIVE,
        "capabilities": ["INBOUND", "OUTBOUND"],
    }
    return await PhoneNumber.create(workspace=workspace, e164=e164, **{**defaults, **fields})


async def add_sip_trunk(workspace: Workspace, name: str = "Carrier") -> SipTrunk:
    return await SipTrunk.create(
        workspace=workspace,
        name=name,
        provider=SipTrunkProvider.BYOC,
        direction=SipTrunkDirection.BOTH,
        sip_address="sip.example-carrier.com",
        allowed_addresses=["203.0.113.0/24"],
    )


async def add_agent(workspace: Workspace, name: str = "Receptionist") -> Agent:
    return await Agent.create(workspace=workspace, name=name)
