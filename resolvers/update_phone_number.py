"""updatePhoneNumber: relabel, and bind or unbind the agent that answers (through a LiveKit dispatch rule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from models import Agent, PhoneNumber, SipTrunk
from models.enums import PhoneNumberCapability, PhoneNumberSource, PhoneNumberStatus
from providers.errors import ProviderFailure
from resolvers.carrier_failure import carrier_failed, lease_busy
from resolvers.carrier_names import dispatch_rule_name
from resolvers.leases import LeaseBusy, number_lease
from resolvers.outcomes import CarrierFailed, FieldProblem, Invalid, Missing
from resolvers.phone_numbers import get_phone_number
from resolvers.services import Services
from resolvers.validation import check_id_shape, check_label


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()  # the field was absent from the input: leave it as it is


@dataclass(frozen=True)
class UpdateRequest:
    id: str
    label: str | None | _Keep = KEEP
    agent_id: str | None | _Keep = KEEP


async def update_phone_number(workspace_id: str, request: UpdateRequest, services: Services) -> PhoneNumber | Missing | Invalid | CarrierFailed:
    number = await get_phone_number(workspace_id, request.id)
    if number is None:
        return Missing(request.id)
    problems = [*check_label(request.label if isinstance(request.label, str) else None)]
    agent_changes = request.agent_id is not KEEP and request.agent_id != number.agent_id
    if agent_changes and request.agent_id is not None:
        problems += check_id_shape(request.agent_id, "agent", "agentId")
        if not problems and not await Agent.exists(id=request.agent_id, workspace_id=workspace_id):
            problems.append(FieldProblem("agentId", "NOT_FOUND", f"no agent {request.agent_id} in this workspace"))
        if PhoneNumberCapability.INBOUND.value not in number.capabilities:
            why = "a verified caller ID places calls only" if number.source == PhoneNumberSource.VERIFIED_CALLER_ID else "the number takes no inbound calls"
            problems.append(FieldProblem("agentId", "NOT_AGENT_BINDABLE", f"{why}; no agent can answer it"))
    if problems:
        return Invalid(tuple(problems))
    if agent_changes and number.status != PhoneNumberStatus.ACTIVE:
        return _not_active(number)

    if not agent_changes:
        if request.label is not KEEP:
            await PhoneNumber.filter(id=number.id).update(label=request.label or None, updated_at=datetime.now(UTC))
        return await PhoneNumber.get(id=number.id)
    try:
        # One binding change at a time per number, so no dispatch rule is made that no row records.
        async with number_lease(number.id) as number:
            if number is None or number.status != PhoneNumberStatus.ACTIVE:
                return Missing(request.id) if number is None else _not_active(number)
            changes = {"agent_id": request.agent_id}
            if request.label is not KEEP:
                changes["label"] = request.label or None
            if request.agent_id != number.agent_id:
                changes["livekit_dispatch_rule_id"] = await _route_to(number, request.agent_id, services)
            await PhoneNumber.filter(id=number.id).update(**changes, updated_at=datetime.now(UTC))
    except ProviderFailure as failure:
        return carrier_failed(failure)
    except LeaseBusy:
        return lease_busy("livekit")
    return await PhoneNumber.get(id=number.id)


def _not_active(number: PhoneNumber) -> Invalid:
    message = f"the number is {number.status.value}; try again when it is ACTIVE"
    return Invalid((FieldProblem("id", "NOT_ALLOWED", message),))


async def _route_to(number: PhoneNumber, agent_id: str | None, services: Services) -> str | None:
    """Point the number's dispatch rule at the agent (creating it), or remove it; returns the rule id."""
    livekit = services.livekit
    rule_id = number.livekit_dispatch_rule_id
    if agent_id is None:
        if rule_id:
            await livekit.delete_dispatch_rule(rule_id)
        return None
    if rule_id:
        await livekit.update_dispatch_rule(rule_id, agent_name=agent_id)
        return rule_id
    trunk = await SipTrunk.get_or_none(id=number.trunk_id) if number.trunk_id else None
    trunk_ids = [trunk.livekit_inbound_trunk_id] if trunk and trunk.livekit_inbound_trunk_id else []
    rule_id = await livekit.create_dispatch_rule(
        dispatch_rule_name(number.id), agent_name=agent_id, numbers=[number.e164], trunk_ids=trunk_ids
    )
    if number.source == PhoneNumberSource.LIVEKIT and number.livekit_phone_number_id:
        try:
            await livekit.update_number_dispatch_rule(number.livekit_phone_number_id, rule_id)
        except ProviderFailure:
            await livekit.delete_dispatch_rule(rule_id)  # nothing half-made: the new rule goes again
            raise
    return rule_id
