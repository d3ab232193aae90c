"""GraphQL hygiene: GraphiQL, limits, masking of crashes only, no mutations over GET, no batching."""

import secrets

import pytest
from graphql import get_introspection_query
from graphql.validation import OverlappingFieldsCanBeMergedRule

from schema.documents import MAX_FIELDS
from schema.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS


async def test_graphiql_page_is_served_to_browsers_without_a_key(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiqls_full_introspection_query_works_without_a_key(client):
    response = await client.post("/graphql", json={"query": get_introspection_query(descriptions=True)})
    assert response.status_code == 200, response.text
    types = {t["name"]: t for t in response.json()["data"]["__schema"]["types"]}
    assert types["PhoneNumber"]["description"] == "A phone number held by the workspace."


async def test_queries_work_over_get(client, tenant):
    response = await client.get("/graphql", params={"query": "{ workspace { name } }"}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"workspace": {"name": "Acme"}}}


async def test_mutation_over_get_is_refused(client, tenant):
    response = await client.get(
        "/graphql", params={"query": 'mutation { createAgent(input: {name: "x"}) { __typename } }'}, headers=tenant.headers
    )
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    assert (await tenant.graphql("{ agents { id } }"))["data"] == {"agents": []}


async def test_batched_requests_are_refused(client, tenant):
    response = await client.post("/graphql", json=[{"query": "{ workspace { id } }"}] * 2, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert "Batched requests" in response.json()["errors"][0]["message"]


async def test_validation_messages_stay_readable(tenant):
    body = await tenant.graphql("{ workspace { nme } }")
    assert body["errors"][0]["message"].startswith("Cannot query field 'nme' on type 'Workspace'.")


async def test_too_many_aliases_are_refused(tenant):
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1))
    body = await tenant.graphql(f"{{ {aliases} }}")
    assert "aliases found" in body["errors"][0]["message"]


async def test_too_deep_queries_are_refused(tenant):
    depth = MAX_DEPTH + 1
    query = "{ " + "phoneNumbers { edges { node { " * (depth // 3 + 1) + "id" + " } } }" * (depth // 3 + 1) + " }"
    body = await tenant.graphql(query)
    assert body["errors"][0]["message"].endswith(f"exceeds maximum operation depth of {MAX_DEPTH}")


async def test_a_document_selecting_too_many_fields_is_refused_before_the_costly_rules_run(tenant, monkeypatch):
    """One field repeated within the token limit: the rule that merges fields of one name compares them in
    pairs, so the fields are counted first and that rule never sees the document (its uses are counted)."""
    merged = []
    enter_selection_set = OverlappingFieldsCanBeMergedRule.enter_selection_set
    monkeypatch.setattr(
        OverlappingFieldsCanBeMergedRule, "enter_selection_set",
        lambda rule, node, *rest: merged.append(node) or enter_selection_set(rule, node, *rest),
    )  # fmt: skip

    named = f"query AtLimit{secrets.token_hex(4)}"  # a document of its own: validated, not found in the cache
    at_limit = await tenant.graphql(named + " { " + "__typename " * MAX_FIELDS + "}")
    checked = len(merged)
    past_limit = await tenant.graphql("{ " + "__typename " * (MAX_TOKENS - 2) + "}")

    assert at_limit == {"data": {"__typename": "Query"}} and checked > 0
    assert past_limit["data"] is None
    [error] = past_limit["errors"]
    assert error["message"] == f"The document selects more than {MAX_FIELDS} fields; at most {MAX_FIELDS} are allowed."
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert len(merged) == checked


async def test_oversized_documents_are_refused(tenant):
    body = await tenant.graphql("{ " + "__typename " * (MAX_TOKENS + 1) + "}")
    assert f"Document contains more than {MAX_TOKENS} tokens" in body["errors"][0]["message"]


async def test_unexpected_failures_are_masked(tenant, agent_table_gone, caplog):
    body = await tenant.graphql("{ agents { id } }")
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "agent" not in str(body["errors"]).replace("agents", "")
    assert any(record.levelname == "ERROR" for record in caplog.records)


@pytest.fixture
async def closed_client(database_url):
    """A server started with TRUNKLINE_INTROSPECTION=false."""
    import httpx

    from app.main import create_app
    from app.settings import Settings

    from tests.conftest import SECRET_KEY

    environ = {"TRUNKLINE_DATABASE_URL": database_url, "TRUNKLINE_INTROSPECTION": "false", "TRUNKLINE_SECRET_KEY": SECRET_KEY}
    app = create_app(Settings.from_env(environ))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            yield http


async def test_with_introspection_off_it_needs_a_key_and_is_refused(closed_client):
    from resolvers.api_keys import issue_api_key
    from resolvers.workspaces import create_workspace

    key = (await issue_api_key(await create_workspace("Acme", 100))).secret
    query = {"query": "{ __schema { queryType { name } } }"}

    anonymous = await closed_client.post("/graphql", json=query)
    with_key = await closed_client.post("/graphql", json=query, headers={"Authorization": f"Bearer {key}"})

    assert anonymous.status_code == 401
    assert "introspection" in with_key.json()["errors"][0]["message"].lower()
