"""The carrier side of our trunks: built with its first number, fitted to its riders as they come and go.

Invariants, kept under the trunk's lease:
- a trunk's carrier side exists exactly while ACTIVE numbers ride it: its LiveKit inbound (outbound)
  trunk while a rider takes inbound (places outbound) calls, and a TWILIO trunk's Twilio trunk and
  credential list while any rider does. fit_trunk restores this after every arrival and departure:
  an activation, an undone import, a delete.
- a Twilio side is complete once its origination URL is recorded; a partial one has no riders and is
  torn down before it is built again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import PhoneNumber, SipTrunk
from models.enums import (
    PhoneNumberCapability,
    PhoneNumberSource,
    PhoneNumberStatus,
    SipTrunkDirection,
    SipTrunkProvider,
)
from resolvers.provisioning import steps
from resolvers.provisioning.clients import CarrierClients
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.planned import PlannedChange, agent_detail, planned
from resolvers.provisioning.steps import unless_gone

if TYPE_CHECKING:
    from resolvers.provisioning.journal import Journal

ATTACHED_AT_TWILIO = (PhoneNumberSource.TWILIO, PhoneNumberSource.TWILIO_PURCHASED)  # caller IDs are not


def carries_inbound(trunk: SipTrunk) -> bool:
    return trunk.direction in (SipTrunkDirection.INBOUND, SipTrunkDirection.BOTH)


def carries_outbound(trunk: SipTrunk) -> bool:
    return trunk.direction in (SipTrunkDirection.OUTBOUND, SipTrunkDirection.BOTH)


@dataclass(frozen=True)
class LiveKitSide:
    """One direction of a trunk at LiveKit: the column recording its LiveKit trunk, the steps that add a
    number to it or make it, and the capability of the numbers that ride it."""

    column: str
    add: type[steps.Step]
    create: type[steps.Step]
    capability: PhoneNumberCapability
    change_numbers: str  # the LiveKitGateway method that adds and removes numbers


INBOUND = LiveKitSide(
    "livekit_inbound_trunk_id", steps.AddInboundNumber, steps.CreateInboundTrunk, PhoneNumberCapability.INBOUND,
    "change_inbound_trunk_numbers",
)
OUTBOUND = LiveKitSide(
    "livekit_outbound_trunk_id", steps.AddOutboundNumber, steps.CreateOutboundTrunk, PhoneNumberCapability.OUTBOUND,
    "change_outbound_trunk_numbers",
)


async def add_inbound_number(journal: Journal, trunk: SipTrunk, e164: str) -> None:
    """Let LiveKit accept calls to e164 over this trunk."""
    await _add_number(journal, trunk, e164, INBOUND)


async def add_outbound_number(journal: Journal, trunk: SipTrunk, e164: str) -> None:
    """Let LiveKit place calls from e164 over this trunk."""
    await _add_number(journal, trunk, e164, OUTBOUND)


async def _add_number(journal: Journal, trunk: SipTrunk, e164: str, side: LiveKitSide) -> None:
    """The number joins the trunk's LiveKit side; the side is made with its first number."""
    if livekit_trunk_id := getattr(trunk, side.column):
        await journal.take(side.add, {"trunk_id": trunk.id, "livekit_trunk_id": livekit_trunk_id, "e164": e164})
        return
    created = await journal.take(side.create, {"trunk_id": trunk.id, "e164": e164}, trunk=trunk)
    setattr(trunk, side.column, created)
    await SipTrunk.filter(id=trunk.id).update(**{side.column: created})


def plan_add_number(trunk: SipTrunk | None, side: LiveKitSide) -> PlannedChange:
    """What _add_number would do: add to the side the trunk's row records, or make the side."""
    if trunk is not None and (livekit_trunk_id := getattr(trunk, side.column)):
        return planned(side.add, livekit_trunk_id)
    return planned(side.create)


async def create_dispatch_rule(journal: Journal, number: PhoneNumber, agent_id: str, trunk: SipTrunk | None = None) -> str:
    """Route calls to the number to the agent, over the trunk's inbound side when it has one."""
    trunk_ids = [trunk.livekit_inbound_trunk_id] if trunk and trunk.livekit_inbound_trunk_id else []
    params = {"e164": number.e164, "agent_id": agent_id, "livekit_trunk_ids": trunk_ids}
    return await journal.take(steps.CreateDispatchRule, params)


