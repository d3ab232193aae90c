"""LiveKitGateway against the sandbox over real loopback HTTP: every operation, every error mapping."""

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from providers.errors import CredentialsRejected, NotFound, ProviderTimeout, RateLimited, Rejected, Unavailable
from providers.livekit import LiveKitGateway, http_base
from providers.retry import RetryPolicy
from providers.sandbox.app import FAULTS, LIVEKIT_STATE, REQUEST_LOG, create_sandbox_app
from providers.sandbox.livekit import LiveKitState, setup_livekit

KEY = "APIclientTestKey"
SECRET = "client-test-secret-0123456789abcdef0123456789"
SEED = {"livekit": {"api_key": KEY, "api_secret": SECRET}}
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, total_budget=5.0)
SIP = "/twirp/livekit.SIP/"
NUMBERS = "/twirp/livekit.PhoneNumberService/"


@pytest.fixture
async def sandbox(aiohttp_server):
    return await aiohttp_server(create_sandbox_app(SEED))


@pytest.fixture
def state(sandbox) -> LiveKitState:
    return sandbox.app[LIVEKIT_STATE]


@pytest.fixture
def faults(sandbox):
    return sandbox.app[FAULTS]


@pytest.fixture
async def gateway(sandbox):
    async with LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET,
                              timeout=2.0, retry=FAST) as gateway:
        yield gateway


def attempts(sandbox, path: str) -> int:
    """How many requests for `path` reached the sandbox (faulted ones included)."""
    return sum(entry["path"] == path for entry in sandbox.app[REQUEST_LOG])


def twirp_body(code: str, msg: str = "injected") -> dict:
    return {"code": code, "msg": msg, "meta": {}}


# --- SIP trunks ------------------------------------------------------------------------------


async def test_inbound_trunk_is_created_read_renumbered_and_deleted(gateway, state):
    trunk_id = await gateway.create_inbound_trunk("twilio-AC1234", ["+14155550100"], allowed_addresses=["54.172.60.0/30"])

    renumbered = await gateway.set_inbound_trunk_numbers(trunk_id, ["+14155550100", "+14155550101"])
    read = await gateway.get_inbound_trunk(trunk_id)
    await gateway.delete_trunk(trunk_id)

    assert trunk_id.startswith("ST_")
    assert renumbered == read
    assert (read.id, read.name, read.numbers, read.allowed_addresses, read.auth_username) == (
        trunk_id, "twilio-AC1234", ("+14155550100", "+14155550101"), ("54.172.60.0/30",), ""
    )
    assert state.inbound_trunks == {}


async def test_inbound_trunk_numbers_can_be_emptied_when_addresses_remain(gateway, state):
    trunk_id = await gateway.create_inbound_trunk("byoc", ["+14155550100"], allowed_addresses=["203.0.113.7"])

    emptied = await gateway.set_inbound_trunk_numbers(trunk_id, [])

    assert emptied.numbers == ()
    assert list(state.inbound_trunks[trunk_id].numbers) == []


async def test_outbound_trunk_is_created_read_renumbered_and_deleted(gateway, state):
    trunk_id = await gateway.create_outbound_trunk(
        "twilio-out", "trunkline-1a2b.pstn.twilio.com", ["+14155550100"], transport="tcp",
        auth_username="trunkline", auth_password="S3cretPassw0rd",
    )

    renumbered = await gateway.set_outbound_trunk_numbers(trunk_id, ["+14155550100", "+13125550150"])
    read = await gateway.get_outbound_trunk(trunk_id)
    await gateway.delete_trunk(trunk_id)

    assert renumbered == read
    assert (read.address, read.numbers, read.transport, read.auth_username) == (
        "trunkline-1a2b.pstn.twilio.com", ("+14155550100", "+13125550150"), "tcp", "trunkline"
    )
    assert state.outbound_trunks == {}


