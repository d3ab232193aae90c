"""Signed webhooks: endpoints per workspace, deliveries of lifecycle events to a real receiver on loopback,
retried with backoff until acknowledged, resumed after a restart, claimed by one worker at a time, and
never sent to an address inside our network."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import socket
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from tortoise.transactions import in_transaction

from app.main import create_app
from app.settings import Settings
from app.webhooks import delivery_policy
from models import PhoneNumber, PhoneNumberEvent, PhoneNumberEventType, WebhookDelivery, WebhookEndpoint
from models.secret_box import SecretBox
from providers.webhooks.sender import WebhookSender
from providers.webhooks.signature import sign, verify
from providers.webhooks.targets import TargetRules
from resolvers import events
from resolvers.api_keys import issue_api_key
from resolvers.deliver_webhooks import DeliveryPolicy, claim_due, deliver_webhooks, fan_out
from resolvers.workspaces import create_workspace
from tests.clock import SetClock
from tests.conftest import SECRET_KEY, Tenant, app_settings
from tests.graphql_documents import (
    CREATE_WEBHOOK_ENDPOINT,
    DELETE_PHONE_NUMBER,
    DELETE_WEBHOOK_ENDPOINT,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    UPDATE_PHONE_NUMBER,
    answer,
    field_codes,
    imported,
)
from tests.serve_sqlite import serving
from tests.server_processes import create_workspace as create_workspace_with_cli
from tests.server_processes import http_client, wait_until
from tests.test_logs_and_metrics import sample
from tests.webhook_receiver import HANG, Receiver

FAST = {"webhook_interval": 0.05, "webhook_retry_base": 0.3, "webhook_timeout": 2.0}
ENDPOINTS = "{ webhookEndpoints { id url events createdAt } }"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Delivery passes every 50 ms and a first retry after 0.3 s, so a test sees several attempts."""
    return app_settings(database_url, **FAST)


async def create_endpoint(tenant: Tenant, url: str, events: list[str] | None = None) -> dict:
    return answer(await tenant.graphql(CREATE_WEBHOOK_ENDPOINT, {"input": {"url": url, "events": events}}))


async def endpoint(tenant: Tenant, url: str, events: list[str] | None = None) -> tuple[str, str]:
    """A new endpoint's id and signing secret."""
    result = await create_endpoint(tenant, url, events)
    assert result["__typename"] == "CreateWebhookEndpointSuccess", result
    return result["endpoint"]["id"], result["signingSecret"]


async def import_twilio(tenant: Tenant) -> dict:
    return await imported(tenant, {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS})


async def record_events(number_id: str, count: int) -> None:
    """UPDATED events for a number, written as a change writes them."""
    number = await PhoneNumber.get(id=number_id)
    async with in_transaction() as connection:
        for _ in range(count):
            await events.record(PhoneNumberEventType.UPDATED, number, connection)


async def settled() -> bool:
    """Every event fanned out, and every delivery acknowledged or given up: no attempt is left to make."""
    fanned_out = not await PhoneNumberEvent.filter(fanned_out=False).exists()
    return fanned_out and not await WebhookDelivery.filter(delivered_at=None, given_up_at=None).exists()


