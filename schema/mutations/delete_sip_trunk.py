"""deleteSipTrunk: remove a BYOC trunk no number rides."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.delete_sip_trunk import delete_sip_trunk as delete_use_case
from schema.context import Context, current_workspace
from schema.errors import NotFoundError, ProviderError, ValidationError
from schema.results import to_error

__all__ = ["DeleteSipTrunkResult", "DeleteSipTrunkSuccess", "delete_sip_trunk"]


@strawberry.type(description="The trunk was removed.")
class DeleteSipTrunkSuccess:
    deleted_id: strawberry.ID = strawberry.field(description="The id the trunk had.")


DeleteSipTrunkResult = Annotated[
    DeleteSipTrunkSuccess | ValidationError | NotFoundError | ProviderError,
    strawberry.union(
        "DeleteSipTrunkResult", description="The removed id, or why not; ValidationError code IN_USE while numbers ride it."
    ),
]


async def delete_sip_trunk(info: Info[Context, None], id: strawberry.ID) -> DeleteSipTrunkResult:
    outcome = await delete_use_case(current_workspace(info).id, id, info.context.services)
    if isinstance(outcome, str):
        return DeleteSipTrunkSuccess(deleted_id=strawberry.ID(outcome))
    return to_error(outcome)