async def test_concurrent_number_changes_on_one_trunk_all_survive(gateway, state):
    trunk_id = await gateway.create_inbound_trunk("shared", ["+14155550100"])

    await asyncio.gather(*(
        gateway.change_inbound_trunk_numbers(trunk_id, add=[f"+1415555011{i}"]) for i in range(5)
    ))
    after_remove = await gateway.change_inbound_trunk_numbers(trunk_id, remove=["+14155550100", "+14155550199"])

    assert sorted(after_remove.numbers) == [f"+1415555011{i}" for i in range(5)]
    assert sorted(state.inbound_trunks[trunk_id].numbers) == sorted(after_remove.numbers)


async def test_adding_a_number_already_on_the_trunk_changes_nothing(gateway):
    trunk_id = await gateway.create_outbound_trunk("out", "t.pstn.twilio.com", ["+14155550100"])
    again = await gateway.change_outbound_trunk_numbers(trunk_id, add=["+14155550100", "+14155550101"])
    assert again.numbers == ("+14155550100", "+14155550101")


async def test_removing_the_last_number_of_an_outbound_trunk_is_rejected(gateway):
    trunk_id = await gateway.create_outbound_trunk("out", "t.pstn.twilio.com", ["+14155550100"])
    with pytest.raises(Rejected, match="no trunk numbers specified"):
        await gateway.change_outbound_trunk_numbers(trunk_id, remove=["+14155550100"])


async def test_outbound_trunk_keeps_the_password_it_was_given(gateway, state):
    trunk_id = await gateway.create_outbound_trunk(
        "out", "t.pstn.twilio.com", ["+14155550100"], auth_username="u", auth_password="S3cretPassw0rd"
    )
    assert state.outbound_trunks[trunk_id].auth_password == "S3cretPassw0rd"


async def test_setting_an_outbound_trunk_to_no_numbers_is_rejected(gateway, state):
    trunk_id = await gateway.create_outbound_trunk("out", "t.pstn.twilio.com", ["+14155550100"])

    with pytest.raises(Rejected) as caught:
        await gateway.set_outbound_trunk_numbers(trunk_id, [])

    assert (caught.value.code, caught.value.status) == ("invalid_argument", 400)
    assert "no trunk numbers specified" in caught.value.message
    assert list(state.outbound_trunks[trunk_id].numbers) == ["+14155550100"]


async def test_outbound_trunk_to_a_sip_uri_is_rejected(gateway):
    with pytest.raises(Rejected, match="should be a hostname or IP, not SIP URI"):
        await gateway.create_outbound_trunk("out", "sip:t.pstn.twilio.com", ["+14155550100"])


async def test_unknown_transport_is_refused_before_any_call(gateway, sandbox):
    with pytest.raises(ValueError, match="transport must be one of"):
        await gateway.create_outbound_trunk("out", "t.pstn.twilio.com", ["+14155550100"], transport="sctp")
    assert attempts(sandbox, SIP + "CreateSIPOutboundTrunk") == 0


async def test_inbound_trunk_settings_are_set_cleared_and_its_numbers_kept(gateway, state):
    trunk_id = await gateway.create_inbound_trunk(
        "byoc", ["+14155550100"], allowed_addresses=["203.0.113.0/24"], auth_username="u", auth_password="S3cretPassw0rd"
    )

    changed = await gateway.update_inbound_trunk_fields(
        trunk_id, allowed_addresses=["198.51.100.7/32"], auth_username="ops", auth_password="N3wPassw0rd-x"
    )
    stored = state.inbound_trunks[trunk_id]
    assert (changed.numbers, changed.allowed_addresses, changed.auth_username) == (("+14155550100",), ("198.51.100.7/32",), "ops")
    assert stored.auth_password == "N3wPassw0rd-x"

    # An empty list and None clear: LiveKit would read an empty `set` as "no change".
    cleared = await gateway.update_inbound_trunk_fields(trunk_id, allowed_addresses=[], auth_username=None, auth_password=None)
    stored = state.inbound_trunks[trunk_id]
    assert (cleared.numbers, cleared.allowed_addresses, cleared.auth_username) == (("+14155550100",), (), "")
    assert stored.auth_password == ""


