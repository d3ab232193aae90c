"""Running the carrier work of a reserved number: journalled, and settled on any failure.

Carrier work runs outside any database transaction, under the number's lease. Each step is journalled
before it is taken; a failure settles the steps taken, fits the trunk to its riders, deletes the
reservation, and frees what only it used. What cannot be settled now stays PROVISIONING with its journal,
and recovery finishes it (resolvers/recover_interrupted.py).
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
from resolvers.outcomes import Failure, Invalid
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.reservation import drop_reservation
from resolvers.provisioning.twilio_account import forget_account_if_unused
from resolvers.services import Services

Work = Callable[[Journal], Awaitable[PhoneNumber | Invalid]]


class Refused(Exception):
    """The work found the request invalid part-way (e.g. a carrier says the number is not offered)."""

    def __init__(self, outcome: Invalid) -> None:
        super().__init__(outcome)
        self.outcome = outcome


async def provision_reserved(number: PhoneNumber, services: Services, provider: str, work: Work) -> PhoneNumber | Failure:
    """Run `work` for the reserved number; `provider` names the carrier a busy trunk is reported against."""
    # Held throughout, so recovery never takes an import that is still running for an interrupted one.
    async with services.leases.number(number.id, held=number.lease_token):
        journal = Journal(number.id, number.workspace_id, services)
        try:
            async with journal.all_or_nothing(leaving=True):
                outcome = await work(journal)
                if isinstance(outcome, Invalid):
                    raise Refused(outcome)
            return outcome
        except BaseException as failure:
            if journal.settled:
                await drop_unfinished(number.id)
            match failure:
                case Refused(outcome=outcome):
                    return outcome
                case ProviderFailure():
                    after = NOTHING_CHANGED if journal.settled else CLEANUP_PENDING
                    return carrier_failed(failure, after=after, platform=services.platform_twilio)
                case LeaseBusy():
                    return lease_busy(provider)
            raise


async def drop_unfinished(number_id: str) -> None:
    """Its steps settled, the reservation goes, and the Twilio account's records if only it used them."""
    number = await PhoneNumber.get_or_none(id=number_id)  # read again: the work may have linked an account
    if number is None:
        return
    await drop_reservation(number)
    if number.twilio_account_id:
        await forget_account_if_unused(number.twilio_account_id)
