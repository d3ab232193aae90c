"""API keys: every operation needs a valid key; anything else is the contract's HTTP 401."""

import asyncio
import os
import sys

import pytest

from models import Workspace
from resolvers.api_keys import KEY_PATTERN
from tests import launcher
from tests.conftest import transaction_held_open

WORKSPACE_QUERY = "{ workspace { id name } }"
UNAUTHENTICATED_CODE = {"code": "UNAUTHENTICATED"}
HELD_UP = 20.0  # seconds: far beyond any answer; a request queued behind an open transaction never comes back


def assert_contract_401(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1
    assert body["errors"][0]["extensions"] == UNAUTHENTICATED_CODE
    assert body["errors"][0]["message"]


async def test_missing_key_gets_401(client, tenant):
    response = await client.post("/graphql", json={"query": WORKSPACE_QUERY})
    assert_contract_401(response)


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-key",
        "Bearer sk_short",
        "Bearer sk_" + "A" * 43,  # well-formed, never issued
    ],
    ids=["basic-scheme", "empty-bearer", "not-sk", "malformed-sk", "unknown-sk"],
)
async def test_bad_key_gets_401(client, tenant, header):
    response = await client.post("/graphql", json={"query": WORKSPACE_QUERY}, headers={"Authorization": header})
    assert_contract_401(response)


async def test_valid_key_reads_its_own_workspace(tenant):
    body = await tenant.graphql(WORKSPACE_QUERY)
    assert body == {"data": {"workspace": {"id": tenant.workspace.id, "name": "Acme"}}}


async def test_issued_key_is_sk_with_32_random_bytes_and_stored_hashed(tenant):
    from models import ApiKey

    assert KEY_PATTERN.fullmatch(tenant.api_key)
    row = await ApiKey.get(id=tenant.key_id)
    assert row.key_hash != tenant.api_key and tenant.api_key not in row.key_hash
    assert len(row.key_hash) == 64
    assert tenant.api_key.startswith(row.prefix) and len(row.prefix) < 16


async def test_key_revoked_through_the_cli_stops_working_at_once(client, tenant, database_url):
    assert (await client.post("/graphql", json={"query": WORKSPACE_QUERY}, headers=tenant.headers)).status_code == 200

    # when
    revoked = launcher.run(
        [sys.executable, "-m", "app.cli", "apikey", "revoke", tenant.key_id],
        env={**os.environ, "TRUNKLINE_DATABASE_URL": database_url},
    )

    # then
    assert revoked.returncode == 0, revoked.stderr
    assert tenant.api_key not in revoked.stdout + revoked.stderr
    assert_contract_401(await client.post("/graphql", json={"query": WORKSPACE_QUERY}, headers=tenant.headers))


async def test_a_key_revoked_while_another_transaction_is_open_stops_working_at_once(client, tenant):
    """On SQLite the key is read apart from the shared connection (app/sqlite_engine.py's read_now): what it
    reads is what is committed, whatever transaction is under way."""
    from resolvers.api_keys import revoke_api_key

    assert await revoke_api_key(tenant.key_id)
    async with transaction_held_open(rename(tenant, "Renamed")):
        response = await asyncio.wait_for(
            client.post("/graphql", json={"query": WORKSPACE_QUERY}, headers=tenant.headers), HELD_UP
        )
    assert_contract_401(response)


async def test_a_request_is_not_held_up_by_a_transaction_in_progress(client, tenant):
    """A long import's transaction holds SQLite's one shared connection; the key lookup every request makes
    does not queue behind it, and sees the workspace as last committed."""
    async with transaction_held_open(rename(tenant, "Not yet")):
        response = await asyncio.wait_for(
            client.post("/graphql", json={"query": WORKSPACE_QUERY}, headers=tenant.headers), HELD_UP
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"workspace": {"id": tenant.workspace.id, "name": "Acme"}}}
    assert (await tenant.graphql(WORKSPACE_QUERY))["data"]["workspace"]["name"] == "Not yet"


def rename(tenant, name: str):
    async def write(connection) -> None:
        await Workspace.filter(id=tenant.workspace.id).using_db(connection).update(name=name)

    return write


async def test_revoking_one_key_leaves_the_workspaces_other_keys_working(client, tenant):
    from resolvers.api_keys import issue_api_key, revoke_api_key

    second = await issue_api_key(tenant.workspace)
    assert await revoke_api_key(tenant.key_id)
    response = await client.post(
        "/graphql", json={"query": WORKSPACE_QUERY}, headers={"Authorization": f"Bearer {second.secret}"}
    )
    assert response.status_code == 200, response.text


async def test_introspection_needs_no_key_while_enabled(client):
    response = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_introspection_mixed_with_a_real_field_needs_a_key(client, tenant):
    response = await client.post("/graphql", json={"query": "{ __typename workspace { id } }"})
    assert_contract_401(response)
