"""updateAgent and deleteAgent: renaming, refusal while numbers are bound, and a delete racing a bind."""

import asyncio

from models import Agent, PhoneNumber
from tests.graphql_documents import CREATE_SIP_TRUNK, IMPORT_PHONE_NUMBER, create_trunk_result, import_result

CREATE = """mutation ($name: String!) { createAgent(input: {name: $name}) { ... on CreateAgentSuccess { agent { id name } } } }"""
UPDATE = """
mutation ($input: UpdateAgentInput!) {
  updateAgent(input: $input) {
    __typename
    ... on UpdateAgentSuccess { agent { id name } }
    ... on ValidationError { code fieldErrors { field code } }
    ... on NotFoundError { code id }
  }
}"""
DELETE = """
mutation ($id: ID!) {
  deleteAgent(id: $id) {
    __typename
    ... on DeleteAgentSuccess { deletedAgentId }
    ... on ValidationError { code fieldErrors { field code } }
    ... on NotFoundError { code id }
  }
}"""
BIND = """
mutation ($id: ID!, $agentId: ID) {
  updatePhoneNumber(input: {id: $id, agentId: $agentId}) {
    __typename
    ... on UpdatePhoneNumberSuccess { phoneNumber { agentId } }
    ... on ValidationError { fieldErrors { field code } }
  }
}"""


async def new_agent(tenant, name: str = "Front desk") -> str:
    return (await tenant.graphql(CREATE, {"name": name}))["data"]["createAgent"]["agent"]["id"]


async def update(tenant, **agent_input) -> dict:
    return (await tenant.graphql(UPDATE, {"input": agent_input}))["data"]["updateAgent"]


async def delete(tenant, agent_id: str) -> dict:
    return (await tenant.graphql(DELETE, {"id": agent_id}))["data"]["deleteAgent"]


async def byoc_number(tenant, e164: str = "+12025550147", **fields) -> str:
    trunk_input = {"name": "Carrier", "direction": "BOTH", "sipAddress": "sip.example-carrier.com"}
    trunk = create_trunk_result(await tenant.graphql(CREATE_SIP_TRUNK, {"input": trunk_input}))["sipTrunk"]["id"]
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {
        "e164": e164, "source": "BYOC", "trunkId": trunk, **fields}}))
    assert result["__typename"] == "ImportPhoneNumberSuccess", result
    return result["phoneNumber"]["id"]


async def test_an_agent_is_renamed_and_a_left_out_name_is_kept(tenant):
    agent_id = await new_agent(tenant)

    assert await update(tenant, id=agent_id, name="  Sales  ") == {
        "__typename": "UpdateAgentSuccess", "agent": {"id": agent_id, "name": "Sales"}
    }
    assert (await update(tenant, id=agent_id))["agent"]["name"] == "Sales"


async def test_a_name_that_is_null_empty_or_too_long_is_refused_and_nothing_changes(tenant):
    agent_id = await new_agent(tenant)

    for name, code in ((None, "REQUIRED"), ("", "REQUIRED"), ("   ", "REQUIRED"), ("x" * 256, "TOO_LONG"), ("a\u0000b", "INVALID_CHARACTERS")):
        refused = await update(tenant, id=agent_id, name=name)
        assert (refused["__typename"], refused["fieldErrors"]) == ("ValidationError", [{"field": "name", "code": code}])
    assert (await Agent.get(id=agent_id)).name == "Front desk"


async def test_another_workspaces_agent_or_a_legacy_id_is_not_found(tenant, make_tenant):
    theirs = await new_agent(await make_tenant("Other"))

    for agent_id in (theirs, "0b8f8a4e-9d1c-4c55-8e27-7f0c5d0c2a11"):
        assert (await update(tenant, id=agent_id, name="Mine"))["__typename"] == "NotFoundError"
        assert (await delete(tenant, agent_id))["__typename"] == "NotFoundError"
    assert await Agent.exists(id=theirs)


async def test_an_agent_answering_numbers_is_kept_until_they_are_unbound(app, tenant):
    agent_id = await new_agent(tenant)
    number_id = await byoc_number(tenant, agentId=agent_id)

    refused = await delete(tenant, agent_id)
    assert (refused["__typename"], refused["code"], refused["fieldErrors"]) == (
        "ValidationError", "IN_USE", [{"field": "id", "code": "IN_USE"}]
    )
    unbound = (await tenant.graphql(BIND, {"id": number_id, "agentId": None}))["data"]["updatePhoneNumber"]
    assert unbound == {"__typename": "UpdatePhoneNumberSuccess", "phoneNumber": {"agentId": None}}

    assert await delete(tenant, agent_id) == {"__typename": "DeleteAgentSuccess", "deletedAgentId": agent_id}
    assert not await Agent.exists(id=agent_id)
    assert (await delete(tenant, agent_id))["__typename"] == "NotFoundError"
    assert app.state.sandbox.livekit.dispatch_rules == {}


async def test_a_delete_racing_a_bind_never_leaves_a_number_bound_to_a_deleted_agent(app, tenant):
    livekit = app.state.sandbox.livekit
    for round_ in range(6):
        agent_id = await new_agent(tenant, f"Agent {round_}")
        number_id = await byoc_number(tenant, e164=f"+1202555014{round_}")
        bound, deleted = await asyncio.gather(
            tenant.graphql(BIND, {"id": number_id, "agentId": agent_id}), tenant.graphql(DELETE, {"id": agent_id})
        )
        bound, deleted = bound["data"]["updatePhoneNumber"], deleted["data"]["deleteAgent"]
        number = await PhoneNumber.get(id=number_id)
        if deleted["__typename"] == "DeleteAgentSuccess":
            assert bound["__typename"] == "ValidationError", bound
            assert bound["fieldErrors"] == [{"field": "agentId", "code": "NOT_FOUND"}]
            assert (number.agent_id, number.livekit_dispatch_rule_id) == (None, None)
        else:
            assert (bound["__typename"], deleted["code"]) == ("UpdatePhoneNumberSuccess", "IN_USE")
            assert number.agent_id == agent_id
        # every rule at LiveKit belongs to a number that records it
        recorded = set(await PhoneNumber.exclude(livekit_dispatch_rule_id=None).values_list("livekit_dispatch_rule_id", flat=True))
        assert set(livekit.dispatch_rules) == recorded
