"""Source BYOC: the number joins the LiveKit side of the customer's trunk, in the trunk's directions."""

from models import Agent, PhoneNumber, SipTrunk
from models.enums import PhoneNumberCapability, PhoneNumberSource
from resolvers.outcomes import FieldCode, FieldProblem, Invalid
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.planned import Plan
from resolvers.provisioning.reservation import activate_number
from resolvers.provisioning.trunks import (
    add_inbound_number_routed,
    add_outbound_number,
    carries_inbound,
    carries_outbound,
    plan_number_on_trunk,
)


async def provision(number: PhoneNumber, trunk: SipTrunk, agent: Agent | None, journal: Journal, held: SipTrunk | None):
    """`held`: the trunk's row as the reservation leased it, if it could (adopted here before anything else)."""
    async with journal.services.leases.trunk(trunk.id, held=held) as trunk:
        # Decided on the trunk as it is under the lease.
        inbound, outbound, carried = carries_inbound(trunk), carries_outbound(trunk), capabilities(trunk)
        if refused := _refused(trunk, agent):
            return refused
        agent_id = agent.id if agent else None
        done = await concurrently(
            add_inbound_number_routed(journal, trunk, number, agent_id) if inbound else None,
            add_outbound_number(journal, trunk, number.e164) if outbound else None,
        )
        rule_id = done[0] if inbound else None
        # Activated under the lease, so a delete of the trunk's last other number counts this one.
        return await activate_number(journal, number, carried, under=trunk, livekit_dispatch_rule_id=rule_id)


def plan(trunk: SipTrunk, agent: Agent | None) -> Plan | Invalid:
    """What provision would do with the trunk as its row is now."""
    if refused := _refused(trunk, agent):
        return refused
    changes = plan_number_on_trunk(
        trunk, inbound=carries_inbound(trunk), outbound=carries_outbound(trunk), agent_id=agent.id if agent else None
    )
    return Plan(PhoneNumberSource.BYOC, capabilities(trunk), changes)


def capabilities(trunk: SipTrunk) -> list[PhoneNumberCapability]:
    carried = ((PhoneNumberCapability.INBOUND, carries_inbound(trunk)), (PhoneNumberCapability.OUTBOUND, carries_outbound(trunk)))
    return [capability for capability, carries in carried if carries]


def _refused(trunk: SipTrunk, agent: Agent | None) -> Invalid | None:
    if agent and not carries_inbound(trunk):
        return Invalid(
            (FieldProblem("agentId", FieldCode.NOT_AGENT_BINDABLE, f"trunk {trunk.id} is outbound only; no calls reach an agent"),)
        )
    return None
