"""checkPhoneNumber: compare what an ACTIVE number needs at its carriers with what they hold, and with
`repair`, put back what can be put back (resolvers/provisioning/health.py)."""

from __future__ import annotations

from models.enums import PhoneNumberSource
from providers.errors import Carrier, ProviderFailure
from resolvers.carrier_failure import CLEANUP_PENDING, NOTHING_CHANGED, carrier_failed, lease_busy
from resolvers.outcomes import CarrierFailed, ErrorCode, Missing
from resolvers.phone_numbers import get_phone_number
from resolvers.provisioning.health import HealthCheck, NotActive, check_number
from resolvers.provisioning.leases import LeaseBusy
from resolvers.services import Services


async def check_phone_number(
    workspace_id: str, phone_number_id: str, services: Services, *, repair: bool = False
) -> HealthCheck | Missing | CarrierFailed:
    number = await get_phone_number(workspace_id, phone_number_id)
    if number is None:
        return Missing(phone_number_id)
    provider = Carrier.LIVEKIT if number.source in (PhoneNumberSource.LIVEKIT, PhoneNumberSource.BYOC) else Carrier.TWILIO
    try:
        return await check_number(number.id, services, repair=repair)
    except NotActive as not_active:
        if not_active.status is None:  # deleted meanwhile
            return Missing(phone_number_id)
        return CarrierFailed(
            provider=provider,
            code=ErrorCode.PROVIDER_UNAVAILABLE,
            message=f"The number is {not_active.status.value}; check it once it is ACTIVE.",
            retryable=True,
        )
    except ProviderFailure as failure:
        return carrier_failed(failure, after=CLEANUP_PENDING if repair else NOTHING_CHANGED)
    except LeaseBusy:
        return lease_busy(provider)
