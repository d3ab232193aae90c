"""One error envelope for every failure: each client mistake gets its documented status and code,
never a 500, and leaves no traceback in the log; GraphQL's own errors carry a code too."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

CREATE_AGENT = 'mutation { createAgent(input: {name: "Front desk"}) { __typename } }'
PHONE_NUMBERS = "query ($first: Int) { phoneNumbers(first: $first) { totalCount } }"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# name: (method, path, content type, raw body or GET params, expected status, expected code)
CLIENT_MISTAKES = {
    "body-is-a-json-string": ("POST", "/graphql", "application/json", b'"{ workspace { id } }"', 400, "BAD_REQUEST"),
    "body-is-null": ("POST", "/graphql", "application/json", b"null", 400, "BAD_REQUEST"),
    "body-is-a-number": ("POST", "/graphql", "application/json", b"42", 400, "BAD_REQUEST"),
    "malformed-json": ("POST", "/graphql", "application/json", b'{"query": ', 400, "BAD_REQUEST"),
    "nan-is-not-json": ("POST", "/graphql", "application/json", b'{"query": "{ __typename }", "variables": {"a": NaN}}', 400, "BAD_REQUEST"),
    "invalid-utf8": ("POST", "/graphql", "application/json", b'{"query": "{ workspace { name\xff\xfe } }"}', 400, "BAD_REQUEST"),
    "batching": ("POST", "/graphql", "application/json", b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]', 400, "BAD_REQUEST"),
    "wrong-content-type": ("POST", "/graphql", "text/plain", b'{"query": "{ __typename }"}', 400, "BAD_REQUEST"),
    "form-content-type": ("POST", "/graphql", "application/x-www-form-urlencoded", b"query=%7B__typename%7D", 400, "BAD_REQUEST"),
    "no-query": ("POST", "/graphql", "application/json", b"{}", 400, "BAD_REQUEST"),
    "query-not-a-string": ("POST", "/graphql", "application/json", b'{"query": ["{ __typename }"]}', 400, "BAD_REQUEST"),
    "variables-not-an-object": ("POST", "/graphql", "application/json", b'{"query": "{ __typename }", "variables": "x"}', 400, "BAD_REQUEST"),
    "unknown-operation-name": ("POST", "/graphql", "application/json", b'{"query": "query A { __typename }", "operationName": "B"}', 400, "BAD_REQUEST"),
    "variables-nested-5000-deep": ("POST", "/graphql", "application/json", json.dumps({"query": PHONE_NUMBERS}).encode()[:-1] + b', "variables": {"first": ' + deep(5000).encode() + b"}}", 200, "BAD_USER_INPUT"),
    "integer-of-5000-digits": ("POST", "/graphql", "application/json", json.dumps({"query": PHONE_NUMBERS}).encode()[:-1] + b', "variables": {"first": ' + b"9" * 5000 + b"}}", 200, "BAD_USER_INPUT"),
    "get-variables-nested-5000-deep": ("GET", "/graphql", None, {"query": PHONE_NUMBERS, "variables": '{"first": ' + deep(5000) + "}"}, 200, "BAD_USER_INPUT"),
    "get-variables-not-json": ("GET", "/graphql", None, {"query": PHONE_NUMBERS, "variables": "{first: 1}"}, 400, "BAD_REQUEST"),
    "mutation-over-get": ("GET", "/graphql", None, {"query": CREATE_AGENT}, 405, "METHOD_NOT_ALLOWED"),
    "unknown-path": ("GET", "/graphq", None, {}, 404, "NOT_FOUND"),
    "graphql-with-put": ("PUT", "/graphql", "application/json", b'{"query": "{ __typename }"}', 405, "METHOD_NOT_ALLOWED"),
    "healthz-with-post": ("POST", "/healthz", "application/json", b"{}", 405, "METHOD_NOT_ALLOWED"),
}  # fmt: skip


async def send(client: httpx.AsyncClient, headers: dict, method: str, path: str, content_type, payload):
    if method == "GET":
        return await client.get(path, params=payload, headers=headers)
    return await client.request(method, path, content=payload, headers={**headers, "Content-Type": content_type})


@pytest.mark.parametrize("mistake", list(CLIENT_MISTAKES))
async def test_each_client_mistake_gets_its_documented_status_and_code_and_no_traceback(client, tenant, caplog, mistake):
    method, path, content_type, payload, status, code = CLIENT_MISTAKES[mistake]
    caplog.set_level(logging.DEBUG)

    response = await send(client, tenant.headers, method, path, content_type, payload)

    assert response.status_code == status, response.text
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["message"]
    assert set(body) <= {"data", "errors"} and (status == 200) == ("data" in body)
    assert response.headers["content-type"] == "application/json"
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


async def test_mutation_over_get_names_the_method_to_use(client, tenant):
    response = await client.get("/graphql", params={"query": CREATE_AGENT}, headers=tenant.headers)
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["errors"][0]["message"]


async def test_wrong_method_names_the_allowed_ones(client):
    response = await client.delete("/graphql")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_messages_say_what_was_expected(client, tenant):
    def message(response) -> str:
        return response.json()["errors"][0]["message"]

    as_string = await client.post("/graphql", content=b'"x"', headers={**tenant.headers, "Content-Type": "application/json"})
    as_text = await client.post("/graphql", content=b"{}", headers={**tenant.headers, "Content-Type": "text/plain"})
    too_deep = await client.post("/graphql", json={"query": PHONE_NUMBERS, "variables": {"first": json.loads(deep(40))}}, headers=tenant.headers)

    assert "must be a JSON object" in message(as_string) and "not a string" in message(as_string)
    assert "Content-Type: application/json" in message(as_text)
    assert "at most 32 levels" in message(too_deep)


@pytest.mark.parametrize("levels, code", [(31, None), (32, "BAD_USER_INPUT")], ids=["32-levels", "33-levels"])
async def test_variables_may_nest_32_levels(tenant, levels, code):
    """The variables object is the first level; `first` is not a list, so 32 levels still fail, later."""
    value = json.loads(deep(levels))
    body = await tenant.graphql(PHONE_NUMBERS, {"first": value})
    message = body["errors"][0]["message"]
    assert ("at most 32 levels" in message) == (code is not None)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63)], ids=["int64-max", "int64-min"])
async def test_integers_within_64_bits_reach_graphql_which_says_what_fits(tenant, value):
    body = await tenant.graphql(PHONE_NUMBERS, {"first": value})
    assert "32-bit" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1], ids=["int64-max+1", "int64-min-1"])
async def test_integers_beyond_64_bits_are_refused_before_graphql(tenant, value):
    body = await tenant.graphql(PHONE_NUMBERS, {"first": value})
    assert body == {
        "data": None,
        "errors": [{"message": body["errors"][0]["message"], "extensions": {"code": "BAD_USER_INPUT"}}],
    }
    assert "64 bits" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "query, variables, code",
    [
        ("{ workspace { id }", None, "GRAPHQL_PARSE_FAILED"),
        ("{ " + "__typename " * 2001 + "}", None, "GRAPHQL_PARSE_FAILED"),
        ("{ workspace { nme } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ workspace { ... on Nothing { id } } }", None, "GRAPHQL_VALIDATION_FAILED"),
        (PHONE_NUMBERS, {"first": "ten"}, "BAD_USER_INPUT"),
        ("query ($first: Int!) { phoneNumbers(first: $first) { totalCount } }", {}, "BAD_USER_INPUT"),
        (PHONE_NUMBERS, {"first": 1000}, "BAD_USER_INPUT"),
    ],
    ids=["syntax", "too-many-tokens", "unknown-field", "unknown-type", "wrong-variable-type", "missing-variable", "argument-out-of-range"],
)
async def test_graphql_errors_carry_a_code(tenant, query, variables, code):
    body = await tenant.graphql(query, variables)
    assert [error["extensions"]["code"] for error in body["errors"]] == [code] * len(body["errors"])


async def test_a_crash_inside_graphql_is_masked_with_code_internal_server_error(tenant, agent_table_gone):
    body = await tenant.graphql("{ agents { id } }")
    assert body["errors"] == [
        {"message": "Unexpected error.", "locations": [{"line": 1, "column": 3}], "path": ["agents"],
         "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    ]  # fmt: skip


async def test_a_crash_outside_graphql_is_a_500_in_the_envelope(app, tenant, api_key_table_gone):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://trunkline.test") as http:
        response = await http.post("/graphql", json={"query": "{ workspace { id } }"}, headers=tenant.headers)

    assert response.status_code == 500
    assert response.json() == {"errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    assert "api_key" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_head_on_graphql_is_refused_naming_the_methods_it_takes(client):
    response = await client.head("/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_an_answer_echoing_a_lone_surrogate_the_client_sent_is_still_json(client, tenant, caplog):
    # An unknown operation name is repeated in the message; "\ud800" cannot be encoded as UTF-8.
    payload = b'{"query": "{ __typename }", "operationName": "\\ud800"}'
    for headers in ({}, tenant.headers):
        response = await client.post("/graphql", content=payload, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_the_content_type_is_read_as_media_types_compare_case_and_parameters_aside(client, tenant):
    """RFC 9110: type and subtype are case-insensitive, and parameters follow a semicolon."""
    body = b'{"query": "{ workspace { id } }"}'
    for content_type in ("Application/JSON; charset=UTF-8", " application/json ;charset=utf-8"):
        response = await client.post("/graphql", content=body, headers={**tenant.headers, "Content-Type": content_type})
        assert response.json() == {"data": {"workspace": {"id": tenant.workspace.id}}}, content_type
    refused = await client.post("/graphql", content=body, headers={**tenant.headers, "Content-Type": "application/jsonx"})
    assert "not application/jsonx" in refused.json()["errors"][0]["message"]
