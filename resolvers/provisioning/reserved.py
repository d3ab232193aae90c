"""Running the carrier work of a reserved number: journalled, and settled on any failure.

Carrier work runs outside any database transaction, under the number's lease. Each step is journalled
before it is taken; a failure settles the steps taken, in reverse, fits the trunk to its riders,
deletes the reservation, and frees what only it used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from models import PhoneNumber
from providers.errors import ProviderFailure
from resolvers.carrier_failure import (
    CLEANUP_PENDING,
    NOTHING_CHANGED,
    carrier_failed,
    lease_busy,
)
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy, number_lease
from resolvers.outcomes import Failure, Invalid
from resolvers.provisioning.reservation import drop_reservation
from resolvers.services import Services
from resolvers.provisioning.settle import settle_steps
from resolvers.provisioning.twilio_account import tidy_twilio_account

Work = Callable[[Journal], Awaitable[PhoneNumber | Invalid]]


async def provision_reserved(number: PhoneNumber, services: Services, provider: str, work: Work) -> PhoneNumber | Failure:
    """Run `work` for the reserved number; `provider` names the carrier a busy trunk is reported against."""
    # Held throughout, so recovery never takes an import that is still running for an interrupted one.
    async with number_lease(number.id):
        journal = Journal(number.id, number.workspace_id, services)
        try:
            outcome = await work(journal)
        except ProviderFailure as failure:
            undone = await give_back(number, journal)
            return carrier_failed(failure, after=NOTHING_CHANGED if undone else CLEANUP_PENDING)
        except LeaseBusy:
            await give_back(number, journal)
            return lease_busy(provider)
        except BaseException:
            await give_back(number, journal)
            raise
        if isinstance(outcome, Invalid):
            await give_back(number, journal)
            return outcome
        await journal.forget()
        return outcome


async def give_back(number: PhoneNumber, journal: Journal) -> bool:
    """Settle what was done and free the slot; False when the carriers could not be cleaned up now.

    Then the row stays PROVISIONING with its journal, and recovery finishes the job later.
    """
    if not await settle_steps(journal, leaving=True):
        return False
    # Read again: the work may have linked the number to an account after `number` was read.
    twilio_account_id = await PhoneNumber.filter(id=number.id).first().values_list("twilio_account_id", flat=True)
    await drop_reservation(number)
    if twilio_account_id:
        await tidy_twilio_account(twilio_account_id)
    return True
