"""deletePhoneNumber: RELEASING while the carriers let go, then the row and its slot are gone.

If a carrier fails, the row stays RELEASING (still holding its slot) and deleting again finishes the job:
every release step is safe to repeat. Never a row pointing at nothing, never a carrier resource nobody owns.

A number on a Twilio account is released with the credentials stored for the account. Twilio refusing
them is not something a retry mends: the customer changed or revoked them and must give the current ones
(rotateTwilioCredentials). So they are checked first, with a read that changes nothing, and a refusal
answers CREDENTIALS_REJECTED with the number exactly as it was (ACTIVE stays ACTIVE, and no LiveKit side
is taken off ahead of a Twilio side that cannot follow). Should Twilio start refusing between that check
and the release, the number stays RELEASING and is re-deletable, as after any carrier failure.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import DoesNotExist

from models import PhoneNumber
from models.enums import PhoneNumberSource, PhoneNumberStatus
from providers.errors import Carrier, CredentialsRejected, ProviderFailure
from resolvers.carrier_failure import carrier_failed, lease_busy
from resolvers.outcomes import CarrierFailed, ErrorCode, Missing
from resolvers.phone_numbers import get_phone_number
from resolvers.provisioning.clients import CarrierClients
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.release import finish_release
from resolvers.services import Services

AFTER_FAILED_DELETE = " The number is kept as RELEASING; delete it again to finish."
UNCHANGED = " The number was left as it was; delete it again afterwards."


async def delete_phone_number(workspace_id: str, phone_number_id: str, services: Services) -> str | Missing | CarrierFailed:
    number = await get_phone_number(workspace_id, phone_number_id)
    if number is None:
        return Missing(phone_number_id)
    provider = Carrier.LIVEKIT if number.source in (PhoneNumberSource.LIVEKIT, PhoneNumberSource.BYOC) else Carrier.TWILIO
    if number.twilio_account_id and (refused := await _credentials_refused(number.twilio_account_id, services)):
        return refused
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
        return carrier_failed(failure, after=AFTER_FAILED_DELETE, platform=services.platform_twilio)
    except LeaseBusy:
        return lease_busy(provider)
    return number.id


async def _credentials_refused(twilio_account_id: str, services: Services) -> CarrierFailed | None:
    """CREDENTIALS_REJECTED if Twilio refuses the account's stored credentials; any other failure of this
    read is left to the release itself, which meets it with the number kept RELEASING."""
    try:
        await (await CarrierClients(services).twilio(twilio_account_id)).check_credentials()
    except CredentialsRejected as refused:
        return carrier_failed(refused, after=UNCHANGED, platform=services.platform_twilio)
    except (ProviderFailure, DoesNotExist):  # DoesNotExist: the account row went with a concurrent delete
        pass
    return None
