"""Every carrier write an operation takes, each one object: what it does, how it is found again, how it
is settled. Adding a step is one class here; Journal.take runs it (resolvers/provisioning/journal.py).

A step's `params` are journalled before the call (enough to settle it; never a secret) and what the
answer made is added after. `inputs` go to the call only: objects in hand and secrets.

Settling a step makes what it touched at the carrier match what our rows record; our rows are the truth,
and a step is settled when its operation failed or was interrupted. Then:
- a trunk-level resource (Twilio trunk and credential list, LiveKit trunk) that its trunk row records
  belongs to the trunk and stays: the trunk's riders decide its fate (trunks.fit_trunk). One the row does
  not record was made by this attempt alone and is deleted.
- a number-level resource (dispatch rule, bought number, attachment) stays only while an ACTIVE row
  records it; a number's routing is set back to what its row says.
- a trunk's settings on its LiveKit trunks are set back to what its row records.
- a number added to a trunk is taken off it by fit_trunk, which runs after the steps are settled and
  deletes the trunk's sides instead when no other number rides them (LiveKit refuses an outbound trunk
  without numbers, and an inbound one without numbers would accept calls to any number).

A step may not have happened, or may happen after we stopped waiting (state STARTED): a create is then
looked up by the name unique to its attempt. Every settle is safe to repeat: deletes of what is already
gone succeed.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar

from models import CarrierStep, PhoneNumber, SipTrunk, StepState
from models.enums import PhoneNumberStatus, SipTrunkProvider
from providers.errors import Carrier, NotFound
from resolvers.events import update_recorded
from resolvers.provisioning.clients import CarrierClients

Params = dict[str, Any]
STEPS: dict[str, Step] = {}  # by name, for settling a journal row

# Names of what we create, so a create whose answer never came (and `trunkline doctor`) can find it.
LIVEKIT_TRUNK_NAME = "trunkline {trunk_id}"
DISPATCH_RULE_NAME = "trunkline {phone_number_id}"
TWILIO_TRUNK_NAME = "Trunkline {trunk_id}"  # the Twilio trunk and its credential list
ELASTIC_SIP_TRUNK = "Elastic SIP Trunk"


class Action(StrEnum):
    """What a step does, as an import plan (planPhoneNumberImport) tells it."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    ATTACH = "ATTACH"
    PURCHASE = "PURCHASE"
    REUSE = "REUSE"  # something there already serves, unchanged