@asynccontextmanager
async def running(settings: Settings):
    """Another app on the same database, e.g. in production mode; a tenant of its own."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://trunkline.test") as http:
            workspace = await create_workspace("Other", 10)
            key = await issue_api_key(workspace)
            yield Tenant(workspace=workspace, key_id=key.key_id, api_key=key.secret, client=http)


# ---------------------------------------------------------------- deliveries of real changes


async def test_imports_updates_and_deletes_reach_the_receiver_signed(tenant, client):
    async with Receiver() as receiver:
        endpoint_id, secret = await endpoint(tenant, receiver.url())
        number = await import_twilio(tenant)
        updated = answer(await tenant.graphql(UPDATE_PHONE_NUMBER, {"input": {"id": number["id"], "label": "Front desk"}}))
        assert updated["__typename"] == "UpdatePhoneNumberSuccess", updated
        deleted = answer(await tenant.graphql(DELETE_PHONE_NUMBER, {"id": number["id"]}))
        assert deleted["__typename"] == "DeletePhoneNumberSuccess", deleted

        received = await receiver.wait_for(3)
        await wait_until(settled, seconds=10, what="every delivery to be recorded")

    assert len(receiver.received) == 3
    by_type = {request.event["type"]: request for request in received}
    assert set(by_type) == {"phone_number.imported", "phone_number.updated", "phone_number.deleted"}
    for request in received:
        assert verify(secret, request.body, request.headers["Trunkline-Signature"])
        assert not verify(secret, request.body + b" ", request.headers["Trunkline-Signature"])
        event = request.event
        assert request.headers["Trunkline-Event-Id"] == event["id"] and event["id"].startswith("evt_")
        assert request.headers["Content-Type"] == "application/json"
        assert event["workspace_id"] == tenant.workspace.id
        assert event["created_at"].endswith("Z")
        assert set(event["data"]["phone_number"]) == {
            "id", "e164", "source", "status", "capabilities", "label", "agent_id", "trunk_id"
        }  # fmt: skip
        assert event["data"]["phone_number"]["id"] == number["id"]
        assert event["data"]["phone_number"]["e164"] == DEMO_DIDS[0]
    assert by_type["phone_number.imported"].event["data"]["phone_number"]["status"] == "ACTIVE"
    assert by_type["phone_number.updated"].event["data"]["phone_number"]["label"] == "Front desk"

    rows = await WebhookDelivery.filter(endpoint_id=endpoint_id)
    assert [(row.attempts, row.last_status, row.delivered_at is not None) for row in rows] == [(1, 200, True)] * 3
    metrics = (await client.get("/metrics")).text
    assert sample(metrics, "trunkline_webhook_deliveries_total", outcome="delivered") >= 3


async def test_an_endpoint_gets_only_the_types_it_asked_for_and_only_its_workspaces(tenant, make_tenant):
    other = await make_tenant("Other")
    async with Receiver() as receiver, Receiver() as others:
        await endpoint(tenant, receiver.url(), events=["DELETED"])
        await endpoint(other, others.url())
        number = await import_twilio(tenant)
        answer(await tenant.graphql(DELETE_PHONE_NUMBER, {"id": number["id"]}))

        await receiver.wait_for(1)
        await wait_until(settled, seconds=10, what="every delivery to be recorded")

    assert [r.event["type"] for r in receiver.received] == ["phone_number.deleted"]
    assert others.received == []


@asynccontextmanager
async def passes(settings: Settings, clock: SetClock):
    """Delivery passes the test makes itself, at the time of its clock, on an app whose own loop makes
    one pass at start: what a pass sends, and when, is then the test's to see."""
    quiet = dataclasses.replace(settings, webhook_interval=3600)
    async with running(quiet) as tenant, WebhookSender(TargetRules()) as sender:
        policy, box = delivery_policy(quiet), SecretBox.from_setting(SECRET_KEY)

        async def deliver(after: float = 0.0) -> int:
            """Move the clock on by `after` seconds, make a pass; the attempts it made."""
            clock.advance(after)
            return await deliver_webhooks(sender, box, policy, clock)

        yield tenant, deliver


async def test_a_failing_receiver_gets_the_same_event_until_it_answers_2xx(settings):
    clock = SetClock()
    async with Receiver([500, 503]) as receiver, passes(settings, clock) as (tenant, deliver):
        endpoint_id, secret = await endpoint(tenant, receiver.url())
        await import_twilio(tenant)

        # a first attempt at once, the next 0.3 s after a failure, then twice as long
        assert [await deliver(), await deliver(0.299), await deliver(0.001)] == [1, 0, 1]
        assert [await deliver(0.599), await deliver(0.001)] == [0, 1]
        assert await deliver(3600) == 0  # acknowledged: never again
        [row] = await WebhookDelivery.filter(endpoint_id=endpoint_id)

    received = receiver.received
    assert len({request.headers["Trunkline-Event-Id"] for request in received}) == 1
    assert len({request.body for request in received}) == 1
    assert all(verify(secret, request.body, request.headers["Trunkline-Signature"]) for request in received)
    assert (row.attempts, row.last_status, row.delivered_at is not None, row.given_up_at) == (3, 200, True, None)


