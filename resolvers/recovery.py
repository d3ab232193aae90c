"""Recovery of operations a crash interrupted: numbers left PROVISIONING or RELEASING.

After a grace period (longer than any live operation takes), each such number is claimed by one
process and finished: an import or purchase is undone from its journal and its slot freed; a delete
is completed. Several processes may run this at once: a claim is a conditional update, and a
trunk's carrier side is changed only under its lease.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from models import CarrierStep, PhoneNumber
from models.enums import PhoneNumberStatus
from providers.errors import ProviderFailure
from resolvers.delete_phone_number import finish_release
from resolvers.journal import Journal
from resolvers.leases import LeaseBusy, number_lease, trunk_lease
from resolvers.reservation import drop_reservation
from resolvers.services import Services
from resolvers.tidy import tidy_twilio_account

log = logging.getLogger(__name__)
BATCH = 100


async def recover_interrupted(services: Services, grace: timedelta) -> int:
    """One pass over stale numbers; returns how many were finished."""
    now = datetime.now(UTC)
    cutoff = now - grace
    stale = await PhoneNumber.filter(
        status__in=(PhoneNumberStatus.PROVISIONING, PhoneNumberStatus.RELEASING), updated_at__lt=cutoff
    ).limit(BATCH)
    finished = 0
    for number in stale:
        if await CarrierStep.filter(owner_id=number.id, updated_at__gte=cutoff).exists():
            continue  # still moving
        try:
            finished += await _claim_and_finish(number, now, services)
        except (ProviderFailure, LeaseBusy) as failure:
            log.warning("recovery of %s must wait: %s", number.id, failure)
    return finished


async def _claim_and_finish(number: PhoneNumber, now: datetime, services: Services) -> bool:
    """The number's lease makes one process its handler; the bumped updated_at spaces out the next try."""
    async with number_lease(number.id, wait=0) as current:
        if current is None or (current.status, current.updated_at) != (number.status, number.updated_at):
            return False  # another process handled it meanwhile
        await PhoneNumber.filter(id=number.id).update(updated_at=now)
        return await _finish(current, services)


async def _finish(number: PhoneNumber, services: Services) -> bool:
    if number.status == PhoneNumberStatus.RELEASING:
        await finish_release(number, services)
        log.info("recovery finished deleting %s", number.id)
        return True
    journal = await Journal.resume(number.id, number.workspace_id, services)
    if number.trunk_id:
        async with trunk_lease(number.trunk_id, wait=2.0):
            undone = await journal.try_undo()
    else:
        undone = await journal.try_undo()
    if not undone:
        return False
    await drop_reservation(number)
    if number.twilio_account_id:
        await tidy_twilio_account(number.twilio_account_id)
    log.info("recovery undid the interrupted provisioning of %s", number.id)
    return True
