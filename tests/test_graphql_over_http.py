"""GraphQL over HTTP: application/graphql-response+json for clients that prefer it, with its status
codes, and application/json (every GraphQL result a 200) for everyone else.

The conformance test runs graphql-http's own server audits (tests/http_audit) with Node against a real
`trunkline serve`; every MUST and SHOULD must pass.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
import subprocess

import pytest

from app.media_types import prefers_graphql_response
from tests.serve_sqlite import serving
from tests.server_processes import create_workspace

AUDIT_DIR = pathlib.Path(__file__).resolve().parent / "http_audit"
GRAPHQL_RESPONSE = "application/graphql-response+json"
PREFERS_IT = {"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}


def installed_audit_packages() -> None:
    """`npm ci` in tests/http_audit, unless node_modules already holds exactly its lockfile's packages."""
    lock = hashlib.sha256((AUDIT_DIR / "package-lock.json").read_bytes()).hexdigest()
    stamp = AUDIT_DIR / "node_modules" / ".installed-from-lock"
    if stamp.exists() and stamp.read_text() == lock:
        return
    npm = shutil.which("npm")
    assert npm, "npm (Node 18 or newer) is needed to run the GraphQL-over-HTTP audits"
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=AUDIT_DIR, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    stamp.write_text(lock)


def test_every_must_and_should_audit_of_graphql_http_passes(tmp_path):
    installed_audit_packages()
    with serving(tmp_path / "server") as served:
        api_key = create_workspace(served.database_url, "Audit", 100)["api_key"]
        result = subprocess.run(
            [shutil.which("node") or "node", "audit.mjs", f"{served.url}/graphql", api_key],
            cwd=AUDIT_DIR, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    audits = json.loads(result.stdout)

    required = [audit for audit in audits if audit["name"].startswith(("MUST", "SHOULD"))]
    failures = [
        f"{audit['id']} {audit['name']}: {audit.get('reason')} (HTTP {audit.get('httpStatus')}) {audit.get('body', '')[:300]}"
        for audit in required
        if audit["status"] != "ok"
    ]
    assert not failures, "GraphQL-over-HTTP audits failed:\n" + "\n".join(failures)
    # graphql-http 1.23.1 has 13 MUST and 23 SHOULD audits: a run that audits less did not really run.
    assert sum(audit["name"].startswith("MUST") for audit in required) >= 13
    assert sum(audit["name"].startswith("SHOULD") for audit in required) >= 23


@pytest.mark.parametrize(
    "accept, preferred",
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        (GRAPHQL_RESPONSE, True),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", True),
        (f"application/json, {GRAPHQL_RESPONSE}", True),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", False),
        (f"{GRAPHQL_RESPONSE};q=0", False),
        ("Application/GraphQL-Response+JSON; charset=utf-8", True),
        ("text/html", False),
    ],
)
def test_the_client_gets_graphql_response_json_only_when_it_names_it_first(accept, preferred):
    assert prefers_graphql_response(accept) is preferred


async def post(tenant, body: dict, accept: dict):
    return await tenant.client.post("/graphql", json=body, headers={**tenant.headers, **accept})


@pytest.mark.parametrize(
    "body, code",
    [
        ({"query": "{ workspace { id }"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ workspace { nme } }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query ($first: Int!) { phoneNumbers(first: $first) { totalCount } }"}, "BAD_USER_INPUT"),
        ({"query": "query ($n: Int) { phoneNumbers(first: $n) { totalCount } }", "variables": {"n": 2**64}}, "BAD_USER_INPUT"),
    ],
    ids=["parse", "validation", "variable-coercion", "variable-beyond-64-bits"],
)
async def test_a_request_error_is_a_400_without_data_for_graphql_response_json_and_a_200_for_json(tenant, body, code):
    modern = await post(tenant, body, PREFERS_IT)
    legacy = await post(tenant, body, {"Accept": "application/json"})

    assert modern.status_code == 400, modern.text
    assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in modern.json() and modern.json()["errors"][0]["extensions"]["code"] == code
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None and legacy.json()["errors"][0]["extensions"]["code"] == code
    assert "Accept" in modern.headers["vary"] and "Accept" in legacy.headers["vary"]


async def test_a_result_that_reached_execution_is_a_200_even_when_its_data_is_null(tenant):
    """An argument out of range fails in its field (the error has a path) and nulls the non-null root:
    execution ran, so the response keeps its data entry and is a 200, as the spec recommends."""
    response = await post(tenant, {"query": "{ phoneNumbers(first: 1000) { totalCount } }"}, PREFERS_IT)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["path"] == ["phoneNumbers"]

async def test_refusals_keep_their_status_in_the_preferred_media_type(client, tenant):
    no_key = await client.post("/graphql", json={"query": "{ workspace { id } }"}, headers=PREFERS_IT)
    over_get = await client.get(
        "/graphql", params={"query": 'mutation { createAgent(input: {name: "A"}) { __typename } }'},
        headers={**tenant.headers, **PREFERS_IT},
    )  # fmt: skip

    assert (no_key.status_code, no_key.headers["content-type"].split(";")[0]) == (401, GRAPHQL_RESPONSE)
    assert no_key.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (over_get.status_code, over_get.headers["content-type"].split(";")[0]) == (405, GRAPHQL_RESPONSE)