async def test_outbound_trunk_settings_are_set_and_its_numbers_kept(gateway, state):
    trunk_id = await gateway.create_outbound_trunk(
        "byoc", "sip.example-carrier.com", ["+14155550100", "+14155550101"], auth_username="u", auth_password="S3cretPassw0rd"
    )

    changed = await gateway.update_outbound_trunk_fields(
        trunk_id, address="198.51.100.20:5061", transport="tls", auth_username=None, auth_password=None
    )

    assert (changed.address, changed.transport, changed.numbers, changed.auth_username) == (
        "198.51.100.20:5061", "tls", ("+14155550100", "+14155550101"), ""
    )
    assert state.outbound_trunks[trunk_id].auth_password == ""


async def test_trunk_settings_of_a_missing_trunk_are_not_found(gateway):
    with pytest.raises(NotFound):
        await gateway.update_inbound_trunk_fields("ST_missing", allowed_addresses=[], auth_username=None, auth_password=None)


# --- dispatch rules --------------------------------------------------------------------------


async def test_dispatch_rule_is_created_updated_and_deleted(gateway, state):
    trunk_id = await gateway.create_inbound_trunk("in", ["+14155550100"])

    rule_id = await gateway.create_dispatch_rule(
        "agent_01J", agent_name="sales-agent", numbers=["+14155550100"], trunk_ids=[trunk_id]
    )
    created = state.dispatch_rules[rule_id]
    await gateway.update_dispatch_rule(rule_id, agent_name="support-agent")
    updated = state.dispatch_rules[rule_id]
    await gateway.delete_dispatch_rule(rule_id)

    assert rule_id.startswith("SDR_")
    assert (created.name, list(created.numbers), list(created.trunk_ids)) == ("agent_01J", ["+14155550100"], [trunk_id])
    assert created.rule.dispatch_rule_individual.room_prefix == "call-"
    assert [a.agent_name for a in created.room_config.agents] == ["sales-agent"]
    assert [a.agent_name for a in updated.room_config.agents] == ["support-agent"]
    assert state.dispatch_rules == {}


async def test_update_of_missing_dispatch_rule_is_not_found(gateway):
    with pytest.raises(NotFound):
        await gateway.update_dispatch_rule("SDR_missing", agent_name="a")


# --- phone numbers ---------------------------------------------------------------------------


async def test_search_numbers_returns_numbers_in_the_area_code(gateway):
    found = await gateway.search_numbers(area_code="212", limit=3)

    assert len(found) == 3
    assert all(n.e164.startswith("+1212") and (n.locality, n.region) == ("New York", "NY") for n in found)


async def test_number_is_purchased_read_rerouted_and_released(gateway, state):
    rule_id = await gateway.create_dispatch_rule("agent", agent_name="sales-agent")
    [offer] = await gateway.search_numbers(area_code="415", limit=1)

    bought = await gateway.purchase_number(offer.e164, dispatch_rule_id=rule_id)
    read = await gateway.get_number(bought.id)
    offline = await gateway.update_number_dispatch_rule(bought.id, None)
    await gateway.release_number(bought.id)

    assert bought.id.startswith("PN_")
    assert (bought.e164, bought.status, bought.dispatch_rule_id) == (offer.e164, "ACTIVE", rule_id)
    assert read == bought
    assert (offline.status, offline.dispatch_rule_id) == ("OFFLINE", None)
    assert state.phone_numbers[bought.id].status == "PHONE_NUMBER_STATUS_RELEASED"


async def test_purchase_of_a_number_not_on_offer_is_rejected(gateway, state):
    with pytest.raises(Rejected) as caught:
        await gateway.purchase_number("+14155551234")
    assert (caught.value.code, caught.value.status) == ("failed_precondition", 412)
    assert state.phone_numbers == {}


