"""The LiveKit side of our trunks: created with its first number, changed under the trunk's lease."""

from __future__ import annotations

from models import PhoneNumber, SipTrunk
from models.enums import SipTrunkDirection, SipTrunkProvider
from resolvers.carrier_names import dispatch_rule_name, livekit_trunk_name
from resolvers.journal import Journal
from resolvers.services import Services


def carries_inbound(trunk: SipTrunk) -> bool:
    return trunk.direction in (SipTrunkDirection.INBOUND, SipTrunkDirection.BOTH)


def carries_outbound(trunk: SipTrunk) -> bool:
    return trunk.direction in (SipTrunkDirection.OUTBOUND, SipTrunkDirection.BOTH)


def _auth(trunk: SipTrunk, services: Services) -> dict[str, str | None]:
    password = services.secrets.decrypt(trunk.auth_password_encrypted) if trunk.auth_password_encrypted else None
    return {"auth_username": trunk.auth_username if password else None, "auth_password": password}


async def add_inbound_number(journal: Journal, trunk: SipTrunk, e164: str, services: Services) -> None:
    """Let LiveKit accept calls to e164 over this trunk."""
    livekit = services.livekit
    if trunk.livekit_inbound_trunk_id:
        trunk_id = trunk.livekit_inbound_trunk_id
        await journal.step(
            "livekit.add_inbound_number",
            {"livekit_trunk_id": trunk_id, "e164": e164},
            lambda: livekit.change_inbound_trunk_numbers(trunk_id, add=[e164]),
        )
        return
    # Twilio cannot send digest auth on origination, so the shared trunk admits by number alone.
    extra = {} if trunk.provider == SipTrunkProvider.TWILIO else {
        "allowed_addresses": list(trunk.allowed_addresses or []), **_auth(trunk, services)
    }
    created = await journal.step(
        "livekit.create_inbound_trunk",
        {"trunk_id": trunk.id, "e164": e164},
        lambda: livekit.create_inbound_trunk(livekit_trunk_name(trunk.id), [e164], **extra),
        lambda made: {"livekit_trunk_id": made},
    )
    trunk.livekit_inbound_trunk_id = created
    await SipTrunk.filter(id=trunk.id).update(livekit_inbound_trunk_id=created)


async def add_outbound_number(journal: Journal, trunk: SipTrunk, e164: str, services: Services) -> None:
    """Let LiveKit place calls from e164 over this trunk."""
    livekit = services.livekit
    if trunk.livekit_outbound_trunk_id:
        trunk_id = trunk.livekit_outbound_trunk_id
        await journal.step(
            "livekit.add_outbound_number",
            {"livekit_trunk_id": trunk_id, "e164": e164},
            lambda: livekit.change_outbound_trunk_numbers(trunk_id, add=[e164]),
        )
        return
    if trunk.provider == SipTrunkProvider.TWILIO:
        address, transport = trunk.twilio_domain_name, "auto"
    else:
        address, transport = trunk.sip_address, trunk.transport.lower()
    created = await journal.step(
        "livekit.create_outbound_trunk",
        {"trunk_id": trunk.id, "e164": e164},
        lambda: livekit.create_outbound_trunk(
            livekit_trunk_name(trunk.id), address, [e164], transport=transport, **_auth(trunk, services)
        ),
        lambda made: {"livekit_trunk_id": made},
    )
    trunk.livekit_outbound_trunk_id = created
    await SipTrunk.filter(id=trunk.id).update(livekit_outbound_trunk_id=created)


async def create_dispatch_rule(journal: Journal, number: PhoneNumber, agent_id: str, services: Services,
                               trunk: SipTrunk | None = None) -> str:
    """Route calls to the number to the agent (LiveKit dispatches the worker named by the agent's id)."""
    trunk_ids = [trunk.livekit_inbound_trunk_id] if trunk and trunk.livekit_inbound_trunk_id else []
    return await journal.step(
        "livekit.create_dispatch_rule",
        {"phone_number_id": number.id, "e164": number.e164, "agent_id": agent_id},
        lambda: services.livekit.create_dispatch_rule(
            dispatch_rule_name(number.id), agent_name=agent_id, numbers=[number.e164], trunk_ids=trunk_ids
        ),
        lambda rule_id: {"rule_id": rule_id},
    )
