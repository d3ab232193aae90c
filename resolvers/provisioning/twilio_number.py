"""Source TWILIO: a DID joins the workspace's shared Elastic SIP trunk for its Twilio account;
a verified caller ID joins that trunk's outbound side."""

from __future__ import annotations

import secrets
import string

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Agent, PhoneNumber, SipTrunk, TwilioAccount
from models.enums import (
    PhoneNumberCapability,
    PhoneNumberSource,
    PhoneNumberStatus,
    SipTrunkDirection,
    SipTrunkProvider,
)
from providers.redact import mask_sid
from providers.twilio import CallerId, IncomingNumber, TwilioAccountClient
from resolvers.provisioning.steps import CarrierClients
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy, trunk_lease
from resolvers.outcomes import FieldProblem, Invalid
from resolvers.provisioning.reservation import activate_number
from resolvers.services import Services
from resolvers.provisioning.trunks import (
    add_inbound_number,
    add_outbound_number,
    create_dispatch_rule,
    tear_down_twilio_side,
    twilio_side_complete,
)
from resolvers.provisioning.twilio_lookup import TwilioHolding

TWILIO_TRUNK_NAME = "Trunkline {trunk_id}"  # of the Twilio trunk and credential list, plus the attempt's tag


async def provision(number: PhoneNumber, credentials, holding: TwilioHolding, agent: Agent | None, journal: Journal, services: Services):
    """`holding`: what the account holds under the number, looked up before the reservation."""
    if holding.did is not None:
        client = services.twilio_account(credentials.account_sid, credentials.auth_token)
        return await provision_did(number, holding.did, credentials, client, agent, journal, services)
    return await provision_caller_id(number, holding.caller_id, credentials, agent, journal, services)


async def remember_account(workspace_id: str, credentials, services: Services) -> TwilioAccount:
    """The workspace's record of the account; a new token replaces the stored one once Twilio accepted it."""
    token = credentials.auth_token
    for _ in range(5):
        account = await TwilioAccount.get_or_none(workspace_id=workspace_id, account_sid=credentials.account_sid)
        if account is not None:
            break
        try:
            async with in_transaction():
                return await TwilioAccount.create(
                    workspace_id=workspace_id,
                    account_sid=credentials.account_sid,
                    auth_token_encrypted=services.secrets.encrypt(token),
                )
        except IntegrityError:  # a concurrent import recorded it first (and a tidy may remove it again): look again
            continue
    else:
        raise LeaseBusy(f"Twilio account {mask_sid(credentials.account_sid)}")
    if services.secrets.decrypt(account.auth_token_encrypted) != token:
        account.auth_token_encrypted = services.secrets.encrypt(token)
        await account.save(update_fields=["auth_token_encrypted", "updated_at"])
    return account


async def link_account(number: PhoneNumber, credentials, services: Services) -> TwilioAccount:
    """Record the account on the number; from then on no tidy removes it (resolvers/tidy.py)."""
    for _ in range(5):
        account = await remember_account(number.workspace_id, credentials, services)
        try:
            await PhoneNumber.filter(id=number.id).update(twilio_account_id=account.id)
        except IntegrityError:  # tidied between our read and our write
            continue
        number.twilio_account_id = account.id
        return account
    raise LeaseBusy(f"Twilio account {mask_sid(credentials.account_sid)}")


async def shared_trunk_for(account: TwilioAccount) -> SipTrunk | None:
    """The one trunk row per Twilio account (None if it was just tidied away); its carrier side is built
    under its lease."""
    trunk = await SipTrunk.get_or_none(twilio_account_id=account.id)
    if trunk is not None:
        return trunk
    try:
        async with in_transaction():
            return await SipTrunk.create(
                workspace_id=account.workspace_id,
                name=f"Twilio {mask_sid(account.account_sid)}",
                provider=SipTrunkProvider.TWILIO,
                direction=SipTrunkDirection.BOTH,
                twilio_account=account,
            )
    except IntegrityError:  # made concurrently
        return await SipTrunk.get_or_none(twilio_account_id=account.id)


async def link_to_shared_trunk(number: PhoneNumber, credentials, services: Services) -> tuple[TwilioAccount, SipTrunk]:
    """Record the account and its shared trunk on the number. A failed import elsewhere may tidy away an
    unused trunk row between our read and our write; the foreign key refuses, and we look again."""
    account = await link_account(number, credentials, services)
    for _ in range(5):
        trunk = await shared_trunk_for(account)
        if trunk is None:
            continue
        try:
            await PhoneNumber.filter(id=number.id).update(trunk_id=trunk.id)
        except IntegrityError:
            continue
        number.trunk_id = trunk.id
        return account, trunk
    raise LeaseBusy(f"shared trunk of {mask_sid(credentials.account_sid)}")


async def provision_did(number, did: IncomingNumber, credentials, client, agent, journal: Journal, services: Services):
    account, trunk = await link_to_shared_trunk(number, credentials, services)
    await PhoneNumber.filter(id=number.id).update(twilio_phone_number_sid=did.sid)
    async with trunk_lease(trunk.id) as trunk:
        if did.trunk_sid and did.trunk_sid != trunk.twilio_trunk_sid:
            message = f"{number.e164} is on another Elastic SIP trunk of the Twilio account ({did.trunk_sid}); detach it first"
            return Invalid((FieldProblem("e164", "NOT_ALLOWED", message),))
        if not twilio_side_complete(trunk):
            await build_twilio_side(trunk, account, client, journal, services)
        await concurrently(
            None if did.trunk_sid else attach_number(journal, trunk, account, client, did),
            add_inbound_number(journal, trunk, number.e164, services),
            add_outbound_number(journal, trunk, number.e164, services),
        )
        rule_id = await create_dispatch_rule(journal, number, agent.id, services, trunk) if agent else None
        # Activated under the lease, so a delete of the trunk's last other number counts this one.
        return await activate_number(
            number, [PhoneNumberCapability.INBOUND, PhoneNumberCapability.OUTBOUND], livekit_dispatch_rule_id=rule_id
        )


