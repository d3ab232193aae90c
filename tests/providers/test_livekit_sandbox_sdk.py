"""The LiveKit emulator, driven by the official SDK (protobuf) and by raw Twirp JSON over loopback."""

import datetime
import json
import time

import aiohttp
import jwt
import pytest
from aiohttp import web
from livekit import api
from livekit.protocol.models import ListUpdate

from providers.sandbox.livekit import LiveKitState, setup_livekit
from providers.sandbox.livekit.errors import TwirpError
from providers.sandbox.livekit.handlers import VerifiedTokens

KEY = "APIsandboxTestKey"
SECRET = "sandbox-test-secret-0123456789abcdef0123456789"


def admin_token(key: str = KEY, secret: str = SECRET, *, admin: bool = True) -> str:
    token = api.AccessToken(key, secret).with_grants(api.VideoGrants())
    if admin:
        token = token.with_sip_grants(api.SIPGrants(admin=True))
    return token.to_jwt()


def inbound(**fields) -> api.CreateSIPInboundTrunkRequest:
    return api.CreateSIPInboundTrunkRequest(trunk=api.SIPInboundTrunkInfo(**fields))


def outbound(**fields) -> api.CreateSIPOutboundTrunkRequest:
    fields.setdefault("address", "example.pstn.twilio.com")
    return api.CreateSIPOutboundTrunkRequest(trunk=api.SIPOutboundTrunkInfo(**fields))


def agent_rule(agent: str, **fields) -> api.CreateSIPDispatchRuleRequest:
    return api.CreateSIPDispatchRuleRequest(
        dispatch_rule=api.SIPDispatchRuleInfo(
            rule=api.SIPDispatchRule(dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call-")),
            room_config=api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent)]),
            **fields,
        )
    )


@pytest.fixture
def state():
    return LiveKitState.from_seed({"api_key": KEY, "api_secret": SECRET})


@pytest.fixture
async def server(aiohttp_server, state):
    app = web.Application()
    setup_livekit(app, state)
    return await aiohttp_server(app)


@pytest.fixture
async def lkapi(server):
    async with api.LiveKitAPI(str(server.make_url("")), KEY, SECRET, failover=False) as client:
        yield client


@pytest.fixture
async def twirp(server):
    """POST JSON to a Twirp method: `await twirp("SIP", "ListSIPInboundTrunk", {...})` → (status, body)."""
    async with aiohttp.ClientSession() as session:

        async def call(service, method, body=None, *, token=None, raw=None, content_type="application/json"):
            headers = {"Content-Type": content_type}
            token = admin_token() if token is None else token
            if token:
                headers["Authorization"] = f"Bearer {token}"
            data = raw if raw is not None else json.dumps(body or {}).encode()
            url = server.make_url(f"/twirp/livekit.{service}/{method}")
            async with session.post(url, data=data, headers=headers) as response:
                return response.status, await response.json()

        yield call


# --- SIP through the official SDK ------------------------------------------------------------


async def test_sdk_creates_lists_updates_and_deletes_inbound_trunks(lkapi, state):
    # given
    created = await lkapi.sip.create_inbound_trunk(inbound(name="main", numbers=["+14155550100"]))
    # when
    updated = await lkapi.sip.update_inbound_trunk_fields(created.sip_trunk_id, numbers=["+14155550101"])
    listed = await lkapi.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
    deleted = await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=created.sip_trunk_id))
    # then
    assert created.sip_trunk_id.startswith("ST_") and created.created_at.seconds > 0
    assert list(updated.numbers) == ["+14155550101"]
    assert [t.sip_trunk_id for t in listed.items] == [created.sip_trunk_id]
    assert deleted.kind == api.SIPTrunkInfo.TRUNK_INBOUND and deleted.name == "main"
    assert state.inbound_trunks == {}


async def test_sdk_creates_lists_updates_and_deletes_outbound_trunks(lkapi, state):
    created = await lkapi.sip.create_outbound_trunk(
        outbound(name="out", numbers=["+14155550100"], transport=api.SIPTransport.SIP_TRANSPORT_TCP,
                 auth_username="user", auth_password="Passw0rdPassw0rd")
    )
    moved = await lkapi.sip.update_outbound_trunk_fields(created.sip_trunk_id, address="other.pstn.twilio.com")
    replaced = await lkapi.sip.update_outbound_trunk(
        created.sip_trunk_id, api.SIPOutboundTrunkInfo(name="renamed", address="x.example.com", numbers=["+1415"])
    )
    listed = await lkapi.sip.list_outbound_trunk(api.ListSIPOutboundTrunkRequest())
    await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=created.sip_trunk_id))

    assert created.transport == api.SIPTransport.SIP_TRANSPORT_TCP and created.auth_username == "user"
    assert moved.address == "other.pstn.twilio.com" and list(moved.numbers) == ["+14155550100"]
    assert (replaced.sip_trunk_id, replaced.name, replaced.auth_username) == (created.sip_trunk_id, "renamed", "")
    assert [t.address for t in listed.items] == ["x.example.com"]
    assert state.outbound_trunks == {}


