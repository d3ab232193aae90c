"""updateSipTrunk: change a BYOC trunk's settings, at LiveKit too while numbers ride it."""

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from models.enums import SipTransport as StoredTransport
from resolvers.outcomes import KEEP
from resolvers.update_sip_trunk import SipTrunkUpdate
from resolvers.update_sip_trunk import update_sip_trunk as update_use_case
from schema.context import Context, current_workspace
from schema.enums import SipTransport
from schema.errors import NotFoundError, ProviderError, ValidationError
from schema.results import to_error
from schema.types import SipTrunk

__all__ = ["UpdateSipTrunkInput", "UpdateSipTrunkResult", "UpdateSipTrunkSuccess", "update_sip_trunk"]


@strawberry.input(description="Changes to a BYOC trunk; a field left out is left as it is.")
class UpdateSipTrunkInput:
    id: strawberry.ID = strawberry.field(description="The trunk to change (trunk_…).")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name, 1 to 255 characters.")
    sip_address: str | None = strawberry.field(
        default=strawberry.UNSET, description="Host (and port) outbound calls go to; null clears it on an INBOUND trunk."
    )
    transport: SipTransport | None = strawberry.field(
        default=strawberry.UNSET, description="SIP transport for outbound calls; null: AUTO."
    )
    auth_username: str | None = strawberry.field(
        default=strawberry.UNSET, description="Digest auth user name; null clears the user name and password together."
    )
    auth_password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Digest auth password; write-only, stored encrypted; rotates the password."
    )
    allowed_addresses: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="At most 100 IPs or CIDR blocks inbound calls may come from; null or empty: any."
    )


@strawberry.type(description="The trunk was changed.")
class UpdateSipTrunkSuccess:
    sip_trunk: SipTrunk = strawberry.field(description="The trunk as it is now.")


UpdateSipTrunkResult = Annotated[
    UpdateSipTrunkSuccess | ValidationError | NotFoundError | ProviderError,
    strawberry.union(
        "UpdateSipTrunkResult",
        description="The changed trunk, or why it was not changed: createSipTrunk's checks, and field id NOT_ALLOWED for a "
        "trunk the server manages.",
    ),
]


def _given(value):
    return KEEP if value is strawberry.UNSET else value


async def update_sip_trunk(info: Info[Context, None], input: UpdateSipTrunkInput) -> UpdateSipTrunkResult:
    transport = _given(input.transport)
    addresses = _given(input.allowed_addresses)
    request = SipTrunkUpdate(
        id=input.id,
        name=_given(input.name),
        sip_address=_given(input.sip_address),
        transport=StoredTransport(transport.value) if isinstance(transport, SipTransport) else transport,
        auth_username=_given(input.auth_username),
        auth_password=_given(input.auth_password),
        allowed_addresses=tuple(addresses) if isinstance(addresses, list) else addresses,
    )
    outcome = await update_use_case(current_workspace(info).id, request, info.context.services)
    if isinstance(outcome, models.SipTrunk):
        return UpdateSipTrunkSuccess(sip_trunk=SipTrunk.from_row(outcome))
    return to_error(outcome)
