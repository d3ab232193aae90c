"""The read side: workspace isolation, id shapes, keyset pages, and the number's agent and trunk."""

import pytest

from models.ids import new_id
from schema.loaders import RowLoader
from tests.factories import add_agent, add_phone_number, add_sip_trunk

LEGACY_UUID = "3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b"

NODE = """query ($id: ID!) { node(id: $id) { __typename id } }"""
AGENT = """query ($id: ID!) { agent(id: $id) { id name } }"""
AGENTS = """{ agents { id name } }"""
PHONE_NUMBER = """query ($id: ID!) { phoneNumber(id: $id) { id e164 } }"""
SIP_TRUNK = """query ($id: ID!) { sipTrunk(id: $id) { id name authPasswordSet allowedAddresses } }"""
PAGE = """
query ($first: Int, $after: String) {
  phoneNumbers(first: $first, after: $after) {
    edges { cursor node { id e164 } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""
NUMBER_WITH_RELATIONS = """
{ phoneNumbers { edges { node {
    e164 source status capabilities label trunkId agentId livekitPhoneNumberId createdAt
    agent { id name } trunk { id name provider direction sipAddress transport }
} } } }"""


@pytest.fixture
async def two_tenants(make_tenant):
    acme = await make_tenant("Acme")
    globex = await make_tenant("Globex")
    return acme, globex


async def test_workspace_cannot_read_another_workspaces_agent(two_tenants):
    # given
    acme, globex = two_tenants
    agent = await add_agent(acme.workspace)

    # then
    assert (await globex.graphql(AGENT, {"id": agent.id}))["data"] == {"agent": None}
    assert (await globex.graphql(NODE, {"id": agent.id}))["data"] == {"node": None}
    assert (await globex.graphql(AGENTS))["data"] == {"agents": []}
    assert (await acme.graphql(AGENT, {"id": agent.id}))["data"] == {"agent": {"id": agent.id, "name": "Receptionist"}}
    assert (await acme.graphql(NODE, {"id": agent.id}))["data"] == {"node": {"__typename": "Agent", "id": agent.id}}


async def test_workspace_cannot_read_another_workspaces_numbers(two_tenants):
    acme, globex = two_tenants
    number = await add_phone_number(acme.workspace, "+12025550101")

    assert (await globex.graphql(PHONE_NUMBER, {"id": number.id}))["data"] == {"phoneNumber": None}
    assert (await globex.graphql(NODE, {"id": number.id}))["data"] == {"node": None}
    page = (await globex.graphql(PAGE, {"first": 10}))["data"]["phoneNumbers"]
    assert page["edges"] == [] and page["totalCount"] == 0
    mine = (await acme.graphql(PAGE, {"first": 10}))["data"]["phoneNumbers"]
    assert [e["node"]["id"] for e in mine["edges"]] == [number.id]


async def test_workspace_cannot_read_another_workspaces_trunk(two_tenants):
    acme, globex = two_tenants
    trunk = await add_sip_trunk(acme.workspace)

    assert (await globex.graphql(SIP_TRUNK, {"id": trunk.id}))["data"] == {"sipTrunk": None}
    assert (await globex.graphql(NODE, {"id": trunk.id}))["data"] == {"node": None}
    assert (await globex.graphql("{ sipTrunks { id } }"))["data"] == {"sipTrunks": []}
    assert (await acme.graphql(SIP_TRUNK, {"id": trunk.id}))["data"]["sipTrunk"] == {
        "id": trunk.id,
        "name": "Carrier",
        "authPasswordSet": False,
        "allowedAddresses": ["203.0.113.0/24"],
    }


@pytest.mark.parametrize(
    "query, field",
    [(AGENT, "agent"), (PHONE_NUMBER, "phoneNumber"), (SIP_TRUNK, "sipTrunk"), (NODE, "node")],
    ids=["agent", "phoneNumber", "sipTrunk", "node"],
)
async def test_legacy_uuid_finds_nothing(tenant, query, field):
    await add_agent(tenant.workspace)
    assert (await tenant.graphql(query, {"id": LEGACY_UUID}))["data"] == {field: None}


async def test_id_of_the_wrong_prefix_finds_nothing(tenant):
    agent = await add_agent(tenant.workspace)
    disguised = "phone_" + agent.id.removeprefix("agent_")
    assert (await tenant.graphql(PHONE_NUMBER, {"id": disguised}))["data"] == {"phoneNumber": None}
    assert (await tenant.graphql(NODE, {"id": disguised}))["data"] == {"node": None}
    assert (await tenant.graphql(AGENT, {"id": agent.id.lower()}))["data"] == {"agent": None}


async def test_paging_seven_numbers_two_at_a_time_returns_each_once(tenant):
    # given
    created = [(await add_phone_number(tenant.workspace, f"+1202555010{i}")).id for i in range(7)]

    # when
    seen, after, pages = [], None, 0
    while True:
        page = (await tenant.graphql(PAGE, {"first": 2, "after": after}))["data"]["phoneNumbers"]
        pages += 1
        assert page["totalCount"] == 7
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]

    # then
    assert pages == 4
    assert seen == created


async def test_empty_page_has_no_cursor(tenant):
    page = (await tenant.graphql(PAGE, {"first": 5}))["data"]["phoneNumbers"]
    assert page == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}, "totalCount": 0}


async def test_first_above_100_is_a_clear_graphql_error(tenant):
    body = await tenant.graphql(PAGE, {"first": 101})
    assert body["data"] is None
    assert body["errors"][0]["message"] == "first: must be between 0 and 100, not 101"
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


@pytest.mark.parametrize("after", ["garbage", "cGhvbmUtbnVtYmVyOmFnZW50Xw==", new_id("phone")], ids=["junk", "wrong-kind", "raw-id"])
async def test_after_that_is_not_our_cursor_is_a_clear_graphql_error(tenant, after):
    body = await tenant.graphql(PAGE, {"first": 2, "after": after})
    assert body["errors"][0]["extensions"]["argument"] == "after"
    assert "not a cursor" in body["errors"][0]["message"]


async def test_phone_numbers_filter_by_source_and_agent(tenant):
    agent = await add_agent(tenant.workspace)
    bound = await add_phone_number(tenant.workspace, "+12025550111", agent=agent)
    await add_phone_number(tenant.workspace, "+12025550112", source="LIVEKIT", capabilities=["INBOUND"])
    query = """query ($source: PhoneNumberSource, $agentId: ID) {
      phoneNumbers(source: $source, agentId: $agentId) { totalCount edges { node { e164 } } } }"""

    by_source = (await tenant.graphql(query, {"source": "LIVEKIT"}))["data"]["phoneNumbers"]
    by_agent = (await tenant.graphql(query, {"agentId": agent.id}))["data"]["phoneNumbers"]
    by_legacy_agent = (await tenant.graphql(query, {"agentId": LEGACY_UUID}))["data"]["phoneNumbers"]

    assert by_source == {"totalCount": 1, "edges": [{"node": {"e164": "+12025550112"}}]}
    assert by_agent == {"totalCount": 1, "edges": [{"node": {"e164": bound.e164}}]}
    assert by_legacy_agent == {"totalCount": 0, "edges": []}


async def test_phone_number_resolves_its_agent_and_trunk(tenant):
    agent = await add_agent(tenant.workspace)
    trunk = await add_sip_trunk(tenant.workspace)
    await add_phone_number(tenant.workspace, "+12025550121", agent=agent, trunk=trunk, label="Front desk")
    await add_phone_number(tenant.workspace, "+12025550122", agent=agent, trunk=trunk)

    edges = (await tenant.graphql(NUMBER_WITH_RELATIONS))["data"]["phoneNumbers"]["edges"]

    first = edges[0]["node"]
    assert first["agent"] == {"id": agent.id, "name": "Receptionist"}
    assert first["trunk"] == {
        "id": trunk.id,
        "name": "Carrier",
        "provider": "BYOC",
        "direction": "BOTH",
        "sipAddress": "sip.example-carrier.com",
        "transport": "AUTO",
    }
    assert (first["agentId"], first["trunkId"], first["label"]) == (agent.id, trunk.id, "Front desk")
    assert (first["source"], first["status"], first["capabilities"]) == ("BYOC", "ACTIVE", ["INBOUND", "OUTBOUND"])
    assert first["createdAt"].endswith("+00:00")
    assert edges[1]["node"]["agent"] == first["agent"]


async def test_workspace_reports_its_limit_and_slot_count(make_tenant):
    tenant = await make_tenant("Small", phone_number_limit=3)
    await add_phone_number(tenant.workspace, "+12025550131")
    await add_phone_number(tenant.workspace, "+12025550132", status="PROVISIONING")
    body = await tenant.graphql("{ workspace { id name phoneNumberLimit phoneNumberCount } }")
    assert body["data"]["workspace"] == {
        "id": tenant.workspace.id,
        "name": "Small",
        "phoneNumberLimit": 3,
        "phoneNumberCount": 2,
    }


async def test_one_number_has_at_most_one_row_on_the_whole_server(two_tenants):
    from tortoise.exceptions import IntegrityError

    acme, globex = two_tenants
    await add_phone_number(acme.workspace, "+12025550141")
    with pytest.raises(IntegrityError):
        await add_phone_number(globex.workspace, "+12025550141")


async def test_create_agent_returns_it_and_lists_it(tenant):
    mutation = """mutation ($name: String!) { createAgent(input: {name: $name}) {
        __typename ... on CreateAgentSuccess { agent { id name } }
        ... on ValidationError { code fieldErrors { field code message } } } }"""

    created = (await tenant.graphql(mutation, {"name": "  Sales  "}))["data"]["createAgent"]
    refused = (await tenant.graphql(mutation, {"name": " "}))["data"]["createAgent"]
    too_long = (await tenant.graphql(mutation, {"name": "x" * 256}))["data"]["createAgent"]

    assert created["__typename"] == "CreateAgentSuccess" and created["agent"]["name"] == "Sales"
    assert created["agent"]["id"].startswith("agent_") and len(created["agent"]["id"]) == 32
    assert refused == {
        "__typename": "ValidationError",
        "code": "VALIDATION_FAILED",
        "fieldErrors": [{"field": "name", "code": "REQUIRED", "message": "name must not be empty"}],
    }
    assert too_long["fieldErrors"][0]["code"] == "TOO_LONG"
    assert (await tenant.graphql(AGENTS))["data"]["agents"] == [created["agent"]]


PAGE_THROUGH_FRAGMENTS = """
query ($first: Int) { phoneNumbers(first: $first) { edges { node { ...Routing } } } }
fragment Routing on PhoneNumber { e164 ... on PhoneNumber { agent { name } } trunk { name } }"""


async def test_a_page_reads_its_agents_and_trunks_in_one_statement_each_whatever_its_size(tenant, caplog, monkeypatch):
    """Each number's own agent and trunk, selected through fragments, from the same statements for a page of
    3 as for a page of 12 (Tortoise's db_client logger shows every statement sent), read before the fields
    ask: none of them waits for a DataLoader batch, as a single number's fields do (those waits are counted)."""
    batched = []
    shown_later = RowLoader._shown_later
    monkeypatch.setattr(
        RowLoader, "_shown_later", lambda loader, *args: batched.append(args[0]) or shown_later(loader, *args)
    )
    numbers = []
    for n in range(12):
        agent, trunk = await add_agent(tenant.workspace, f"Agent {n}"), await add_sip_trunk(tenant.workspace, f"Trunk {n}")
        numbers.append(
            await add_phone_number(tenant.workspace, f"+1202555{n:04d}", agent=agent, trunk=trunk if n % 3 else None)
        )

    statements = {}
    for first in (3, 12):
        caplog.clear()
        with caplog.at_level("DEBUG", logger="tortoise.db_client"):
            edges = (await tenant.graphql(PAGE_THROUGH_FRAGMENTS, {"first": first}))["data"]["phoneNumbers"]["edges"]
        statements[first] = len(caplog.records)
        assert [e["node"] for e in edges] == [
            {"e164": f"+1202555{n:04d}", "agent": {"name": f"Agent {n}"}, "trunk": {"name": f"Trunk {n}"} if n % 3 else None}
            for n in range(first)
        ]

    assert statements[3] == statements[12] > 0, statements
    assert batched == []

    one = await tenant.graphql("query ($id: ID!) { phoneNumber(id: $id) { agent { name } } }", {"id": numbers[0].id})
    assert one["data"]["phoneNumber"]["agent"] == {"name": "Agent 0"} and len(batched) == 1
    # A number whose agent and trunk are not asked for reads neither.
    unasked = await tenant.graphql("query ($id: ID!) { phoneNumber(id: $id) { e164 } }", {"id": numbers[1].id})
    assert unasked["data"]["phoneNumber"] == {"e164": "+12025550001"} and len(batched) == 1
