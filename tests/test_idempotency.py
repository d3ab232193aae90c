"""Idempotency-Key on mutations: replay, refusal of a changed body, concurrent duplicates, scope and expiry."""

import asyncio
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from starlette.datastructures import Secret

from app.idempotency import fingerprint
from app.main import create_app
from models import IdempotencyKey, IdempotencyState, PhoneNumber
from tests.graphql_documents import DEMO_CREDENTIALS, DEMO_DIDS, IMPORT_PHONE_NUMBER

WORKSPACE = "{ workspace { phoneNumberCount } }"


def import_body(e164: str = DEMO_DIDS[0]) -> dict:
    return {"query": IMPORT_PHONE_NUMBER, "variables": {"input": {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS}}}


async def post(tenant, body: dict, key: str | None):
    headers = {**tenant.headers, **({"Idempotency-Key": key} if key else {})}
    return await tenant.client.post("/graphql", json=body, headers=headers)


def carrier_writes(app) -> int:
    """How many changing requests the carriers have served."""
    return sum(1 for r in app.state.sandbox.requests if r["method"] in ("POST", "DELETE"))


async def test_same_key_and_body_replays_the_first_result_without_the_carriers(app, tenant):
    # given
    first = await post(tenant, import_body(), "import-1")
    writes = carrier_writes(app)

    # when
    second = await post(tenant, import_body(), "import-1")

    # then
    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess"
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert carrier_writes(app) == writes
    assert await PhoneNumber.all().count() == 1


async def test_replay_ignores_json_spacing_and_key_order(app, tenant):
    body = import_body()
    first = await post(tenant, body, "import-2")
    reordered = {"variables": body["variables"], "query": body["query"]}
    second = await tenant.client.post(
        "/graphql",
        content=json.dumps(reordered, indent=2),
        headers={**tenant.headers, "Idempotency-Key": "import-2", "Content-Type": "application/json"},
    )
    assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"


async def test_same_key_with_another_body_is_refused(app, tenant):
    await post(tenant, import_body(DEMO_DIDS[0]), "import-3")
    writes = carrier_writes(app)

    refused = await post(tenant, import_body(DEMO_DIDS[1]), "import-3")

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED"}
    assert "different request body" in refused.json()["errors"][0]["message"]
    assert carrier_writes(app) == writes
    assert await PhoneNumber.filter(e164=DEMO_DIDS[1]).count() == 0


async def test_concurrent_duplicates_provision_once_and_all_get_the_first_result(app, tenant):
    responses = await asyncio.gather(*(post(tenant, import_body(), "import-4") for _ in range(10)))

    bodies = [r.json() for r in responses]
    assert all(r.status_code == 200 for r in responses)
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess"
    assert sum(1 for r in responses if "idempotent-replayed" not in r.headers) == 1
    attached = [r for r in app.state.sandbox.requests if r["method"] == "POST" and r["path"].endswith("/PhoneNumbers")]
    assert len(attached) == 1


async def test_keys_are_scoped_to_the_workspace(make_tenant):
    acme = await make_tenant("Acme")
    globex = await make_tenant("Globex")

    mine = await post(acme, {"query": 'mutation { createAgent(input: {name: "A"}) { ... on CreateAgentSuccess { agent { id } } } }'}, "same")
    theirs = await post(globex, {"query": 'mutation { createAgent(input: {name: "A"}) { ... on CreateAgentSuccess { agent { id } } } }'}, "same")

    assert "idempotent-replayed" not in theirs.headers
    assert mine.json() != theirs.json()
    assert (await globex.graphql("{ agents { id } }"))["data"]["agents"] == [theirs.json()["data"]["createAgent"]["agent"]]


async def test_queries_with_a_key_are_not_recorded(tenant):
    response = await post(tenant, {"query": WORKSPACE}, "read-1")
    assert response.status_code == 200
    assert await IdempotencyKey.all().count() == 0


