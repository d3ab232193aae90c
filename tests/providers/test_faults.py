"""Fault injection (Python and HTTP), the state endpoint, seeding and the demo state."""

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from providers.sandbox.faults import FaultRule, Faults, fault_middleware
from providers.sandbox.server import DEMO_STATE, load_seed, start_sandbox
from providers.sandbox.twilio import TwilioState
from tests.sandbox_snapshot import comparable_carriers
from tests.providers.conftest import (
    CUSTOMER_DIDS,
    CUSTOMER_SID,
    CUSTOMER_TOKEN,
    LIVEKIT_API_SECRET,
    PLATFORM_TOKEN,
    build_seed,
)

AUTH = {"Authorization": aiohttp.encode_basic_auth(CUSTOMER_SID, CUSTOMER_TOKEN)}
NUMBERS_PATH = f"/2010-04-01/Accounts/{CUSTOMER_SID}/IncomingPhoneNumbers.json"
LIVEKIT_PATH = "/twirp/livekit.SIP/ListSIPInboundTrunk"
CREDENTIAL_LISTS_PATH = f"/2010-04-01/Accounts/{CUSTOMER_SID}/SIP/CredentialLists.json"


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def statuses(http, url, n=1, method="GET", path=NUMBERS_PATH):
    found = []
    for _ in range(n):
        async with http.request(method, url + path, headers=AUTH) as response:
            found.append(response.status)
    return found


# Rules, through the Python API


async def test_fault_applies_to_the_next_k_matching_calls(sandbox, http):
    sandbox.faults.add("GET", "*/IncomingPhoneNumbers.json", status=503, times=2)

    assert await statuses(http, sandbox.url, 3) == [503, 503, 200]
    assert sandbox.faults.rules == []


async def test_fault_without_times_applies_always(sandbox, http):
    sandbox.faults.add("*", "/2010-04-01/*", status=500)

    assert await statuses(http, sandbox.url, 3) == [500, 500, 500]


async def test_fault_answers_given_body_and_headers(sandbox, http):
    sandbox.faults.add("GET", NUMBERS_PATH, status=429, headers={"Retry-After": "3"},
                       body={"code": 20429, "message": "Too Many Requests", "status": 429})

    async with http.get(sandbox.url + NUMBERS_PATH, headers=AUTH) as response:
        body = await response.json()

    assert (response.status, response.headers["Retry-After"]) == (429, "3")
    assert body == {"code": 20429, "message": "Too Many Requests", "status": 429}


async def test_fault_matches_method(sandbox, http):
    sandbox.faults.add("POST", "*", status=503)

    assert await statuses(http, sandbox.url) == [200]


async def test_fault_glob_does_not_match_other_paths(sandbox, http):
    sandbox.faults.add("GET", "/v1/Trunks*", status=503)

    assert await statuses(http, sandbox.url) == [200]


async def test_fault_with_only_a_delay_lets_the_call_through(sandbox, http):
    sandbox.faults.add("GET", "*", delay=0.05, times=1)

    assert await statuses(http, sandbox.url) == [200]
    assert sandbox.requests == [{"method": "GET", "path": NUMBERS_PATH, "status": 200}]


async def test_fault_drops_the_connection(sandbox, http):
    sandbox.faults.add("GET", "*", drop=True)

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await statuses(http, sandbox.url)

    # aiohttp resends an idempotent request once when the server hangs up; both are dropped.
    assert sandbox.requests[0] == {"method": "GET", "path": NUMBERS_PATH, "status": None, "dropped": True}
    assert all(r["dropped"] for r in sandbox.requests)


async def test_faults_apply_to_livekit_paths(sandbox, http):
    sandbox.faults.add("POST", "/twirp/*", status=503, body={"code": "unavailable", "msg": "try later"})

    async with http.post(sandbox.url + LIVEKIT_PATH, json={}) as response:
        body = await response.json()

    assert (response.status, body) == (503, {"code": "unavailable", "msg": "try later"})


