"""TRUNKLINE_ENV=production: refuses to start without live carriers, a secret key and PostgreSQL;
serves no GraphiQL, no introspection and no "Did you mean" hints. Every response carries the
browser-hardening headers; development's GraphiQL page is held to what it loads by its CSP."""

from __future__ import annotations

import dataclasses
import re
import subprocess

import httpx
import pytest
from graphql import get_introspection_query

from app.main import create_app
from app.settings import Settings, SettingsError
from tests import launcher
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.server_processes import (
    TRUNKLINE,
    clean_environment,
    create_workspace,
    http_client,
    live_environment,
    migrate,
    new_secret_key,
    start_sandbox,
    start_server,
)

HARDENING = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}
LIVE = {"TRUNKLINE_PROVIDERS": "live", "LIVEKIT_URL": "https://lk.example", "LIVEKIT_API_KEY": "k",
        "LIVEKIT_API_SECRET": "s", "LIVEKIT_SIP_URI": "sip:x.sip.livekit.cloud"}  # fmt: skip
POSTGRES = {"TRUNKLINE_DATABASE_URL": "postgres://trunkline@127.0.0.1:1/trunkline"}


def start(**environment: str) -> subprocess.CompletedProcess:
    return launcher.run([TRUNKLINE, "serve", "--port", "1"], env=clean_environment(**environment))