@pytest.mark.parametrize("key", [b"", b"x" * 256, b"has space", "naïve".encode()], ids=["empty", "too-long", "space", "non-ascii"])
async def test_malformed_key_is_refused(tenant, key):
    response = await tenant.client.post("/graphql", json=import_body(), headers={**tenant.headers, "Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_IDEMPOTENCY_KEY"}
    assert await PhoneNumber.all().count() == 0


async def test_a_key_older_than_24_hours_runs_again(app, tenant):
    body = {"query": 'mutation { createAgent(input: {name: "A"}) { ... on CreateAgentSuccess { agent { id } } } }'}
    first = await post(tenant, body, "daily")
    await IdempotencyKey.filter(key="daily").update(created_at=datetime.now(UTC) - timedelta(hours=25))

    again = await post(tenant, body, "daily")

    assert "idempotent-replayed" not in again.headers
    assert again.json() != first.json()
    assert len((await tenant.graphql("{ agents { id } }"))["data"]["agents"]) == 2


async def test_a_key_left_in_progress_by_a_crashed_process_is_taken_over(app, settings, tenant):
    # given: what a process killed mid-request leaves: the key claimed, never finished
    old = datetime.now(UTC) - timedelta(seconds=settings.recovery_grace + 60)
    body = {"query": 'mutation { createAgent(input: {name: "A"}) { ... on CreateAgentSuccess { agent { id } } } }'}
    record = await IdempotencyKey.create(
        workspace_id=tenant.workspace.id,
        key="orphan",
        request_hash=fingerprint(json.dumps(body).encode(), app.state.fingerprint_keys[0]),
        state=IdempotencyState.IN_PROGRESS,
    )
    await IdempotencyKey.filter(id=record.id).update(updated_at=old)

    # when
    response = await post(tenant, body, "orphan")

    # then
    assert response.json()["data"]["createAgent"]["agent"]["id"].startswith("agent_")
    assert (await IdempotencyKey.get(id=record.id)).state == IdempotencyState.DONE


async def test_a_refused_http_request_leaves_the_key_free(tenant):
    body = {"query": 'mutation { createAgent(input: {name: "A"}) { __typename } }'}
    refused = await tenant.client.post(
        "/graphql", json=body, headers={"Authorization": "Bearer sk_" + "B" * 43, "Idempotency-Key": "k"}
    )
    accepted = await post(tenant, body, "k")
    assert refused.status_code == 401
    assert accepted.status_code == 200 and "idempotent-replayed" not in accepted.headers


async def test_a_stored_fingerprint_confirms_no_guess_of_the_body(tenant):
    """Bodies hold carrier credentials: what is stored is an HMAC keyed from TRUNKLINE_SECRET_KEY,
    not a hash anyone could compare a guessed body against."""
    body = import_body()
    await post(tenant, body, "import-5")

    stored = (await IdempotencyKey.get(key="import-5")).request_hash
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    assert stored not in {hashlib.sha256(canonical).hexdigest(), hashlib.sha256(json.dumps(body).encode()).hexdigest()}


@pytest.fixture
async def rotated_client(app, settings):
    """The same database served again after TRUNKLINE_SECRET_KEY was rotated (a new key put first)."""
    import httpx

    rotated = dataclasses.replace(settings, secret_key=Secret(f"{Fernet.generate_key().decode()},{settings.secret_key}"))
    second = create_app(rotated)
    async with second.router.lifespan_context(second):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://t") as http:
            yield http


async def test_replays_survive_a_rotation_of_the_secret_key(tenant, rotated_client):
    body = {"query": 'mutation { createAgent(input: {name: "A"}) { ... on CreateAgentSuccess { agent { id } } } }'}
    first = await post(tenant, body, "before-rotation")

    replayed = await rotated_client.post("/graphql", json=body, headers={**tenant.headers, "Idempotency-Key": "before-rotation"})
    changed = await rotated_client.post(
        "/graphql", json={**body, "operationName": None, "variables": {"x": 1}},
        headers={**tenant.headers, "Idempotency-Key": "before-rotation"},
    )  # fmt: skip

    assert replayed.json() == first.json() and replayed.headers["idempotent-replayed"] == "true"
    assert changed.status_code == 422


def test_a_crash_is_never_kept_for_replay_while_results_and_expected_failures_are():
    from starlette.responses import JSONResponse

    from app.idempotency import replayable

    crash = {"data": None, "errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    assert replayable(JSONResponse({"data": {"importPhoneNumber": {"__typename": "ImportPhoneNumberSuccess"}}}))
    assert replayable(JSONResponse({"data": {"importPhoneNumber": {"__typename": "ProviderError"}}}))
    assert not replayable(JSONResponse(crash))
    assert not replayable(JSONResponse({"errors": [{"message": "slow down", "extensions": {"code": "RATE_LIMITED"}}]}, 429))
