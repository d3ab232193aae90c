"""updatePhoneNumber: relabel a number, or bind or unbind its agent."""

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers.outcomes import KEEP
from resolvers.update_phone_number import UpdateRequest
from resolvers.update_phone_number import update_phone_number as update_use_case
from schema.context import Context, current_workspace
from schema.errors import NotFoundError, ProviderError, ValidationError
from schema.results import to_error
from schema.types import PhoneNumber

__all__ = ["UpdatePhoneNumberInput", "UpdatePhoneNumberResult", "UpdatePhoneNumberSuccess", "update_phone_number"]


@strawberry.input(description="Changes to a number; a field left out is left as it is.")
class UpdatePhoneNumberInput:
    id: strawberry.ID = strawberry.field(description="The number to change (phone_…).")
    label: str | None = strawberry.field(default=strawberry.UNSET, description='Absent: unchanged; null or "": cleared.')
    agent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Absent: unchanged; null: unbind; an id: bind that agent."
    )


@strawberry.type(description="The number was changed.")
class UpdatePhoneNumberSuccess:
    phone_number: PhoneNumber = strawberry.field(description="The number as it is now.")


UpdatePhoneNumberResult = Annotated[
    UpdatePhoneNumberSuccess | ValidationError | NotFoundError | ProviderError,
    strawberry.union("UpdatePhoneNumberResult", description="The changed number, or why it was not changed."),
]


def _given(value):
    return KEEP if value is strawberry.UNSET else value


async def update_phone_number(info: Info[Context, None], input: UpdatePhoneNumberInput) -> UpdatePhoneNumberResult:
    request = UpdateRequest(id=input.id, label=_given(input.label), agent_id=_given(input.agent_id))
    outcome = await update_use_case(current_workspace(info).id, request, info.context.services)
    if isinstance(outcome, models.PhoneNumber):
        return UpdatePhoneNumberSuccess(phone_number=PhoneNumber.from_row(outcome, info.context.loaders))
    return to_error(outcome)
