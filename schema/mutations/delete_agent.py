"""deleteAgent: remove an agent no number is bound to."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.agents import delete_agent as delete_use_case
from schema.context import Context, current_workspace
from schema.errors import NotFoundError, ValidationError
from schema.results import to_error

__all__ = ["DeleteAgentResult", "DeleteAgentSuccess", "delete_agent"]


@strawberry.type(description="The agent was removed.")
class DeleteAgentSuccess:
    deleted_agent_id: strawberry.ID = strawberry.field(description="The id the agent had.")


DeleteAgentResult = Annotated[
    DeleteAgentSuccess | ValidationError | NotFoundError,
    strawberry.union(
        "DeleteAgentResult", description="The removed id, or why not; ValidationError code IN_USE while numbers are bound to it."
    ),
]


async def delete_agent(info: Info[Context, None], id: strawberry.ID) -> DeleteAgentResult:
    outcome = await delete_use_case(current_workspace(info).id, id)
    if isinstance(outcome, str):
        return DeleteAgentSuccess(deleted_agent_id=strawberry.ID(outcome))
    return to_error(outcome)
