"""The server as it runs in production: `trunkline serve --workers N` on PostgreSQL, live carrier clients
pointed at a standalone sandbox, driven over real HTTP. The cap and number uniqueness hold across worker
processes, a server killed mid-import or mid-delete is finished by recovery after a restart, and
migrations build the schema once.

The tests of this module share one migrated database and one sandbox process, each emptied and reset
before a test starts its own server."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.postgres import empty_tables
from models import migrations
from tests.graphql_documents import (
    CREATE_AGENT,
    CREATE_SIP_TRUNK,
    DELETE_PHONE_NUMBER,
    DEMO_ACCOUNT_SID,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    WORKSPACE_COUNT,
    field_codes,
)
from tests.server_processes import (
    Sandbox,
    Server,
    create_workspace,
    http_client,
    live_environment,
    migrate,
    new_secret_key,
    run_trunkline,
    start_sandbox,
    start_server,
    wait_until,
)

pytestmark = [
    pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL: set TRUNKLINE_TEST_POSTGRES_URL"),
    # One event loop for the module, so that its tests can share the database and the sandbox below.
    pytest.mark.asyncio(loop_scope="module"),
]

WORKERS = 3  # where the workers' concurrency is the point
RESTARTED_WORKERS = 2  # a server killed (one worker, quicker to start) restarts with two: recovery runs in both
AVAILABLE_AT_LIVEKIT = "query { availablePhoneNumbers(source: LIVEKIT, limit: 1) { e164 } }"
CARRIER_TABLES = ("phone_number", "sip_trunk", "twilio_account", "carrier_step")
EVERY_TABLE = {
    "workspace", "api_key", "agent", "carrier_step", "twilio_account", "sip_trunk", "phone_number", "idempotency_key",
    "phone_number_event", "webhook_endpoint", "webhook_delivery", "tortoise_migrations",
}

# A crash is simulated while a carrier call is held up this long; recovery's grace outlasts it, so the
# carrier has acted on the call before recovery looks.
CARRIER_DELAY = 0.75
RECOVERY = {"TRUNKLINE_RECOVERY_GRACE": "1.5", "TRUNKLINE_RECOVERY_INTERVAL": "0.5"}
LEASE = {"TRUNKLINE_LEASE": "2"}


@dataclass
class Deployment:
    """A database, the sandbox carriers, a running server and one workspace's API key."""

    tmp_path: pathlib.Path
    database_url: str
    secret_key: str
    sandbox: Sandbox
    server: Server | None
    api_key: str
    workspace_id: str
    workers: int

    def environment(self, **extra: str) -> dict[str, str]:
        return live_environment(self.database_url, self.sandbox.url, self.secret_key, **extra)

    async def start(self, workers: int | None = None, **extra: str) -> Server:
        self.workers = workers or self.workers
        self.server = await start_server(self.environment(**extra), self.tmp_path, workers=self.workers)
        return self.server

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        async with http_client(base_url=self.server.url, headers=headers, timeout=60.0) as http:
            yield http

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url)
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()

    async def table_counts(self) -> dict[str, int]:
        return {table: len(await self.rows(f"SELECT 1 FROM {table}")) for table in CARRIER_TABLES}


@dataclass
class Carriers:
    """The module's migrated database and sandbox process."""

    database_url: str
    sandbox: Sandbox


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def carriers(tmp_path_factory) -> AsyncIterator[Carriers]:
    database_url = await create_postgres_database()
    try:
        migrate(database_url)
        sandbox = await start_sandbox(tmp_path_factory.mktemp("sandbox"))
        try:
            yield Carriers(database_url, sandbox)
        finally:
            await sandbox.close()
    finally:
        await drop_postgres_database(database_url)


@pytest_asyncio.fixture(loop_scope="module")
async def deployment(carriers: Carriers, tmp_path: pathlib.Path):
    """`deployment(phone_number_limit=..., workers=..., **server_settings)`: the database emptied, the sandbox
    back to its seed, a workspace and a running server; the server is stopped at the end, whatever happened."""
    started: list[Deployment] = []

    @contextlib.asynccontextmanager
    async def deploy(*, phone_number_limit: int, workers: int = WORKERS, **server_settings: str) -> AsyncIterator[Deployment]:
        connection = await asyncpg.connect(carriers.database_url)
        try:
            await empty_tables(connection)
        finally:
            await connection.close()
        await carriers.sandbox.reset()
        workspace = create_workspace(carriers.database_url, "Acme", phone_number_limit)
        running = Deployment(
            tmp_path, carriers.database_url, new_secret_key(), carriers.sandbox, None, workspace["api_key"],
            workspace["workspace_id"], workers,
        )
        started.append(running)
        await running.start(**server_settings)
        yield running

    try:
        yield deploy
    finally:
        for running in started:
            if running.server:
                running.server.stop()


