"""Source TWILIO: a DID joins the workspace's shared Elastic SIP trunk for its Twilio account;
a verified caller ID joins that trunk's outbound side."""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from tortoise.exceptions import IntegrityError

from models import Agent, PhoneNumber, SipTrunk, TwilioAccount
from models.enums import PhoneNumberCapability, PhoneNumberSource, PhoneNumberStatus
from providers.errors import Carrier
from providers.redact import mask_sid
from providers.twilio import IncomingNumber
from resolvers.outcomes import FieldCode, FieldProblem, Invalid
from resolvers.provisioning import steps
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.planned import Plan, PlannedChange, planned
from resolvers.provisioning.reservation import activate_number
from resolvers.provisioning.trunks import (
    OUTBOUND,
    add_inbound_number_routed,
    add_outbound_number,
    plan_add_number,
    plan_number_on_trunk,
    tear_down_twilio_side,
    twilio_side_complete,
)
from resolvers.provisioning.twilio_account import find_account, find_shared_trunk, link_account, link_to_shared_trunk
from resolvers.provisioning.twilio_lookup import TwilioHolding
from resolvers.services import TwilioCredentials

DID_CAPABILITIES = [PhoneNumberCapability.INBOUND, PhoneNumberCapability.OUTBOUND]
CALLER_ID_CAPABILITIES = [PhoneNumberCapability.OUTBOUND]


async def provision(
    number: PhoneNumber, credentials: TwilioCredentials, holding: TwilioHolding, agent: Agent | None, journal: Journal
) -> PhoneNumber | Invalid:
    """`holding`: what the account holds under the number, looked up before the reservation."""
    if holding.did is not None:
        return await provision_did(number, holding.did, credentials, agent, journal, proved_at=holding.proved_at)
    return await provision_caller_id(number, holding, credentials, agent, journal)


async def plan(
    workspace_id: str, e164: str, credentials: TwilioCredentials, holding: TwilioHolding, agent: Agent | None
) -> Plan | Invalid:
    """What provision would do with the account's shared trunk as its rows are now."""
    trunk = await _shared_trunk(workspace_id, credentials.account_sid)
    if holding.did is None:
        if refused := _not_bindable(agent) or await _without_did(trunk, e164, credentials):
            return refused
        return Plan(PhoneNumberSource.VERIFIED_CALLER_ID, CALLER_ID_CAPABILITIES, [plan_add_number(trunk, OUTBOUND)])
    did = holding.did
    if refused := _on_another_trunk(e164, did, trunk):
        return refused
    if trunk is not None and twilio_side_complete(trunk):
        name = f"{steps.TWILIO_TRUNK_NAME.format(trunk_id=trunk.id)} ({trunk.twilio_trunk_sid})"
        twilio = [PlannedChange(Carrier.TWILIO, steps.Action.REUSE, steps.ELASTIC_SIP_TRUNK, name)]
        twilio += [] if did.trunk_sid else [planned(steps.AttachNumber, did.sid)]
    else:
        twilio = [
            planned(steps.CreateCredentialList),
            planned(steps.CreateTwilioTrunk),
            planned(steps.AddCredential),
            planned(steps.AddOriginationUrl),
            planned(steps.AttachNumber, did.sid),
            planned(steps.AttachCredentialList),
        ]
    livekit = plan_number_on_trunk(trunk, inbound=True, outbound=True, agent_id=agent.id if agent else None)
    return Plan(PhoneNumberSource.TWILIO, DID_CAPABILITIES, [*twilio, *livekit])


async def provision_did(
    number: PhoneNumber,
    did: IncomingNumber,
    credentials: TwilioCredentials,
    agent: Agent | None,
    journal: Journal,
    *,
    proved_at: datetime | None = None,
) -> PhoneNumber | Invalid:
    """`proved_at`: when Twilio accepted `credentials` (default now), so that newer stored ones stay."""
    account, trunk, held = await link_to_shared_trunk(
        number, credentials, journal.services, proved_at, twilio_phone_number_sid=did.sid
    )
    journal.clients.use_twilio(account.id, journal.services.twilio_account(credentials))
    async with journal.services.leases.trunk(trunk.id, held=held) as trunk:
        if refused := _on_another_trunk(number.e164, did, trunk):
            return refused
        # Independent chains at once; LiveKit's outbound side calls the Twilio trunk's domain, so it
        # follows the Twilio trunk, and the dispatch rule names LiveKit's inbound side.
        rule_id, _ = await concurrently(
            add_inbound_number_routed(journal, trunk, number, agent.id if agent else None),
            _twilio_side_with_number(journal, trunk, account, number, did),
        )
        # Activated under the lease, so a delete of the trunk's last other number counts this one.
        return await activate_number(journal, number, DID_CAPABILITIES, under=trunk, livekit_dispatch_rule_id=rule_id)


def _on_another_trunk(e164: str, did: IncomingNumber, trunk: SipTrunk | None) -> Invalid | None:
    if did.trunk_sid and did.trunk_sid != (trunk.twilio_trunk_sid if trunk else None):
        message = f"{e164} is on another Elastic SIP trunk of the Twilio account ({did.trunk_sid}); detach it first"
        return Invalid((FieldProblem("e164", FieldCode.NOT_ALLOWED, message),))
    return None


