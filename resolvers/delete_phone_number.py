"""deletePhoneNumber: RELEASING while the carriers let go, then the row and its slot are gone.

If a carrier fails, the row stays RELEASING (still holding its slot) and deleting again finishes the job:
every release step is safe to repeat. Never a row pointing at nothing, never a carrier resource nobody owns.
"""

from __future__ import annotations

from datetime import UTC, datetime

from models import PhoneNumber
from models.enums import PhoneNumberSource, PhoneNumberStatus
from providers.errors import Carrier, ProviderFailure
from resolvers.carrier_failure import carrier_failed, lease_busy
from resolvers.outcomes import CarrierFailed, ErrorCode, Missing
from resolvers.phone_numbers import get_phone_number
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.release import finish_release
from resolvers.services import Services

AFTER_FAILED_DELETE = " The number is kept as RELEASING; delete it again to finish."


async def delete_phone_number(workspace_id: str, phone_number_id: str, services: Services) -> str | Missing | CarrierFailed:
    number = await get_phone_number(workspace_id, phone_number_id)
    if number is None:
        return Missing(phone_number_id)
    provider = Carrier.LIVEKIT if number.source in (PhoneNumberSource.LIVEKIT, PhoneNumberSource.BYOC) else Carrier.TWILIO
    started = await PhoneNumber.filter(
        id=number.id, status__in=(PhoneNumberStatus.ACTIVE, PhoneNumberStatus.RELEASING)
    ).update(status=PhoneNumberStatus.RELEASING, updated_at=datetime.now(UTC))
    if not started:
        if not await PhoneNumber.exists(id=number.id):
            return number.id  # a concurrent delete finished it since we read it
        return CarrierFailed(
            provider=provider,
            code=ErrorCode.PROVIDER_UNAVAILABLE,
            message="The number is still being provisioned; try again shortly.",
            retryable=True,
        )
    try:
        async with services.leases.number(number.id) as current:
            if current is not None:  # else another delete finished it meanwhile
                await finish_release(current, services)
    except ProviderFailure as failure:
        return carrier_failed(failure, after=AFTER_FAILED_DELETE)
    except LeaseBusy:
        return lease_busy(provider)
    return number.id
