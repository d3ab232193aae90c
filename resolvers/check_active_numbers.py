"""The periodic health check (TRUNKLINE_HEALTH_CHECK_INTERVAL): every ACTIVE number, read only; what it
finds is kept on the number's row (healthy, health_checked_at; a change is recorded as HEALTH_CHANGED),
counted in /metrics (trunkline_health_checks, trunkline_carrier_problems) and logged."""

from __future__ import annotations

import logging

from models import PhoneNumber
from models.enums import PhoneNumberStatus
from providers.errors import ProviderFailure
from resolvers.provisioning.health import NotActive, check_number
from resolvers.provisioning.leases import LeaseBusy
from resolvers.services import Services

log = logging.getLogger(__name__)


async def check_active_numbers(services: Services) -> int:
    """One pass; returns how many numbers were found unhealthy. A number another operation (or another
    process's pass) holds is left for the next pass rather than waited for."""
    unhealthy = 0
    for number_id in await PhoneNumber.filter(status=PhoneNumberStatus.ACTIVE).order_by("id").values_list("id", flat=True):
        try:
            check = await check_number(number_id, services, repair=False, wait=0)
        except (NotActive, LeaseBusy):
            continue
        except ProviderFailure as failure:
            log.warning("health check of %s must wait: %s", number_id, failure)
            continue
        if not check.healthy:
            unhealthy += 1
            log.warning("%s at its carriers: %s", number_id, ", ".join(p.code.value for p in check.problems))
    return unhealthy