async def graphql(http: httpx.AsyncClient, query: str, variables: dict | None = None) -> dict:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def import_number(http: httpx.AsyncClient, number_input: dict) -> dict:
    return (await graphql(http, IMPORT_PHONE_NUMBER, {"input": number_input}))["importPhoneNumber"]


def typenames(results: list[dict]) -> Counter:
    return Counter(result["__typename"] for result in results)


def demo_account(carriers: dict) -> dict:
    return next(account for account in carriers["twilio"]["accounts"] if account["sid"] == DEMO_ACCOUNT_SID)


# --- 1 and 2: the cap and number uniqueness across worker processes ------------------------------------------


async def test_fifty_concurrent_imports_across_three_workers_take_exactly_the_five_free_slots(deployment):
    async with deployment(phone_number_limit=5) as running, running.client() as http:
        # given
        created = await graphql(
            http, CREATE_SIP_TRUNK, {"input": {"name": "Carrier", "direction": "INBOUND", "allowedAddresses": ["203.0.113.0/24"]}}
        )
        trunk_id = created["createSipTrunk"]["sipTrunk"]["id"]
        numbers = [f"+1212555{line:04d}" for line in range(100, 125)] + [f"+1646555{line:04d}" for line in range(100, 125)]
        before = await running.sandbox.carriers()

        # when
        results = await asyncio.gather(
            *(import_number(http, {"e164": e164, "source": "BYOC", "trunkId": trunk_id}) for e164 in numbers)
        )

        # then
        assert typenames(results) == {"ImportPhoneNumberSuccess": 5, "PaymentRequiredError": 45}
        refusals = [result for result in results if result["__typename"] == "PaymentRequiredError"]
        assert {(r["code"], r["limit"], r["current"]) for r in refusals} == {("PHONE_NUMBER_LIMIT_REACHED", 5, 5)}
        imported = {r["phoneNumber"]["e164"] for r in results if r["__typename"] == "ImportPhoneNumberSuccess"}
        assert (await graphql(http, WORKSPACE_COUNT))["workspace"] == {"phoneNumberCount": 5, "phoneNumberLimit": 5}
        rows = await running.rows("SELECT e164, status FROM phone_number")
        assert sorted((row["e164"], row["status"]) for row in rows) == sorted((e164, "ACTIVE") for e164 in imported)
        carriers = await running.sandbox.carriers()
        inbound = list(carriers["livekit"]["inbound_trunks"].values())
        assert [sorted(trunk["numbers"]) for trunk in inbound] == [sorted(imported)]
        assert carriers["livekit"]["outbound_trunks"] == {}
        assert carriers["twilio"] == before["twilio"]


async def test_twenty_concurrent_imports_of_one_number_across_three_workers_let_exactly_one_through(deployment):
    async with deployment(phone_number_limit=100) as running, running.client() as http:
        did = DEMO_DIDS[0]
        (offered,) = (await graphql(http, AVAILABLE_AT_LIVEKIT))["availablePhoneNumbers"]

        # when: one Twilio DID, twenty times at once
        twilio_results = await asyncio.gather(
            *(import_number(http, {"e164": did, "source": "TWILIO", "twilio": DEMO_CREDENTIALS}) for _ in range(20))
        )
        # and one LiveKit number, twenty times at once
        livekit_results = await asyncio.gather(
            *(import_number(http, {"e164": offered["e164"], "source": "LIVEKIT"}) for _ in range(20))
        )

        # then
        for results in (twilio_results, livekit_results):
            assert typenames(results) == {"ImportPhoneNumberSuccess": 1, "ValidationError": 19}
            refusals = [result for result in results if result["__typename"] == "ValidationError"]
            assert [(r["code"], field_codes(r)) for r in refusals] == [("VALIDATION_FAILED", [("e164", "ALREADY_EXISTS")])] * 19
        rows = await running.rows("SELECT e164, status FROM phone_number ORDER BY e164")
        assert sorted((row["e164"], row["status"]) for row in rows) == sorted([(did, "ACTIVE"), (offered["e164"], "ACTIVE")])
        carriers = await running.sandbox.carriers()
        account = demo_account(carriers)
        (twilio_trunk,) = account["trunks"]
        assert [n["trunk_sid"] for n in account["incoming_phone_numbers"] if n["phone_number"] == did] == [twilio_trunk["sid"]]
        assert len(twilio_trunk["phone_number_sids"]) == 1
        assert [trunk["numbers"] for trunk in carriers["livekit"]["inbound_trunks"].values()] == [[did]]
        assert [trunk["numbers"] for trunk in carriers["livekit"]["outbound_trunks"].values()] == [[did]]
        held_at_livekit = [n["e164_format"] for n in carriers["livekit"]["phone_numbers"].values()]
        assert held_at_livekit == [offered["e164"]]
        assert (await graphql(http, WORKSPACE_COUNT))["workspace"]["phoneNumberCount"] == 2


