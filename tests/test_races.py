"""Races on the database's constraints end in answers: concurrent requests through the API (and, where a race
needs a transaction held open, a second real connection) get a success or a clear refusal, never
"Unexpected error.", on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime

import asyncpg
import pytest

from models import Agent, IdempotencyKey, PhoneNumber, SipTrunk, TwilioAccount
from models.enums import PhoneNumberSource, PhoneNumberStatus
from models.ids import new_id
from providers.sandbox.server import DEMO_STATE
from resolvers.outcomes import FieldProblem, Invalid
from resolvers.provisioning.reservation import Reservation, reserve_number
from tests.graphql_documents import (
    CREATE_AGENT,
    CREATE_SIP_TRUNK,
    DELETE_PHONE_NUMBER,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    answer,
    byoc_trunk,
    only,
)
from tests.sandbox_snapshot import holdings_of, what_exists

AGENTS = "{ agents { id name } }"

LIVEKIT_NUMBER = "+15125550123"  # in the sandbox LiveKit's generated 555-01XX inventory
BYOC_NUMBER = "+16175550123"
TRUNK_NOT_FOUND = {"__typename": "ValidationError", "code": "VALIDATION_FAILED", "fieldErrors": [{"field": "trunkId", "code": "NOT_FOUND"}]}
ALREADY_EXISTS = {"__typename": "ValidationError", "code": "VALIDATION_FAILED", "fieldErrors": [{"field": "e164", "code": "ALREADY_EXISTS"}]}
CONCURRENT = 30


@pytest.fixture
def settings(settings):
    """The demo sandbox seed, whatever TRUNKLINE_SANDBOX_STATE says."""
    return dataclasses.replace(settings, sandbox_state=str(DEMO_STATE))


async def call(tenant, query: str, variables: dict) -> dict:
    return answer(await tenant.graphql(query, variables))


def typenames(results: list[dict]) -> Counter:
    return Counter(result["__typename"] for result in results)


async def create_byoc_trunk(tenant) -> str:
    return (await byoc_trunk(tenant, allowedAddresses=["203.0.113.0/24"]))["id"]


async def livekit_input(tenant) -> dict:
    return {"e164": LIVEKIT_NUMBER, "source": "LIVEKIT"}


async def byoc_input(tenant) -> dict:
    return {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": await create_byoc_trunk(tenant)}


async def twilio_input(tenant) -> dict:
    return {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS}


def import_body(e164: str) -> dict:
    return {"query": IMPORT_PHONE_NUMBER, "variables": {"input": {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS}}}


# (each workspace's input, a create the carrier is told to fail for the "fails" winner)
SOURCES = [
    pytest.param(livekit_input, ("POST", "/twirp/livekit.PhoneNumberService/PurchasePhoneNumber"), id="livekit"),
    pytest.param(byoc_input, ("POST", "/twirp/livekit.SIP/CreateSIPInboundTrunk"), id="byoc"),
    pytest.param(twilio_input, ("POST", "/v1/Trunks"), id="twilio"),
]


@pytest.mark.parametrize("winner", ["succeeds", "fails-at-the-carrier"])
@pytest.mark.parametrize("workspaces", [1, 2], ids=["one-workspace", "two-workspaces"])
@pytest.mark.parametrize(("make_input", "failing_create"), SOURCES)
async def test_concurrent_imports_of_one_number_let_one_through_and_tell_the_rest_it_exists(
    app, make_tenant, make_input, failing_create, workspaces, winner
):
    # given
    tenants = [await make_tenant(name=f"Workspace {n}") for n in range(workspaces)]
    inputs = [await make_input(tenant) for tenant in tenants]
    e164 = inputs[0]["e164"]
    before = await what_exists(app.state.sandbox)
    if winner == "fails-at-the-carrier":
        # Slow as well as failing, so the winner still holds the number while every other request looks.
        app.state.sandbox.faults.add(*failing_create, status=503, delay=0.5)

    # when
    results = await asyncio.gather(
        *(call(tenants[n % workspaces], IMPORT_PHONE_NUMBER, {"input": inputs[n % workspaces]}) for n in range(CONCURRENT))
    )

    # then
    outcome = "ImportPhoneNumberSuccess" if winner == "succeeds" else "ProviderError"
    assert typenames(results) == {outcome: 1, "ValidationError": CONCURRENT - 1}, results
    assert [only(r, ALREADY_EXISTS) for r in results if r["__typename"] == "ValidationError"] == [ALREADY_EXISTS] * (CONCURRENT - 1)
    if winner == "succeeds":
        assert await PhoneNumber.filter(e164=e164).values_list("status", flat=True) == [PhoneNumberStatus.ACTIVE]
        assert sum(holdings_of(app.state.sandbox, e164).values()) > 0
    else:
        (failed,) = [r for r in results if r["__typename"] == "ProviderError"]
        assert failed["retryable"] is True
        app.state.sandbox.faults.clear()
        assert await what_exists(app.state.sandbox) == before


# ---------------------------------------------------------------- reserve_number against a second connection


@pytest.fixture
def postgres_only(database_url):
    """Holding a transaction open from another connection is how a second server process races us;
    SQLite runs one writer at a time, so there is no such race to stage there."""
    if not database_url.startswith("postgres"):
        pytest.skip("a second writer holding a transaction open needs PostgreSQL")
    return database_url


async def blocked(task: asyncio.Future, url: str) -> None:
    """Wait until our request waits on a lock the other transaction holds (seen from a third connection)."""
    watcher = await asyncpg.connect(url)
    try:
        for _ in range(250):
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting:
                return
            assert not task.done(), task.result()
            await asyncio.sleep(0.02)
    finally:
        await watcher.close()
    raise AssertionError("our request never waited for the other transaction")


async def insert_number(connection: asyncpg.Connection, workspace_id: str, e164: str) -> None:
    now = datetime.now(UTC)
    await connection.execute(
        "INSERT INTO phone_number (id, workspace_id, e164, source, status, capabilities, created_at, updated_at) "
        "VALUES ($1, $2, $3, 'BYOC', 'PROVISIONING', '[]', $4, $4)",
        new_id("phone"), workspace_id, e164, now,
    )


@pytest.mark.parametrize("other_ends", ["commit", "rollback"])
async def test_reservation_that_meets_an_uncommitted_insert_of_its_number_waits_and_answers(
    app, postgres_only, make_tenant, other_ends
):
    # given: another process inserted the number for workspace A and has not committed yet
    first, second = await make_tenant("A"), await make_tenant("B")
    other = await asyncpg.connect(postgres_only)
    try:
        transaction = other.transaction()
        await transaction.start()
        await insert_number(other, first.workspace.id, BYOC_NUMBER)

        # when: workspace B reserves the same number; it cannot see the row, so its insert waits on the index
        reserving = asyncio.ensure_future(reserve_number(second.workspace.id, BYOC_NUMBER, PhoneNumberSource.BYOC))
        await blocked(reserving, postgres_only)
        await (transaction.commit() if other_ends == "commit" else transaction.rollback())
        outcome = await asyncio.wait_for(reserving, timeout=10)
    finally:
        await other.close()

    # then
    if other_ends == "commit":
        assert outcome == Invalid((FieldProblem("e164", "ALREADY_EXISTS", f"{BYOC_NUMBER} is already in use and cannot be imported"),))
        assert await PhoneNumber.filter(e164=BYOC_NUMBER).values_list("workspace_id", flat=True) == [first.workspace.id]
    else:
        assert isinstance(outcome, Reservation) and outcome.number.workspace_id == second.workspace.id
        assert await PhoneNumber.filter(e164=BYOC_NUMBER).values_list("workspace_id", flat=True) == [second.workspace.id]


async def test_byoc_import_onto_a_trunk_deleted_meanwhile_is_told_the_trunk_is_gone(app, postgres_only, tenant):
    # given: the trunk passed the import's reference check, and another process is deleting it
    trunk_id = await create_byoc_trunk(tenant)
    other = await asyncpg.connect(postgres_only)
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute("DELETE FROM sip_trunk WHERE id = $1", trunk_id)

        # when: the reservation's foreign key waits for the delete, which then commits
        importing = asyncio.ensure_future(
            call(tenant, IMPORT_PHONE_NUMBER, {"input": {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk_id}})
        )
        await blocked(importing, postgres_only)
        await transaction.commit()
        result = await asyncio.wait_for(importing, timeout=10)
    finally:
        await other.close()

    # then
    assert only(result, TRUNK_NOT_FOUND) == TRUNK_NOT_FOUND
    assert await PhoneNumber.all().count() == 0


# ---------------------------------------------------------------- the other constraints and counts


async def test_concurrent_trunks_stop_exactly_at_the_sip_trunk_limit(tenant):
    trunk_input = {"name": "Carrier", "direction": "INBOUND"}

    results = await asyncio.gather(*(call(tenant, CREATE_SIP_TRUNK, {"input": trunk_input}) for _ in range(CONCURRENT)))

    assert typenames(results) == {"CreateSipTrunkSuccess": 20, "PaymentRequiredError": CONCURRENT - 20}
    assert {(r["code"], r["limit"], r["current"]) for r in results if r["__typename"] == "PaymentRequiredError"} == {
        ("SIP_TRUNK_LIMIT_REACHED", 20, 20)
    }
    assert await SipTrunk.filter(workspace_id=tenant.workspace.id).count() == 20


async def test_concurrent_agents_in_two_workspaces_are_all_made_and_kept_apart(make_tenant):
    tenants = [await make_tenant("A"), await make_tenant("B")]

    results = await asyncio.gather(
        *(call(tenants[n % 2], CREATE_AGENT, {"input": {"name": "Front desk"}}) for n in range(CONCURRENT))
    )

    assert typenames(results) == {"CreateAgentSuccess": CONCURRENT}
    assert len({r["agent"]["id"] for r in results}) == CONCURRENT
    for n, tenant in enumerate(tenants):
        listed = (await tenant.graphql(AGENTS))["data"]["agents"]
        assert sorted(a["id"] for a in listed) == sorted(r["agent"]["id"] for r in results[n::2])
    assert await Agent.all().count() == CONCURRENT


async def test_one_twilio_account_imported_into_two_workspaces_at_once_is_recorded_once_in_each(app, make_tenant):
    # given: A imports two DIDs of the account, B the third, each many times over, all at once
    first, second = await make_tenant("A"), await make_tenant("B")
    wanted = [(first, DEMO_DIDS[0]), (first, DEMO_DIDS[1]), (second, DEMO_DIDS[2])]

    # when
    requests = [wanted[n % 3] for n in range(CONCURRENT)]
    results = await asyncio.gather(*(call(tenant, IMPORT_PHONE_NUMBER, import_body(e164)["variables"]) for tenant, e164 in requests))

    # then: one success per number, the rest told it exists
    assert typenames(results) == {"ImportPhoneNumberSuccess": 3, "ValidationError": CONCURRENT - 3}, results
    assert [only(r, ALREADY_EXISTS) for r in results if r["__typename"] == "ValidationError"] == [ALREADY_EXISTS] * (CONCURRENT - 3)
    for tenant, e164s in ((first, DEMO_DIDS[:2]), (second, DEMO_DIDS[2:3])):
        (account,) = await TwilioAccount.filter(workspace_id=tenant.workspace.id)
        (trunk,) = await SipTrunk.filter(twilio_account_id=account.id)
        assert sorted(await PhoneNumber.filter(trunk_id=trunk.id).values_list("e164", flat=True)) == sorted(e164s)
    twilio = app.state.sandbox.twilio.account(DEMO_CREDENTIALS["accountSid"])
    assert len(twilio.trunks) == 2
    assert {n.phone_number for n in twilio.incoming_phone_numbers.values() if n.trunk_sid} == set(DEMO_DIDS)


@pytest.mark.parametrize("make_input", [livekit_input, byoc_input, twilio_input], ids=["livekit", "byoc", "twilio"])
async def test_concurrent_deletes_of_one_number_release_it_once_and_each_is_told_it_is_gone(app, tenant, make_input):
    # given
    number_input = await make_input(tenant)
    before = await what_exists(app.state.sandbox)
    imported = await call(tenant, IMPORT_PHONE_NUMBER, {"input": number_input})
    assert imported["__typename"] == "ImportPhoneNumberSuccess", imported

    # when
    results = await asyncio.gather(
        *(call(tenant, DELETE_PHONE_NUMBER, {"id": imported["phoneNumber"]["id"]}) for _ in range(CONCURRENT))
    )

    # then: a delete that another one overtook is done too; one that came after the row went finds nothing.
    # Never "still being provisioned", as a delete that lost the race used to be told.
    assert set(typenames(results)) <= {"DeletePhoneNumberSuccess", "NotFoundError"}, results
    assert typenames(results)["DeletePhoneNumberSuccess"] >= 1
    assert await what_exists(app.state.sandbox) == before


# ---------------------------------------------------------------- idempotency keys


async def post(tenant, body: dict, key: str):
    return await tenant.client.post("/graphql", json=body, headers={**tenant.headers, "Idempotency-Key": key})


async def test_one_key_sent_at_once_with_two_bodies_runs_one_and_refuses_the_other(app, tenant):
    # given
    bodies = [import_body(DEMO_DIDS[0]), import_body(DEMO_DIDS[1])]

    # when
    responses = await asyncio.gather(*(post(tenant, bodies[n % 2], "one-key") for n in range(CONCURRENT)))

    # then: every request of the body that ran first gets its result; every request of the other, 422
    ran = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert len(ran) == len(refused) == CONCURRENT // 2, [r.status_code for r in responses]
    assert all(r.json() == ran[0].json() for r in ran)
    assert ran[0].json()["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess"
    assert sum(1 for r in ran if "idempotent-replayed" not in r.headers) == 1
    assert {(r.status_code, r.json()["errors"][0]["extensions"]["code"]) for r in refused} == {(422, "IDEMPOTENCY_KEY_REUSED")}
    assert await PhoneNumber.all().count() == 1
    assert await IdempotencyKey.all().count() == 1


async def test_one_key_sent_at_once_from_two_workspaces_runs_once_in_each(app, make_tenant):
    # given
    tenants = [await make_tenant("A"), await make_tenant("B")]
    body = {"query": 'mutation { createAgent(input: {name: "Front desk"}) { ... on CreateAgentSuccess { agent { id } } } }'}

    # when
    responses = await asyncio.gather(*(post(tenants[n % 2], body, "shared-key") for n in range(CONCURRENT)))

    # then
    assert {r.status_code for r in responses} == {200}
    for n, tenant in enumerate(tenants):
        mine = responses[n::2]
        assert len({r.json()["data"]["createAgent"]["agent"]["id"] for r in mine}) == 1
        assert sum(1 for r in mine if "idempotent-replayed" not in r.headers) == 1
        assert await Agent.filter(workspace_id=tenant.workspace.id).count() == 1
