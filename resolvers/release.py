"""Taking a number off the carriers: every call is safe to repeat, so a failed delete is finished by
deleting again, and a trunk's carrier side goes when its last number goes."""

from __future__ import annotations

from models import PhoneNumber, SipTrunk, TwilioAccount
from models.enums import (
    PhoneNumberCapability,
    PhoneNumberSource,
    PhoneNumberStatus,
    SipTrunkProvider,
)
from resolvers.concurrently import concurrently
from resolvers.leases import trunk_lease
from resolvers.services import Services


async def release_at_carriers(number: PhoneNumber, services: Services) -> None:
    if number.source == PhoneNumberSource.LIVEKIT:
        await concurrently(
            services.livekit.release_number(number.livekit_phone_number_id) if number.livekit_phone_number_id else None,
            services.livekit.delete_dispatch_rule(number.livekit_dispatch_rule_id) if number.livekit_dispatch_rule_id else None,
        )
        return
    if number.trunk_id is None:
        return
    async with trunk_lease(number.trunk_id) as trunk:
        twilio = await _twilio_client(number, services)
        await concurrently(
            services.livekit.delete_dispatch_rule(number.livekit_dispatch_rule_id) if number.livekit_dispatch_rule_id else None,
            _leave_livekit_side(trunk, number, services),
            _leave_twilio_trunk(trunk, number, twilio),
        )
        if trunk.provider == SipTrunkProvider.TWILIO and not await _others_on(trunk, number):
            await tear_down_twilio_side(trunk, twilio)
    if number.source == PhoneNumberSource.TWILIO_PURCHASED and number.twilio_phone_number_sid:
        await twilio.release_number(number.twilio_phone_number_sid)


async def _twilio_client(number: PhoneNumber, services: Services):
    if number.twilio_account_id is None:
        return None
    account = await TwilioAccount.get(id=number.twilio_account_id)
    return services.twilio_account(account.account_sid, services.secrets.decrypt(account.auth_token_encrypted))


async def _others_on(trunk: SipTrunk, number: PhoneNumber, capability: PhoneNumberCapability | None = None) -> bool:
    """Whether another live number rides the trunk (in that direction)."""
    others = await PhoneNumber.filter(trunk_id=trunk.id).exclude(id=number.id).values_list("status", "capabilities")
    return any(
        status != PhoneNumberStatus.RELEASING and (capability is None or capability.value in capabilities)
        for status, capabilities in others
    )


async def _leave_livekit_side(trunk: SipTrunk, number: PhoneNumber, services: Services) -> None:
    """Remove the number from the trunk's LiveKit trunks; the last number takes the LiveKit trunk with it,
    because LiveKit refuses an outbound trunk without numbers."""
    livekit = services.livekit
    if trunk.livekit_inbound_trunk_id and PhoneNumberCapability.INBOUND.value in number.capabilities:
        if await _others_on(trunk, number, PhoneNumberCapability.INBOUND):
            await livekit.change_inbound_trunk_numbers(trunk.livekit_inbound_trunk_id, remove=[number.e164])
        else:
            await livekit.delete_trunk(trunk.livekit_inbound_trunk_id)
            await SipTrunk.filter(id=trunk.id).update(livekit_inbound_trunk_id=None)
    if trunk.livekit_outbound_trunk_id and PhoneNumberCapability.OUTBOUND.value in number.capabilities:
        if await _others_on(trunk, number, PhoneNumberCapability.OUTBOUND):
            await livekit.change_outbound_trunk_numbers(trunk.livekit_outbound_trunk_id, remove=[number.e164])
        else:
            await livekit.delete_trunk(trunk.livekit_outbound_trunk_id)
            await SipTrunk.filter(id=trunk.id).update(livekit_outbound_trunk_id=None)


async def _leave_twilio_trunk(trunk: SipTrunk, number: PhoneNumber, twilio) -> None:
    attached = number.source in (PhoneNumberSource.TWILIO, PhoneNumberSource.TWILIO_PURCHASED)
    if attached and twilio and trunk.twilio_trunk_sid and number.twilio_phone_number_sid:
        await twilio.detach_number(trunk.twilio_trunk_sid, number.twilio_phone_number_sid)


async def tear_down_twilio_side(trunk: SipTrunk, twilio) -> None:
    """The shared trunk's last number left: its Twilio trunk and credential list go too."""
    if twilio is None:
        return
    if trunk.twilio_trunk_sid:
        await twilio.delete_trunk(trunk.twilio_trunk_sid)
        await SipTrunk.filter(id=trunk.id).update(
            twilio_trunk_sid=None, twilio_domain_name=None, twilio_origination_url_sid=None
        )
    if trunk.twilio_credential_list_sid:
        await twilio.delete_credential_list(trunk.twilio_credential_list_sid)
        await SipTrunk.filter(id=trunk.id).update(
            twilio_credential_list_sid=None, auth_username=None, auth_password_encrypted=None
        )
