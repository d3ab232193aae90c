"""Settling a journalled carrier step: making what it touched at the carrier match what our rows record.

Our rows are the truth; a step is settled when its operation failed or was interrupted. Then:
- a trunk-level resource (Twilio trunk and credential list, LiveKit trunk) that its trunk row records
  belongs to the trunk and stays: the trunk's riders decide its fate (trunk_sides.settle_trunk). One the
  row does not record was made by this attempt alone and is deleted.
- a number-level resource (dispatch rule, bought number, attachment) stays only while an ACTIVE row
  records it; a number's routing is set back to what its row says.
- a number added to a trunk is taken off it by settle_trunk, which runs after the steps are settled and
  deletes the trunk's sides instead when no other number rides them (LiveKit refuses an outbound trunk
  without numbers, and an inbound one without numbers would accept calls to any number).

A step may not have happened, or may happen after we stopped waiting (state STARTED): a create is then
looked up by the name unique to its attempt (Journal.create). Every settle is safe to repeat: deletes of
what is already gone succeed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from models import CarrierStep, PhoneNumber, SipTrunk, StepState, TwilioAccount
from models.enums import PhoneNumberStatus
from providers.errors import NotFound
from providers.twilio import TwilioAccountClient
from resolvers.services import Services

Params = dict[str, Any]


class CarrierClients:
    """Carrier clients for settling and releasing, with Twilio credentials read from the stored account."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.livekit = services.livekit
        self._twilio: dict[str, TwilioAccountClient] = {}

    async def twilio(self, twilio_account_id: str) -> TwilioAccountClient:
        if twilio_account_id not in self._twilio:
            account = await TwilioAccount.get(id=twilio_account_id)
            token = self.services.secrets.decrypt(account.auth_token_encrypted)
            self._twilio[twilio_account_id] = self.services.twilio_account(account.account_sid, token)
        return self._twilio[twilio_account_id]


Undo = Callable[[CarrierClients, CarrierStep], Awaitable[None]]
UNDO: dict[str, Undo] = {}


def undoes(action: str) -> Callable[[Undo], Undo]:
    def register(undo: Undo) -> Undo:
        UNDO[action] = undo
        return undo

    return register


async def _active_row_records(number_id: str, **column: str) -> bool:
    return await PhoneNumber.exists(id=number_id, status=PhoneNumberStatus.ACTIVE, **column)


async def _trunk_records(trunk_id: str | None, **column: str) -> bool:
    return bool(trunk_id) and await SipTrunk.exists(id=trunk_id, **column)


async def _made(step: CarrierStep, id_key: str, find: Callable[[str], Awaitable[list[str]]]) -> list[str]:
    """The ids this create made: from its answer, or else looked up by its attempt's unique name."""
    if step.state is StepState.DONE:
        return [step.params[id_key]]
    name = step.params.get("name")
    return await find(name) if name else []


async def unless_gone(call: Awaitable[Any]) -> None:
    """Await a carrier call for which a resource already gone is the state aimed for."""
    try:
        await call
    except NotFound:
        pass


# --- LiveKit: number-level ---------------------------------------------------------------------


@undoes("livekit.create_dispatch_rule")
async def _undo_create_dispatch_rule(clients: CarrierClients, step: CarrierStep) -> None:
    for rule_id in await _made(step, "rule_id", clients.livekit.find_dispatch_rule_ids):
        if not await _active_row_records(step.owner_id, livekit_dispatch_rule_id=rule_id):
            await clients.livekit.delete_dispatch_rule(rule_id)


@undoes("livekit.update_dispatch_rule")
async def _undo_update_dispatch_rule(clients: CarrierClients, step: CarrierStep) -> None:
    """A rebind: the rule dispatches the agent its row records again."""
    rule_id = step.params["rule_id"]
    number = await PhoneNumber.get_or_none(id=step.owner_id, livekit_dispatch_rule_id=rule_id)
    if number is not None and number.agent_id:
        await unless_gone(clients.livekit.update_dispatch_rule(rule_id, agent_name=number.agent_id))


@undoes("livekit.delete_dispatch_rule")
async def _undo_delete_dispatch_rule(clients: CarrierClients, step: CarrierStep) -> None:
    """An unbind rolls forward: the row no longer records the rule, so the rule goes."""
    rule_id = step.params["rule_id"]
    if rule_id and not await _active_row_records(step.owner_id, livekit_dispatch_rule_id=rule_id):
        await clients.livekit.delete_dispatch_rule(rule_id)


@undoes("livekit.route_number")
async def _undo_route_number(clients: CarrierClients, step: CarrierStep) -> None:
    """A LiveKit number is routed through the rule its ACTIVE row records, or through none."""
    number = await PhoneNumber.get_or_none(id=step.owner_id, status=PhoneNumberStatus.ACTIVE)
    if number is not None:
        rule_id = number.livekit_dispatch_rule_id
        await unless_gone(clients.livekit.update_number_dispatch_rule(step.params["number_id"], rule_id))