# --- undo is idempotent ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "undo",
    [
        lambda g: g.delete_trunk("ST_missing"),
        lambda g: g.delete_dispatch_rule("SDR_missing"),
        lambda g: g.release_number("PN_missing"),
    ],
    ids=["trunk", "dispatch-rule", "number"],
)
async def test_deleting_what_is_already_gone_succeeds(gateway, undo):
    assert await undo(gateway) is None


async def test_deleting_twice_succeeds(gateway, state):
    trunk_id = await gateway.create_inbound_trunk("in", ["+14155550100"])
    await gateway.delete_trunk(trunk_id)
    await gateway.delete_trunk(trunk_id)
    assert state.inbound_trunks == {}


# --- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.get_inbound_trunk("ST_missing"),
        lambda g: g.get_outbound_trunk("ST_missing"),
        lambda g: g.get_number("PN_missing"),
        lambda g: g.update_number_dispatch_rule("PN_missing", None),
    ],
    ids=["inbound-trunk", "outbound-trunk", "number", "number-update"],
)
async def test_livekit_404_becomes_not_found(gateway, call):
    with pytest.raises(NotFound) as caught:
        await call(gateway)
    assert (caught.value.provider, caught.value.code, caught.value.status) == ("livekit", "not_found", 404)


CALLS_BY_PATH = [
    pytest.param(lambda g: g.create_inbound_trunk("in", ["+14155550100"]), id="sdk-create"),
    pytest.param(lambda g: g.get_inbound_trunk("ST_x"), id="proto-get"),
    pytest.param(lambda g: g.search_numbers(), id="json-search"),
]


@pytest.mark.parametrize("call", CALLS_BY_PATH)
async def test_livekit_401_with_wrong_secret_becomes_credentials_rejected(sandbox, call):
    async with LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY,
                              api_secret="wrong-secret-0123456789abcdef0123456789", retry=FAST) as gateway:
        with pytest.raises(CredentialsRejected) as caught:
            await call(gateway)
    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("unauthenticated", 401, False)


@pytest.mark.parametrize("call", CALLS_BY_PATH)
async def test_livekit_403_without_sip_admin_becomes_credentials_rejected(gateway, faults, call):
    # What LiveKit answers when the API key exists but may not manage SIP.
    faults.add("POST", "/twirp/*", status=403, body=twirp_body("permission_denied", "permissions denied"))
    with pytest.raises(CredentialsRejected) as caught:
        await call(gateway)
    assert (caught.value.code, caught.value.status) == ("permission_denied", 403)


async def test_livekit_429_then_success_is_retried_even_for_a_create(gateway, sandbox, faults, state):
    path = SIP + "CreateSIPInboundTrunk"
    faults.add("POST", path, status=429, body=twirp_body("resource_exhausted", "slow down"), times=1)

    trunk_id = await gateway.create_inbound_trunk("in", ["+14155550100"])

    assert attempts(sandbox, path) == 2
    assert list(state.inbound_trunks) == [trunk_id]


async def test_livekit_429_retry_after_is_waited_for(sandbox, faults):
    path = NUMBERS + "SearchPhoneNumbers"
    faults.add("POST", path, status=429, body=twirp_body("resource_exhausted"), headers={"Retry-After": "1"}, times=1)
    policy = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=2.0, total_budget=5.0)

    async with LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET, retry=policy) as gateway:
        started = time.monotonic()
        found = await gateway.search_numbers(limit=1)
        waited = time.monotonic() - started

    assert len(found) == 1
    assert waited >= 0.9


async def test_livekit_429_until_retries_run_out_becomes_rate_limited(gateway, sandbox, faults):
    faults.add("POST", NUMBERS + "PurchasePhoneNumber", status=429, body=twirp_body("resource_exhausted"))
    with pytest.raises(RateLimited) as caught:
        await gateway.purchase_number("+14155550199")
    assert caught.value.status == 429
    assert attempts(sandbox, NUMBERS + "PurchasePhoneNumber") == FAST.max_attempts


