"""Agents: create, read one, list."""

from models import Agent
from models.ids import is_valid_id
from resolvers.outcomes import FieldProblem, Invalid

NAME_MAX_LENGTH = 255


async def create_agent(workspace_id: str, name: str) -> Agent | Invalid:
    name = name.strip()
    if not name:
        return Invalid((FieldProblem("name", "REQUIRED", "name must not be empty"),))
    if len(name) > NAME_MAX_LENGTH:
        return Invalid(
            (FieldProblem("name", "TOO_LONG", f"name must be at most {NAME_MAX_LENGTH} characters, not {len(name)}"),)
        )
    return await Agent.create(workspace_id=workspace_id, name=name)


async def get_agent(workspace_id: str, agent_id: str) -> Agent | None:
    if not is_valid_id(agent_id, "agent"):
        return None
    return await Agent.get_or_none(id=agent_id, workspace_id=workspace_id)


async def list_agents(workspace_id: str) -> list[Agent]:
    return await Agent.filter(workspace_id=workspace_id).order_by("id")
