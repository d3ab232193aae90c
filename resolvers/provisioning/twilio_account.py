"""Removing what nothing refers to any more: a Twilio account's stored credentials and its empty trunk row."""

from tortoise.exceptions import IntegrityError

from models import PhoneNumber, SipTrunk, TwilioAccount


async def tidy_twilio_account(twilio_account_id: str) -> None:
    """Delete the account's shared-trunk row once it has no numbers and nothing at the carriers,
    then the account (and its encrypted token) once nothing refers to it."""
    trunk = await SipTrunk.get_or_none(twilio_account_id=twilio_account_id)
    if trunk is not None:
        has_carrier_side = any(
            (trunk.twilio_trunk_sid, trunk.twilio_credential_list_sid, trunk.livekit_inbound_trunk_id, trunk.livekit_outbound_trunk_id)
        )
        if has_carrier_side or await PhoneNumber.filter(trunk_id=trunk.id).exists():
            return
        try:
            await trunk.delete()
        except IntegrityError:  # a concurrent import just took the trunk
            return
    if await PhoneNumber.filter(twilio_account_id=twilio_account_id).exists():
        return
    try:
        await TwilioAccount.filter(id=twilio_account_id).delete()
    except IntegrityError:
        return
