"""purchasePhoneNumber: buy a US number on the platform's Twilio account and wire it like a customer's DID."""

from __future__ import annotations

from dataclasses import dataclass

from models import Agent, PhoneNumber
from models.enums import PhoneNumberSource
from providers.errors import Carrier, Rejected
from providers.twilio import IncomingNumber
from resolvers.outcomes import (
    CarrierFailed,
    ErrorCode,
    Failure,
    FieldCode,
    FieldProblem,
    Invalid,
)
from resolvers.provisioning import steps
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.reservation import Reservation, reserve_number
from resolvers.provisioning.reserved import provision_reserved
from resolvers.provisioning.twilio_account import link_account
from resolvers.provisioning.twilio_number import provision_did
from resolvers.services import Services
from resolvers.validation import (
    check_e164,
    check_id_shape,
    check_label,
    not_found,
    region_of,
)

NOT_CONFIGURED = CarrierFailed(
    provider=Carrier.TWILIO,
    code=ErrorCode.PROVIDER_REJECTED,
    message="Purchasing is not configured on this server (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN).",
    retryable=False,
)


@dataclass(frozen=True)
class PurchaseRequest:
    e164: str
    label: str | None = None
    agent_id: str | None = None


async def purchase_phone_number(workspace_id: str, request: PurchaseRequest, services: Services) -> PhoneNumber | Failure:
    problems = [
        *check_e164(request.e164),
        *check_label(request.label),
        *check_id_shape(request.agent_id, "agent", "agentId"),
    ]
    if not problems and region_of(request.e164) != "US":
        problems.append(FieldProblem("e164", FieldCode.UNSUPPORTED_COUNTRY, "only US numbers (+1, region US) can be bought"))
    agent = None
    if request.agent_id and not problems:
        agent = await Agent.get_or_none(id=request.agent_id, workspace_id=workspace_id)
        if agent is None:
            problems.append(not_found("agentId", "agent", request.agent_id))
    if problems:
        return Invalid(tuple(problems))
    platform = services.platform_twilio
    if platform is None:
        return NOT_CONFIGURED
    reserved = await reserve_number(
        workspace_id, request.e164, PhoneNumberSource.TWILIO_PURCHASED, label=request.label or None, agent=agent,
        **services.leases.taken_now(),
    )
    if not isinstance(reserved, Reservation):
        return reserved
    number = reserved.number
    return await provision_reserved(number, services, Carrier.TWILIO, lambda journal: _buy_and_wire(number, agent, journal, services))


async def _buy_and_wire(number: PhoneNumber, agent: Agent | None, journal: Journal, services: Services):
    platform = services.platform_twilio
    account = await link_account(number, platform, services)
    journal.clients.use_twilio(account.id, services.twilio_account(platform))
    try:
        bought = await journal.take(steps.BuyNumber, {"twilio_account_id": account.id, "e164": number.e164})
    except Rejected as refused:
        message = f"{number.e164} cannot be bought ({refused.message}); pick one from availablePhoneNumbers"
        return Invalid((FieldProblem("e164", FieldCode.NOT_AVAILABLE, message),))
    await PhoneNumber.filter(id=number.id).update(twilio_phone_number_sid=bought.sid)
    return await provision_did(number, IncomingNumber(bought.sid, bought.phone_number, None), platform, agent, journal)