async def test_deliveries_are_given_up_after_the_retry_window(settings):
    clock = SetClock()
    give_up_after_a_second = dataclasses.replace(settings, webhook_give_up_after=1.0)
    async with Receiver([500] * 100) as receiver, passes(give_up_after_a_second, clock) as (tenant, deliver):
        endpoint_id, _ = await endpoint(tenant, receiver.url())
        await import_twilio(tenant)

        # attempts at 0, 0.3 and 0.9 s; the next would be at 2.1 s, past the window: given up instead
        assert [await deliver(), await deliver(0.3), await deliver(0.6)] == [1, 1, 1]
        assert await deliver(3600) == 0
        [row] = await WebhookDelivery.filter(endpoint_id=endpoint_id)

    assert row.given_up_at == clock.now() - timedelta(seconds=3600)
    assert row.attempts == len(receiver.received) == 3
    assert row.delivered_at is None and row.last_status == 500


async def test_deliveries_resume_after_the_server_is_killed_mid_attempt(tmp_path):
    environment = {
        "TRUNKLINE_WEBHOOK_INTERVAL": "0.1", "TRUNKLINE_WEBHOOK_TIMEOUT": "1", "TRUNKLINE_WEBHOOK_RETRY_BASE": "0.5",
    }  # fmt: skip
    async with Receiver([HANG]) as receiver:
        with serving(tmp_path, **environment) as served:
            key = create_workspace_with_cli(served.database_url, "Acme", 10)["api_key"]
            async with http_client(base_url=served.url, timeout=30) as http:
                tenant = Tenant(workspace=None, key_id="", api_key=key, client=http)
                endpoint_id, secret = await endpoint(tenant, receiver.url())
                await import_twilio(tenant)
                await receiver.wait_for(1)
            served.process.kill()  # while the receiver holds the first attempt: no answer, nothing recorded

        with serving(tmp_path, **environment) as restarted:
            received = await receiver.wait_for(2, seconds=30)  # once the dead worker's claim (6 s) runs out

            async def recorded() -> bool:
                return "attempt 1: delivered" in restarted.process.log()

            await wait_until(recorded, seconds=10, what="the delivery to be recorded")
            logs = served.process.log() + restarted.process.log()

    assert len(receiver.received) == 2
    assert received[0].headers["Trunkline-Event-Id"] == received[1].headers["Trunkline-Event-Id"]
    assert received[0].event["type"] == "phone_number.imported"
    assert verify(secret, received[1].body, received[1].headers["Trunkline-Signature"])
    assert "attempt 1: delivered" in logs and secret not in logs


async def test_two_delivery_loops_never_send_the_same_attempt(settings):
    quiet = dataclasses.replace(settings, webhook_interval=3600)  # the app's own loop makes one pass, at start
    async with Receiver() as receiver, running(quiet) as tenant:
        await endpoint(tenant, receiver.url())
        number = await import_twilio(tenant)
        await record_events(number["id"], 40)
        box = SecretBox.from_setting(SECRET_KEY)
        policy = DeliveryPolicy(batch=4)
        sent = [0, 0]

        async def loop(index: int) -> None:
            async with WebhookSender(TargetRules()) as sender:
                while len(receiver.received) < 41:
                    sent[index] += await deliver_webhooks(sender, box, policy)

        await asyncio.wait_for(asyncio.gather(loop(0), loop(1)), 60)

    ids = [request.headers["Trunkline-Event-Id"] for request in receiver.received]
    assert len(ids) == len(set(ids)) == 41
    assert sent[0] + sent[1] == 41 and min(sent) > 0, sent  # both loops sent, none twice


async def test_a_due_delivery_is_claimed_by_one_claim_only(settings):
    quiet = dataclasses.replace(settings, webhook_interval=3600)
    async with running(quiet) as tenant:
        endpoint_id, _ = await endpoint(tenant, "http://127.0.0.1:9/")
        number = await import_twilio(tenant)
        await record_events(number["id"], 30)
        await fan_out()
        claims = await asyncio.gather(*(claim_due(DeliveryPolicy(batch=31)) for _ in range(6)))
        made = await WebhookDelivery.filter(endpoint_id=endpoint_id).count()

    claimed = [row.id for rows in claims for row in rows]
    assert made == 31
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 31


# ---------------------------------------------------------------- safe targets


