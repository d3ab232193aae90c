"""createAgent: add an agent that numbers can be bound to."""

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers.agents import create_agent as create_agent_use_case
from schema.context import Context, current_workspace
from schema.errors import ValidationError
from schema.results import to_error
from schema.types import Agent

__all__ = ["CreateAgentInput", "CreateAgentResult", "CreateAgentSuccess", "create_agent"]


@strawberry.input(description="A new agent.")
class CreateAgentInput:
    name: str = strawberry.field(description="Display name, 1 to 255 characters.")


@strawberry.type(description="The agent was created.")
class CreateAgentSuccess:
    agent: Agent = strawberry.field(description="The new agent.")


CreateAgentResult = Annotated[
    CreateAgentSuccess | ValidationError,
    strawberry.union("CreateAgentResult", description="The new agent, or why it was refused."),
]


async def create_agent(info: Info[Context, None], input: CreateAgentInput) -> CreateAgentResult:
    outcome = await create_agent_use_case(current_workspace(info).id, input.name)
    if isinstance(outcome, models.Agent):
        return CreateAgentSuccess(agent=Agent.from_row(outcome))
    return to_error(outcome)
