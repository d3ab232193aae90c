"""updateAgent: rename an agent."""

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers.agents import update_agent as update_use_case
from resolvers.outcomes import KEEP
from schema.context import Context, current_workspace
from schema.errors import NotFoundError, ValidationError
from schema.results import to_error
from schema.types import Agent

__all__ = ["UpdateAgentInput", "UpdateAgentResult", "UpdateAgentSuccess", "update_agent"]


@strawberry.input(description="Changes to an agent; a field left out is left as it is.")
class UpdateAgentInput:
    id: strawberry.ID = strawberry.field(description="The agent to change (agent_…).")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description='Absent: unchanged; else the new display name, 1 to 255 characters (null or "" refused).'
    )


@strawberry.type(description="The agent was changed.")
class UpdateAgentSuccess:
    agent: Agent = strawberry.field(description="The agent as it is now.")


UpdateAgentResult = Annotated[
    UpdateAgentSuccess | ValidationError | NotFoundError,
    strawberry.union("UpdateAgentResult", description="The changed agent, or why it was not changed."),
]


async def update_agent(info: Info[Context, None], input: UpdateAgentInput) -> UpdateAgentResult:
    name = KEEP if input.name is strawberry.UNSET else input.name
    outcome = await update_use_case(current_workspace(info).id, input.id, name)
    if isinstance(outcome, models.Agent):
        return UpdateAgentSuccess(agent=Agent.from_row(outcome))
    return to_error(outcome)