@undoes("livekit.purchase_number")
async def _undo_purchase_number(clients: CarrierClients, step: CarrierStep) -> None:
    # The e164 is reserved on this server until this step is settled, so if LiveKit holds it, this step bought it.
    number_id = step.params.get("number_id")
    if step.state is StepState.STARTED:
        found = await clients.livekit.find_number(step.params["e164"])
        number_id = found.id if found else None
    if number_id and not await _active_row_records(step.owner_id, livekit_phone_number_id=number_id):
        await clients.livekit.release_number(number_id)


# --- LiveKit: trunk-level ----------------------------------------------------------------------


def _livekit_column(direction: str) -> str:
    return f"livekit_{direction}_trunk_id"


async def _undo_create_livekit_trunk(clients: CarrierClients, step: CarrierStep, direction: str) -> None:
    """A LiveKit trunk its row does not record was made by this attempt alone, and goes. One the row records
    belongs to the trunk: settle_trunk takes this number off it, or deletes it with its last rider."""
    livekit = clients.livekit
    find = livekit.find_inbound_trunk_ids if direction == "inbound" else livekit.find_outbound_trunk_ids
    column = f"livekit_{direction}_trunk_id"
    for livekit_trunk_id in await _made(step, "livekit_trunk_id", find):
        if not await _trunk_records(step.params["trunk_id"], **{column: livekit_trunk_id}):
            await livekit.delete_trunk(livekit_trunk_id)


async def _number_added_to_trunk(_clients: CarrierClients, _step: CarrierStep) -> None:
    # The number goes off the trunk in settle_trunk, which knows whether the trunk stays.
    return None


async def other_riders(trunk_id: str, number_id: str, direction: str | None = None) -> bool:
    """Whether an ACTIVE number other than `number_id` rides the trunk (in that direction)."""
    capabilities = await PhoneNumber.filter(trunk_id=trunk_id, status=PhoneNumberStatus.ACTIVE).exclude(
        id=number_id
    ).values_list("capabilities", flat=True)
    wanted = direction.upper() if direction else None
    return any(wanted is None or wanted in caps for caps in capabilities)


undoes("livekit.create_inbound_trunk")(lambda clients, step: _undo_create_livekit_trunk(clients, step, "inbound"))
undoes("livekit.create_outbound_trunk")(lambda clients, step: _undo_create_livekit_trunk(clients, step, "outbound"))
undoes("livekit.add_inbound_number")(_number_added_to_trunk)
undoes("livekit.add_outbound_number")(_number_added_to_trunk)


# --- Twilio --------------------------------------------------------------------------------------


@undoes("twilio.create_credential_list")
async def _undo_create_credential_list(clients: CarrierClients, step: CarrierStep) -> None:
    client = await clients.twilio(step.params["twilio_account_id"])
    for sid in await _made(step, "credential_list_sid", client.find_credential_list_sids):
        if not await _trunk_records(step.params["trunk_id"], twilio_credential_list_sid=sid):
            await client.delete_credential_list(sid)


@undoes("twilio.create_trunk")
async def _undo_create_trunk(clients: CarrierClients, step: CarrierStep) -> None:
    # Deleting a trunk also removes its origination URL, credential-list attachment and numbers.
    client = await clients.twilio(step.params["twilio_account_id"])
    for sid in await _made(step, "trunk_sid", client.find_trunk_sids):
        if not await _trunk_records(step.params["trunk_id"], twilio_trunk_sid=sid):
            await client.delete_trunk(sid)


@undoes("twilio.add_origination_url")
@undoes("twilio.attach_credential_list")
async def _undo_trunk_part(_clients: CarrierClients, _step: CarrierStep) -> None:
    # Parts of a trunk this attempt created: they go with the trunk, or stay with it when its row records it.
    return None


@undoes("twilio.attach_number")
async def _undo_attach_number(clients: CarrierClients, step: CarrierStep) -> None:
    if await _active_row_records(step.owner_id, twilio_phone_number_sid=step.params["number_sid"]):
        return
    client = await clients.twilio(step.params["twilio_account_id"])
    await client.detach_number(step.params["trunk_sid"], step.params["number_sid"])


@undoes("twilio.buy_number")
async def _undo_buy_number(clients: CarrierClients, step: CarrierStep) -> None:
    # A number bought on the platform's account goes back when its wiring fails. It was reserved on
    # this server, so if the platform account holds it, this step bought it.
    client = await clients.twilio(step.params["twilio_account_id"])
    number_sid = step.params.get("number_sid")
    if step.state is StepState.STARTED:
        found = await client.find_incoming_number(step.params["e164"])
        number_sid = found.sid if found else None
    if number_sid and not await _active_row_records(step.owner_id, twilio_phone_number_sid=number_sid):
        await client.release_number(number_sid)
