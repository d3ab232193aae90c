"""Source BYOC: the number joins the LiveKit side of the customer's trunk, in the trunk's directions."""

from models import Agent, PhoneNumber, SipTrunk
from models.enums import PhoneNumberCapability
from resolvers.outcomes import FieldCode, FieldProblem, Invalid
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.reservation import activate_number
from resolvers.provisioning.trunks import (
    add_inbound_number_routed,
    add_outbound_number,
    carries_inbound,
    carries_outbound,
)


async def provision(number: PhoneNumber, trunk: SipTrunk, agent: Agent | None, journal: Journal):
    inbound, outbound = carries_inbound(trunk), carries_outbound(trunk)
    if agent and not inbound:
        return Invalid(
            (FieldProblem("agentId", FieldCode.NOT_AGENT_BINDABLE, f"trunk {trunk.id} is outbound only; no calls reach an agent"),)
        )
    async with journal.services.leases.trunk(trunk.id) as trunk:
        agent_id = agent.id if agent else None
        done = await concurrently(
            add_inbound_number_routed(journal, trunk, number, agent_id) if inbound else None,
            add_outbound_number(journal, trunk, number.e164) if outbound else None,
        )
        rule_id = done[0] if inbound else None
        capabilities = [c for c, carried in ((PhoneNumberCapability.INBOUND, inbound), (PhoneNumberCapability.OUTBOUND, outbound)) if carried]
        # Activated under the lease, so a delete of the trunk's last other number counts this one.
        return await activate_number(number, capabilities, livekit_dispatch_rule_id=rule_id)
