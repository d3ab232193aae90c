"""How to undo each kind of carrier step, from what the journal recorded about it.

An undo must be safe to repeat and safe when the step may not have happened (state STARTED):
deletes of something already gone succeed, so undoing twice or undoing nothing is harmless.
A STARTED create left no id behind, so it is looked up by the name we gave it (carrier_names).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from models import SipTrunk, StepState, TwilioAccount
from providers.twilio import TwilioAccountClient
from resolvers.carrier_names import (
    dispatch_rule_name,
    livekit_trunk_name,
    twilio_trunk_name,
)
from resolvers.services import Services

Params = dict[str, Any]


class UndoContext:
    """Carrier clients for undoing, with Twilio credentials read from the stored account."""

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


Undo = Callable[[UndoContext, Params, StepState], Awaitable[None]]
UNDO: dict[str, Undo] = {}


def undoes(action: str) -> Callable[[Undo], Undo]:
    def register(undo: Undo) -> Undo:
        UNDO[action] = undo
        return undo

    return register


async def _forget_on_trunk(trunk_id: str | None, *columns: str) -> None:
    """The trunk row no longer points at a carrier part that was undone."""
    if trunk_id:
        await SipTrunk.filter(id=trunk_id).update(**{column: None for column in columns})


# --- LiveKit ---------------------------------------------------------------------------------


@undoes("livekit.create_dispatch_rule")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    if state is StepState.DONE:
        rule_ids = [params["rule_id"]]
    else:
        rule_ids = await context.livekit.find_dispatch_rule_ids(dispatch_rule_name(params["phone_number_id"]))
    for rule_id in rule_ids:
        await context.livekit.delete_dispatch_rule(rule_id)


@undoes("livekit.purchase_number")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    # The number is unique on the server (we reserved it), so if LiveKit holds it, this step bought it.
    number_id = params.get("number_id")
    if state is StepState.STARTED:
        found = await context.livekit.find_number(params["e164"])
        number_id = found.id if found else None
    if number_id:
        await context.livekit.release_number(number_id)


async def _undo_livekit_trunk(context: UndoContext, params: Params, state: StepState, direction: str) -> None:
    if state is StepState.DONE:
        made = [params["livekit_trunk_id"]]
    else:
        find = context.livekit.find_inbound_trunk_ids if direction == "inbound" else context.livekit.find_outbound_trunk_ids
        made = await find(livekit_trunk_name(params["trunk_id"]))
    for livekit_trunk_id in made:
        await context.livekit.delete_trunk(livekit_trunk_id)
    await _forget_on_trunk(params["trunk_id"], f"livekit_{direction}_trunk_id")


undoes("livekit.create_inbound_trunk")(partial(_undo_livekit_trunk, direction="inbound"))
undoes("livekit.create_outbound_trunk")(partial(_undo_livekit_trunk, direction="outbound"))


@undoes("livekit.add_inbound_number")
async def _(context: UndoContext, params: Params, _state: StepState) -> None:
    await context.livekit.change_inbound_trunk_numbers(params["livekit_trunk_id"], remove=[params["e164"]])


@undoes("livekit.add_outbound_number")
async def _(context: UndoContext, params: Params, _state: StepState) -> None:
    await context.livekit.change_outbound_trunk_numbers(params["livekit_trunk_id"], remove=[params["e164"]])


# --- Twilio ----------------------------------------------------------------------------------


@undoes("twilio.create_credential_list")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    client = await context.twilio(params["twilio_account_id"])
    if state is StepState.DONE:
        made = [params["credential_list_sid"]]
    else:
        made = await client.find_credential_list_sids(twilio_trunk_name(params["trunk_id"]))
    for credential_list_sid in made:
        await client.delete_credential_list(credential_list_sid)
    await _forget_on_trunk(params["trunk_id"], "twilio_credential_list_sid", "auth_username", "auth_password_encrypted")


@undoes("twilio.create_trunk")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    # Deleting the trunk also removes its origination URL, credential-list attachment and numbers.
    client = await context.twilio(params["twilio_account_id"])
    if state is StepState.DONE:
        made = [params["trunk_sid"]]
    else:
        made = await client.find_trunk_sids(twilio_trunk_name(params["trunk_id"]))
    for trunk_sid in made:
        await client.delete_trunk(trunk_sid)
    await _forget_on_trunk(params["trunk_id"], "twilio_trunk_sid", "twilio_domain_name")


@undoes("twilio.add_origination_url")
async def _(_context: UndoContext, params: Params, _state: StepState) -> None:
    # Only ever added to a trunk this operation created; undoing the trunk removes it at Twilio.
    await _forget_on_trunk(params.get("trunk_id"), "twilio_origination_url_sid")


@undoes("twilio.attach_credential_list")
async def _(_context: UndoContext, _params: Params, _state: StepState) -> None:
    # Only ever attached to a trunk this operation created; undoing the trunk detaches it.
    return None


@undoes("twilio.attach_number")
async def _(context: UndoContext, params: Params, _state: StepState) -> None:
    client = await context.twilio(params["twilio_account_id"])
    await client.detach_number(params["trunk_sid"], params["number_sid"])


@undoes("twilio.buy_number")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    # A number bought on the platform's account goes back when its wiring fails. It was reserved
    # on this server, so if the platform account holds it, this step bought it.
    client = await context.twilio(params["twilio_account_id"])
    number_sid = params.get("number_sid")
    if state is StepState.STARTED:
        found = await client.find_incoming_number(params["e164"])
        number_sid = found.sid if found else None
    if number_sid:
        await client.release_number(number_sid)
