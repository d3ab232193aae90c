"""updatePhoneNumber: relabel, and bind or unbind the agent that answers (through a LiveKit dispatch rule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from models import Agent, PhoneNumber, SipTrunk
from models.enums import PhoneNumberCapability, PhoneNumberSource, PhoneNumberStatus
from providers.errors import Carrier, ProviderFailure
from resolvers.carrier_failure import NOTHING_CHANGED, carrier_failed, lease_busy
from resolvers.events import update_recorded
from resolvers.outcomes import (
    KEEP,
    CarrierFailed,
    FieldCode,
    FieldProblem,
    Invalid,
    Keep,
    Missing,
)
from resolvers.phone_numbers import get_phone_number
from resolvers.provisioning import steps
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.trunks import create_dispatch_rule
from resolvers.services import Services
from resolvers.validation import check_id_shape, check_label, not_found

UNBIND_PENDING = " The agent is unbound; its LiveKit dispatch rule is removed as soon as LiveKit answers."


@dataclass(frozen=True)
class UpdateRequest:
    id: str
    label: str | None | Keep = KEEP
    agent_id: str | None | Keep = KEEP


async def update_phone_number(workspace_id: str, request: UpdateRequest, services: Services) -> PhoneNumber | Missing | Invalid | CarrierFailed:
    number = await get_phone_number(workspace_id, request.id)
    if number is None:
        return Missing(request.id)
    problems = [*check_label(request.label if isinstance(request.label, str) else None)]
    agent_changes = request.agent_id is not KEEP and request.agent_id != number.agent_id
    if agent_changes and request.agent_id is not None:
        problems += check_id_shape(request.agent_id, "agent", "agentId")
        if not problems and not await Agent.exists(id=request.agent_id, workspace_id=workspace_id):
            problems.append(not_found("agentId", "agent", request.agent_id))
        if PhoneNumberCapability.INBOUND.value not in number.capabilities:
            why = "a verified caller ID places calls only" if number.source == PhoneNumberSource.VERIFIED_CALLER_ID else "the number takes no inbound calls"
            problems.append(FieldProblem("agentId", FieldCode.NOT_AGENT_BINDABLE, f"{why}; no agent can answer it"))
    if problems:
        return Invalid(tuple(problems))
    if number.status == PhoneNumberStatus.RELEASING or (agent_changes and number.status != PhoneNumberStatus.ACTIVE):
        return _not_active(number)

    if not agent_changes:
        if request.label is not KEEP:
            # A number being deleted keeps its label; one deleted meanwhile is not found.
            await update_recorded(
                number.id, unless={"status": PhoneNumberStatus.RELEASING},
                label=request.label or None, updated_at=datetime.now(UTC),
            )
        return await _as_now(number.id, request.id)
    try:
        # One binding change at a time per number, journalled, so no dispatch rule is made that no row records.
        async with services.leases.number(number.id) as number:
            if number is None or number.status != PhoneNumberStatus.ACTIVE:
                return Missing(request.id) if number is None else _not_active(number)
            changes = {"agent_id": request.agent_id}
            if request.label is not KEEP:
                changes["label"] = request.label or None
            if request.agent_id != number.agent_id:
                journal = await Journal.resume(number.id, number.workspace_id, services)
                if not journal.empty and not await journal.settle(leaving=False):
                    return lease_busy(Carrier.LIVEKIT)
                await rebind(journal, number, request.agent_id, changes)
            else:
                await update_recorded(number.id, **changes, updated_at=datetime.now(UTC))
    except AgentGone:
        return Invalid((not_found("agentId", "agent", request.agent_id),))
    except ProviderFailure as failure:
        return carrier_failed(failure, after=UNBIND_PENDING if request.agent_id is None else NOTHING_CHANGED)
    except LeaseBusy:
        return lease_busy(Carrier.LIVEKIT)
    return await _as_now(number.id, request.id)


async def _as_now(number_id: str, asked_id: str) -> PhoneNumber | Missing:
    return await PhoneNumber.get_or_none(id=number_id) or Missing(asked_id)


def _not_active(number: PhoneNumber) -> Invalid:
    message = f"the number is {number.status.value}; try again when it is ACTIVE"
    return Invalid((FieldProblem("id", FieldCode.NOT_ALLOWED, message),))


async def rebind(journal: Journal, number: PhoneNumber, agent_id: str | None, changes: dict) -> None:
    """Point the number's dispatch rule at the agent (creating it), or remove it, and record it on the row.

    Binds roll back on failure: the journal settles the carrier back to the row. An unbind rolls forward:
    the row forgets the rule first, so settling it, now or in recovery, deletes the rule."""
    rule_id = number.livekit_dispatch_rule_id
    lk_number = number.livekit_phone_number_id if number.source == PhoneNumberSource.LIVEKIT else None
    try:
        async with journal.all_or_nothing(leaving=False):
            if agent_id is None:
                await journal.take(steps.DeleteDispatchRule, {"rule_id": rule_id}, changes=changes)
                if lk_number:
                    await journal.take(steps.RouteNumber, {"number_id": lk_number, "rule_id": None})
            elif rule_id:
                await journal.take(steps.UpdateDispatchRule, {"rule_id": rule_id, "agent_id": agent_id})
                await update_recorded(number.id, **changes, updated_at=datetime.now(UTC))
            else:
                trunk = await SipTrunk.get_or_none(id=number.trunk_id) if number.trunk_id else None
                rule_id = await create_dispatch_rule(journal, number, agent_id, trunk)
                if lk_number:
                    await journal.take(steps.RouteNumber, {"number_id": lk_number, "rule_id": rule_id})
                await update_recorded(number.id, **changes, livekit_dispatch_rule_id=rule_id, updated_at=datetime.now(UTC))
    except IntegrityError:  # the agent was deleted after it was looked up (resolvers/agents.delete_agent)
        raise AgentGone from None


class AgentGone(Exception):
    pass
