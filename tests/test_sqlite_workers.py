"""The cap across `trunkline serve --workers 3` on one SQLite file: the workers' writers take turns at the
file's lock, and a reservation counts and inserts in one statement, so concurrent imports in different
processes still take exactly the free slots (PostgreSQL's side: tests/test_production.py)."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.graphql_documents import CREATE_SIP_TRUNK, IMPORT_PHONE_NUMBER
from tests.serve_sqlite import serving
from tests.server_processes import create_workspace, http_client


async def test_forty_concurrent_imports_across_three_sqlite_workers_take_exactly_the_five_free_slots(tmp_path):
    with serving(tmp_path, workers=3) as served:
        workspace = create_workspace(served.database_url, "Acme", 5)
        headers = {"Authorization": f"Bearer {workspace['api_key']}"}
        async with http_client(base_url=served.url, timeout=60, headers=headers) as http:

            async def graphql(query: str, variables: dict) -> dict:
                # A new connection each, so that the requests spread over the workers.
                answer = await http.post("/graphql", json={"query": query, "variables": variables},
                                         headers={"Connection": "close"})
                assert answer.status_code == 200, answer.text
                return answer.json()["data"]

            trunk = await graphql(CREATE_SIP_TRUNK, {"input": {
                "name": "Carrier", "direction": "INBOUND", "allowedAddresses": ["203.0.113.0/24"]}})
            trunk_id = trunk["createSipTrunk"]["sipTrunk"]["id"]
            numbers = [f"+1212555{line:04d}" for line in range(100, 120)] + [f"+1646555{line:04d}" for line in range(100, 120)]

            results = await asyncio.gather(*(
                graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": e164, "source": "BYOC", "trunkId": trunk_id}})
                for e164 in numbers
            ))
            count = await graphql("{ workspace { phoneNumberCount phoneNumberLimit } }", {})

    outcomes = [result["importPhoneNumber"] for result in results]
    assert Counter(outcome["__typename"] for outcome in outcomes) == {"ImportPhoneNumberSuccess": 5, "PaymentRequiredError": 35}
    assert {(o["limit"], o["current"]) for o in outcomes if o["__typename"] == "PaymentRequiredError"} == {(5, 5)}
    assert count["workspace"] == {"phoneNumberCount": 5, "phoneNumberLimit": 5}
    served_by = served.process.log()
    assert served_by.count("Application startup complete.") >= 3  # three workers served them