async def test_livekit_503_until_retries_run_out_becomes_unavailable(gateway, sandbox, faults):
    path = SIP + "GetSIPInboundTrunk"
    faults.add("POST", path, status=503, body=twirp_body("unavailable", "down for maintenance"))

    with pytest.raises(Unavailable) as caught:
        await gateway.get_inbound_trunk("ST_any")

    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("unavailable", 503, True)
    assert "down for maintenance" in caught.value.message
    assert attempts(sandbox, path) == FAST.max_attempts


async def test_livekit_503_then_success_is_retried_for_a_delete(gateway, sandbox, faults, state):
    trunk_id = await gateway.create_inbound_trunk("in", ["+14155550100"])
    faults.add("POST", SIP + "DeleteSIPTrunk", status=503, body=twirp_body("unavailable"), times=1)

    await gateway.delete_trunk(trunk_id)

    assert attempts(sandbox, SIP + "DeleteSIPTrunk") == 2
    assert state.inbound_trunks == {}


@pytest.mark.parametrize(
    ("path", "call"),
    [
        (SIP + "CreateSIPOutboundTrunk", lambda g: g.create_outbound_trunk("o", "t.example.com", ["+14155550100"])),
        (SIP + "CreateSIPDispatchRule", lambda g: g.create_dispatch_rule("r", agent_name="a")),
        (NUMBERS + "PurchasePhoneNumber", lambda g: g.purchase_number("+14155550199")),
    ],
    ids=["outbound-trunk", "dispatch-rule", "purchase"],
)
async def test_livekit_503_on_a_create_is_not_retried(gateway, sandbox, faults, path, call):
    faults.add("POST", path, status=503, body=twirp_body("unavailable"))
    with pytest.raises(Unavailable):
        await call(gateway)
    assert attempts(sandbox, path) == 1


async def test_livekit_timeout_becomes_provider_timeout_after_retries(sandbox, faults):
    path = SIP + "GetSIPOutboundTrunk"
    faults.add("POST", path, delay=0.5)

    async with LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET,
                              timeout=0.1, retry=FAST) as gateway:
        with pytest.raises(ProviderTimeout) as caught:
            await gateway.get_outbound_trunk("ST_any")

    assert (caught.value.code, caught.value.retryable) == ("timeout", True)
    assert "no answer within 0.1s" in caught.value.message
    assert attempts(sandbox, path) == FAST.max_attempts


async def test_livekit_timeout_on_a_create_is_not_retried(sandbox, faults):
    # LiveKit may have created the trunk before the answer was lost; a second create could duplicate it.
    path = SIP + "CreateSIPInboundTrunk"
    faults.add("POST", path, delay=0.3, times=1)

    async with LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET,
                              timeout=0.1, retry=FAST) as gateway:
        with pytest.raises(ProviderTimeout):
            await gateway.create_inbound_trunk("in", ["+14155550100"])

    assert attempts(sandbox, path) == 1


async def test_livekit_dropped_connection_becomes_unavailable(gateway, sandbox, faults):
    path = SIP + "GetSIPOutboundTrunk"
    faults.add("POST", path, drop=True)

    with pytest.raises(Unavailable) as caught:
        await gateway.get_outbound_trunk("ST_any")

    assert (caught.value.code, caught.value.status) == ("connection_error", None)
    assert attempts(sandbox, path) == FAST.max_attempts


@pytest.mark.parametrize(
    ("path", "call"),
    [
        (SIP + "DeleteSIPDispatchRule", lambda g: g.delete_dispatch_rule("SDR_missing")),
        (NUMBERS + "SearchPhoneNumbers", lambda g: g.search_numbers(limit=1)),
    ],
    ids=["sdk", "json"],
)
async def test_livekit_dropped_connection_once_is_retried(gateway, sandbox, faults, path, call):
    faults.add("POST", path, drop=True, times=1)
    await call(gateway)
    assert attempts(sandbox, path) == 2