async def test_sdk_creates_lists_updates_and_deletes_dispatch_rules(lkapi, state):
    trunk = await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100"]))
    rule = await lkapi.sip.create_dispatch_rule(agent_rule("sales", name="r1", trunk_ids=[trunk.sip_trunk_id]))
    await lkapi.sip.create_dispatch_rule(agent_rule("other", name="r2", trunk_ids=["ST_elsewhere"]))

    by_trunk = await lkapi.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest(trunk_ids=[trunk.sip_trunk_id]))
    renamed = await lkapi.sip.update_dispatch_rule_fields(rule.sip_dispatch_rule_id, name="renamed")
    replacement = api.SIPDispatchRuleInfo()
    replacement.CopyFrom(renamed)
    replacement.room_config.agents[0].agent_name = "support"
    replaced = await lkapi.sip.update_dispatch_rule(rule.sip_dispatch_rule_id, replacement)
    await lkapi.sip.delete_dispatch_rule(api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id))

    assert rule.sip_dispatch_rule_id.startswith("SDR_")
    assert rule.rule.dispatch_rule_individual.room_prefix == "call-"
    assert [r.name for r in by_trunk.items] == ["r1"]
    assert renamed.name == "renamed" and renamed.room_config.agents[0].agent_name == "sales"
    assert replaced.room_config.agents[0].agent_name == "support"
    assert [r.name for r in state.dispatch_rules.values()] == ["r2"]


async def test_sdk_list_filters_inbound_trunks_by_number(lkapi):
    first = await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100"]))
    await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550101"]))

    found = await lkapi.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest(numbers=["+1 (415) 555-0100"]))

    assert [t.sip_trunk_id for t in found.items] == [first.sip_trunk_id]


async def test_sdk_list_update_adds_and_removes_only_named_numbers(lkapi):
    trunk = await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100", "+14155550101"]))

    updated = await lkapi.sip.update_inbound_trunk_fields(
        trunk.sip_trunk_id, numbers=ListUpdate(add=["+14155550102"], remove=["+14155550100"])
    )

    assert list(updated.numbers) == ["+14155550101", "+14155550102"]


async def test_sdk_sees_unknown_trunk_as_not_found_404(lkapi):
    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id="ST_missing"))
    assert (caught.value.code, caught.value.status) == ("not_found", 404)


async def test_sdk_token_without_sip_admin_gets_permission_denied_403(server):
    token = admin_token(admin=False)
    async with api.LiveKitAPI.with_token(token, str(server.make_url("")), failover=False) as lkapi:
        with pytest.raises(api.ServerError) as caught:
            await lkapi.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
    assert (caught.value.code, caught.value.status) == ("permission_denied", 403)


async def test_sdk_with_wrong_secret_gets_unauthenticated_401(server):
    async with api.LiveKitAPI(str(server.make_url("")), KEY, "another-secret-0123456789abcdef0123456789",
                              failover=False) as lkapi:
        with pytest.raises(api.ServerError) as caught:
            await lkapi.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
    assert (caught.value.code, caught.value.status) == ("unauthenticated", 401)


# --- LiveKit's validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"numbers": []}, "no trunk numbers specified"),
        ({"address": "sip:example.pstn.twilio.com"}, "trunk address should be a hostname or IP, not SIP URI"),
        ({"address": "user@example.pstn.twilio.com"}, "trunk address should be a hostname or IP, not SIP URI"),
        ({"address": "example.com;lr"}, "trunk address should be a hostname or IP, not SIP URI"),
        ({"address": "example.com:5060?transport=tcp"}, "trunk address should not contain transport parameter"),
        ({"address": ""}, "no outbound address specified"),
    ],
    ids=["no-numbers", "sip-uri", "user-at", "uri-param", "transport-param", "no-address"],
)
async def test_outbound_trunk_refused_when_livekit_would_refuse_it(lkapi, state, fields, message):
    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.create_outbound_trunk(outbound(**{"numbers": ["+14155550100"], **fields}))
    assert (caught.value.code, caught.value.status, caught.value.message) == ("invalid_argument", 400, message)
    assert state.outbound_trunks == {}


