"""The phoneNumberEvents subscription over graphql-transport-ws at /graphql: the app served by uvicorn on
loopback, on SQLite (the outbox read in-process) and on PostgreSQL (LISTEN/NOTIFY), driven by the
`websockets` client; and `trunkline serve --workers 2` on PostgreSQL, where a subscriber on one worker
hears of imports another worker served."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection, connect

from tortoise.transactions import in_transaction

from app.cli import uvicorn_limits
from app.settings import Settings
from models import PhoneNumber, PhoneNumberEventType
from resolvers.event_feed import QUEUE_SIZE
from resolvers.events import record
from tests.conftest import POSTGRES_URL, app_settings, create_postgres_database, drop_postgres_database
from tests.graphql_documents import (
    CREATE_SIP_TRUNK, DELETE_PHONE_NUMBER, IMPORT_PHONE_NUMBER, UPDATE_PHONE_NUMBER, byoc_trunk, imported,
)
from tests.server_processes import (
    create_workspace, free_port, http_client, live_environment, migrate, new_secret_key, start_sandbox, start_server,
    wait_until,
)

PROTOCOL = "graphql-transport-ws"
EVENTS = "subscription { phoneNumberEvents { id type occurredAt phoneNumberId phoneNumber { id e164 label } } }"


CONNECTIONS_PER_WORKSPACE = 3
MAX_MESSAGE_BYTES = 8 * 1024


@pytest.fixture
def settings(database_url: str) -> Settings:
    return app_settings(
        database_url, ws_max_connections_per_workspace=CONNECTIONS_PER_WORKSPACE, ws_max_message_bytes=MAX_MESSAGE_BYTES
    )


@pytest.fixture
async def ws_url(app, settings) -> AsyncIterator[str]:
    """The app (already started by its fixture) served by uvicorn on a loopback port, as `trunkline serve` does."""
    port = free_port()
    limits = {k: v for k, v in uvicorn_limits(settings).items() if k.startswith("ws")}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, **limits))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await task


class Subscriber:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def message(self, seconds: float = 10.0) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.socket.recv(), seconds))

    async def events(self, count: int, seconds: float = 10.0) -> list[dict[str, Any]]:
        received = []
        while len(received) < count:
            message = await self.message(seconds)
            assert message["type"] == "next" and "errors" not in message["payload"], message
            received.append(message["payload"]["data"]["phoneNumberEvents"])
        return received

    async def nothing_for(self, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            message = await self.message(seconds)
            raise AssertionError(f"expected nothing, got {message}")


@contextlib.asynccontextmanager
async def connected(url: str, payload: dict[str, Any] | None) -> AsyncIterator[ClientConnection]:
    async with connect(url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        yield socket


@contextlib.asynccontextmanager
async def subscribed(url: str, api_key: str, query: str = EVENTS) -> AsyncIterator[Subscriber]:
    async with connected(url, {"Authorization": f"Bearer {api_key}"}) as socket:
        subscriber = Subscriber(socket)
        assert await subscriber.message() == {"type": "connection_ack"}
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield subscriber


async def closed_with(socket: ClientConnection) -> tuple[int, str]:
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(socket.recv(), 10)
    return socket.close_code, socket.close_reason


def byoc_input(trunk: dict[str, Any], e164: str) -> dict[str, Any]:
    return {"e164": e164, "source": "BYOC", "trunkId": trunk["id"]}


async def test_a_subscriber_receives_its_workspaces_events_in_order_and_none_of_another(ws_url, make_tenant):
    acme, globex = await make_tenant("Acme"), await make_tenant("Globex")
    acme_trunk, globex_trunk = await byoc_trunk(acme), await byoc_trunk(globex)
    async with subscribed(ws_url, acme.api_key) as subscriber:
        await asyncio.sleep(0.3)  # the subscription is registered before anything happens

        # when: Globex and Acme each import a number; Acme relabels its own, then deletes it
        await imported(globex, byoc_input(globex_trunk, "+12125550100"))
        number = await imported(acme, byoc_input(acme_trunk, "+12125550101"))
        (imported_event,) = await subscriber.events(1)
        relabelled = await acme.graphql(UPDATE_PHONE_NUMBER, {"input": {"id": number["id"], "label": "Front desk"}})
        assert relabelled["data"]["updatePhoneNumber"]["__typename"] == "UpdatePhoneNumberSuccess", relabelled
        (updated_event,) = await subscriber.events(1)
        deleted = await acme.graphql(DELETE_PHONE_NUMBER, {"id": number["id"]})
        assert deleted["data"]["deletePhoneNumber"]["__typename"] == "DeletePhoneNumberSuccess", deleted
        (deleted_event,) = await subscriber.events(1)
        await subscriber.nothing_for(0.5)  # nothing of Globex's

    events = [imported_event, updated_event, deleted_event]
    assert [e["type"] for e in events] == ["IMPORTED", "UPDATED", "DELETED"]
    assert {e["phoneNumberId"] for e in events} == {number["id"]}
    assert all(re.fullmatch(r"evt_[0-9A-HJKMNP-TV-Z]{26}", e["id"]) for e in events)
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert [e["occurredAt"] for e in events] == sorted(e["occurredAt"] for e in events)
    # The number as it is when the event is sent: gone once deleted.
    assert imported_event["phoneNumber"] == {"id": number["id"], "e164": "+12125550101", "label": None}
    assert updated_event["phoneNumber"] == {"id": number["id"], "e164": "+12125550101", "label": "Front desk"}
    assert deleted_event["phoneNumber"] is None


async def test_a_missing_or_bad_key_is_refused_with_4403_and_a_subscribe_before_the_ack_with_4401(ws_url, tenant):
    async with connected(ws_url, {"Authorization": "Bearer sk_live_not_a_real_key"}) as socket:
        assert await closed_with(socket) == (4403, "The API key is not valid: it is malformed, unknown or revoked.")
    async with connected(ws_url, {"Authorization": f"Basic {tenant.api_key}"}) as socket:
        assert await closed_with(socket) == (4403, "The Authorization header must be 'Bearer sk_…'.")
    async with connected(ws_url, {}) as socket:
        code, reason = await closed_with(socket)
        assert (code, "API key is required" in reason) == (4403, True)
    async with connect(ws_url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
        assert await closed_with(socket) == (4401, "Unauthorized")
    # The key never comes back in a close reason or anywhere else.
    async with connected(ws_url, {"Authorization": f"Bearer {tenant.api_key}x"}) as socket:
        assert tenant.api_key not in (await closed_with(socket))[1]


async def test_queries_and_mutations_are_refused_over_the_socket_and_subscriptions_over_http(ws_url, tenant):
    async with subscribed(ws_url, tenant.api_key) as subscriber:
        await subscriber.socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": "{ workspace { id } }"}}))
        refused = await subscriber.message()
        bad = "subscription { phoneNumberEvents { nope } }"
        await subscriber.socket.send(json.dumps({"id": "3", "type": "subscribe", "payload": {"query": bad}}))
        invalid = await subscriber.message()
        deep = "subscription { phoneNumberEvents { phoneNumber { trunk { id } agent { id } } } }"  # within the limits
        await subscriber.socket.send(json.dumps({"id": "4", "type": "subscribe", "payload": {"query": deep}}))
        await subscriber.nothing_for(0.3)  # accepted: it waits for events
    over_http = await tenant.client.post("/graphql", json={"query": EVENTS}, headers=tenant.headers)

    assert refused == {"id": "2", "type": "error", "payload": [{
        "message": "Only subscriptions are served over WebSocket; send queries and mutations with HTTP POST /graphql.",
        "extensions": {"code": "BAD_REQUEST"},
    }]}  # fmt: skip
    assert invalid["type"] == "error" and invalid["payload"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert over_http.status_code == 400
    assert over_http.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in over_http.json()["errors"][0]["message"]


async def test_the_bounds_of_a_connection_and_of_a_workspace(ws_url, tenant):
    # A message over the limit closes the connection (1009, message too big) before it is read whole.
    async with subscribed(ws_url, tenant.api_key) as subscriber:
        huge = "subscription { phoneNumberEvents { id } }" + " " * MAX_MESSAGE_BYTES
        await subscriber.socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": huge}}))
        assert (await closed_with(subscriber.socket))[0] == 1009

    # Ten operations at once on one connection; the eleventh is refused, the connection stays.
    async with subscribed(ws_url, tenant.api_key) as subscriber:
        for number in range(2, 12):
            await subscriber.socket.send(json.dumps({"id": str(number), "type": "subscribe", "payload": {"query": EVENTS}}))
        refused = await subscriber.message()
        assert refused["id"] == "11" and refused["type"] == "error", refused
        assert refused["payload"][0]["extensions"] == {"code": "BAD_REQUEST"}
        await subscriber.socket.send(json.dumps({"type": "ping"}))
        assert await subscriber.message() == {"type": "pong"}

    # A workspace's connections in one process are capped; the next is told to try again later.
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(CONNECTIONS_PER_WORKSPACE):
            await stack.enter_async_context(subscribed(ws_url, tenant.api_key))
        async with connected(ws_url, {"Authorization": f"Bearer {tenant.api_key}"}) as socket:
            code, reason = await closed_with(socket)
    assert (code, reason) == (1013, "Too many connections for this workspace; close one or retry later.")
    async with subscribed(ws_url, tenant.api_key):
        pass  # a slot is free again once one closes


async def test_a_subscriber_that_falls_too_far_behind_is_disconnected(ws_url, tenant):
    trunk = await byoc_trunk(tenant)
    number = await imported(tenant, byoc_input(trunk, "+12125550102"))
    row = await PhoneNumber.get(id=number["id"])
    async with subscribed(ws_url, tenant.api_key) as subscriber:
        await asyncio.sleep(0.3)
        # when: more events at once than a subscription may have waiting
        async with in_transaction() as connection:
            for _ in range(QUEUE_SIZE + 50):
                await record(PhoneNumberEventType.UPDATED, row, connection)
        # then: the events sent before the drop arrive, then the close
        code, reason = await closed_with(subscriber.socket)
    assert (code, reason) == (1013, "Too slow: the connection fell too far behind its events; reconnect.")


WS_CONNECTED = re.compile(r" INFO (\d+) trunkline\.access.*: WS /graphql connected ")
IMPORT_SERVED = re.compile(r" INFO (\d+) trunkline\.access.*: POST /graphql ImportPhoneNumber 200 ")  # the operation name
HEALTHZ_SERVED = re.compile(r" INFO (\d+) trunkline\.access \[([\w-]+)\]: GET /healthz other 200 ")


async def connected_clients(stack, server, headers: dict) -> list[tuple[str, httpx.AsyncClient]]:
    """Eight connections opened at once (so that both workers take some), each with the pid of the worker
    that accepted it, read from the access line of its first request. A client keeps its connection."""
    batch = [await stack.enter_async_context(http_client(base_url=server.url, headers=headers, timeout=60)) for _ in range(8)]
    ids = [f"which-worker-{secrets.token_hex(6)}" for _ in batch]
    await asyncio.gather(*(client.get("/healthz", headers={"X-Request-Id": id}) for client, id in zip(batch, ids, strict=True)))

    def served() -> dict[str, str]:
        return {request_id: pid for pid, request_id in HEALTHZ_SERVED.findall(server.process.log())}

    async def logged() -> bool:  # a worker writes its access line as the answer leaves
        return set(ids) <= served().keys()

    await wait_until(logged, seconds=10, what="the access lines of the probes")
    served = served()
    return [(served[id], client) for client, id in zip(batch, ids, strict=True)]


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL: set TRUNKLINE_TEST_POSTGRES_URL")
async def test_under_two_workers_subscribers_on_each_hear_of_imports_served_by_either(tmp_path):
    async with contextlib.AsyncExitStack() as stack:
        database_url = await create_postgres_database()
        stack.push_async_callback(drop_postgres_database, database_url)
        migrate(database_url)
        workspace = create_workspace(database_url, "Acme", 100)
        sandbox = await start_sandbox(tmp_path)
        stack.push_async_callback(sandbox.close)
        server = await start_server(live_environment(database_url, sandbox.url, new_secret_key()), tmp_path, workers=2)
        stack.callback(server.stop)
        url = server.url.replace("http://", "ws://") + "/graphql"
        key = {"Authorization": f"Bearer {workspace['api_key']}"}

        # given: subscribers until both workers hold some (the access log names each line's process)
        subscribers = []
        while len(set(WS_CONNECTED.findall(server.process.log()))) < 2:
            assert len(subscribers) < 20, "every connection went to one worker"
            subscribers.append(await stack.enter_async_context(subscribed(url, workspace["api_key"])))
        await asyncio.sleep(0.3)

        # when: imports, one after another, alternately through connections each worker accepted
        by_worker: dict[str, list[httpx.AsyncClient]] = {}
        while len(by_worker) < 2:
            assert sum(map(len, by_worker.values())) < 64, "every connection went to one worker"
            for pid, client in await connected_clients(stack, server, key):
                by_worker.setdefault(pid, []).append(client)
        first, second = (clients[0] for clients in by_worker.values())
        trunk_input = {"name": "Carrier", "direction": "BOTH", "sipAddress": "sip.example-carrier.com"}
        # and first another workspace's import, which no subscriber of Acme's may hear of
        other = create_workspace(database_url, "Globex", 100)
        async with http_client(base_url=server.url, timeout=60, headers={
            "Authorization": f"Bearer {other['api_key']}"
        }) as globex:
            made = await globex.post("/graphql", json={"query": CREATE_SIP_TRUNK, "variables": {"input": trunk_input}})
            other_trunk = {"id": made.json()["data"]["createSipTrunk"]["sipTrunk"]["id"]}
            variables = {"input": byoc_input(other_trunk, "+12125559999")}
            answer = await globex.post("/graphql", json={"query": IMPORT_PHONE_NUMBER, "variables": variables})
            assert answer.json()["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess", answer.text
        trunk = await first.post("/graphql", json={"query": CREATE_SIP_TRUNK, "variables": {"input": trunk_input}})
        trunk_id = trunk.json()["data"]["createSipTrunk"]["sipTrunk"]["id"]
        numbers = []
        for index in range(6):
            variables = {"input": byoc_input({"id": trunk_id}, f"+1212555{index:04d}")}
            answer = await (first, second)[index % 2].post("/graphql", json={"query": IMPORT_PHONE_NUMBER, "variables": variables})
            assert answer.json()["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess", answer.text
            numbers.append(answer.json()["data"]["importPhoneNumber"]["phoneNumber"]["id"])
        assert len(set(IMPORT_SERVED.findall(server.process.log()))) == 2

        # then: every subscriber, on either worker, hears of every import of its workspace, in order, and of
        # none of the other's (made first, it would be the first event read)
        for subscriber in subscribers:
            events = await subscriber.events(len(numbers))
            assert [(e["type"], e["phoneNumberId"]) for e in events] == [("IMPORTED", n) for n in numbers]