async def _twilio_side_with_number(
    journal: Journal, trunk: SipTrunk, account: TwilioAccount, number: PhoneNumber, did: IncomingNumber
) -> None:
    """The number on the Twilio trunk and on LiveKit's outbound side; the Twilio side is built first if the
    trunk has none (a partial one, left by a failed build, has no riders and is torn down first)."""
    if twilio_side_complete(trunk):
        await concurrently(
            None if did.trunk_sid else _attach(journal, trunk, account, did),
            add_outbound_number(journal, trunk, number.e164),
        )
        return
    await tear_down_twilio_side(journal.clients, trunk)
    # Two waves of calls: the credential list and the trunk; then everything that needs one or both.
    ids = {"twilio_account_id": account.id, "trunk_id": trunk.id}
    credential_list_sid, made = await concurrently(
        journal.take(steps.CreateCredentialList, ids), journal.take(steps.CreateTwilioTrunk, ids)
    )
    username, password = f"trunkline-{secrets.token_hex(4)}", sip_password()
    trunk.auth_username, trunk.auth_password_encrypted = username, journal.services.secrets.encrypt(password)
    trunk.twilio_credential_list_sid = credential_list_sid
    trunk.twilio_trunk_sid, trunk.twilio_domain_name = made.sid, made.domain_name
    await trunk.save(update_fields=[
        "auth_username", "auth_password_encrypted", "twilio_credential_list_sid", "twilio_trunk_sid",
        "twilio_domain_name", "updated_at",
    ])  # fmt: skip
    on_list = {**ids, "credential_list_sid": credential_list_sid}
    on_trunk = {**ids, "trunk_sid": made.sid}
    origination_url_sid, *_ = await concurrently(
        journal.take(steps.AddOriginationUrl, on_trunk),
        journal.take(steps.AddCredential, on_list, username=username, password=password),
        journal.take(steps.AttachCredentialList, {**on_trunk, **on_list}),
        _attach(journal, trunk, account, did),
        add_outbound_number(journal, trunk, number.e164),  # LiveKit calls out through the trunk's domain
    )
    # Recorded last: a Twilio side is complete once its origination URL is recorded.
    trunk.twilio_origination_url_sid = origination_url_sid
    await trunk.save(update_fields=["twilio_origination_url_sid", "updated_at"])


async def _attach(journal: Journal, trunk: SipTrunk, account: TwilioAccount, did: IncomingNumber) -> None:
    params = {"twilio_account_id": account.id, "trunk_sid": trunk.twilio_trunk_sid, "number_sid": did.sid}
    await journal.take(steps.AttachNumber, params)


def sip_password() -> str:
    """24 characters with upper, lower and digits, as Twilio requires of credentials."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(24))
        if any(c.islower() for c in password) and any(c.isupper() for c in password) and any(c.isdigit() for c in password):
            return password


async def provision_caller_id(
    number: PhoneNumber, holding: TwilioHolding, credentials: TwilioCredentials, agent: Agent | None, journal: Journal
) -> PhoneNumber | Invalid:
    """A verified caller ID rides the outbound side of the trunk a DID import from the same account made."""
    caller_id = holding.caller_id
    if refused := _not_bindable(agent):
        return refused
    trunk = await _shared_trunk(number.workspace_id, credentials.account_sid)
    if trunk is None:
        return _did_required(number.e164, credentials)
    account = await link_account(number, credentials, journal.services, holding.proved_at)
    try:
        await PhoneNumber.filter(id=number.id).update(
            source=PhoneNumberSource.VERIFIED_CALLER_ID, trunk_id=trunk.id, twilio_phone_number_sid=caller_id.sid
        )
    except IntegrityError:  # the trunk's last DID was deleted and its row removed meanwhile
        return _did_required(number.e164, credentials)
    number.twilio_account_id, number.trunk_id = account.id, trunk.id
    async with journal.services.leases.trunk(trunk.id) as trunk:
        # Decided under the lease: the DID that built the trunk's Twilio side is still there.
        if refused := await _without_did(trunk, number.e164, credentials):
            return refused
        await add_outbound_number(journal, trunk, number.e164)
        return await activate_number(journal, number, CALLER_ID_CAPABILITIES, under=trunk)


async def _shared_trunk(workspace_id: str, account_sid: str) -> SipTrunk | None:
    """The workspace's shared trunk row for the Twilio account, if an import from it made one."""
    account = await find_account(workspace_id, account_sid)
    return await find_shared_trunk(account.id) if account else None


def _not_bindable(agent: Agent | None) -> Invalid | None:
    if agent is None:
        return None
    message = "a verified caller ID places calls only; no agent can answer it"
    return Invalid((FieldProblem("agentId", FieldCode.NOT_AGENT_BINDABLE, message),))


async def _without_did(trunk: SipTrunk | None, e164: str, credentials: TwilioCredentials) -> Invalid | None:
    """DID_IMPORT_REQUIRED unless an ACTIVE DID rides the trunk, so that its Twilio side is there."""
    if trunk is None or not await PhoneNumber.exists(
        trunk_id=trunk.id, source=PhoneNumberSource.TWILIO, status=PhoneNumberStatus.ACTIVE
    ):
        return _did_required(e164, credentials)
    return None


def _did_required(e164: str, credentials: TwilioCredentials) -> Invalid:
    message = (
        f"{e164} is a verified caller ID; import a phone number of Twilio account "
        f"{mask_sid(credentials.account_sid)} with source TWILIO first, so it has a trunk to ride"
    )
    return Invalid((FieldProblem("e164", FieldCode.DID_IMPORT_REQUIRED, message),))