async def test_clear_removes_every_fault(sandbox, http):
    sandbox.faults.add("GET", "*", status=503)

    sandbox.faults.clear()

    assert await statuses(http, sandbox.url) == [200]


def test_first_matching_rule_wins():
    faults = Faults()
    first = faults.add("GET", "/v1/*", status=500, times=1)
    faults.add("*", "*", status=503)

    assert faults.take("GET", "/v1/Trunks") is first
    assert faults.take("GET", "/v1/Trunks").status == 503


@pytest.mark.parametrize(
    "fields",
    [{}, {"status": 503, "drop": True}, {"status": 42}, {"delay": -1}, {"status": 503, "times": 0}],
    ids=["nothing-to-do", "status-and-drop", "bad-status", "negative-delay", "zero-times"],
)
def test_fault_rule_refuses_nonsense(fields):
    with pytest.raises(ValueError):
        FaultRule(**fields)


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"when": "during"}, "when"), ({"when": None}, "when"), ({"probability": 0}, "probability"),
     ({"probability": 1.5}, "probability"), ({"probability": -0.1}, "probability"),
     ({"probability": "often"}, "probability"), ({"probability": True}, "probability")],
)
def test_fault_rule_refuses_bad_when_and_probability(fields, named):
    with pytest.raises(ValueError, match=named):
        FaultRule(status=503, **fields)


# Rules, through HTTP


async def test_http_adds_lists_and_clears_faults(sandbox, http):
    rule = {"method": "GET", "path": "*/IncomingPhoneNumbers.json", "status": 503, "times": 1}

    async with http.post(sandbox.url + "/__sandbox/faults", json=rule) as added:
        assert added.status == 201, await added.text()
    async with http.get(sandbox.url + "/__sandbox/faults") as listed:
        assert [r["path"] for r in await listed.json()] == [rule["path"]]
    assert await statuses(http, sandbox.url, 2) == [503, 200]

    await http.post(sandbox.url + "/__sandbox/faults", json=[{"status": 500}, {"delay": 0.01}])
    async with http.delete(sandbox.url + "/__sandbox/faults") as cleared:
        assert cleared.status == 204
    assert sandbox.faults.rules == []


@pytest.mark.parametrize(
    "body",
    [{"status": 503, "drop": True}, {"colour": "red", "status": 503}, "not an object"],
    ids=["invalid-rule", "unknown-field", "not-an-object"],
)
async def test_http_refuses_bad_fault(sandbox, http, body):
    async with http.post(sandbox.url + "/__sandbox/faults", json=body) as response:
        assert response.status == 400
        assert "error" in await response.json()
    assert sandbox.faults.rules == []


@pytest.mark.parametrize(
    ("rule", "named"),
    [({"status": 503, "when": "later"}, "when"), ({"status": 503, "probability": 0}, "probability"),
     ({"status": 503, "probability": 2}, "probability"), ({"status": 503, "probability": "half"}, "probability")],
    ids=["bad-when", "zero-probability", "probability-over-one", "probability-not-a-number"],
)
async def test_http_refuses_bad_when_or_probability_naming_the_field(sandbox, http, rule, named):
    async with http.post(sandbox.url + "/__sandbox/faults", json=rule) as response:
        assert response.status == 400
        assert named in (await response.json())["error"]
    assert sandbox.faults.rules == []


# "after" faults: the carrier acts, then its answer is spoiled


async def create_credential_list(http, url, name, **kwargs):
    """POST a credential list as a carrier client would; returns (status, body)."""
    async with http.post(url + CREDENTIAL_LISTS_PATH, headers=AUTH, data={"FriendlyName": name}, **kwargs) as response:
        return response.status, await response.json()


def credential_lists(sandbox):
    return [cl.friendly_name for cl in sandbox.twilio.account(CUSTOMER_SID).credential_lists.values()]


async def add_fault_over_http(http, sandbox, rule):
    async with http.post(sandbox.url + "/__sandbox/faults", json=rule) as response:
        assert response.status == 201, await response.text()