async def test_unreachable_livekit_becomes_unavailable(unused_tcp_port):
    async with LiveKitGateway(url=f"http://127.0.0.1:{unused_tcp_port}", api_key=KEY, api_secret=SECRET,
                              retry=FAST) as gateway:
        with pytest.raises(Unavailable) as caught:
            await gateway.search_numbers()
    assert caught.value.code == "connection_error"


# --- construction and lifecycle --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("wss://proj-abc123.livekit.cloud", "https://proj-abc123.livekit.cloud"),
        ("ws://127.0.0.1:7880/lk/", "http://127.0.0.1:7880/lk"),
        ("https://lk.example.com", "https://lk.example.com"),
    ],
    ids=["wss", "ws-with-prefix", "https"],
)
def test_http_base_maps_ws_to_http_and_keeps_the_path(url, base):
    assert http_base(url) == base


async def test_gateway_reaches_livekit_behind_a_path_prefix_over_a_ws_url(aiohttp_server):
    livekit = web.Application()
    setup_livekit(livekit, LiveKitState.from_seed(SEED["livekit"]))
    root = web.Application()
    root.add_subapp("/lk", livekit)
    server = await aiohttp_server(root)
    url = str(server.make_url("/lk")).replace("http://", "ws://")

    async with LiveKitGateway(url=url, api_key=KEY, api_secret=SECRET, retry=FAST) as gateway:
        trunk_id = await gateway.create_inbound_trunk("in", ["+14155550100"])
        read = await gateway.get_inbound_trunk(trunk_id)
        found = await gateway.search_numbers(limit=1)

    assert read.id == trunk_id and len(found) == 1


async def test_gateway_leaves_a_borrowed_session_open(sandbox):
    async with aiohttp.ClientSession() as session:
        gateway = LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET, session=session)
        await gateway.start()
        await gateway.search_numbers(limit=1)
        await gateway.close()
        assert not session.closed


async def test_every_call_sdk_wrapped_or_ours_carries_one_admin_token_signed_once(sandbox):
    sent: list[str] = []

    async def on_request_start(session, context, params) -> None:
        sent.append(params.headers.get("Authorization", ""))

    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(on_request_start)
    async with (
        aiohttp.ClientSession(trace_configs=[tracing]) as session,
        LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET, session=session) as gateway,
    ):
        trunk_id = await gateway.create_inbound_trunk("shared", ["+14155550100"])  # through the SDK
        await gateway.create_dispatch_rule("rule", agent_name="agent", trunk_ids=[trunk_id])  # through the SDK
        await gateway.get_inbound_trunk(trunk_id)  # ours, as protobuf
        await gateway.search_numbers(limit=1)  # ours, as JSON

    assert len(sent) == 4 and sent[0].startswith("Bearer ey")
    assert set(sent) == {sent[0]}


async def test_gateway_closes_the_session_it_made(sandbox):
    gateway = LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET)
    await gateway.start()
    session = gateway._session
    await gateway.close()
    assert session.closed


async def test_calls_before_start_raise():
    gateway = LiveKitGateway(url="http://127.0.0.1:1", api_key=KEY, api_secret=SECRET)
    with pytest.raises(RuntimeError, match="start"):
        await gateway.get_inbound_trunk("ST_x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "livekit.example.com"}, "url must look like"),
        ({"api_secret": ""}, "api_key and api_secret must both be set"),
        ({"timeout": 0}, "timeout must be positive"),
    ],
    ids=["url-without-scheme", "no-secret", "zero-timeout"],
)
def test_bad_configuration_fails_at_construction(kwargs, message):
    arguments = {"url": "wss://p.livekit.cloud", "api_key": KEY, "api_secret": SECRET, **kwargs}
    with pytest.raises(ValueError, match=message):
        LiveKitGateway(**arguments)
