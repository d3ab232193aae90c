"""Source LIVEKIT: LiveKit buys the US number, routed to the agent by a dispatch rule when one is given."""

from models import Agent, PhoneNumber
from models.enums import PhoneNumberCapability, PhoneNumberSource
from providers.errors import ProviderFailure, Rejected
from resolvers.carrier_failure import NOTHING_CHANGED, carrier_failed
from resolvers.outcomes import CarrierFailed, FieldCode, FieldProblem, Invalid
from resolvers.provisioning import steps
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.planned import Plan, agent_detail, planned
from resolvers.provisioning.reservation import activate_number
from resolvers.provisioning.trunks import create_dispatch_rule
from resolvers.services import Services

CAPABILITIES = [PhoneNumberCapability.INBOUND]


async def provision(number: PhoneNumber, agent: Agent | None, journal: Journal):
    rule_id = await create_dispatch_rule(journal, number, agent.id) if agent else None
    try:
        bought = await journal.take(steps.PurchaseNumber, {"e164": number.e164, "rule_id": rule_id})
    except Rejected as refused:
        return not_available(number.e164, refused.message)
    return await activate_number(
        journal, number, CAPABILITIES, livekit_phone_number_id=bought.id, livekit_dispatch_rule_id=rule_id
    )


async def plan(e164: str, agent: Agent | None, services: Services) -> Plan | Invalid | CarrierFailed:
    """What provision would do, once LiveKit's offers show the number (a read: nothing is held for the caller)."""
    try:
        offered = await services.livekit.offers_number(e164)
    except ProviderFailure as failure:
        return carrier_failed(failure, after=NOTHING_CHANGED)
    if not offered:
        return not_available(e164, "not among its offers")
    rule = [planned(steps.CreateDispatchRule, agent_detail(agent.id))] if agent else []
    return Plan(PhoneNumberSource.LIVEKIT, CAPABILITIES, [*rule, planned(steps.PurchaseNumber, e164)])


def not_available(e164: str, why: str) -> Invalid:
    message = f"LiveKit does not offer {e164} ({why}); pick one from availablePhoneNumbers(source: LIVEKIT)"
    return Invalid((FieldProblem("e164", FieldCode.NOT_AVAILABLE, message),))
