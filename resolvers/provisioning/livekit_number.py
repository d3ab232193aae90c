"""Source LIVEKIT: LiveKit buys the US number, routed to the agent by a dispatch rule when one is given."""

from models import Agent, PhoneNumber
from models.enums import PhoneNumberCapability
from providers.errors import Rejected
from resolvers.outcomes import FieldCode, FieldProblem, Invalid
from resolvers.provisioning import steps
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.reservation import activate_number
from resolvers.provisioning.trunks import create_dispatch_rule


async def provision(number: PhoneNumber, agent: Agent | None, journal: Journal):
    rule_id = await create_dispatch_rule(journal, number, agent.id) if agent else None
    try:
        bought = await journal.take(steps.PurchaseNumber, {"e164": number.e164, "rule_id": rule_id})
    except Rejected as refused:
        message = f"LiveKit does not offer {number.e164} ({refused.message}); pick one from availablePhoneNumbers(source: LIVEKIT)"
        return Invalid((FieldProblem("e164", FieldCode.NOT_AVAILABLE, message),))
    return await activate_number(
        number, [PhoneNumberCapability.INBOUND], livekit_phone_number_id=bought.id, livekit_dispatch_rule_id=rule_id
    )
