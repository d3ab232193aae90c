"""deletePhoneNumber: release a number at its carriers and free its slot."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.delete_phone_number import delete_phone_number as delete_use_case
from schema.context import Context, current_workspace
from schema.errors import NotFoundError, ProviderError
from schema.results import to_error

__all__ = ["DeletePhoneNumberResult", "DeletePhoneNumberSuccess", "delete_phone_number"]


@strawberry.type(description="The number was released and removed.")
class DeletePhoneNumberSuccess:
    deleted_id: strawberry.ID = strawberry.field(description="The id the number had.")


DeletePhoneNumberResult = Annotated[
    DeletePhoneNumberSuccess | NotFoundError | ProviderError,
    strawberry.union(
        "DeletePhoneNumberResult",
        description="The removed id, or why not; after a ProviderError the number stays RELEASING and deleting again finishes.",
    ),
]


async def delete_phone_number(info: Info[Context, None], id: strawberry.ID) -> DeletePhoneNumberResult:
    outcome = await delete_use_case(current_workspace(info).id, id, info.context.services)
    if isinstance(outcome, str):
        return DeletePhoneNumberSuccess(deleted_id=strawberry.ID(outcome))
    return to_error(outcome)
