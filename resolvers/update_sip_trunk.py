"""updateSipTrunk: change a customer's BYOC trunk: its name, where outbound calls go, digest auth, and the
addresses inbound calls may come from.

The row is the truth. Each LiveKit trunk the change reaches is set to the trunk as it will be, through the
journal, and the row is written only after every one succeeded, all under the trunk's lease; a failure
settles the journal, which sets the LiveKit trunks back to the row. A trunk without numbers has nothing at
LiveKit, so its update is a row change alone.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from models import CarrierStep, SipTrunk
from models.enums import SipTransport, SipTrunkProvider
from providers.errors import Carrier, ProviderFailure
from resolvers.carrier_failure import NOTHING_CHANGED, carrier_failed, lease_busy
from resolvers.create_sip_trunk import (
    allowed_addresses_problems,
    allowed_network,
    auth_problems,
    sip_address_problems,
)
from resolvers.outcomes import (
    KEEP,
    CarrierFailed,
    FieldCode,
    FieldProblem,
    Invalid,
    Keep,
    Missing,
)
from resolvers.provisioning import steps
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy
from resolvers.services import Services
from resolvers.sip_trunks import get_sip_trunk
from resolvers.validation import check_name

SET_BACK_PENDING = " The trunk keeps its settings; LiveKit is set back to them as soon as it answers."
LIVEKIT_SIDES = (steps.UpdateInboundTrunk, steps.UpdateOutboundTrunk)


@dataclass(frozen=True)
class SipTrunkUpdate:
    """KEEP: left out. None: cleared (sipAddress, authUsername with its password, allowedAddresses) or
    the default (transport AUTO)."""

    id: str
    name: str | None | Keep = KEEP
    sip_address: str | None | Keep = KEEP
    transport: SipTransport | None | Keep = KEEP
    auth_username: str | None | Keep = KEEP
    auth_password: str | None | Keep = field(default=KEEP, repr=False)
    allowed_addresses: tuple[str, ...] | None | Keep = KEEP


async def update_sip_trunk(
    workspace_id: str, request: SipTrunkUpdate, services: Services
) -> SipTrunk | Missing | Invalid | CarrierFailed:
    trunk = await get_sip_trunk(workspace_id, request.id)
    if trunk is None:
        return Missing(request.id)
    if problems := refused(request, trunk):
        return Invalid(problems)
    journal = await Journal.resume(trunk.id, workspace_id, services)
    try:
        if not journal.empty and not await journal.settle(leaving=False):
            return lease_busy(Carrier.LIVEKIT)
        # The lease is given up before the journal's block ends: settling a failure takes it itself.
        async with journal.all_or_nothing(leaving=False), services.leases.trunk(trunk.id) as trunk:
            if trunk is None:
                return Missing(request.id)
            if await CarrierStep.exists(owner_id=trunk.id):
                raise LeaseBusy(trunk.id)  # another update's failure is being settled
            if problems := refused(request, trunk):  # against the row as it is now
                return Invalid(problems)
            await _apply(journal, trunk, _row_changes(request, trunk, services))
    except ProviderFailure as failure:
        return carrier_failed(failure, after=NOTHING_CHANGED if journal.settled else SET_BACK_PENDING)
    except LeaseBusy:
        return lease_busy(Carrier.LIVEKIT)
    return await SipTrunk.get_or_none(id=trunk.id) or Missing(request.id)


async def _apply(journal: Journal, trunk: SipTrunk, changes: dict[str, Any]) -> None:
    """Every LiveKit trunk the change reaches gets the new settings, then the row records them."""
    after = copy.copy(trunk)
    for column, value in changes.items():
        setattr(after, column, value)
    for side in LIVEKIT_SIDES:
        if side.changes(journal.clients, trunk, after):
            params = {"trunk_id": trunk.id, "livekit_trunk_id": getattr(trunk, side.column)}
            await journal.take(side, params, trunk=after)
    await SipTrunk.filter(id=trunk.id).update(**changes, updated_at=datetime.now(UTC))


def refused(request: SipTrunkUpdate, trunk: SipTrunk) -> tuple[FieldProblem, ...]:
    """Why the update cannot be made: a trunk the server manages, or createSipTrunk's checks on the
    fields given, with digest auth judged on the trunk as it would be."""
    if trunk.provider != SipTrunkProvider.BYOC:
        message = "this trunk is managed by the server for a Twilio account; it cannot be changed"
        return (FieldProblem("id", FieldCode.NOT_ALLOWED, message),)
    problems: list[FieldProblem] = []
    if request.name is not KEEP:
        problems += check_name(request.name or "")
    if request.sip_address is not KEEP:
        problems += sip_address_problems(request.sip_address, trunk.direction)
    if request.auth_username is not KEEP or request.auth_password is not KEEP:
        username, password = _auth_given(request, trunk)
        kept = request.auth_password is KEEP and bool(username) and trunk.auth_password_encrypted is not None
        problems += auth_problems(username, password, password_kept=kept)
    if request.allowed_addresses not in (KEEP, None):
        problems += allowed_addresses_problems(request.allowed_addresses)
    return tuple(problems)


def _auth_given(request: SipTrunkUpdate, trunk: SipTrunk) -> tuple[str | None, str | None]:
    """The user name the trunk would have, and the password given (None when left out)."""
    username = trunk.auth_username if request.auth_username is KEEP else request.auth_username or None
    password = None if request.auth_password is KEEP else request.auth_password or None
    return username, password


def _row_changes(request: SipTrunkUpdate, trunk: SipTrunk, services: Services) -> dict[str, Any]:
    """The columns the update writes, the new password encrypted."""
    changes: dict[str, Any] = {}
    if request.name is not KEEP:
        changes["name"] = (request.name or "").strip()
    if request.sip_address is not KEEP:
        changes["sip_address"] = request.sip_address or None
    if request.transport is not KEEP:
        changes["transport"] = request.transport or SipTransport.AUTO
    if request.allowed_addresses is not KEEP:
        changes["allowed_addresses"] = [allowed_network(address) for address in request.allowed_addresses or ()]
    if request.auth_username is not KEEP or request.auth_password is not KEEP:
        username, password = _auth_given(request, trunk)
        changes["auth_username"] = username
        if not username:  # clearing the user name clears its password with it
            changes["auth_password_encrypted"] = None
        elif password:
            changes["auth_password_encrypted"] = services.secrets.encrypt(password)
    return changes
