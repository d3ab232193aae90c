"""availablePhoneNumbers: US numbers on offer, at the platform's Twilio account or at LiveKit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.enums import PhoneNumberSource
from resolvers.outcomes import InvalidArgument
from resolvers.services import Services

MAX_LIMIT = 50
_AREA_CODE = re.compile(r"[2-9][0-9][0-9]")  # not \d, which takes any script's digits


@dataclass(frozen=True)
class OfferedNumber:
    e164: str
    locality: str | None
    region: str | None


def is_area_code(value: str) -> bool:
    """A US area code: three ASCII digits, the first 2-9."""
    return _AREA_CODE.fullmatch(value) is not None


class PurchasingNotConfigured(Exception):
    def __str__(self) -> str:
        return "Purchasing is not configured on this server (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)."


async def available_phone_numbers(
    source: PhoneNumberSource, area_code: str | None, limit: int, services: Services
) -> list[OfferedNumber]:
    """Raises InvalidArgument for a bad argument, PurchasingNotConfigured, or a ProviderFailure."""
    if source not in (PhoneNumberSource.TWILIO_PURCHASED, PhoneNumberSource.LIVEKIT):
        raise InvalidArgument("source", "must be TWILIO_PURCHASED (for purchasePhoneNumber) or LIVEKIT (for importPhoneNumber)")
    if area_code is not None and not is_area_code(area_code):
        raise InvalidArgument("areaCode", f"must be a 3-digit US area code such as 415, not {area_code!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument("limit", f"must be between 1 and {MAX_LIMIT}, not {limit}")
    if source == PhoneNumberSource.LIVEKIT:
        found = await services.livekit.search_numbers(area_code, limit)
        return [OfferedNumber(n.e164, n.locality or None, n.region or None) for n in found]
    if services.platform_twilio is None:
        raise PurchasingNotConfigured
    client = services.twilio_account(services.platform_twilio)
    found = await client.search_available_numbers(area_code, limit)
    return [OfferedNumber(n.phone_number, n.locality or None, n.region or None) for n in found]
