"""Recovery: finish what a crash or a carrier failure left half-done.

A number still PROVISIONING or RELEASING after the grace period (longer than a carrier takes to act on
a request we stopped waiting for), or an ACTIVE number whose bind left journal steps that old, is
claimed through its lease, so one process handles it and never while its operation still runs (an
operation holds the number's lease, renewed while it lives). Then an import or purchase is settled
from its journal and its slot freed, a delete is completed, a bind's steps are settled against the row.
A trunk's update left half-done is settled against the trunk's row under its lease: its LiveKit trunks
get the settings the row records back, and stay. Steps whose number or trunk is gone are settled too.
Every process may run this at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from models import CarrierStep, PhoneNumber, SipTrunk
from models.enums import PhoneNumberStatus
from providers.errors import CredentialsRejected, ProviderFailure
from providers.metrics import RECOVERIES
from providers.redact import mask_sid
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.release import finish_release
from resolvers.provisioning.reserved import drop_unfinished
from resolvers.services import Services

log = logging.getLogger(__name__)
BATCH = 100


async def recover_interrupted(services: Services, grace: timedelta) -> int:
    """One pass over stale numbers and journals; returns how many were finished."""
    now = datetime.now(UTC)
    cutoff = now - grace
    unfinished = await PhoneNumber.filter(
        status__in=(PhoneNumberStatus.PROVISIONING, PhoneNumberStatus.RELEASING), updated_at__lt=cutoff
    ).limit(BATCH)
    stale_owners = set(
        await CarrierStep.filter(updated_at__lt=cutoff).distinct().limit(BATCH).values_list("owner_id", flat=True)
    )
    stale = {number.id: number for number in unfinished}
    for number in await PhoneNumber.filter(id__in=stale_owners - set(stale), status=PhoneNumberStatus.ACTIVE):
        stale[number.id] = number
    finished = 0
    for number in stale.values():
        if await CarrierStep.filter(owner_id=number.id, updated_at__gte=cutoff).exists():
            continue  # still moving
        try:
            finished += await _claim_and_finish(number, now, services)
        except LeaseBusy:
            log.info("recovery of %s waits: another operation holds it", number.id)
        except CredentialsRejected as refused:
            # Retrying will not mend it: the workspace must give the account's current credentials.
            log.warning(
                "recovery of %s must wait: Twilio refused the stored credentials of %s until they are rotated "
                "(rotateTwilioCredentials)", number.id, mask_sid(refused.account_sid or ""),
            )
        except ProviderFailure as failure:
            log.warning("recovery of %s must wait: %s", number.id, failure)
    orphaned = stale_owners - set(await PhoneNumber.filter(id__in=stale_owners).values_list("id", flat=True))
    trunks = set(await SipTrunk.filter(id__in=orphaned).values_list("id", flat=True))
    for owner_id in orphaned:
        finished += await _settle_steps(owner_id, services, trunk=owner_id in trunks)
    return finished


async def _claim_and_finish(number: PhoneNumber, now: datetime, services: Services) -> bool:
    """The number's lease makes one process its handler; the bumped updated_at spaces out the next try."""
    async with services.leases.number(number.id, wait=0) as current:
        if current is None or (current.status, current.updated_at) != (number.status, number.updated_at):
            return False  # another process handled it meanwhile
        if current.status != PhoneNumberStatus.ACTIVE:
            await PhoneNumber.filter(id=number.id).update(updated_at=now)
        return await _finish(current, services)


async def _finish(number: PhoneNumber, services: Services) -> bool:
    if number.status == PhoneNumberStatus.RELEASING:
        await finish_release(number, services)
        log.info("recovery finished deleting %s", number.id)
        RECOVERIES.labels("deleted").inc()
        return True
    journal = await Journal.resume(number.id, number.workspace_id, services)
    if number.status == PhoneNumberStatus.ACTIVE:
        if not await journal.settle(leaving=False):
            return False
        log.info("recovery settled an interrupted change to %s", number.id)
        RECOVERIES.labels("settled_change").inc()
        return True
    if not await journal.settle(leaving=True):
        return False
    await drop_unfinished(number.id)
    log.info("recovery undid the interrupted provisioning of %s", number.id)
    RECOVERIES.labels("undid_provisioning").inc()
    return True


async def _settle_steps(owner_id: str, services: Services, *, trunk: bool) -> bool:
    """Steps of no number: a number gone records nothing, so all its steps made goes; a trunk's update is
    set back to the trunk's row, which the update writes only after every carrier step succeeded, and
    the trunk's LiveKit sides stay with their riders."""
    step = await CarrierStep.filter(owner_id=owner_id).first()
    if step is None:
        return False
    journal = await Journal.resume(owner_id, step.workspace_id, services)
    if not await journal.settle(leaving=not trunk):
        return False
    log.info("recovery settled the carrier steps left by %s", owner_id)
    RECOVERIES.labels("settled_trunk_change" if trunk else "settled_orphan").inc()
    return True