async def test_inbound_trunk_refused_without_numbers_addresses_or_auth(lkapi):
    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.create_inbound_trunk(inbound(name="open"))
    assert caught.value.code == "invalid_argument"
    assert caught.value.message.startswith("for security, one of the fields must be set")


@pytest.mark.parametrize(
    "fields",
    [{"allowed_addresses": ["203.0.113.0/24"]}, {"auth_username": "u", "auth_password": "Passw0rdPassw0rd"}],
    ids=["allowed-addresses", "auth"],
)
async def test_inbound_trunk_accepted_with_addresses_or_auth_alone(lkapi, fields):
    created = await lkapi.sip.create_inbound_trunk(inbound(**fields))
    assert created.sip_trunk_id.startswith("ST_")


async def test_two_inbound_trunks_claiming_one_number_conflict(lkapi, state):
    first = await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100"]))

    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100", "+14155550101"]))

    assert caught.value.code == "invalid_argument"
    assert caught.value.message == (
        f'Conflicting inbound SIP Trunks: "<new>" and "{first.sip_trunk_id}", '
        'using the same number(s) ["+14155550100"] without AllowedNumbers set'
    )
    assert list(state.inbound_trunks) == [first.sip_trunk_id]


async def test_update_that_claims_another_trunks_number_conflicts(lkapi):
    await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100"]))
    second = await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550101"]))

    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.update_inbound_trunk_fields(second.sip_trunk_id, numbers=ListUpdate(add=["+14155550100"]))

    assert caught.value.message.startswith(f'Conflicting inbound SIP Trunks: "{second.sip_trunk_id}" and "ST_')


async def test_allowed_numbers_let_two_trunks_share_a_number(lkapi):
    await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100"]))
    second = await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100"], allowed_numbers=["+12125550100"]))
    assert second.sip_trunk_id.startswith("ST_")


async def test_removing_last_number_of_outbound_trunk_is_refused(lkapi, state):
    trunk = await lkapi.sip.create_outbound_trunk(outbound(numbers=["+14155550100"]))

    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.update_outbound_trunk_fields(trunk.sip_trunk_id, numbers=ListUpdate(remove=["+14155550100"]))

    assert (caught.value.code, caught.value.message) == ("invalid_argument", "no trunk numbers specified")
    assert list(state.outbound_trunks[trunk.sip_trunk_id].numbers) == ["+14155550100"]


async def test_removing_last_number_of_numbers_only_inbound_trunk_is_refused(lkapi):
    trunk = await lkapi.sip.create_inbound_trunk(inbound(numbers=["+14155550100"]))
    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.update_inbound_trunk_fields(trunk.sip_trunk_id, numbers=ListUpdate(remove=["+14155550100"]))
    assert caught.value.message.startswith("for security, one of the fields must be set")


async def test_update_of_unknown_trunk_is_not_found(lkapi):
    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.update_outbound_trunk_fields("ST_missing", numbers=["+14155550100"])
    assert (caught.value.code, caught.value.status) == ("not_found", 404)


async def test_dispatch_rule_without_rule_is_refused(lkapi):
    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.create_dispatch_rule(api.CreateSIPDispatchRuleRequest(dispatch_rule=api.SIPDispatchRuleInfo()))
    assert (caught.value.code, caught.value.message) == ("invalid_argument", "missing rule")


# --- dispatch rule conflicts (livekit/protocol sip/sip.go DispatchRuleValidator) ----------------

N1, N2 = "+14155550100", "+14155550101"


def rule_on(*trunk_ids, numbers=(), inbound_numbers=(), pin="", agent="sales", name=""):
    """A rule like the ones Trunkline creates: one caller per room, an agent dispatched into it."""
    return api.SIPDispatchRuleInfo(
        name=name, trunk_ids=list(trunk_ids), numbers=list(numbers), inbound_numbers=list(inbound_numbers),
        rule=api.SIPDispatchRule(dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call-", pin=pin)),
        room_config=api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent)]),
    )


def conflict_message(rule_id: str, name: str) -> str:
    return (
        "Dispatch rule for the same trunk, inbound number, number, and PIN combination already exists "
        f'in dispatch rule "{rule_id}" "{name}"'
    )


