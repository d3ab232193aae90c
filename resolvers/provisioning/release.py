"""Taking a number off the carriers: every call is safe to repeat, so a failed delete is finished by
deleting again (or by recovery), and a trunk's carrier side goes when its last number goes.

A RELEASING row is the journal of a delete: it holds its slot and the ids to release until every
carrier let go, then the row goes.
"""

from __future__ import annotations

from models import PhoneNumber, PhoneNumberEventType
from models.enums import PhoneNumberSource
from providers.errors import Carrier, Unavailable
from resolvers.events import delete_recorded
from resolvers.provisioning.clients import CarrierClients
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.trunks import fit_trunk
from resolvers.provisioning.twilio_account import forget_account_if_unused
from resolvers.services import Services


async def finish_release(number: PhoneNumber, services: Services) -> None:
    """Release a RELEASING number at its carriers, then drop the row and whatever only it used.
    The caller holds the number's lease; a carrier failure raises and leaves the row RELEASING."""
    # A bind interrupted earlier may have left a dispatch rule that the row does not record.
    leftovers = await Journal.resume(number.id, number.workspace_id, services)
    if not leftovers.empty and not await leftovers.settle(leaving=True):
        raise Unavailable(Carrier.LIVEKIT, "an earlier change to the number is still being settled at LiveKit")
    await release_at_carriers(number, services)
    await delete_recorded(number, PhoneNumberEventType.DELETED)
    if number.twilio_account_id:
        await forget_account_if_unused(number.twilio_account_id)


async def release_at_carriers(number: PhoneNumber, services: Services) -> None:
    clients = CarrierClients(services)
    livekit = services.livekit
    rule_id = number.livekit_dispatch_rule_id
    if number.source == PhoneNumberSource.LIVEKIT:
        await concurrently(
            livekit.release_number(number.livekit_phone_number_id) if number.livekit_phone_number_id else None,
            livekit.delete_dispatch_rule(rule_id) if rule_id else None,
        )
        return
    if number.trunk_id is not None:
        async with services.leases.trunk(number.trunk_id):
            await concurrently(
                livekit.delete_dispatch_rule(rule_id) if rule_id else None,
                fit_trunk(clients, number.trunk_id, leaving=number),
            )
    elif rule_id:
        await livekit.delete_dispatch_rule(rule_id)
    if number.source == PhoneNumberSource.TWILIO_PURCHASED and number.twilio_phone_number_sid and number.twilio_account_id:
        twilio = await clients.twilio(number.twilio_account_id)
        await twilio.release_number(number.twilio_phone_number_sid)
