"""createSipTrunk: register the customer's own SIP trunk, for BYOC numbers."""

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from models.enums import SipTransport as StoredTransport
from models.enums import SipTrunkDirection as StoredDirection
from resolvers.create_sip_trunk import SipTrunkRequest
from resolvers.create_sip_trunk import create_sip_trunk as create_use_case
from schema.context import Context, current_workspace
from schema.enums import SipTransport, SipTrunkDirection
from schema.errors import PaymentRequiredError, ProviderError, ValidationError
from schema.results import to_error
from schema.types import SipTrunk

__all__ = ["CreateSipTrunkInput", "CreateSipTrunkResult", "CreateSipTrunkSuccess", "create_sip_trunk"]


@strawberry.input(description="A SIP trunk the customer runs with any carrier.")
class CreateSipTrunkInput:
    name: str = strawberry.field(description="Display name, 1 to 255 characters.")
    direction: SipTrunkDirection = strawberry.field(description="Which way calls flow.")
    sip_address: str | None = strawberry.field(
        default=None, description="Host (and port) outbound calls go to, e.g. sip.example-carrier.com; required for OUTBOUND and BOTH."
    )
    transport: SipTransport | None = strawberry.field(default=SipTransport.AUTO, description="SIP transport for outbound calls.")
    auth_username: str | None = strawberry.field(default=None, description="Digest auth user name, with authPassword.")
    auth_password: str | None = strawberry.field(default=None, description="Digest auth password; write-only, stored encrypted.")
    allowed_addresses: list[str] | None = strawberry.field(
        default=None, description="At most 100 IPs or CIDR blocks inbound calls may come from; empty means any."
    )


@strawberry.type(description="The trunk was registered.")
class CreateSipTrunkSuccess:
    sip_trunk: SipTrunk = strawberry.field(description="The new trunk.")


CreateSipTrunkResult = Annotated[
    CreateSipTrunkSuccess | ValidationError | PaymentRequiredError | ProviderError,
    strawberry.union(
        "CreateSipTrunkResult",
        description="The new trunk, or why not; PaymentRequiredError has code SIP_TRUNK_LIMIT_REACHED (20 per workspace).",
    ),
]


async def create_sip_trunk(info: Info[Context, None], input: CreateSipTrunkInput) -> CreateSipTrunkResult:
    request = SipTrunkRequest(
        name=input.name,
        direction=StoredDirection(input.direction.value),
        sip_address=input.sip_address,
        transport=StoredTransport((input.transport or SipTransport.AUTO).value),
        auth_username=input.auth_username,
        auth_password=input.auth_password,
        allowed_addresses=tuple(input.allowed_addresses or ()),
    )
    outcome = await create_use_case(current_workspace(info).id, request, info.context.services)
    if isinstance(outcome, models.SipTrunk):
        return CreateSipTrunkSuccess(sip_trunk=SipTrunk.from_row(outcome))
    return to_error(outcome)