PRODUCTION_REFUSED = [
    "http://hooks.example.com/trunkline",  # not https
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::ffff:10.0.0.1]/hook",
    "https://224.0.0.251/hook",
    "https://100.64.0.1/hook",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
]


async def test_production_refuses_urls_inside_our_network(settings):
    async with running(dataclasses.replace(settings, env="production")) as tenant:
        for url in PRODUCTION_REFUSED:
            result = await create_endpoint(tenant, url)
            assert result["__typename"] == "ValidationError", url
            assert field_codes(result) == [("url", "UNSAFE_URL")], (url, result)
        accepted = await create_endpoint(tenant, "https://hooks.example.com/trunkline?team=voice")
        listed = answer(await tenant.graphql(ENDPOINTS))

    assert accepted["__typename"] == "CreateWebhookEndpointSuccess"
    assert [e["url"] for e in listed] == ["https://hooks.example.com/trunkline?team=voice"]


@pytest.mark.parametrize(
    "url, allow_private, code",
    [
        ("http://127.0.0.1:8080/hook", False, None),  # development: a receiver on this machine
        ("http://localhost:8080/hook", False, None),
        ("http://hooks.example.com/hook", False, "UNSAFE_URL"),
        ("https://10.0.0.7/hook", False, "UNSAFE_URL"),
        ("http://10.0.0.7/hook", True, None),  # TRUNKLINE_WEBHOOK_ALLOW_PRIVATE
        ("ftp://hooks.example.com/", False, "INVALID_FORMAT"),
        ("hooks.example.com/hook", False, "INVALID_FORMAT"),
        ("https://user:pass@hooks.example.com/", False, "INVALID_FORMAT"),
        ("https://hooks.example.com:99999/", False, "INVALID_FORMAT"),
        ("https://hooks.example.com/" + "a" * 2030, False, "TOO_LONG"),
        ("", False, "REQUIRED"),
        ("https://hooks.example.com/\nx", False, "INVALID_CHARACTERS"),
    ],
)
async def test_development_urls(settings, url, allow_private, code):
    async with running(dataclasses.replace(settings, webhook_allow_private=allow_private)) as tenant:
        result = await create_endpoint(tenant, url)
        stored = await WebhookEndpoint.all().count()
    if code is None:
        assert result["__typename"] == "CreateWebhookEndpointSuccess", result
        assert stored == 1
    else:
        assert field_codes(result) == [("url", code)], result
        assert stored == 0


def local_name() -> str:
    """A host name (not "localhost") that resolves to an address inside this machine or its network."""
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP)}
    if any(ipaddress.ip_address(address).is_global for address in addresses):
        pytest.skip(f"{name} resolves to a public address here")
    return name


async def test_a_name_that_resolves_inside_is_refused_at_delivery(settings):
    name = local_name()
    async with running(dataclasses.replace(settings, env="production")) as tenant:
        endpoint_id, _ = await endpoint(tenant, f"https://{name}/hook")  # a name: judged when resolved
        await import_twilio(tenant)

        async def attempted():
            return await WebhookDelivery.filter(endpoint_id=endpoint_id, attempts__gte=1).first()

        row = await wait_until(attempted, seconds=10, what="a delivery attempt")
        metrics = (await tenant.client.get("/metrics")).text

    assert row.delivered_at is None and row.last_status is None
    assert row.last_error == f"refused: {name} resolves to a non-public address"
    assert sample(metrics, "trunkline_webhook_deliveries_total", outcome="refused") >= 1


async def test_a_url_is_checked_again_at_each_delivery(settings):
    """An endpoint made where private targets were allowed gets nothing from a server that refuses them."""
    async with Receiver() as receiver:
        allowed = dataclasses.replace(settings, webhook_allow_private=True, webhook_interval=3600)
        async with running(allowed) as tenant:  # its one pass ran at start, before there was anything to send
            endpoint_id, _ = await endpoint(tenant, receiver.url())
            await import_twilio(tenant)
        async with running(dataclasses.replace(settings, env="production")):

            async def attempted():
                return await WebhookDelivery.filter(endpoint_id=endpoint_id, attempts__gte=1).first()

            row = await wait_until(attempted, seconds=10, what="a delivery attempt")

    assert receiver.received == []
    assert row.last_error == "refused: the url must not point at this machine" and row.delivered_at is None


