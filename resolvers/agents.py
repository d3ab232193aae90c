"""Agents: create, read one, list."""

from models import Agent
from models.ids import is_valid_id
from resolvers.outcomes import Invalid
from resolvers.validation import check_name


async def create_agent(workspace_id: str, name: str) -> Agent | Invalid:
    if problems := check_name(name):
        return Invalid(problems)
    return await Agent.create(workspace_id=workspace_id, name=name.strip())


async def get_agent(workspace_id: str, agent_id: str) -> Agent | None:
    if not is_valid_id(agent_id, "agent"):
        return None
    return await Agent.get_or_none(id=agent_id, workspace_id=workspace_id)


async def list_agents(workspace_id: str) -> list[Agent]:
    return await Agent.filter(workspace_id=workspace_id).order_by("id")