class Step(ABC):
    """A carrier write. Subclasses with a `name` are registered, so journal rows find their settling; one
    that lacks any of its abstract methods is refused when it is defined."""

    name: ClassVar[str]
    # How an import plan names the step: the carrier, what it does, and to what (None: no import takes it).
    planned_as: ClassVar[tuple[Carrier, Action, str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            # ABCMeta marks a class abstract only after this hook: check here, so no step is half-defined.
            missing = sorted(
                attr for attr in dir(cls) if getattr(getattr(cls, attr, None), "__isabstractmethod__", False)
            )
            if missing:
                raise TypeError(f"carrier step {cls.name} does not define {', '.join(missing)}")
            STEPS[cls.name] = cls()

    @abstractmethod
    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> Any:
        ...

    def made(self, answer: Any) -> Params:
        """What the answer made, added to the journalled params."""
        return {}

    @abstractmethod
    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        ...


class Create(Step):
    """A step that makes one resource under a name unique to its attempt (Journal.take adds the tag), so
    a create whose answer never came is found again by that name: what this attempt made, never what
    another attempt made for the same trunk or number. Settled by deleting what it made unless a row
    records it."""

    made_key: ClassVar[str]

    @abstractmethod
    def base_name(self, step: CarrierStep) -> str:
        ...

    @abstractmethod
    async def find(self, clients: CarrierClients, step: CarrierStep) -> list[str]:
        ...

    @abstractmethod
    async def recorded(self, step: CarrierStep, made_id: str) -> bool:
        ...

    @abstractmethod
    async def delete(self, clients: CarrierClients, step: CarrierStep, made_id: str) -> None:
        ...

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        if step.state is StepState.DONE:
            made_ids = [step.params[self.made_key]]
        else:
            made_ids = await self.find(clients, step) if step.params.get("name") else []
        for made_id in made_ids:
            if not await self.recorded(step, made_id):
                await self.delete(clients, step, made_id)


class Kept(Step):
    """A step whose result is settled elsewhere: a number on a trunk by fit_trunk, a part of a Twilio trunk
    with the trunk (deleting the trunk deletes its origination URL, attachments and numbers)."""

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        return None


async def active_row_records(number_id: str, **column: str) -> bool:
    return await PhoneNumber.exists(id=number_id, status=PhoneNumberStatus.ACTIVE, **column)


async def trunk_records(trunk_id: str | None, **column: str) -> bool:
    return bool(trunk_id) and await SipTrunk.exists(id=trunk_id, **column)


async def unless_gone(call: Awaitable[Any]) -> None:
    """Await a carrier call for which a resource already gone is the state aimed for."""
    try:
        await call
    except NotFound:
        pass


# --- LiveKit: number-level ---------------------------------------------------------------------


class CreateDispatchRule(Create):
    """Route calls to the number to the agent (LiveKit dispatches the worker named by the agent's id)."""

    name = "livekit.create_dispatch_rule"
    planned_as = (Carrier.LIVEKIT, Action.CREATE, "dispatch rule")
    made_key = "rule_id"

    def base_name(self, step: CarrierStep) -> str:
        return DISPATCH_RULE_NAME.format(phone_number_id=step.owner_id)

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> str:
        p = step.params
        return await clients.livekit.create_dispatch_rule(
            p["name"], agent_name=p["agent_id"], numbers=[p["e164"]], trunk_ids=p.get("livekit_trunk_ids", [])
        )

    def made(self, answer: str) -> Params:
        return {"rule_id": answer}

    async def find(self, clients: CarrierClients, step: CarrierStep) -> list[str]:
        return await clients.livekit.find_dispatch_rule_ids(step.params["name"])

    async def recorded(self, step: CarrierStep, made_id: str) -> bool:
        return await active_row_records(step.owner_id, livekit_dispatch_rule_id=made_id)

    async def delete(self, clients: CarrierClients, step: CarrierStep, made_id: str) -> None:
        await clients.livekit.delete_dispatch_rule(made_id)


class UpdateDispatchRule(Step):
    """A rebind; settled by pointing the rule at the agent its row records again."""

    name = "livekit.update_dispatch_rule"

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> None:
        await clients.livekit.update_dispatch_rule(step.params["rule_id"], agent_name=step.params["agent_id"])

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        rule_id = step.params["rule_id"]
        number = await PhoneNumber.get_or_none(id=step.owner_id, livekit_dispatch_rule_id=rule_id)
        if number is not None and number.agent_id:
            await unless_gone(clients.livekit.update_dispatch_rule(rule_id, agent_name=number.agent_id))


class DeleteDispatchRule(Step):
    """An unbind rolls forward: the row forgets the rule (with `changes`, the rest of the update) before
    the rule is deleted, so settling this step, now or in recovery, deletes the rule."""

    name = "livekit.delete_dispatch_rule"

    async def act(self, clients: CarrierClients, step: CarrierStep, *, changes: Params) -> None:
        await update_recorded(step.owner_id, **changes, livekit_dispatch_rule_id=None, updated_at=datetime.now(UTC))
        if step.params["rule_id"]:
            await clients.livekit.delete_dispatch_rule(step.params["rule_id"])

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        rule_id = step.params["rule_id"]
        if rule_id and not await active_row_records(step.owner_id, livekit_dispatch_rule_id=rule_id):
            await clients.livekit.delete_dispatch_rule(rule_id)


class RouteNumber(Step):
    """Point a LiveKit number at a dispatch rule (or none); settled to the rule its ACTIVE row records."""

    name = "livekit.route_number"

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> None:
        await clients.livekit.update_number_dispatch_rule(step.params["number_id"], step.params.get("rule_id"))

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        number = await PhoneNumber.get_or_none(id=step.owner_id, status=PhoneNumberStatus.ACTIVE)
        if number is not None:
            rule_id = number.livekit_dispatch_rule_id
            await unless_gone(clients.livekit.update_number_dispatch_rule(step.params["number_id"], rule_id))


class PurchaseNumber(Step):
    """LiveKit buys the number, routed through the rule given. The e164 is reserved on this server until
    the step is settled, so if LiveKit holds it, this step bought it."""

    name = "livekit.purchase_number"
    planned_as = (Carrier.LIVEKIT, Action.PURCHASE, "phone number")

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> Any:
        return await clients.livekit.purchase_number(step.params["e164"], step.params.get("rule_id"))

    def made(self, answer: Any) -> Params:
        return {"number_id": answer.id}

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        number_id = step.params.get("number_id")
        if step.state is StepState.STARTED:
            found = await clients.livekit.find_number(step.params["e164"])
            number_id = found.id if found else None
        if number_id and not await active_row_records(step.owner_id, livekit_phone_number_id=number_id):
            await clients.livekit.release_number(number_id)


# --- LiveKit: trunk-level ----------------------------------------------------------------------


def _auth(clients: CarrierClients, trunk: SipTrunk) -> dict[str, str | None]:
    encrypted = trunk.auth_password_encrypted
    password = clients.services.secrets.decrypt(encrypted) if encrypted else None
    return {"auth_username": trunk.auth_username if password else None, "auth_password": password}


def inbound_fields(clients: CarrierClients, trunk: SipTrunk) -> Params:
    """What the trunk's LiveKit inbound trunk holds besides its numbers. Twilio cannot send digest auth on
    origination, so a shared Twilio trunk admits by number alone."""
    if trunk.provider == SipTrunkProvider.TWILIO:
        return {"allowed_addresses": [], "auth_username": None, "auth_password": None}
    return {"allowed_addresses": list(trunk.allowed_addresses or []), **_auth(clients, trunk)}


def outbound_fields(clients: CarrierClients, trunk: SipTrunk) -> Params:
    """What the trunk's LiveKit outbound trunk holds besides its numbers: it calls the Twilio trunk's
    termination domain, or the customer's SIP address."""
    if trunk.provider == SipTrunkProvider.TWILIO:
        address, transport = trunk.twilio_domain_name, "auto"
    else:
        address, transport = trunk.sip_address, trunk.transport.lower()
    return {"address": address, "transport": transport, **_auth(clients, trunk)}


class CreateLiveKitTrunk(Create):
    """A LiveKit trunk its row does not record was made by this attempt alone, and goes. One the row
    records belongs to the trunk: fit_trunk takes this number off it, or deletes it with its last rider."""

    made_key = "livekit_trunk_id"
    column: ClassVar[str]

    def base_name(self, step: CarrierStep) -> str:
        return LIVEKIT_TRUNK_NAME.format(trunk_id=step.params["trunk_id"])

    def made(self, answer: str) -> Params:
        return {"livekit_trunk_id": answer}

    async def recorded(self, step: CarrierStep, made_id: str) -> bool:
        return await trunk_records(step.params["trunk_id"], **{self.column: made_id})

    async def delete(self, clients: CarrierClients, step: CarrierStep, made_id: str) -> None:
        await clients.livekit.delete_trunk(made_id)


class CreateInboundTrunk(CreateLiveKitTrunk):
    """LiveKit accepts calls to the number over the trunk."""

    name = "livekit.create_inbound_trunk"
    planned_as = (Carrier.LIVEKIT, Action.CREATE, "LiveKit inbound trunk")
    column = "livekit_inbound_trunk_id"

    async def act(self, clients: CarrierClients, step: CarrierStep, *, trunk: SipTrunk) -> str:
        fields = inbound_fields(clients, trunk)
        return await clients.livekit.create_inbound_trunk(step.params["name"], [step.params["e164"]], **fields)

    async def find(self, clients: CarrierClients, step: CarrierStep) -> list[str]:
        return await clients.livekit.find_inbound_trunk_ids(step.params["name"])


class CreateOutboundTrunk(CreateLiveKitTrunk):
    """LiveKit places calls from the number over the trunk."""

    name = "livekit.create_outbound_trunk"
    planned_as = (Carrier.LIVEKIT, Action.CREATE, "LiveKit outbound trunk")
    column = "livekit_outbound_trunk_id"

    async def act(self, clients: CarrierClients, step: CarrierStep, *, trunk: SipTrunk) -> str:
        fields = outbound_fields(clients, trunk)
        return await clients.livekit.create_outbound_trunk(step.params["name"], numbers=[step.params["e164"]], **fields)

    async def find(self, clients: CarrierClients, step: CarrierStep) -> list[str]:
        return await clients.livekit.find_outbound_trunk_ids(step.params["name"])


class UpdateLiveKitTrunk(Step):
    """A trunk's settings change on one of its LiveKit trunks (params: trunk_id, livekit_trunk_id); its
    numbers stay. `act` takes the trunk as it will be, an unsaved row holding the new password (encrypted),
    so no secret is journalled; the row is written once every side holds the new settings. Settled by
    setting the LiveKit trunk back to what the row records, while the row still records that LiveKit trunk
    (one it no longer records is fit_trunk's or the trunk's delete's)."""

    column: ClassVar[str]
    update: ClassVar[str]  # the LiveKitGateway method that sets the settings

    @staticmethod
    @abstractmethod
    def fields(clients: CarrierClients, trunk: SipTrunk) -> Params:
        ...

    async def send(self, clients: CarrierClients, livekit_trunk_id: str, fields: Params) -> None:
        await getattr(clients.livekit, self.update)(livekit_trunk_id, **fields)

    @classmethod
    def changes(cls, clients: CarrierClients, before: SipTrunk, after: SipTrunk) -> bool:
        """Whether the trunk has this LiveKit side and the change reaches it."""
        return bool(getattr(before, cls.column)) and cls.fields(clients, before) != cls.fields(clients, after)

    async def act(self, clients: CarrierClients, step: CarrierStep, *, trunk: SipTrunk) -> None:
        await self.send(clients, step.params["livekit_trunk_id"], self.fields(clients, trunk))

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        livekit_trunk_id = step.params["livekit_trunk_id"]
        trunk = await SipTrunk.get_or_none(id=step.params["trunk_id"], **{self.column: livekit_trunk_id})
        if trunk is not None:
            await unless_gone(self.send(clients, livekit_trunk_id, self.fields(clients, trunk)))


class UpdateInboundTrunk(UpdateLiveKitTrunk):
    name = "livekit.update_inbound_trunk"
    column = "livekit_inbound_trunk_id"
    update = "update_inbound_trunk_fields"
    fields = staticmethod(inbound_fields)


class UpdateOutboundTrunk(UpdateLiveKitTrunk):
    name = "livekit.update_outbound_trunk"
    column = "livekit_outbound_trunk_id"
    update = "update_outbound_trunk_fields"
    fields = staticmethod(outbound_fields)


class AddInboundNumber(Kept):
    name = "livekit.add_inbound_number"
    planned_as = (Carrier.LIVEKIT, Action.UPDATE, "LiveKit inbound trunk")

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> None:
        await clients.livekit.change_inbound_trunk_numbers(step.params["livekit_trunk_id"], add=[step.params["e164"]])


class AddOutboundNumber(Kept):
    name = "livekit.add_outbound_number"
    planned_as = (Carrier.LIVEKIT, Action.UPDATE, "LiveKit outbound trunk")

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> None:
        await clients.livekit.change_outbound_trunk_numbers(step.params["livekit_trunk_id"], add=[step.params["e164"]])


# --- Twilio --------------------------------------------------------------------------------------


class CreateCredentialList(Create):
    """The credential list LiveKit authenticates with when it places calls through the Twilio trunk."""

    name = "twilio.create_credential_list"
    planned_as = (Carrier.TWILIO, Action.CREATE, "credential list")
    made_key = "credential_list_sid"

    def base_name(self, step: CarrierStep) -> str:
        return TWILIO_TRUNK_NAME.format(trunk_id=step.params["trunk_id"])

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> str:
        client = await clients.twilio(step.params["twilio_account_id"])
        return await client.create_credential_list(step.params["name"])

    def made(self, answer: str) -> Params:
        return {"credential_list_sid": answer}

    async def find(self, clients: CarrierClients, step: CarrierStep) -> list[str]:
        client = await clients.twilio(step.params["twilio_account_id"])
        return await client.find_credential_list_sids(step.params["name"])

    async def recorded(self, step: CarrierStep, made_id: str) -> bool:
        return await trunk_records(step.params["trunk_id"], twilio_credential_list_sid=made_id)

    async def delete(self, clients: CarrierClients, step: CarrierStep, made_id: str) -> None:
        client = await clients.twilio(step.params["twilio_account_id"])
        await client.delete_credential_list(made_id)


class CreateTwilioTrunk(Create):
    """The Elastic SIP trunk; deleting it also removes its origination URL, attachments and numbers."""

    name = "twilio.create_trunk"
    planned_as = (Carrier.TWILIO, Action.CREATE, ELASTIC_SIP_TRUNK)
    made_key = "trunk_sid"

    def base_name(self, step: CarrierStep) -> str:
        return TWILIO_TRUNK_NAME.format(trunk_id=step.params["trunk_id"])

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> Any:
        client = await clients.twilio(step.params["twilio_account_id"])
        return await client.create_trunk(step.params["name"], step.params.get("domain_name"))

    def made(self, answer: Any) -> Params:
        return {"trunk_sid": answer.sid, "domain_name": answer.domain_name}

    async def find(self, clients: CarrierClients, step: CarrierStep) -> list[str]:
        client = await clients.twilio(step.params["twilio_account_id"])
        return await client.find_trunk_sids(step.params["name"])

    async def recorded(self, step: CarrierStep, made_id: str) -> bool:
        return await trunk_records(step.params["trunk_id"], twilio_trunk_sid=made_id)

    async def delete(self, clients: CarrierClients, step: CarrierStep, made_id: str) -> None:
        client = await clients.twilio(step.params["twilio_account_id"])
        await client.delete_trunk(made_id)


class AddOriginationUrl(Kept):
    """Twilio sends the trunk's inbound calls to LiveKit's SIP endpoint."""

    name = "twilio.add_origination_url"
    planned_as = (Carrier.TWILIO, Action.CREATE, "origination URL")

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> str:
        client = await clients.twilio(step.params["twilio_account_id"])
        return await client.add_origination_url(step.params["trunk_sid"], clients.services.livekit_sip_uri, "LiveKit")

    def made(self, answer: str) -> Params:
        return {"origination_url_sid": answer}


class PointOriginationUrl(Kept):
    """An origination URL that drifted is sent back to LiveKit's SIP endpoint (the health check's repair);
    the target is what the rows want, so there is nothing to undo."""

    name = "twilio.point_origination_url"

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> None:
        client = await clients.twilio(step.params["twilio_account_id"])
        sip_uri = clients.services.livekit_sip_uri
        await client.update_origination_url(step.params["trunk_sid"], step.params["origination_url_sid"], sip_uri)


class AddCredential(Kept):
    """The username and password LiveKit sends, in the credential list (which takes them along when deleted).
    The password is an input of the step, never journalled."""

    name = "twilio.add_credential"
    planned_as = (Carrier.TWILIO, Action.CREATE, "credential")

    async def act(self, clients: CarrierClients, step: CarrierStep, *, username: str, password: str) -> None:
        client = await clients.twilio(step.params["twilio_account_id"])
        await client.add_credential(step.params["credential_list_sid"], username, password)


class AttachCredentialList(Kept):
    name = "twilio.attach_credential_list"
    planned_as = (Carrier.TWILIO, Action.ATTACH, "credential list")

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> None:
        client = await clients.twilio(step.params["twilio_account_id"])
        await client.attach_credential_list(step.params["trunk_sid"], step.params["credential_list_sid"])


class AttachNumber(Step):
    """The DID joins the Twilio trunk; settled by detaching it unless its ACTIVE row records it."""

    name = "twilio.attach_number"
    planned_as = (Carrier.TWILIO, Action.ATTACH, "phone number")

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> None:
        client = await clients.twilio(step.params["twilio_account_id"])
        await client.attach_number(step.params["trunk_sid"], step.params["number_sid"])

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        if await active_row_records(step.owner_id, twilio_phone_number_sid=step.params["number_sid"]):
            return
        client = await clients.twilio(step.params["twilio_account_id"])
        await client.detach_number(step.params["trunk_sid"], step.params["number_sid"])


class BuyNumber(Step):
    """A number bought on the platform's account goes back when its wiring fails. It was reserved on this
    server, so if the platform account holds it, this step bought it."""

    name = "twilio.buy_number"

    async def act(self, clients: CarrierClients, step: CarrierStep, **inputs: Any) -> Any:
        client = await clients.twilio(step.params["twilio_account_id"])
        return await client.buy_number(step.params["e164"])

    def made(self, answer: Any) -> Params:
        return {"number_sid": answer.sid}

    async def settle(self, clients: CarrierClients, step: CarrierStep) -> None:
        client = await clients.twilio(step.params["twilio_account_id"])
        number_sid = step.params.get("number_sid")
        if step.state is StepState.STARTED:
            found = await client.find_incoming_number(step.params["e164"])
            number_sid = found.sid if found else None
        if number_sid and not await active_row_records(step.owner_id, twilio_phone_number_sid=number_sid):
            await client.release_number(number_sid)
