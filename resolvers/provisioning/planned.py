"""What an import would change at the carriers, told before it runs (planPhoneNumberImport).

Each source module plans next to the code it plans (`plan` beside `provision`), from the rows as they are
now and the same conditions the import decides by; a planned change names the step class the import
takes, so a plan reads in the import's own terms. tests/test_plan_phone_number_import.py holds each plan
against the carrier calls the import then makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from models.enums import PhoneNumberCapability, PhoneNumberSource
from providers.errors import Carrier
from resolvers.provisioning import steps


class Action(Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    ATTACH = "ATTACH"
    PURCHASE = "PURCHASE"
    REUSE = "REUSE"  # something there already serves, unchanged


@dataclass(frozen=True)
class PlannedChange:
    provider: Carrier
    action: Action
    resource: str
    detail: str | None = None


@dataclass(frozen=True)
class Plan:
    """The number as the import would store it, and the changes it would make, in an order it could take
    them (it takes independent ones at once)."""

    source: PhoneNumberSource
    capabilities: list[PhoneNumberCapability]
    steps: list[PlannedChange]


ELASTIC_SIP_TRUNK = "Elastic SIP Trunk"

# The steps an import takes, as a plan names them.
_CHANGES: dict[type[steps.Step], tuple[Carrier, Action, str]] = {
    steps.CreateCredentialList: (Carrier.TWILIO, Action.CREATE, "credential list"),
    steps.CreateTwilioTrunk: (Carrier.TWILIO, Action.CREATE, ELASTIC_SIP_TRUNK),
    steps.AddOriginationUrl: (Carrier.TWILIO, Action.CREATE, "origination URL"),
    steps.AttachNumber: (Carrier.TWILIO, Action.ATTACH, "phone number"),
    steps.AttachCredentialList: (Carrier.TWILIO, Action.ATTACH, "credential list"),
    steps.CreateInboundTrunk: (Carrier.LIVEKIT, Action.CREATE, "LiveKit inbound trunk"),
    steps.AddInboundNumber: (Carrier.LIVEKIT, Action.UPDATE, "LiveKit inbound trunk"),
    steps.CreateOutboundTrunk: (Carrier.LIVEKIT, Action.CREATE, "LiveKit outbound trunk"),
    steps.AddOutboundNumber: (Carrier.LIVEKIT, Action.UPDATE, "LiveKit outbound trunk"),
    steps.CreateDispatchRule: (Carrier.LIVEKIT, Action.CREATE, "dispatch rule"),
    steps.PurchaseNumber: (Carrier.LIVEKIT, Action.PURCHASE, "phone number"),
}


def planned(step: type[steps.Step], detail: str | None = None) -> PlannedChange:
    """The change `journal.take(step, …)` would make."""
    provider, action, resource = _CHANGES[step]
    return PlannedChange(provider, action, resource, detail)


def agent_detail(agent_id: str) -> str:
    return f"to agent {agent_id}"