@pytest.mark.parametrize(
    "environment, missing",
    [
        ({}, "TRUNKLINE_PROVIDERS=live, TRUNKLINE_SECRET_KEY, a postgres:// TRUNKLINE_DATABASE_URL"),
        ({**LIVE, "TRUNKLINE_SECRET_KEY": "k"}, "a postgres:// TRUNKLINE_DATABASE_URL"),
        ({**LIVE, **POSTGRES}, "TRUNKLINE_SECRET_KEY"),
        ({**POSTGRES, "TRUNKLINE_SECRET_KEY": "k"}, "TRUNKLINE_PROVIDERS=live"),
    ],
    ids=["nothing", "sqlite", "no-secret-key", "sandbox"],
)
def test_production_refuses_to_start_without_what_it_needs_in_one_line_and_status_2(environment, missing):
    refused = start(TRUNKLINE_ENV="production", **environment)

    assert refused.returncode == 2
    assert refused.stderr == f"trunkline: TRUNKLINE_ENV=production needs {missing}\n"
    assert refused.stdout == ""


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"TRUNKLINE_ENV": "staging"}, "TRUNKLINE_ENV must be 'development' or 'production', not 'staging'"),
        ({"TRUNKLINE_ENV": "production", "TRUNKLINE_INTROSPECTION": "true"}, "TRUNKLINE_INTROSPECTION must be false"),
    ],
    ids=["unknown-environment", "introspection-in-production"],
)
def test_environment_settings_that_cannot_hold_are_refused(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_production_with_everything_it_needs_is_accepted_and_turns_introspection_off():
    settings = Settings.from_env({"TRUNKLINE_ENV": "production", **LIVE, **POSTGRES, "TRUNKLINE_SECRET_KEY": "k"})
    assert (settings.is_production, settings.introspection) == (True, False)
    assert Settings.from_env({}).env == "development"


@pytest.fixture(params=["development", "production"])
async def mode(request, settings):
    """A client of the app in either mode, on the test's database (production's start checks are
    the CLI's; what the app does in each mode is tested here), and a workspace key."""
    from resolvers.api_keys import issue_api_key
    from resolvers.workspaces import create_workspace as new_workspace

    app = create_app(dataclasses.replace(settings, env=request.param))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://trunkline.test") as http:
            key = (await issue_api_key(await new_workspace("Acme", 100))).secret
            yield request.param, http, {"Authorization": f"Bearer {key}"}


async def test_graphiql_is_served_in_development_only(mode):
    name, http, _ = mode
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    asset = await http.get("/graphiql/assets/graphiql.min.js")
    if name == "development":
        assert response.status_code == 200 and "graphiql" in response.text.lower()
        assert asset.status_code == 200
    else:
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
        assert asset.status_code == 404  # nor its files


async def test_introspection_is_refused_in_production_with_or_without_a_key(mode):
    name, http, key = mode
    query = {"query": get_introspection_query()}

    anonymous = await http.post("/graphql", json=query)
    with_key = await http.post("/graphql", json=query, headers=key)

    if name == "development":
        assert anonymous.status_code == with_key.status_code == 200
        assert "__schema" in with_key.json()["data"]
    else:
        assert anonymous.status_code == 401
        assert with_key.json()["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "data" not in with_key.json() or with_key.json()["data"] is None


MISTYPED = [
    ("{ workspace { nme } }", None),  # a field
    ("{ phoneNumbers(frist: 1) { totalCount } }", None),  # an argument
    ("{ availablePhoneNumbers(source: LIVEKT) { e164 } }", None),  # an enum value in the document
    ("query ($s: PhoneNumberSource) { availablePhoneNumbers(source: $s) { e164 } }", {"s": "LIVEKT"}),  # in variables
    ("mutation ($i: CreateAgentInput!) { createAgent(input: $i) { __typename } }", {"i": {"nme": "x"}}),  # an input field
    ("{ workspace { ... on Workspac { id } } }", None),  # a type
]


@pytest.mark.parametrize("query, variables", MISTYPED, ids=["field", "argument", "enum", "enum-variable", "input-field", "type"])
async def test_production_errors_never_suggest_what_the_schema_holds(mode, query, variables):
    name, http, key = mode
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=key)

    messages = " ".join(error["message"] for error in response.json()["errors"])
    assert ("Did you mean" in messages) == (name == "development"), messages


async def test_every_response_carries_the_hardening_headers(mode):
    _, http, key = mode
    for response in [
        await http.get("/healthz"),
        await http.post("/graphql", json={"query": "{ workspace { id } }"}, headers=key),
        await http.post("/graphql", json={"query": "{ workspace { id } }"}),
        await http.post("/graphql", json={"query": "{ workspace { id } }"}, headers={"Authorization": "Bearer nope"}),
        await http.get("/nowhere"),
    ]:
        assert {name: response.headers.get(name) for name in HARDENING} == HARDENING, response.url


async def test_graphiqls_content_security_policy_allows_exactly_what_the_page_loads(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    page = response.text
    policy = {
        directive.split()[0]: set(directive.split()[1:])
        for directive in response.headers["content-security-policy"].split("; ")
    }

    scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
    stylesheets = re.findall(r'<link[^>]*\srel="stylesheet"[^>]*\shref="([^"]+)"', page)
    # Every file the page loads is this server's own, and the page has no inline code to hash.
    assert scripts and stylesheets
    assert all(url.startswith("/graphiql/assets/") for url in scripts + stylesheets), scripts + stylesheets
    assert not re.search(r"<script>|<style>|https?://(?!www\.w3\.org/2000/svg)", page)
    assert policy["default-src"] == {"'none'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    # GraphiQL's stylesheet embeds its fonts as data: URLs; nothing comes from Google Fonts.
    assert policy["font-src"] == {"data:"}
    assert policy["img-src"] == {"data:"}
    assert policy["connect-src"] == {"'self'"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL: set TRUNKLINE_TEST_POSTGRES_URL")
async def test_a_production_server_on_the_wire(tmp_path):
    database_url = await create_postgres_database()
    sandbox = server = None
    try:
        migrate(database_url)
        key = create_workspace(database_url, "Acme", 10)["api_key"]
        sandbox = await start_sandbox(tmp_path)
        environment = live_environment(database_url, sandbox.url, new_secret_key(), TRUNKLINE_ENV="production")
        server = await start_server(environment, tmp_path, workers=1)
        async with http_client(base_url=server.url, timeout=10) as http:
            health = await http.get("/healthz")
            page = await http.get("/graphql", headers={"Accept": "text/html"})
            anonymous = await http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
            mistyped = await http.post(
                "/graphql", json={"query": "{ workspace { nme } }"}, headers={"Authorization": f"Bearer {key}"}
            )
    finally:
        if server:
            server.stop()
        if sandbox:
            await sandbox.close()
        await drop_postgres_database(database_url)

    assert health.status_code == 200
    assert "server" not in health.headers
    assert {name: health.headers.get(name) for name in HARDENING} == HARDENING
    assert page.status_code == 404 and page.headers["content-type"] == "application/json"
    assert anonymous.status_code == 401
    assert mistyped.json()["errors"][0]["message"] == "Cannot query field 'nme' on type 'Workspace'."
