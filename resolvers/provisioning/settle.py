"""Settling what an operation on a number left: its journalled steps, then the trunks they touched.

Both happen under the leases of those trunks (after the number's, which the caller holds), so the
riders counted when a trunk is fitted cannot change meanwhile.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from models import PhoneNumber
from providers.errors import ProviderFailure
from resolvers.provisioning.steps import CarrierClients
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy, trunk_lease
from resolvers.provisioning.trunks import settle_trunk

log = logging.getLogger(__name__)


async def settle_steps(journal: Journal, *, leaving: bool) -> bool:
    """Settle the journal, then fit the trunks of the number and of its steps to their riders (without the
    number, which comes off them, when it is `leaving`). False when something is left for recovery: a
    carrier failed, a step may yet act, or a trunk stayed busy; the number then keeps its row, so the
    trunk is fitted again when recovery settles it."""
    number = await PhoneNumber.get_or_none(id=journal.owner_id)
    trunk_ids = sorted(journal.trunk_ids | ({number.trunk_id} if number and number.trunk_id else set()))
    try:
        async with AsyncExitStack() as leases:
            for each in trunk_ids:
                await leases.enter_async_context(trunk_lease(each))
            if not await journal.try_undo():
                return False
            clients = CarrierClients(journal.services)
            for each in trunk_ids:
                await settle_trunk(clients, each, leaving=number if leaving else None)
    except (ProviderFailure, LeaseBusy) as failure:
        log.warning("could not yet settle what %s left at the carriers: %s", journal.owner_id, failure)
        return False
    return True