# --- 3: a server killed mid-operation; recovery after the restart ------------------------------------------

TWILIO_API = "/2010-04-01/Accounts/*"
TWILIO_FLOW_STEPS = [
    # The look-ups come before the reservation and change nothing at the carriers: nothing is left at all.
    pytest.param("GET", TWILIO_API + "/IncomingPhoneNumbers.json", None, id="look-up-incoming-number"),
    pytest.param("GET", TWILIO_API + "/OutgoingCallerIds.json", None, id="look-up-caller-id"),
    pytest.param("POST", TWILIO_API + "/SIP/CredentialLists.json", "twilio.create_credential_list", id="create-credential-list"),
    pytest.param("POST", TWILIO_API + "/SIP/CredentialLists/*/Credentials.json", "twilio.add_credential", id="add-credential"),
    pytest.param("POST", "/v1/Trunks", "twilio.create_trunk", id="create-twilio-trunk"),
    pytest.param("POST", "/v1/Trunks/*/OriginationUrls", "twilio.add_origination_url", id="add-origination-url"),
    pytest.param("POST", "/v1/Trunks/*/CredentialLists", "twilio.attach_credential_list", id="attach-credential-list"),
    pytest.param("POST", "/v1/Trunks/*/PhoneNumbers", "twilio.attach_number", id="attach-number"),
    pytest.param(
        "POST", "/twirp/livekit.SIP/CreateSIPInboundTrunk", "livekit.create_inbound_trunk", id="create-livekit-inbound-trunk"
    ),
    pytest.param(
        "POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk", "livekit.create_outbound_trunk", id="create-livekit-outbound-trunk"
    ),
    pytest.param("POST", "/twirp/livekit.SIP/CreateSIPDispatchRule", "livekit.create_dispatch_rule", id="create-dispatch-rule"),
]


async def held_up_then_killed(running: Deployment, method: str, path: str, operation) -> None:
    """Hold the carrier call at `path` up, start `operation`, and SIGKILL the server once the call arrived."""
    await running.sandbox.add_fault(method=method, path=path, delay=CARRIER_DELAY, times=1)
    async with running.client() as http:
        request = asyncio.ensure_future(operation(http))
        try:
            await wait_until(
                lambda: running.sandbox.requests_to(method, path), seconds=15, what=f"{method} {path} to reach the carrier"
            )
            assert not request.done(), request.result()
            running.server.kill()
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await asyncio.wait_for(request, timeout=10)
    await running.sandbox.clear_faults()

    # The carrier carries the held-up call out although nobody is left to hear the answer; the sandbox
    # logs the reply as dropped once its handler has run.
    async def carried_out() -> list[dict]:
        return [entry for entry in await running.sandbox.requests_to(method, path) if entry["status"] or entry.get("dropped")]

    await wait_until(carried_out, seconds=CARRIER_DELAY + 10, what=f"the carrier to carry out {method} {path}")


async def recovered(running: Deployment) -> None:
    """Restart with a short grace, and wait until recovery has finished every number it had to."""

    async def nothing_in_flight() -> bool:
        statuses = await running.rows("SELECT status FROM phone_number WHERE status IN ('PROVISIONING', 'RELEASING')")
        return not statuses

    await running.start(workers=RESTARTED_WORKERS, **RECOVERY, **LEASE)
    await wait_until(nothing_in_flight, seconds=30, what="recovery to finish the interrupted operation")

    # The slot is freed before the account's rows are tidied; give that a moment, then check exactly.
    async def tidied() -> bool:
        return not any((await running.table_counts()).values())

    with contextlib.suppress(AssertionError):
        await wait_until(tidied, seconds=5, what="the twilio account's rows to be tidied")