async def add_inbound_number_routed(journal: Journal, trunk: SipTrunk, number: PhoneNumber, agent_id: str | None) -> str | None:
    """add_inbound_number, and the number's dispatch rule to the agent when one is given; returns the rule's id.
    The rule names the trunk's inbound side, so it waits for that side only when the side must be made."""
    if agent_id is None:
        await add_inbound_number(journal, trunk, number.e164)
        return None
    if trunk.livekit_inbound_trunk_id:
        _, rule_id = await concurrently(
            add_inbound_number(journal, trunk, number.e164), create_dispatch_rule(journal, number, agent_id, trunk)
        )
        return rule_id
    await add_inbound_number(journal, trunk, number.e164)
    return await create_dispatch_rule(journal, number, agent_id, trunk)


def plan_number_on_trunk(
    trunk: SipTrunk | None, *, inbound: bool, outbound: bool, agent_id: str | None
) -> list[PlannedChange]:
    """What add_inbound_number_routed (when `inbound`) and add_outbound_number (when `outbound`) would do."""
    sides = [plan_add_number(trunk, side) for side, carried in ((INBOUND, inbound), (OUTBOUND, outbound)) if carried]
    rule = [planned(steps.CreateDispatchRule, agent_detail(agent_id))] if inbound and agent_id else []
    return [*sides, *rule]


async def other_riders(trunk_id: str, number_id: str, capability: PhoneNumberCapability | None = None) -> bool:
    """Whether an ACTIVE number other than `number_id` rides the trunk (with that capability)."""
    capabilities = await PhoneNumber.filter(trunk_id=trunk_id, status=PhoneNumberStatus.ACTIVE).exclude(
        id=number_id
    ).values_list("capabilities", flat=True)
    return any(capability is None or capability.value in caps for caps in capabilities)


async def fit_trunk(clients: CarrierClients, trunk_id: str, leaving: PhoneNumber | None = None) -> None:
    """Fit the trunk's carrier side to its ACTIVE riders other than `leaving`, whose number comes off the
    sides that stay; the caller holds the trunk's lease. Every call is safe to repeat."""
    trunk = await SipTrunk.get_or_none(id=trunk_id)
    if trunk is None:
        return
    livekit = clients.livekit
    leaving_id = leaving.id if leaving else ""
    for side in (INBOUND, OUTBOUND):
        livekit_trunk_id = getattr(trunk, side.column)
        if not livekit_trunk_id:
            continue
        if not await other_riders(trunk.id, leaving_id, side.capability):
            await livekit.delete_trunk(livekit_trunk_id)
            await SipTrunk.filter(id=trunk.id, **{side.column: livekit_trunk_id}).update(**{side.column: None})
        elif leaving:
            change = getattr(livekit, side.change_numbers)
            await unless_gone(change(livekit_trunk_id, remove=[leaving.e164]))
    if trunk.provider != SipTrunkProvider.TWILIO:
        return
    if not await other_riders(trunk.id, leaving_id):
        await tear_down_twilio_side(clients, trunk)
    elif leaving and leaving.source in ATTACHED_AT_TWILIO and leaving.twilio_phone_number_sid and trunk.twilio_trunk_sid:
        twilio = await clients.twilio(trunk.twilio_account_id)
        await twilio.detach_number(trunk.twilio_trunk_sid, leaving.twilio_phone_number_sid)


def twilio_side_complete(trunk: SipTrunk) -> bool:
    return bool(trunk.twilio_trunk_sid and trunk.twilio_credential_list_sid and trunk.twilio_origination_url_sid)


async def tear_down_twilio_side(clients: CarrierClients, trunk: SipTrunk) -> None:
    """The shared trunk has no riders left: its Twilio trunk and credential list go."""
    if not (trunk.twilio_trunk_sid or trunk.twilio_credential_list_sid) or not trunk.twilio_account_id:
        return
    twilio = await clients.twilio(trunk.twilio_account_id)
    if trunk.twilio_trunk_sid:
        await twilio.delete_trunk(trunk.twilio_trunk_sid)
        await SipTrunk.filter(id=trunk.id).update(
            twilio_trunk_sid=None, twilio_domain_name=None, twilio_origination_url_sid=None
        )
        trunk.twilio_trunk_sid = trunk.twilio_domain_name = trunk.twilio_origination_url_sid = None
    if trunk.twilio_credential_list_sid:
        await twilio.delete_credential_list(trunk.twilio_credential_list_sid)
        await SipTrunk.filter(id=trunk.id).update(
            twilio_credential_list_sid=None, auth_username=None, auth_password_encrypted=None
        )
        trunk.twilio_credential_list_sid = trunk.auth_username = trunk.auth_password_encrypted = None