# ---------------------------------------------------------------- endpoints and their secret


async def test_the_signing_secret_is_shown_once_and_never_logged(tenant, client, caplog):
    caplog.set_level(logging.DEBUG)
    async with Receiver([500]) as receiver:
        created = await create_endpoint(tenant, receiver.url(), events=["IMPORTED", "IMPORTED", "DELETED"])
        secret = created["signingSecret"]
        endpoint_id = created["endpoint"]["id"]
        await import_twilio(tenant)
        await receiver.wait_for(2)
        listed = await tenant.client.post("/graphql", json={"query": ENDPOINTS}, headers=tenant.headers)
        node = await tenant.client.post(
            "/graphql", json={"query": "query($id: ID!) { node(id: $id) { id ... on WebhookEndpoint { url events } } }",
                              "variables": {"id": endpoint_id}}, headers=tenant.headers,
        )  # fmt: skip

    assert secret.startswith("whsec_") and len(secret) >= 6 + 43
    assert created["endpoint"]["events"] == ["IMPORTED", "DELETED"]
    assert secret not in listed.text and secret not in node.text
    assert node.json()["data"]["node"] == {"id": endpoint_id, "url": receiver.url(), "events": ["IMPORTED", "DELETED"]}
    assert secret not in caplog.text and "webhook" in caplog.text
    stored = await WebhookEndpoint.get(id=endpoint_id)
    assert secret not in stored.secret_encrypted
    assert all(secret not in str(request.headers) + request.body.decode() for request in receiver.received)


async def test_endpoints_are_per_workspace_bounded_and_deleted_with_their_deliveries(tenant, make_tenant):
    other = await make_tenant("Other")
    ids = [(await endpoint(tenant, f"http://127.0.0.1:9/{index}"))[0] for index in range(10)]
    too_many = await create_endpoint(tenant, "http://127.0.0.1:9/11")
    others_view = answer(await other.graphql(ENDPOINTS))
    not_yours = answer(await other.graphql(DELETE_WEBHOOK_ENDPOINT, {"id": ids[0]}))
    number = await import_twilio(tenant)
    await record_events(number["id"], 1)

    async def fanned_out() -> bool:
        return await WebhookDelivery.filter(endpoint_id=ids[0]).count() >= 2

    await wait_until(fanned_out, seconds=10, what="deliveries to the endpoint")
    deleted = answer(await tenant.graphql(DELETE_WEBHOOK_ENDPOINT, {"id": ids[0]}))
    again = answer(await tenant.graphql(DELETE_WEBHOOK_ENDPOINT, {"id": ids[0]}))
    listed = answer(await tenant.graphql(ENDPOINTS))

    assert field_codes(too_many) == [("url", "TOO_MANY")]
    assert others_view == [] and not_yours["__typename"] == "NotFoundError"
    assert deleted == {"__typename": "DeleteWebhookEndpointSuccess", "deletedWebhookEndpointId": ids[0]}
    assert again["__typename"] == "NotFoundError"
    assert [e["id"] for e in listed] == ids[1:]
    assert await WebhookDelivery.filter(endpoint_id=ids[0]).count() == 0


# ---------------------------------------------------------------- the signature helper


def test_verify_accepts_exactly_the_signed_body_at_a_recent_time():
    secret, body = "whsec_test", b'{"id":"evt_1"}'
    header = sign(secret, body, timestamp=1_700_000_000)

    assert verify(secret, body, header, now=1_700_000_100)
    assert verify(secret, body.decode(), header, now=1_700_000_100)
    assert not verify(secret, body + b"\n", header, now=1_700_000_100)
    assert not verify("whsec_other", body, header, now=1_700_000_100)
    assert not verify(secret, body, header, now=1_700_000_000 + 301)  # replayed after the tolerance
    assert verify(secret, body, header, now=1_700_000_000 + 301, tolerance=600)
    assert not verify(secret, body, header.replace("t=1700000000", "t=1700000001"), now=1_700_000_000)
    for malformed in (None, "", "v1=abc", "t=1700000000", "t=x,v1=abc", "t=1,t=2,v1=abc"):
        assert not verify(secret, body, malformed, now=1_700_000_000)
    # The key is the whole secret string, "whsec_" included: the contract's formula, computed independently.
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