async def create_rule(lkapi, rule: api.SIPDispatchRuleInfo) -> api.SIPDispatchRuleInfo:
    return await lkapi.sip.create_dispatch_rule(api.CreateSIPDispatchRuleRequest(dispatch_rule=rule))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (rule_on("ST_a", numbers=[N1]), rule_on("ST_a", numbers=[N2, N1])),
        (rule_on(numbers=[N1]), rule_on(numbers=[N1])),
        (rule_on(), rule_on()),
        (rule_on("ST_a"), rule_on("ST_b", "ST_a")),
        (rule_on("ST_a", numbers=[N1]), rule_on("ST_a", numbers=["+1 (415) 555-0100"])),
        (rule_on("ST_a", inbound_numbers=[N2]), rule_on("ST_a", inbound_numbers=[N2])),
        (rule_on("ST_a", numbers=[N1], pin="1234"), rule_on("ST_a", numbers=[N1], pin="1234")),
    ],
    ids=["same-trunk-and-number", "no-trunk-same-number", "both-catch-all", "shared-trunk-no-numbers",
         "number-spelled-differently", "same-caller-number", "same-pin"],
)
async def test_conflicting_dispatch_rule_create_is_refused(lkapi, state, first, second):
    first.name = "first"
    existing = await create_rule(lkapi, first)

    with pytest.raises(api.ServerError) as caught:
        await create_rule(lkapi, second)

    assert (caught.value.code, caught.value.status) == ("invalid_argument", 400)
    assert caught.value.message == conflict_message(existing.sip_dispatch_rule_id, "first")
    assert list(state.dispatch_rules) == [existing.sip_dispatch_rule_id]


async def test_direct_and_individual_rules_with_one_pin_conflict(lkapi):
    # The kind of rule does not matter, only trunk, numbers and PIN.
    existing = await create_rule(lkapi, rule_on("ST_a", numbers=[N1]))
    direct = api.SIPDispatchRuleInfo(
        trunk_ids=["ST_a"], numbers=[N1],
        rule=api.SIPDispatchRule(dispatch_rule_direct=api.SIPDispatchRuleDirect(room_name="lobby")),
    )

    with pytest.raises(api.ServerError) as caught:
        await create_rule(lkapi, direct)

    assert caught.value.message == conflict_message(existing.sip_dispatch_rule_id, "<blank name>")


async def test_rule_repeating_a_number_conflicts_with_itself(lkapi, state):
    with pytest.raises(api.ServerError) as caught:
        await create_rule(lkapi, rule_on("ST_a", numbers=[N1, "+1 415 555 0100"], name="twice"))

    assert caught.value.message == conflict_message("<new>", "twice")
    assert state.dispatch_rules == {}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (rule_on("ST_a", numbers=[N1]), rule_on("ST_a", numbers=[N2])),
        (rule_on("ST_a", numbers=[N1]), rule_on("ST_b", numbers=[N1])),
        (rule_on("ST_a", numbers=[N1], pin="1234"), rule_on("ST_a", numbers=[N1], pin="5678")),
        (rule_on("ST_a", numbers=[N1]), rule_on("ST_a", numbers=[N1], pin="1234")),
        (rule_on("ST_a", numbers=[N1]), rule_on(numbers=[N1])),
        (rule_on("ST_a"), rule_on("ST_a", numbers=[N1])),
        (rule_on("ST_a", numbers=[N1], inbound_numbers=[N2]), rule_on("ST_a", numbers=[N1])),
    ],
    ids=["two-numbers-one-trunk", "one-number-two-trunks", "different-pins", "pin-and-open",
         "trunk-and-no-trunk", "trunk-catch-all-and-number", "one-caller-and-any-caller"],
)
async def test_dispatch_rules_that_do_not_overlap_are_accepted(lkapi, state, first, second):
    created = [await create_rule(lkapi, first), await create_rule(lkapi, second)]

    assert sorted(state.dispatch_rules) == sorted(r.sip_dispatch_rule_id for r in created)


async def test_deleted_rule_frees_its_combination(lkapi):
    gone = await create_rule(lkapi, rule_on("ST_a", numbers=[N1]))
    await lkapi.sip.delete_dispatch_rule(api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=gone.sip_dispatch_rule_id))

    again = await create_rule(lkapi, rule_on("ST_a", numbers=[N1]))

    assert again.sip_dispatch_rule_id != gone.sip_dispatch_rule_id


