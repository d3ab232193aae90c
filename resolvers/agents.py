"""Agents: create, read one, list, rename, delete."""

from tortoise.transactions import in_transaction

from models import Agent, PhoneNumber, statements
from models.ids import is_valid_id
from resolvers.outcomes import (
    KEEP,
    ErrorCode,
    FieldCode,
    FieldProblem,
    Invalid,
    Keep,
    Missing,
)
from resolvers.validation import check_name


async def create_agent(workspace_id: str, name: str) -> Agent | Invalid:
    if problems := check_name(name):
        return Invalid(problems)
    return await Agent.create(workspace_id=workspace_id, name=name.strip())


async def get_agent(workspace_id: str, agent_id: str) -> Agent | None:
    if not is_valid_id(agent_id, "agent"):
        return None
    return await statements.by_id(Agent, agent_id, workspace_id=workspace_id)


async def list_agents(workspace_id: str) -> list[Agent]:
    return await Agent.filter(workspace_id=workspace_id).order_by("id")


async def update_agent(workspace_id: str, agent_id: str, name: str | None | Keep = KEEP) -> Agent | Missing | Invalid:
    """`name` None means it was sent as null, which is refused: an agent always has a name."""
    agent = await get_agent(workspace_id, agent_id)
    if agent is None:
        return Missing(agent_id)
    if name is KEEP:
        return agent
    if problems := check_name(name or ""):
        return Invalid(problems)
    await Agent.filter(id=agent.id).update(name=name.strip())
    return await Agent.get_or_none(id=agent.id) or Missing(agent_id)


async def delete_agent(workspace_id: str, agent_id: str) -> str | Missing | Invalid:
    """Refused while numbers are bound to the agent: their dispatch rules would route calls to nobody.

    The agent row is locked while its numbers are counted; a bind committing meanwhile waits on that lock
    (the foreign key) and then finds the agent gone, so no number is bound to a deleted agent."""
    async with in_transaction() as connection:
        agent = (
            await Agent.filter(id=agent_id, workspace_id=workspace_id).select_for_update().using_db(connection).first()
            if is_valid_id(agent_id, "agent") else None
        )
        if agent is None:
            return Missing(agent_id)
        bound = await PhoneNumber.filter(agent_id=agent.id).using_db(connection).count()
        if bound:
            return Invalid(
                (FieldProblem("id", FieldCode.IN_USE, f"{bound} phone number(s) are bound to this agent; unbind them first"),),
                message="The agent is in use.",
                code=ErrorCode.IN_USE,
            )
        await Agent.filter(id=agent.id).using_db(connection).delete()
    return agent.id
