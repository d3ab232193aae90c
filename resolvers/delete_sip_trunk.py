"""deleteSipTrunk: remove a customer's BYOC trunk, refused while numbers ride it."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from models import PhoneNumber, SipTrunk
from models.enums import SipTrunkProvider
from providers.errors import Carrier, ProviderFailure
from resolvers.carrier_failure import carrier_failed, lease_busy
from resolvers.outcomes import (
    CarrierFailed,
    ErrorCode,
    FieldCode,
    FieldProblem,
    Invalid,
    Missing,
)
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.leases import LeaseBusy
from resolvers.services import Services
from resolvers.sip_trunks import get_sip_trunk


def in_use(count: int) -> Invalid:
    return Invalid(
        (FieldProblem("id", FieldCode.IN_USE, f"{count} phone number(s) ride this trunk; delete them first"),),
        message="The trunk is in use.",
        code=ErrorCode.IN_USE,
    )


async def delete_sip_trunk(workspace_id: str, trunk_id: str, services: Services) -> str | Missing | Invalid | CarrierFailed:
    trunk = await get_sip_trunk(workspace_id, trunk_id)
    if trunk is None:
        return Missing(trunk_id)
    if trunk.provider != SipTrunkProvider.BYOC:
        return Invalid(
            (FieldProblem("id", FieldCode.NOT_ALLOWED, "this trunk is managed by the server; it goes with its last number"),)
        )
    riders = await PhoneNumber.filter(trunk_id=trunk.id).count()
    if riders:
        return in_use(riders)
    try:
        async with services.leases.trunk(trunk.id) as trunk:
            if trunk is None:  # a concurrent delete finished it while we waited: the trunk is gone, as asked
                return trunk_id
            # Normally nothing is left at LiveKit once the last number went; a leftover goes now.
            await concurrently(
                services.livekit.delete_trunk(trunk.livekit_inbound_trunk_id) if trunk.livekit_inbound_trunk_id else None,
                services.livekit.delete_trunk(trunk.livekit_outbound_trunk_id) if trunk.livekit_outbound_trunk_id else None,
            )
            await SipTrunk.filter(id=trunk.id).update(livekit_inbound_trunk_id=None, livekit_outbound_trunk_id=None)
            try:
                await SipTrunk.filter(id=trunk.id).delete()
            except IntegrityError:  # a number was imported onto it meanwhile
                return in_use(await PhoneNumber.filter(trunk_id=trunk.id).count())
    except ProviderFailure as failure:
        return carrier_failed(failure, after=" The trunk is kept; delete it again to finish.")
    except LeaseBusy:
        return lease_busy(Carrier.LIVEKIT)
    return trunk.id
