"""How to undo each kind of carrier step, from what the journal recorded about it.

An undo must be safe to repeat and safe when the step may not have happened (state STARTED):
deletes of something already gone succeed, so undoing twice or undoing nothing is harmless.
A STARTED create has no id to undo; recovery treats it once the carrier can be asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from models import SipTrunk, StepState, TwilioAccount
from providers.twilio import TwilioAccountClient
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
        await context.livekit.delete_dispatch_rule(params["rule_id"])


@undoes("livekit.purchase_number")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    if state is StepState.DONE:
        await context.livekit.release_number(params["number_id"])


@undoes("livekit.create_inbound_trunk")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    if state is StepState.DONE:
        await context.livekit.delete_trunk(params["livekit_trunk_id"])
        await _forget_on_trunk(params.get("trunk_id"), "livekit_inbound_trunk_id")


@undoes("livekit.create_outbound_trunk")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    if state is StepState.DONE:
        await context.livekit.delete_trunk(params["livekit_trunk_id"])
        await _forget_on_trunk(params.get("trunk_id"), "livekit_outbound_trunk_id")


@undoes("livekit.add_inbound_number")
async def _(context: UndoContext, params: Params, _state: StepState) -> None:
    await context.livekit.change_inbound_trunk_numbers(params["livekit_trunk_id"], remove=[params["e164"]])


@undoes("livekit.add_outbound_number")
async def _(context: UndoContext, params: Params, _state: StepState) -> None:
    await context.livekit.change_outbound_trunk_numbers(params["livekit_trunk_id"], remove=[params["e164"]])


# --- Twilio ----------------------------------------------------------------------------------


@undoes("twilio.create_credential_list")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    if state is StepState.DONE:
        client = await context.twilio(params["twilio_account_id"])
        await client.delete_credential_list(params["credential_list_sid"])
        await _forget_on_trunk(
            params.get("trunk_id"), "twilio_credential_list_sid", "auth_username", "auth_password_encrypted"
        )


@undoes("twilio.create_trunk")
async def _(context: UndoContext, params: Params, state: StepState) -> None:
    # Deleting the trunk also removes its origination URL and credential-list attachment.
    if state is StepState.DONE:
        client = await context.twilio(params["twilio_account_id"])
        await client.delete_trunk(params["trunk_sid"])
        await _forget_on_trunk(params.get("trunk_id"), "twilio_trunk_sid", "twilio_domain_name")


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
    # A number bought on the platform's account goes back when its wiring fails.
    if state is StepState.DONE:
        client = await context.twilio(params["twilio_account_id"])
        await client.release_number(params["number_sid"])
