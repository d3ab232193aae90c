"""`trunkline doctor`: check every ACTIVE number (of one workspace, or all), repairing them when asked,
and find the carrier resources bearing Trunkline's names that nothing owns, deleting them when asked."""

from __future__ import annotations

from dataclasses import dataclass

from models import PhoneNumber
from models.enums import PhoneNumberStatus
from providers.errors import ProviderFailure
from resolvers.carrier_failure import carrier_failed
from resolvers.provisioning.clients import CarrierClients
from resolvers.provisioning.health import NotActive, Problem, check_number
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.orphans import Orphan, find_orphans
from resolvers.services import Services


@dataclass(frozen=True)
class NumberReport:
    id: str
    healthy: bool
    problems: tuple[Problem, ...] = ()
    error: str | None = None  # why the number could not be checked


@dataclass(frozen=True)
class DoctorReport:
    numbers: list[NumberReport]
    orphans: list[Orphan]

    @property
    def all_well(self) -> bool:
        return all(n.healthy for n in self.numbers) and all(o.removed for o in self.orphans)


async def run_doctor(services: Services, *, workspace_id: str | None = None, repair: bool = False) -> DoctorReport:
    numbers = PhoneNumber.filter(status=PhoneNumberStatus.ACTIVE)
    if workspace_id:
        numbers = numbers.filter(workspace_id=workspace_id)
    reports = []
    for number_id in await numbers.order_by("id").values_list("id", flat=True):
        report = await _check(number_id, services, repair)
        if report is not None:
            reports.append(report)
    orphans = await find_orphans(CarrierClients(services), workspace_id)
    if repair:
        for orphan in orphans:
            await orphan.delete()  # a delete of something already gone succeeds
            orphan.removed = True
    return DoctorReport(reports, orphans)


async def _check(number_id: str, services: Services, repair: bool) -> NumberReport | None:
    try:
        check = await check_number(number_id, services, repair=repair)
    except NotActive:  # deleted or being deleted since it was listed
        return None
    except ProviderFailure as failure:
        return NumberReport(number_id, False, error=carrier_failed(failure, after="").message)
    except LeaseBusy:
        return NumberReport(number_id, False, error="another change to the number or its trunk is in progress; try again")
    return NumberReport(number_id, check.healthy, check.problems)