@pytest.mark.parametrize(("when", "created"), [("before", []), ("after", ["Outbound"])])
async def test_status_fault_after_keeps_the_created_resource(sandbox, http, when, created):
    await add_fault_over_http(http, sandbox, {"method": "POST", "path": "*/CredentialLists.json",
                                              "status": 500, "when": when, "times": 1})

    status, body = await create_credential_list(http, sandbox.url, "Outbound")

    assert (status, body["message"]) == (500, "Injected sandbox fault")
    assert credential_lists(sandbox) == created
    assert sandbox.requests == [{"method": "POST", "path": CREDENTIAL_LISTS_PATH, "status": 500}]


async def test_drop_fault_after_keeps_the_created_resource(sandbox, http):
    await add_fault_over_http(http, sandbox, {"method": "POST", "path": "*/CredentialLists.json",
                                              "drop": True, "when": "after", "times": 1})

    with pytest.raises(aiohttp.ClientConnectionError):
        await create_credential_list(http, sandbox.url, "Outbound")

    assert credential_lists(sandbox) == ["Outbound"]
    assert sandbox.requests == [{"method": "POST", "path": CREDENTIAL_LISTS_PATH, "status": None, "dropped": True}]


async def test_delay_fault_after_beyond_the_client_timeout_leaves_the_resource(sandbox, http):
    sandbox.faults.add("POST", "*/CredentialLists.json", delay=2.0, when="after", times=1)

    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await create_credential_list(http, sandbox.url, "Outbound", timeout=aiohttp.ClientTimeout(total=0.2))

    assert time.monotonic() - started < 2.0  # gave up before the delayed answer
    # The client gave up, yet the carrier had already acted.
    assert credential_lists(sandbox) == ["Outbound"]


async def test_delay_fault_after_sends_the_real_answer_late(sandbox, http):
    sandbox.faults.add("POST", "*/CredentialLists.json", delay=0.3, when="after", times=1)

    started = time.monotonic()
    status, body = await create_credential_list(http, sandbox.url, "Outbound")

    assert time.monotonic() - started >= 0.3
    assert (status, body["friendly_name"]) == (201, "Outbound")
    assert body["sid"] in sandbox.twilio.account(CUSTOMER_SID).credential_lists
    assert sandbox.requests == [{"method": "POST", "path": CREDENTIAL_LISTS_PATH, "status": 201}]


async def test_delay_fault_after_counts_the_carriers_own_work_towards_the_delay(aiohttp_client):
    """The delay is the carrier's whole round trip: the answer leaves `delay` after the request came,
    however long the carrier took to act within it (a benchmark's injected RTT is then the RTT)."""
    faults = Faults()
    faults.add("POST", "/slow", delay=1.0, when="after")
    acted = []

    async def slow_carrier(request):
        await asyncio.sleep(0.8)
        acted.append(time.monotonic())
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[fault_middleware(faults)])
    app.router.add_post("/slow", slow_carrier)
    client = await aiohttp_client(app)

    started = time.monotonic()
    async with client.post("/slow") as response:
        assert (response.status, await response.json()) == (200, {"ok": True})
    answered = time.monotonic() - started

    assert acted and acted[0] - started >= 0.8
    # 1.8 s or more if the delay were waited after the carrier's 0.8 s; the rest is room for a loaded machine
    assert 1.0 <= answered < 1.6


async def test_delay_fault_after_passes_on_a_raised_http_error(sandbox, http):
    sandbox.faults.add("GET", "/nowhere", delay=0.05, when="after")

    async with http.get(sandbox.url + "/nowhere") as response:
        assert response.status == 404
    assert sandbox.requests == [{"method": "GET", "path": "/nowhere", "status": 404}]


# Probability and the seed


async def reseed(http, sandbox, seed):
    async with http.post(sandbox.url + "/__sandbox/faults/seed", json={"seed": seed}) as response:
        assert response.status == 204, await response.text()


