"""Carrier resources that bear the names Trunkline gives what it creates (steps.py), but that no row owns
and no journalled step is making: left by an operation that could never be settled, or by a row removed
by hand. LiveKit's are the project's; Twilio's are those of the accounts stored for the workspaces given.

The carriers are listed before the rows are read: a create journals its step (with the name) before it is
sent and the row records what it made before the step is forgotten, so a resource listed is either
recorded, in flight, or an orphan.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from models import CarrierStep, PhoneNumber, SipTrunk, TwilioAccount
from providers.errors import Carrier, CredentialsRejected
from resolvers.provisioning.clients import CarrierClients
from resolvers.provisioning.concurrently import concurrently
from resolvers.provisioning.steps import DISPATCH_RULE_NAME, LIVEKIT_TRUNK_NAME, TWILIO_TRUNK_NAME


def _named_like(template: str) -> re.Pattern[str]:
    """A template's text before its id, the id, then the attempt's tag (Journal.take adds 12 hex digits)."""
    return re.compile(re.escape(template.split("{")[0]) + r"[a-z]+_[0-9A-Z]{26} [0-9a-f]{12}")


LIVEKIT_TRUNK = _named_like(LIVEKIT_TRUNK_NAME)
DISPATCH_RULE = _named_like(DISPATCH_RULE_NAME)
TWILIO_TRUNK = _named_like(TWILIO_TRUNK_NAME)


@dataclass
class Orphan:
    provider: Carrier
    resource: str  # the carrier's id
    name: str
    delete: Callable[[], Awaitable[None]]
    removed: bool = False


async def find_orphans(clients: CarrierClients, workspace_id: str | None = None) -> list[Orphan]:
    """Orphans at LiveKit, and at the Twilio accounts stored for the workspace (or for any)."""
    livekit = clients.livekit
    inbound, outbound, rules = await concurrently(
        livekit.list_inbound_trunks(), livekit.list_outbound_trunks(), livekit.list_dispatch_rules()
    )
    accounts = await _accounts(workspace_id)
    twilio = [await _twilio_resources(clients, account) for account in accounts]
    # Read after listing: see the module's docstring.
    in_flight = {step.params.get("name") for step in await CarrierStep.all()}
    trunk_columns = await SipTrunk.all().values(
        "livekit_inbound_trunk_id", "livekit_outbound_trunk_id", "twilio_trunk_sid", "twilio_credential_list_sid"
    )
    recorded = {value for row in trunk_columns for value in row.values() if value}
    recorded |= set(await PhoneNumber.exclude(livekit_dispatch_rule_id=None).values_list("livekit_dispatch_rule_id", flat=True))

    def unowned(resource: str, name: str, pattern: re.Pattern[str]) -> bool:
        return bool(pattern.fullmatch(name)) and resource not in recorded and name not in in_flight

    orphans = [
        Orphan(Carrier.LIVEKIT, trunk.id, trunk.name, lambda trunk_id=trunk.id: livekit.delete_trunk(trunk_id))
        for trunk in (*inbound, *outbound) if unowned(trunk.id, trunk.name, LIVEKIT_TRUNK)
    ]
    orphans += [
        Orphan(Carrier.LIVEKIT, rule.id, rule.name, lambda rule_id=rule.id: livekit.delete_dispatch_rule(rule_id))
        for rule in rules if unowned(rule.id, rule.name, DISPATCH_RULE)
    ]
    for client, trunks, credential_lists in twilio:
        orphans += [
            Orphan(Carrier.TWILIO, t.sid, t.friendly_name, lambda sid=t.sid, c=client: c.delete_trunk(sid))
            for t in trunks if unowned(t.sid, t.friendly_name, TWILIO_TRUNK)
        ]
        orphans += [
            Orphan(Carrier.TWILIO, cl.sid, cl.friendly_name, lambda sid=cl.sid, c=client: c.delete_credential_list(sid))
            for cl in credential_lists if unowned(cl.sid, cl.friendly_name, TWILIO_TRUNK)
        ]
    return orphans


async def _accounts(workspace_id: str | None) -> list[TwilioAccount]:
    """One stored record per Twilio account (several workspaces may store the same one)."""
    rows = await (TwilioAccount.filter(workspace_id=workspace_id) if workspace_id else TwilioAccount.all()).order_by("id")
    return list({row.account_sid: row for row in rows}.values())


async def _twilio_resources(clients: CarrierClients, account: TwilioAccount):
    client = await clients.twilio(account.id)
    try:
        trunks, credential_lists = await concurrently(client.list_trunks(), client.list_credential_lists())
    except CredentialsRejected:  # the account's numbers are reported CREDENTIALS_REJECTED by their checks
        return client, [], []
    return client, trunks, credential_lists