@pytest.mark.parametrize(("method", "path", "action"), TWILIO_FLOW_STEPS)
async def test_import_killed_while_a_twilio_flow_step_is_in_flight_is_undone_by_recovery_after_restart(
    deployment, method, path, action
):
    async with deployment(phone_number_limit=5, workers=1, **LEASE) as running:
        # given
        async with running.client() as http:
            agent_id = (await graphql(http, CREATE_AGENT, {"input": {"name": "Receptionist"}}))["createAgent"]["agent"]["id"]
        number_input = {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS, "agentId": agent_id}
        before = await running.sandbox.carriers()

        # when
        await held_up_then_killed(running, method, path, lambda http: import_number(http, number_input))
        reserved = [row["status"] for row in await running.rows("SELECT status FROM phone_number")]
        assert reserved == ([] if action is None else ["PROVISIONING"])
        started = await running.rows("SELECT action FROM carrier_step WHERE state = 'STARTED'")
        actions = [row["action"] for row in started]
        if action is None:
            assert actions == []
        else:
            assert action in actions
        await recovered(running)

        # then: nothing at the carriers that the database does not own
        after = await running.sandbox.carriers()
        account = demo_account(after)
        assert account["trunks"] == []
        assert account["credential_lists"] == []
        assert [n["trunk_sid"] for n in account["incoming_phone_numbers"] if n["phone_number"] == DEMO_DIDS[0]] == [None]
        assert after["livekit"]["inbound_trunks"] == {}
        assert after["livekit"]["outbound_trunks"] == {}
        assert after["livekit"]["dispatch_rules"] == {}
        assert after == before
        assert await running.table_counts() == dict.fromkeys(("phone_number", "sip_trunk", "twilio_account", "carrier_step"), 0)
        async with running.client() as http:
            assert (await graphql(http, WORKSPACE_COUNT))["workspace"]["phoneNumberCount"] == 0
            retried = await import_number(http, number_input)
        assert retried["__typename"] == "ImportPhoneNumberSuccess", retried
        assert retried["phoneNumber"]["status"] == "ACTIVE"


async def test_delete_killed_while_tearing_down_the_twilio_trunk_is_finished_by_recovery_after_restart(deployment):
    async with deployment(phone_number_limit=5, workers=1, **LEASE) as running:
        # given
        before = await running.sandbox.carriers()
        async with running.client() as http:
            agent_id = (await graphql(http, CREATE_AGENT, {"input": {"name": "Receptionist"}}))["createAgent"]["agent"]["id"]
            number_input = {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS, "agentId": agent_id}
            imported = await import_number(http, number_input)
        assert imported["__typename"] == "ImportPhoneNumberSuccess", imported
        phone_number_id = imported["phoneNumber"]["id"]

        # when
        await held_up_then_killed(
            running,
            "DELETE",
            "/v1/Trunks/*",  # the shared trunk goes with its last number
            lambda http: graphql(http, DELETE_PHONE_NUMBER, {"id": phone_number_id}),
        )
        assert [row["status"] for row in await running.rows("SELECT status FROM phone_number")] == ["RELEASING"]
        await recovered(running)

        # then
        assert await running.sandbox.carriers() == before
        assert await running.table_counts() == dict.fromkeys(("phone_number", "sip_trunk", "twilio_account", "carrier_step"), 0)
        async with running.client() as http:
            assert (await graphql(http, WORKSPACE_COUNT))["workspace"]["phoneNumberCount"] == 0


# --- 4: migrations ---------------------------------------------------------------------------------------


async def test_migrate_builds_every_table_on_an_empty_database_and_a_second_run_changes_nothing():
    database_url = await create_postgres_database()
    try:

        async def schema() -> tuple[set[str], list[tuple], list[tuple]]:
            connection = await asyncpg.connect(database_url)
            try:
                tables = await connection.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
                columns = await connection.fetch(
                    "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                    "WHERE table_schema = 'public' ORDER BY table_name, column_name"
                )
                applied = await connection.fetch("SELECT * FROM tortoise_migrations ORDER BY 1") if tables else []
            finally:
                await connection.close()
            return {row["table_name"] for row in tables}, [tuple(row) for row in columns], [tuple(row) for row in applied]

        assert (await schema())[0] == set()

        first = run_trunkline("migrate", database_url=database_url)
        assert first.returncode == 0, first.stderr
        tables, columns, applied = await schema()
        assert tables == EVERY_TABLE
        assert len(applied) == len(list(pathlib.Path(migrations.__file__).parent.glob("0*.py")))

        second = run_trunkline("migrate", database_url=database_url)
        assert second.returncode == 0, second.stderr
        assert await schema() == (tables, columns, applied)
    finally:
        await drop_postgres_database(database_url)