async def test_probability_faults_a_share_and_a_seed_replays_it(sandbox, http):
    await add_fault_over_http(http, sandbox, {"method": "GET", "path": NUMBERS_PATH, "status": 503, "probability": 0.3})

    await reseed(http, sandbox, 1)
    first = await statuses(http, sandbox.url, 200)
    await reseed(http, sandbox, 1)
    again = await statuses(http, sandbox.url, 200)
    await reseed(http, sandbox, 2)
    other = await statuses(http, sandbox.url, 200)

    assert set(first) == {200, 503}
    assert 40 <= first.count(503) <= 80
    assert again == first
    assert other != first


async def test_request_not_taking_a_rule_is_not_counted_and_goes_on(sandbox, http):
    sandbox.faults.seed(7)
    sandbox.faults.add("GET", "*", status=503, probability=0.5, times=5)
    sandbox.faults.add("GET", "*", status=500)

    found = await statuses(http, sandbox.url, 40)

    assert found.count(503) == 5
    assert found.count(500) == 35
    assert [r.status for r in sandbox.faults.rules] == [500]


@pytest.mark.parametrize("body", [{"seed": "one"}, {"seed": True}, {}, [1], "nope"],
                         ids=["string", "bool", "missing", "list", "not-json-object"])
async def test_http_refuses_bad_seed(sandbox, http, body):
    async with http.post(sandbox.url + "/__sandbox/faults/seed", json=body) as response:
        assert response.status == 400
        assert "seed" in (await response.json())["error"]


async def probe_statuses(http, url, n=30):
    """Statuses of `n` GETs of an unrouted path under a p=0.5 rule: 503 if faulted, else 404."""
    async with http.post(url + "/__sandbox/faults", json={"path": "/probe", "status": 503, "probability": 0.5}):
        pass
    return await statuses(http, url, n, path="/probe")


async def test_cli_fault_seed_seeds_the_sandbox(http):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "sandbox", "--port", str(port), "--fault-seed", "5"],
                               cwd=Path(__file__).parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                async with http.get(url + "/__sandbox/state"):
                    break
            except aiohttp.ClientConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, "the sandbox did not start"
                await asyncio.sleep(0.1)
        from_cli = await probe_statuses(http, url)
    finally:
        process.terminate()
        process.wait(timeout=10)

    in_process = await start_sandbox(seed=build_seed(), fault_seed=5)
    try:
        assert await probe_statuses(http, in_process.url) == from_cli
    finally:
        await in_process.close()
    assert set(from_cli) == {404, 503}


# State and request log


async def test_state_shows_both_emulators_and_the_request_log(sandbox, http):
    await statuses(http, sandbox.url)
    async with http.post(sandbox.url + LIVEKIT_PATH, json={}) as response:
        assert response.status == 401

    async with http.get(sandbox.url + "/__sandbox/state") as response:
        state = await response.json()

    assert set(state) == {"twilio", "livekit", "faults", "requests"}
    assert [a["sid"] for a in state["twilio"]["accounts"]][0] == CUSTOMER_SID
    assert state["requests"] == [
        {"method": "GET", "path": NUMBERS_PATH, "status": 200},
        {"method": "POST", "path": LIVEKIT_PATH, "status": 401},
    ]


async def test_state_holds_no_secrets(sandbox, http, customer):
    cl_sid = await customer.create_credential_list("Outbound")
    await customer.add_credential(cl_sid, "acme", "Sip-Passw0rd-Secret")

    async with http.get(sandbox.url + "/__sandbox/state") as response:
        text = await response.text()

    for secret in (CUSTOMER_TOKEN, PLATFORM_TOKEN, LIVEKIT_API_SECRET, "Sip-Passw0rd-Secret", "Basic "):
        assert secret not in text


def as_seeded(state: dict) -> dict:
    """The carriers in a state, as compared across a reset (which gives seeded numbers new SIDs)."""
    carriers = comparable_carriers(state["twilio"], state["livekit"])
    for account in carriers["twilio"]["accounts"]:
        for number in account["incoming_phone_numbers"] + account["outgoing_caller_ids"]:
            del number["sid"]
    return carriers