async def test_update_replacing_a_rule_onto_anothers_number_is_refused(lkapi, state):
    first = await create_rule(lkapi, rule_on("ST_a", numbers=[N1], name="first"))
    second = await create_rule(lkapi, rule_on("ST_a", numbers=[N2], name="second"))

    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.update_dispatch_rule(second.sip_dispatch_rule_id, rule_on("ST_a", numbers=[N1], name="second"))

    assert (caught.value.code, caught.value.status) == ("invalid_argument", 400)
    # Rules are checked in id order with the update in place, so the message names whichever comes first.
    named = min([first, second], key=lambda r: r.sip_dispatch_rule_id)
    assert caught.value.message == conflict_message(named.sip_dispatch_rule_id, named.name)
    assert list(state.dispatch_rules[second.sip_dispatch_rule_id].numbers) == [N2]


async def test_update_moving_a_rule_onto_anothers_trunk_is_refused(lkapi, state):
    await create_rule(lkapi, rule_on("ST_a", numbers=[N1]))
    second = await create_rule(lkapi, rule_on("ST_b", numbers=[N1]))

    with pytest.raises(api.ServerError) as caught:
        await lkapi.sip.update_dispatch_rule_fields(second.sip_dispatch_rule_id, trunk_ids=ListUpdate(add=["ST_a"]))

    assert caught.value.code == "invalid_argument"
    assert caught.value.message.startswith("Dispatch rule for the same trunk, inbound number, number, and PIN")
    assert list(state.dispatch_rules[second.sip_dispatch_rule_id].trunk_ids) == ["ST_b"]


async def test_update_changing_only_the_agent_does_not_conflict_with_itself(lkapi, state):
    # What Trunkline does to rebind a number: read the rule, swap the agent, replace the whole rule.
    rule = await create_rule(lkapi, rule_on("ST_a", numbers=[N1], agent="sales"))
    await create_rule(lkapi, rule_on("ST_a", numbers=[N2], agent="sales"))
    [current] = (await lkapi.sip.list_dispatch_rule(
        api.ListSIPDispatchRuleRequest(dispatch_rule_ids=[rule.sip_dispatch_rule_id])
    )).items
    del current.room_config.agents[:]
    current.room_config.agents.add(agent_name="support")

    updated = await lkapi.sip.update_dispatch_rule(rule.sip_dispatch_rule_id, current)
    renamed = await lkapi.sip.update_dispatch_rule_fields(rule.sip_dispatch_rule_id, name="renamed")

    assert updated.room_config.agents[0].agent_name == "support"
    assert state.dispatch_rules[rule.sip_dispatch_rule_id].name == renamed.name == "renamed"


# --- SIP over JSON ---------------------------------------------------------------------------


async def test_json_create_accepts_lower_camel_ignores_unknown_and_answers_proto_names(twirp, state):
    status, body = await twirp(
        "SIP", "CreateSIPOutboundTrunk",
        {"trunk": {"name": "j", "address": "j.example.com", "numbers": ["+14155550100"],
                   "authUsername": "u", "transport": "SIP_TRANSPORT_TLS", "notAField": 1}},
    )
    assert status == 200, body
    assert body["sip_trunk_id"] in state.outbound_trunks
    assert (body["auth_username"], body["transport"]) == ("u", "SIP_TRANSPORT_TLS")
    assert body["created_at"].endswith("Z")


async def test_json_get_inbound_trunk_answers_the_trunk(twirp):
    _, created = await twirp("SIP", "CreateSIPInboundTrunk", {"trunk": {"name": "n", "numbers": ["+14155550100"]}})

    status, body = await twirp("SIP", "GetSIPInboundTrunk", {"sipTrunkId": created["sip_trunk_id"]})

    assert status == 200, body
    assert (body["trunk"]["sip_trunk_id"], body["trunk"]["numbers"]) == (created["sip_trunk_id"], ["+14155550100"])


async def test_json_get_of_unknown_trunk_is_twirp_not_found(twirp):
    status, body = await twirp("SIP", "GetSIPOutboundTrunk", {"sip_trunk_id": "ST_missing"})
    assert (status, body["code"]) == (404, "not_found")
    assert set(body) == {"code", "msg", "meta"}


async def test_json_flat_create_body_is_ignored_like_livekit_does(twirp):
    # LiveKit's docs show a flat body; the server drops unknown fields, so no trunk info arrives.
    status, body = await twirp("SIP", "CreateSIPInboundTrunk", {"name": "flat", "numbers": ["+14155550100"]})
    assert (status, body["code"], body["msg"]) == (400, "invalid_argument", "missing trunk")


