"""The PostgreSQL database that a run's tests share is emptied between them: a test finds none of the rows
an earlier one left, in any table, and the migrations' record stays."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import POSTGRES_URL
from tests.graphql_documents import DEMO_CREDENTIALS, DEMO_DIDS, IMPORT_PHONE_NUMBER, import_result
from tests.postgres import empty_tables

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL: set TRUNKLINE_TEST_POSTGRES_URL")
FILLED_BY_AN_IMPORT = {
    "workspace", "api_key", "twilio_account", "sip_trunk", "phone_number", "idempotency_key",
    "phone_number_event",
}


async def row_counts(connection: asyncpg.Connection) -> dict[str, int]:
    tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {
        row["tablename"]: await connection.fetchval(f'SELECT count(*) FROM "{row["tablename"]}"') for row in tables
    }


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_emptying_leaves_no_row_of_a_test_but_the_migrations(database_url, tenant):
    # given: rows in every table an import writes, an idempotency key included
    response = await tenant.client.post(
        "/graphql",
        json={"query": IMPORT_PHONE_NUMBER, "variables": {"input": {
            "e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS,
        }}},
        headers={**tenant.headers, "Idempotency-Key": "reset-proof"},
    )
    assert import_result(response.json())["__typename"] == "ImportPhoneNumberSuccess"
    connection = await asyncpg.connect(database_url)
    try:
        before = await row_counts(connection)
        assert {table for table, count in before.items() if count} >= FILLED_BY_AN_IMPORT

        # when
        await empty_tables(connection)

        # then
        after = await row_counts(connection)
    finally:
        await connection.close()
    assert after == {table: before["tortoise_migrations"] if table == "tortoise_migrations" else 0 for table in before}
    assert before["tortoise_migrations"] > 0