async def attach_number(journal: Journal, trunk: SipTrunk, account: TwilioAccount, client, did: IncomingNumber) -> None:
    trunk_sid = trunk.twilio_trunk_sid
    await journal.step(
        "twilio.attach_number",
        {"twilio_account_id": account.id, "trunk_sid": trunk_sid, "number_sid": did.sid},
        lambda: client.attach_number(trunk_sid, did.sid),
    )


async def build_twilio_side(trunk: SipTrunk, account: TwilioAccount, client: TwilioAccountClient, journal: Journal, services: Services) -> None:
    """Trunk, origination to LiveKit, and a credential list for calls LiveKit places through it.
    What a failed build left (it has no riders) is torn down first, so every part is this build's."""
    await tear_down_twilio_side(CarrierClients(services), trunk)
    username, password = f"trunkline-{secrets.token_hex(4)}", sip_password()
    trunk.auth_username, trunk.auth_password_encrypted = username, services.secrets.encrypt(password)
    await trunk.save(update_fields=["auth_username", "auth_password_encrypted", "updated_at"])
    ids = {"twilio_account_id": account.id, "trunk_id": trunk.id}
    name = TWILIO_TRUNK_NAME.format(trunk_id=trunk.id)
    credential_list_sid, made = await concurrently(
        journal.create(
            "twilio.create_credential_list",
            ids,
            name,
            lambda unique: client.create_credential_list(unique, username, password),
            lambda sid: {"credential_list_sid": sid},
        ),
        journal.create(
            "twilio.create_trunk",
            ids,
            name,
            lambda unique: client.create_trunk(unique),
            lambda made: {"trunk_sid": made.sid, "domain_name": made.domain_name},
        ),
    )
    trunk.twilio_credential_list_sid, trunk.twilio_trunk_sid, trunk.twilio_domain_name = credential_list_sid, made.sid, made.domain_name
    await trunk.save(update_fields=["twilio_credential_list_sid", "twilio_trunk_sid", "twilio_domain_name", "updated_at"])
    origination_url_sid, _ = await concurrently(
        journal.step(
            "twilio.add_origination_url",
            {**ids, "trunk_sid": made.sid},
            lambda: client.add_origination_url(made.sid, services.livekit_sip_uri, "LiveKit"),
            lambda sid: {"origination_url_sid": sid},
        ),
        journal.step(
            "twilio.attach_credential_list",
            {**ids, "trunk_sid": made.sid, "credential_list_sid": credential_list_sid},
            lambda: client.attach_credential_list(made.sid, credential_list_sid),
        ),
    )
    trunk.twilio_origination_url_sid = origination_url_sid
    await trunk.save(update_fields=["twilio_origination_url_sid", "updated_at"])


def sip_password() -> str:
    """24 characters with upper, lower and digits, as Twilio requires of credentials."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(24))
        if any(c.islower() for c in password) and any(c.isupper() for c in password) and any(c.isdigit() for c in password):
            return password


async def provision_caller_id(number, caller_id: CallerId, credentials, agent, journal: Journal, services: Services):
    """A verified caller ID rides the outbound side of the trunk a DID import from the same account made."""
    if agent is not None:
        return Invalid(
            (FieldProblem("agentId", "NOT_AGENT_BINDABLE", "a verified caller ID places calls only; no agent can answer it"),)
        )
    account = await TwilioAccount.get_or_none(workspace_id=number.workspace_id, account_sid=credentials.account_sid)
    trunk = await SipTrunk.get_or_none(twilio_account_id=account.id) if account else None
    if trunk is None:
        return _did_required(number, credentials)
    await link_account(number, credentials, services)
    try:
        await PhoneNumber.filter(id=number.id).update(
            source=PhoneNumberSource.VERIFIED_CALLER_ID, trunk_id=trunk.id, twilio_phone_number_sid=caller_id.sid
        )
    except IntegrityError:  # the trunk's last DID was deleted and its row tidied meanwhile
        return _did_required(number, credentials)
    number.twilio_account_id, number.trunk_id = account.id, trunk.id
    async with trunk_lease(trunk.id) as trunk:
        # Decided under the lease: the DID that built the trunk's Twilio side is still there.
        if trunk is None or not await PhoneNumber.exists(
            trunk_id=trunk.id, source=PhoneNumberSource.TWILIO, status=PhoneNumberStatus.ACTIVE
        ):
            return _did_required(number, credentials)
        await add_outbound_number(journal, trunk, number.e164, services)
        return await activate_number(number, [PhoneNumberCapability.OUTBOUND])


def _did_required(number: PhoneNumber, credentials) -> Invalid:
    message = (
        f"{number.e164} is a verified caller ID; import a phone number of Twilio account "
        f"{mask_sid(credentials.account_sid)} with source TWILIO first, so it has a trunk to ride"
    )
    return Invalid((FieldProblem("e164", "DID_IMPORT_REQUIRED", message),))