async def test_undecodable_json_is_malformed_400(twirp):
    status, body = await twirp("SIP", "ListSIPInboundTrunk", raw=b"{not json")
    assert (status, body["code"]) == (400, "malformed")


async def test_unknown_method_is_bad_route_404(twirp):
    status, body = await twirp("SIP", "CreateSIPTrunk", {})
    assert (status, body["code"]) == (404, "bad_route")


async def test_missing_token_is_unauthenticated_401(twirp):
    status, body = await twirp("SIP", "ListSIPInboundTrunk", {}, token="")
    assert (status, body["code"]) == (401, "unauthenticated")


async def test_expired_token_is_unauthenticated_401(twirp):
    expired = jwt.encode(
        {"iss": KEY, "sip": {"admin": True}, "exp": datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)},
        SECRET, algorithm="HS256",
    )
    status, body = await twirp("SIP", "ListSIPInboundTrunk", {}, token=expired)
    assert (status, body["code"], body["msg"]) == (401, "unauthenticated", "invalid token: expired")


def test_a_checked_token_is_refused_once_it_expires():
    # The emulator checks a token's signature once and then only its expiry: past exp plus the leeway
    # it is refused as PyJWT would refuse it, though it passed before.
    state = LiveKitState.from_seed({"api_key": KEY, "api_secret": SECRET})
    expires = int(time.time()) + 600
    token = jwt.encode({"iss": KEY, "sip": {"admin": True}, "exp": expires}, SECRET, algorithm="HS256")
    now = [expires - 60]
    verified = VerifiedTokens(clock=lambda: now[0])

    first = verified.claims(state, token)
    now[0] = expires + VerifiedTokens.LEEWAY - 1
    second = verified.claims(state, token)
    now[0] = expires + VerifiedTokens.LEEWAY
    with pytest.raises(TwirpError) as refused:
        verified.claims(state, token)

    assert first == second == {"iss": KEY, "sip": {"admin": True}, "exp": expires}
    assert (refused.value.code, refused.value.msg) == ("unauthenticated", "invalid token: expired")


def test_a_checked_token_is_not_taken_for_a_project_with_another_secret():
    verified = VerifiedTokens()
    token = admin_token()
    verified.claims(LiveKitState.from_seed({"api_key": KEY, "api_secret": SECRET}), token)

    with pytest.raises(TwirpError) as refused:
        verified.claims(LiveKitState.from_seed({"api_key": KEY, "api_secret": SECRET + "-rotated"}), token)

    assert refused.value.msg == "invalid token: signature could not be verified"


async def test_token_for_another_api_key_is_unauthenticated_401(twirp):
    status, body = await twirp("SIP", "ListSIPInboundTrunk", {}, token=admin_token(key="APIother"))
    assert (status, body["code"], body["msg"]) == (401, "unauthenticated", "invalid API key")


# --- PhoneNumberService (JSON) ---------------------------------------------------------------


async def test_search_offers_generated_us_numbers_page_by_page(twirp):
    status, first = await twirp("PhoneNumberService", "SearchPhoneNumbers",
                                {"countryCode": "US", "areaCode": "415", "limit": 2})
    _, second = await twirp("PhoneNumberService", "SearchPhoneNumbers",
                            {"country_code": "US", "area_code": "415", "limit": 2, "page_token": first["next_page_token"]})

    assert status == 200, first
    numbers = [n["e164_format"] for n in first["items"] + second["items"]]
    assert len(set(numbers)) == 4 and all(n.startswith("+1415555") for n in numbers)
    assert first["items"][0] | {"e164_format": "+1"} == {
        "id": "", "e164_format": "+1", "country_code": "US", "area_code": "415",
        "number_type": "PHONE_NUMBER_TYPE_LOCAL", "locality": "San Francisco", "region": "CA", "spam_score": 0,
        "capabilities": ["voice"], "status": "PHONE_NUMBER_STATUS_UNSPECIFIED", "created_at": None,
        "updated_at": None, "assigned_at": None, "released_at": None, "sip_dispatch_rule_id": "",
        "sip_dispatch_rule_ids": [],
    }


async def test_search_outside_the_us_is_refused(twirp):
    status, body = await twirp("PhoneNumberService", "SearchPhoneNumbers", {"country_code": "CA"})
    assert (status, body["code"]) == (400, "invalid_argument")


