"""PostgreSQL connections go back to the pool as they are: a statement is one round trip, not two."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import POSTGRES_URL
from tests.graphql_documents import CREATE_AGENT, answer

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL: set TRUNKLINE_TEST_POSTGRES_URL")


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Every query sent with Connection.execute (asyncpg's own reset goes through it)."""
    queries: list[str] = []
    execute = asyncpg.connection.Connection.execute

    async def recorded(self, query, *args, **kwargs):
        queries.append(query)
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.connection.Connection, "execute", recorded)
    return queries


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_request_sends_its_statements_and_no_reset_after_them(database_url, tenant, sent):
    # when: a read (one statement outside a transaction) and a write (a transaction)
    workspace = await tenant.graphql("{ workspace { id } }")
    created = answer(await tenant.graphql(CREATE_AGENT, {"input": {"name": "Front desk"}}))

    # then
    assert workspace["data"]["workspace"]["id"] == tenant.workspace.id
    assert created["__typename"] == "CreateAgentSuccess", created
    assert not [query for query in sent if "RESET ALL" in query or "pg_advisory_unlock_all" in query]
