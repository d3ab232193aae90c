"""checkPhoneNumber: compare a number with what its carriers hold, and repair what can be repaired."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.check_phone_number import check_phone_number as check_use_case
from resolvers.provisioning.health import HealthCheck, ProblemCode
from schema.context import Context, current_workspace
from schema.enums import Provider
from schema.errors import NotFoundError, ProviderError
from schema.loaders import Loaders
from schema.results import CARRIERS, to_error
from schema.types import PhoneNumber

__all__ = ["CarrierProblem", "CheckPhoneNumberResult", "PhoneNumberCheck", "check_phone_number"]


@strawberry.type(description="One thing a carrier holds differently from what the number needs.")
class CarrierProblem:
    provider: Provider = strawberry.field(description="The carrier where it is wrong.")
    resource: str = strawberry.field(description="The carrier's id or name of what is wrong, e.g. SDR_…, TK…, PN….")
    code: str = strawberry.field(
        description=f"One of {', '.join(code.value for code in ProblemCode)}. LIVEKIT_NUMBER_NOT_ACTIVE, "
        "CREDENTIALS_REJECTED and NUMBER_NOT_OWNED are never repaired: only the customer can fix them."
    )
    message: str = strawberry.field(description="What is wrong, for a person to read; never contains a secret.")
    repaired: bool = strawberry.field(description="True when this check put it back.")


@strawberry.type(description="What a check of a number found at its carriers, and what it repaired.")
class PhoneNumberCheck:
    phone_number: PhoneNumber = strawberry.field(description="The number as it is after the check.")
    healthy: bool = strawberry.field(description="True when nothing is wrong after this check and its repairs.")
    problems: list[CarrierProblem] = strawberry.field(description="What was found, each marked repaired or not.")
    checked_at: datetime = strawberry.field(description="When the check ended (UTC).")

    @classmethod
    def from_check(cls, check: HealthCheck, loaders: Loaders) -> "PhoneNumberCheck":
        problems = [
            CarrierProblem(provider=CARRIERS[p.provider], resource=p.resource, code=p.code.value, message=p.message, repaired=p.repaired)
            for p in check.problems
        ]
        return cls(phone_number=PhoneNumber.from_row(check.number, loaders), healthy=check.healthy, problems=problems, checked_at=check.checked_at)


CheckPhoneNumberResult = Annotated[
    PhoneNumberCheck | NotFoundError | ProviderError,
    strawberry.union(
        "CheckPhoneNumberResult",
        description="The check, or why there is none: ProviderError when a carrier failed (rejected Twilio "
        "credentials are a problem of the check instead) or while the number is not ACTIVE.",
    ),
]


async def check_phone_number(
    info: Info[Context, None],
    id: strawberry.ID,
    repair: Annotated[bool | None, strawberry.argument(description="Put back what can be put back; null means false.")] = False,
) -> CheckPhoneNumberResult:
    outcome = await check_use_case(current_workspace(info).id, id, info.context.services, repair=bool(repair))
    if isinstance(outcome, HealthCheck):
        return PhoneNumberCheck.from_check(outcome, info.context.loaders)
    return to_error(outcome)