async def test_generated_numbers_never_collide_with_numbers_in_use(twirp, state):
    state.held_elsewhere = lambda: {"+14155550198"}
    _, trunk = await twirp("SIP", "CreateSIPInboundTrunk", {"trunk": {"numbers": ["+14155550199"]}})
    _, bought = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550197"]})

    _, found = await twirp("PhoneNumberService", "SearchPhoneNumbers", {"area_code": "415", "limit": 100})
    status, refused = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550198"]})

    offered = {n["e164_format"] for n in found["items"]}
    assert offered.isdisjoint({"+14155550199", "+14155550198", "+14155550197"})
    assert len(offered) == 97
    assert (status, refused["code"]) == (412, "failed_precondition")


async def test_seeded_inventory_is_all_that_is_offered(aiohttp_server):
    state = LiveKitState.from_seed(
        {"api_key": KEY, "api_secret": SECRET,
         "available_phone_numbers": ["+12125550142", {"e164": "+16175550143", "locality": "Boston", "region": "MA"}]}
    )
    app = web.Application()
    setup_livekit(app, state)
    server = await aiohttp_server(app)
    headers = {"Authorization": f"Bearer {admin_token()}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        search_url = server.make_url("/twirp/livekit.PhoneNumberService/SearchPhoneNumbers")
        async with session.post(search_url, json={}) as response:
            found = await response.json()
        purchase_url = server.make_url("/twirp/livekit.PhoneNumberService/PurchasePhoneNumber")
        async with session.post(purchase_url, json={"phone_numbers": ["+14155550199"]}) as response:
            refused = (response.status, (await response.json())["code"])

    assert [(n["e164_format"], n["locality"]) for n in found["items"]] == [
        ("+12125550142", "New York"), ("+16175550143", "Boston")
    ]
    assert refused == (412, "failed_precondition")


async def test_purchase_with_dispatch_rule_is_active_and_without_is_offline(twirp, lkapi, state):
    rule = await lkapi.sip.create_dispatch_rule(agent_rule("sales"))

    status, body = await twirp("PhoneNumberService", "PurchasePhoneNumber",
                               {"phoneNumbers": ["+14155550199"], "sipDispatchRuleId": rule.sip_dispatch_rule_id})
    _, plain = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550198"]})

    assert status == 200, body
    [bought] = body["phone_numbers"]
    assert bought["id"].startswith("PN_") and bought["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    assert bought["sip_dispatch_rule_ids"] == [rule.sip_dispatch_rule_id]
    assert plain["phone_numbers"][0]["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
    assert state.phone_numbers[bought["id"]].e164 == "+14155550199"


async def test_purchase_with_unknown_dispatch_rule_is_not_found(twirp, state):
    status, body = await twirp("PhoneNumberService", "PurchasePhoneNumber",
                               {"phone_numbers": ["+14155550199"], "sip_dispatch_rule_id": "SDR_missing"})
    assert (status, body["code"]) == (404, "not_found")
    assert state.phone_numbers == {}


async def test_purchase_of_a_number_already_held_is_already_exists(twirp):
    await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550199"]})
    status, body = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550199"]})
    assert (status, body["code"]) == (409, "already_exists")


async def test_list_filters_by_status_and_counts(twirp, lkapi):
    rule = await lkapi.sip.create_dispatch_rule(agent_rule("sales"))
    await twirp("PhoneNumberService", "PurchasePhoneNumber",
                {"phone_numbers": ["+14155550199"], "sip_dispatch_rule_id": rule.sip_dispatch_rule_id})
    await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550198", "+14155550197"]})

    _, everything = await twirp("PhoneNumberService", "ListPhoneNumbers", {})
    _, active = await twirp("PhoneNumberService", "ListPhoneNumbers", {"statuses": ["PHONE_NUMBER_STATUS_ACTIVE"]})

    assert (everything["total_count"], everything["offline_count"]) == (3, 2)
    assert [n["e164_format"] for n in active["items"]] == ["+14155550199"]


async def test_get_finds_a_number_by_id_or_by_e164(twirp):
    _, bought = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550199"]})
    number_id = bought["phone_numbers"][0]["id"]

    _, by_id = await twirp("PhoneNumberService", "GetPhoneNumber", {"id": number_id})
    _, by_e164 = await twirp("PhoneNumberService", "GetPhoneNumber", {"phoneNumber": "+14155550199"})
    status, missing = await twirp("PhoneNumberService", "GetPhoneNumber", {"id": "PN_missing"})

    assert by_id["phone_number"]["e164_format"] == "+14155550199"
    assert by_e164["phone_number"]["id"] == number_id
    assert (status, missing["code"]) == (404, "not_found")


async def test_update_assigns_and_clears_the_dispatch_rule(twirp, lkapi):
    rule = await lkapi.sip.create_dispatch_rule(agent_rule("sales"))
    _, bought = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550199"]})
    number_id = bought["phone_numbers"][0]["id"]

    _, assigned = await twirp("PhoneNumberService", "UpdatePhoneNumber",
                              {"id": number_id, "sip_dispatch_rule_id": rule.sip_dispatch_rule_id})
    _, cleared = await twirp("PhoneNumberService", "UpdatePhoneNumber", {"id": number_id, "sip_dispatch_rule_id": ""})

    assert assigned["phone_number"]["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    assert assigned["phone_number"]["assigned_at"] is not None
    assert (cleared["phone_number"]["status"], cleared["phone_number"]["sip_dispatch_rule_id"]) == (
        "PHONE_NUMBER_STATUS_OFFLINE", ""
    )


async def test_deleting_a_dispatch_rule_takes_its_numbers_offline(twirp, lkapi, state):
    rule = await lkapi.sip.create_dispatch_rule(agent_rule("sales"))
    _, bought = await twirp("PhoneNumberService", "PurchasePhoneNumber",
                            {"phone_numbers": ["+14155550199"], "sip_dispatch_rule_id": rule.sip_dispatch_rule_id})

    await lkapi.sip.delete_dispatch_rule(api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id))

    assert state.phone_numbers[bought["phone_numbers"][0]["id"]].status == "PHONE_NUMBER_STATUS_OFFLINE"


async def test_release_returns_the_number_to_the_inventory_and_repeats_harmlessly(twirp, state):
    _, bought = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": ["+14155550199"]})
    number_id = bought["phone_numbers"][0]["id"]

    first = await twirp("PhoneNumberService", "ReleasePhoneNumbers", {"ids": [number_id]})
    again = await twirp("PhoneNumberService", "ReleasePhoneNumbers", {"ids": [number_id]})
    _, found = await twirp("PhoneNumberService", "SearchPhoneNumbers", {"area_code": "415", "limit": 1})

    assert first == again == (200, {})
    assert state.phone_numbers[number_id].status == "PHONE_NUMBER_STATUS_RELEASED"
    assert found["items"][0]["e164_format"] == "+14155550199"


async def test_release_of_unknown_id_is_not_found(twirp):
    status, body = await twirp("PhoneNumberService", "ReleasePhoneNumbers", {"ids": ["PN_missing"]})
    assert (status, body["code"]) == (404, "not_found")


async def test_phone_number_service_needs_sip_admin(twirp):
    status, body = await twirp("PhoneNumberService", "ListPhoneNumbers", {}, token=admin_token(admin=False))
    assert (status, body["code"]) == (403, "permission_denied")


async def test_phone_number_service_answers_json_only(twirp):
    status, body = await twirp("PhoneNumberService", "ListPhoneNumbers", raw=b"", content_type="application/protobuf")
    assert (status, body["code"]) == (404, "bad_route")


async def test_wrongly_typed_json_field_is_malformed(twirp):
    status, body = await twirp("PhoneNumberService", "PurchasePhoneNumber", {"phone_numbers": "+14155550199"})
    assert (status, body["code"]) == (400, "malformed")


# --- state -----------------------------------------------------------------------------------


async def test_snapshot_is_json_and_hides_secrets(lkapi, state):
    await lkapi.sip.create_outbound_trunk(outbound(numbers=["+14155550100"], auth_username="u",
                                                   auth_password="TrunkPassw0rd123"))

    text = json.dumps(state.snapshot())

    assert SECRET not in text and "TrunkPassw0rd123" not in text
    assert SECRET not in repr(state)
    assert json.loads(text)["available_phone_numbers"] == "generated"


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"available_phone_numbers": ["+442071234567"]}, "not a US number in E.164 form"),
        ({"available_phone_numbers": [42]}, "expected an E.164 string or an object"),
        ({"available_phone_numbers": "+14155550100"}, "must be a list of E.164 numbers"),
        ({"api_secret": ""}, "api_secret must be a non-empty string"),
    ],
    ids=["non-us", "not-a-string", "not-a-list", "empty-secret"],
)
def test_bad_seed_fails_at_construction_naming_the_key(seed, message):
    with pytest.raises(ValueError, match=message):
        LiveKitState.from_seed(seed)