async def test_reset_puts_back_the_seed_and_clears_faults_and_log(sandbox, http, customer):
    # given: a credential list and a trunk made, a rotated token, fault rules, a log and dice drawn from
    async with http.get(sandbox.url + "/__sandbox/state") as response:
        seeded = await response.json()
    cl_sid = await customer.create_credential_list("Outbound")
    await customer.add_credential(cl_sid, "acme", "Sip-Passw0rd-Secret")
    await customer.create_trunk("Acme", "acme-reset.pstn.twilio.com")
    async with http.post(
        sandbox.url + f"/__sandbox/twilio/accounts/{CUSTOMER_SID}/auth_token", json={"auth_token": "f" * 32}
    ) as response:
        assert response.status == 204
    await add_fault_over_http(http, sandbox, {"method": "GET", "path": "*", "status": 503, "probability": 0.5})

    # when
    async with http.post(sandbox.url + "/__sandbox/reset") as response:
        assert response.status == 204

    # then: the state is the seed's again, the seeded token opens the account, no rule, no log
    async with http.get(sandbox.url + "/__sandbox/state") as response:
        state = await response.json()
    assert as_seeded(state) == as_seeded(seeded)
    assert (state["faults"], state["requests"]) == ([], [])
    assert await statuses(http, sandbox.url) == [200]


def test_reset_faults_draw_again_from_the_seed_they_started_with():
    faults = Faults(seed=3)
    drawn = [faults.random.random() for _ in range(3)]
    faults.add("GET", "*", status=503, probability=0.5)

    faults.reset()

    assert faults.rules == []
    assert [faults.random.random() for _ in range(3)] == drawn


async def test_reset_in_process_keeps_livekit_from_offering_the_twilio_numbers(sandbox):
    sandbox.reset()

    assert set(CUSTOMER_DIDS) <= sandbox.livekit.held_numbers()


# Seeding


def test_load_seed_reads_explicit_path(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(build_seed()))

    assert load_seed(str(path), environ={}) == build_seed()


def test_load_seed_reads_the_state_variable(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"twilio": {"accounts": []}}))

    assert load_seed(None, environ={"TRUNKLINE_SANDBOX_STATE": str(path)}) == {"twilio": {"accounts": []}}


def test_load_seed_defaults_to_demo_state():
    assert load_seed(None, environ={}) == json.loads(DEMO_STATE.read_text())


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"], ids=["invalid-json", "not-an-object"])
def test_load_seed_names_the_variable_on_bad_file(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_text(content)

    with pytest.raises(ValueError, match="TRUNKLINE_SANDBOX_STATE"):
        load_seed(str(path), environ={})


def test_load_seed_names_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="missing.json"):
        load_seed(str(tmp_path / "missing.json"), environ={})


async def test_demo_state_has_customer_dids_caller_ids_platform_and_livekit(monkeypatch):
    monkeypatch.delenv("TRUNKLINE_SANDBOX_STATE", raising=False)
    running = await start_sandbox()
    try:
        customer, platform = running.twilio.accounts.values()
        assert len(customer.incoming_phone_numbers) == 3
        assert len(customer.outgoing_caller_ids) == 2
        assert platform.incoming_phone_numbers == {} and platform.available_phone_numbers is None
        assert (running.livekit.api_key, running.livekit.api_secret) == ("devkey", "secret")
        assert running.url.startswith("http://127.0.0.1:")
    finally:
        await running.close()


def test_seeded_numbers_accept_objects_with_friendly_names():
    state = TwilioState.from_seed({"accounts": [{
        "sid": CUSTOMER_SID, "auth_token": CUSTOMER_TOKEN,
        "incoming_phone_numbers": [{"phone_number": "+14155550101", "friendly_name": "Front desk"}],
    }]})

    assert state.account(CUSTOMER_SID).number("+14155550101").friendly_name == "Front desk"
