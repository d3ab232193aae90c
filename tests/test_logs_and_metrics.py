"""Request ids, JSON logs and /metrics, in process: a sandbox import makes real carrier calls over HTTP."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re

import pytest

from app.logs import configure_logging
from providers.sandbox.server import DEMO_STATE
from tests.graphql_documents import DEMO_CREDENTIALS, DEMO_DIDS, IMPORT_PHONE_NUMBER, import_result

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, sandbox_state=str(DEMO_STATE))


@pytest.fixture
def log_lines():
    """The server's JSON log stream as configured for production, parsed line by line; restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("twilio", "tortoise", "livekit", "aiohttp", "httpx")}
    stream = io.StringIO()
    configure_logging("json", stream=stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def import_twilio(e164: str) -> dict:
    return {"query": IMPORT_PHONE_NUMBER, "variables": {"input": {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS}}}


def sip_passwords(app) -> list[str]:
    twilio = app.state.sandbox.twilio
    return [
        credential.password
        for account in twilio.accounts.values()
        for credential_list in account.credential_lists.values()
        for credential in credential_list.credentials.values()
    ]


BACKGROUND_LOGGERS = {"app.event_sources", "app.background", "trunkline.webhooks", "resolvers.recover_interrupted"}


async def test_an_import_logs_its_request_id_on_every_line_and_no_secret(app, client, tenant, log_lines):
    before = len(log_lines())
    response = await client.post(
        "/graphql", json=import_twilio(DEMO_DIDS[1]), headers={**tenant.headers, "X-Request-Id": "edge-7f3a:import.1"}
    )
    assert import_result(response.json())["__typename"] == "ImportPhoneNumberSuccess"
    assert response.headers["X-Request-Id"] == "edge-7f3a:import.1"

    # What the app's background tasks (the event feed, deliveries, recovery) log meanwhile is no request's.
    lines = [line for line in log_lines()[before:] if line["logger"] not in BACKGROUND_LOGGERS]
    assert lines, "the request logged nothing"
    assert {line.get("request_id") for line in lines} == {"edge-7f3a:import.1"}, lines
    assert all(line["time"] and line["level"] and line["logger"] and "message" in line for line in lines)
    carrier_lines = [line for line in lines if line["logger"] == "trunkline.carrier"]
    assert {line["carrier"] for line in carrier_lines} == {"twilio", "livekit"}
    assert all(line["outcome"] == "ok" and line["duration"] >= 0 for line in carrier_lines)
    assert all(line["workspace_id"] == tenant.workspace.id for line in carrier_lines)
    [access] = [line for line in lines if line["logger"] == "trunkline.access"]
    assert (access["method"], access["path"], access["status"]) == ("POST", "/graphql", 200)
    assert (access["operation"], access["field"], access["workspace_id"]) == (
        "ImportPhoneNumber", "importPhoneNumber", tenant.workspace.id
    )
    # The twilio SDK's own INFO lines (URLs, headers, one per step) are held back.
    assert not [line for line in lines if line["logger"].startswith("twilio")]

    passwords = sip_passwords(app)
    assert passwords, "the import made no SIP credential to look for"
    secrets = [DEMO_CREDENTIALS["authToken"], tenant.api_key, app.state.settings.secret_key._value, *passwords]
    text = "\n".join(json.dumps(line) for line in log_lines())
    for secret in secrets:
        assert secret not in text


@pytest.mark.parametrize(
    "sent", ["has space", "x" * 129, "", "quote\"d", "ünïcode"], ids=["space", "too-long", "empty", "quote", "non-ascii"]
)
async def test_an_unusable_request_id_is_replaced(client, sent, log_lines):
    response = await client.get("/healthz", headers={"X-Request-Id": sent.encode("utf-8")})
    given = response.headers["X-Request-Id"]
    assert given != sent and GENERATED_ID.fullmatch(given)
    assert log_lines()[-1]["request_id"] == given


async def test_error_answers_carry_the_request_id_too(client, tenant):
    unauthenticated = await client.post(
        "/graphql", json={"query": "{ phoneNumbers { totalCount } }"}, headers={"Authorization": "Bearer sk_wrong"}
    )
    assert unauthenticated.status_code == 401
    assert GENERATED_ID.fullmatch(unauthenticated.headers["X-Request-Id"])
    too_large = await client.post(
        "/graphql", content=b"x" * (2 * 1024 * 1024), headers={**tenant.headers, "X-Request-Id": "big-1"}
    )
    assert (too_large.status_code, too_large.headers["X-Request-Id"]) == (413, "big-1")
    # Two requests, two ids.
    assert (await client.get("/healthz")).headers["X-Request-Id"] != unauthenticated.headers["X-Request-Id"]


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        metric, _, value = line.rpartition(" ")
        if metric.startswith(name + "{") or metric == name:
            got = ",".join(sorted(metric[len(name) + 1 : -1].split(","))) if "{" in metric else ""
            if got == wanted:
                return float(value)
    return 0.0


async def test_metrics_move_with_an_import(client, tenant):
    before = (await client.get("/metrics")).text
    done = await client.post("/graphql", json=import_twilio(DEMO_DIDS[2]), headers=tenant.headers)
    assert import_result(done.json())["__typename"] == "ImportPhoneNumberSuccess"
    invalid = await client.post("/graphql", json=import_twilio("12"), headers=tenant.headers)
    assert import_result(invalid.json())["__typename"] == "ValidationError"
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    after = scraped.text

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("trunkline_imports_total", source="TWILIO", outcome="success") == 1
    assert moved("trunkline_imports_total", source="TWILIO", outcome="invalid") == 1
    assert moved("trunkline_http_requests_total", operation="importPhoneNumber", status="200") == 2
    assert moved("trunkline_carrier_requests_total", carrier="twilio", operation="look up IncomingPhoneNumbers", outcome="ok") == 1
    assert moved("trunkline_carrier_request_duration_seconds_count", carrier="twilio", operation="create Trunk") == 1
    assert sum(
        moved("trunkline_carrier_requests_total", carrier="livekit", operation=op, outcome="ok")
        for op in ("CreateSIPInboundTrunk", "CreateSIPOutboundTrunk")
    ) >= 1
    assert moved("trunkline_http_request_duration_seconds_count", operation="importPhoneNumber") == 2
    assert sample(after, "trunkline_phone_numbers", status="ACTIVE") == 1
    assert sample(after, "trunkline_phone_numbers", status="PROVISIONING") == 0


async def test_metrics_need_no_key_and_can_be_turned_off(settings):
    import httpx

    from app.main import create_app

    for enabled, status in ((True, 200), (False, 404)):
        application = create_app(dataclasses.replace(settings, metrics=enabled))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://trunkline.test") as http:
                assert (await http.get("/metrics")).status_code == status
