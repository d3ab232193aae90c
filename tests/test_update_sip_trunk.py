"""updateSipTrunk end to end: a BYOC trunk's settings change in its row and on its LiveKit trunks together,
its numbers keep riding it, a carrier failure leaves the old settings at both ends, and recovery finishes
what a failure left half-done."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from livekit.protocol import sip

from models import CarrierStep, SipTrunk
from models.ids import new_id
from providers.retry import RetryPolicy
from resolvers.recover_interrupted import recover_interrupted
from tests.graphql_documents import (
    CREATE_SIP_TRUNK,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    SIP_TRUNK,
    UPDATE_SIP_TRUNK,
    create_trunk_result,
    field_codes,
    import_result,
    sandbox_state,
)
from tests.sandbox_snapshot import what_exists

TRUNK_QUERY = f"""
query SipTrunk($id: ID!) {{
  sipTrunk(id: $id) {{ {SIP_TRUNK} }}
}}"""

ADDRESS, USERNAME, PASSWORD = "sip.example-carrier.com", "trunkline", "first-secret-9f2c"
NEW_PASSWORD = "rotated-secret-5d1e"
ALLOWED = ["203.0.113.0/24"]
NUMBERS = ("+12025550147", "+12025550148")
ORIGINAL = {
    "name": "Carrier",
    "sipAddress": ADDRESS,
    "transport": "AUTO",
    "authUsername": USERNAME,
    "authPassword": PASSWORD,
    "allowedAddresses": ALLOWED,
}
UPDATE_INBOUND = ("POST", "/twirp/livekit.SIP/UpdateSIPInboundTrunk")
UPDATE_OUTBOUND = ("POST", "/twirp/livekit.SIP/UpdateSIPOutboundTrunk")
EVERY_ATTEMPT = RetryPolicy().max_attempts
NOW = timedelta(0)


async def create_trunk(tenant, **overrides) -> dict:
    trunk_input = {**ORIGINAL, "direction": "BOTH", **overrides}
    result = create_trunk_result(await tenant.graphql(CREATE_SIP_TRUNK, {"input": trunk_input}))
    assert result["__typename"] == "CreateSipTrunkSuccess", result
    return result["sipTrunk"]


async def trunk_with_numbers(tenant) -> dict:
    """A BOTH trunk with digest auth and allowed addresses, and two numbers riding its LiveKit trunks."""
    trunk = await create_trunk(tenant)
    for e164 in NUMBERS:
        imported = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": e164, "source": "BYOC", "trunkId": trunk["id"]}}))
        assert imported["__typename"] == "ImportPhoneNumberSuccess", imported
    return trunk


async def update(tenant, trunk_id: str, **changes) -> dict:
    body = await tenant.graphql(UPDATE_SIP_TRUNK, {"input": {"id": trunk_id, **changes}})
    assert "errors" not in body, body
    return body["data"]["updateSipTrunk"]


async def updated(tenant, trunk_id: str, **changes) -> dict:
    result = await update(tenant, trunk_id, **changes)
    assert result["__typename"] == "UpdateSipTrunkSuccess", result
    return result["sipTrunk"]


async def read_back(tenant, trunk_id: str) -> dict:
    body = await tenant.graphql(TRUNK_QUERY, {"id": trunk_id})
    assert "errors" not in body, body
    return body["data"]["sipTrunk"]


async def livekit_side(app, trunk_id: str) -> dict[str, Any]:
    """What LiveKit holds for the trunk, read from the emulator's own records (passwords included)."""
    row = await SipTrunk.get(id=trunk_id)
    livekit = app.state.sandbox.livekit
    inbound = livekit.inbound_trunks[row.livekit_inbound_trunk_id]
    outbound = livekit.outbound_trunks[row.livekit_outbound_trunk_id]
    return {
        "inbound": {
            "numbers": sorted(inbound.numbers),
            "allowed_addresses": list(inbound.allowed_addresses),
            "auth_username": inbound.auth_username,
            "auth_password": inbound.auth_password,
        },
        "outbound": {
            "numbers": sorted(outbound.numbers),
            "address": outbound.address,
            "transport": outbound.transport,
            "auth_username": outbound.auth_username,
            "auth_password": outbound.auth_password,
        },
    }


async def stored_password(app, trunk_id: str) -> str | None:
    encrypted = (await SipTrunk.get(id=trunk_id)).auth_password_encrypted
    return app.state.services.secrets.decrypt(encrypted) if encrypted else None


TCP, TLS = sip.SIP_TRANSPORT_TCP, sip.SIP_TRANSPORT_TLS


def with_changes(view: dict, **changes: Any) -> dict:
    """The LiveKit view with `side__field=value` changes."""
    result = json.loads(json.dumps(view))
    for key, value in changes.items():
        side, field = key.split("__")
        result[side][field] = value
    return result


# (the change, what the API then shows, what LiveKit then holds (side__field), the change that goes back)
FIELD_CHANGES = [
    pytest.param(
        {"sipAddress": "sip2.example-carrier.com:5061"}, {"sipAddress": "sip2.example-carrier.com:5061"},
        {"outbound__address": "sip2.example-carrier.com:5061"}, {"sipAddress": ADDRESS}, id="sip-address",
    ),
    pytest.param({"transport": "TLS"}, {"transport": "TLS"}, {"outbound__transport": TLS}, {"transport": "AUTO"}, id="transport"),
    pytest.param(
        {"allowedAddresses": ["198.51.100.7", "192.0.2.9/24"]}, {"allowedAddresses": ["198.51.100.7/32", "192.0.2.0/24"]},
        {"inbound__allowed_addresses": ["198.51.100.7/32", "192.0.2.0/24"]}, {"allowedAddresses": ALLOWED}, id="allowed-addresses",
    ),
    pytest.param(
        {"allowedAddresses": []}, {"allowedAddresses": []}, {"inbound__allowed_addresses": []}, {"allowedAddresses": ALLOWED},
        id="allowed-addresses-cleared",
    ),
    pytest.param(
        {"authUsername": "agent.7"}, {"authUsername": "agent.7"},
        {"inbound__auth_username": "agent.7", "outbound__auth_username": "agent.7"}, {"authUsername": USERNAME},
        id="auth-username-keeps-the-password",
    ),
    pytest.param(
        {"authPassword": NEW_PASSWORD}, {},
        {"inbound__auth_password": NEW_PASSWORD, "outbound__auth_password": NEW_PASSWORD}, {"authPassword": PASSWORD},
        id="auth-password-rotated",
    ),
    pytest.param(
        {"authUsername": None}, {"authUsername": None, "authPasswordSet": False},
        {"inbound__auth_username": "", "inbound__auth_password": "", "outbound__auth_username": "", "outbound__auth_password": ""},
        {"authUsername": USERNAME, "authPassword": PASSWORD}, id="auth-cleared-together",
    ),
    pytest.param({"name": "  Backup carrier "}, {"name": "Backup carrier"}, {}, {"name": "Carrier"}, id="name-row-only"),
]


@pytest.mark.parametrize(("change", "shown", "at_livekit", "back"), FIELD_CHANGES)
async def test_each_setting_changes_in_the_row_and_at_livekit_and_back(app, tenant, change, shown, at_livekit, back):
    # given
    trunk = await trunk_with_numbers(tenant)
    livekit_before = await livekit_side(app, trunk["id"])
    assert livekit_before["inbound"]["auth_password"] == PASSWORD

    # when
    changed = await updated(tenant, trunk["id"], **change)

    # then: the answer, a fresh read and LiveKit all hold the change; the numbers still ride both LiveKit trunks
    assert changed == {**trunk, **shown}
    assert await read_back(tenant, trunk["id"]) == changed
    assert await livekit_side(app, trunk["id"]) == with_changes(livekit_before, **at_livekit)
    assert await stored_password(app, trunk["id"]) == ((await livekit_side(app, trunk["id"]))["inbound"]["auth_password"] or None)
    assert not await CarrierStep.exists()

    # and back
    assert await updated(tenant, trunk["id"], **back) == trunk
    assert await livekit_side(app, trunk["id"]) == livekit_before
    assert await stored_password(app, trunk["id"]) == PASSWORD


async def test_several_settings_change_in_one_update(app, tenant):
    # given
    trunk = await trunk_with_numbers(tenant)
    livekit_before = await livekit_side(app, trunk["id"])

    # when
    changed = await updated(
        tenant, trunk["id"], sipAddress="198.51.100.20", transport="TCP", authUsername="ops", authPassword=NEW_PASSWORD,
        allowedAddresses=["198.51.100.0/28"],
    )

    # then
    assert changed == {
        **trunk, "sipAddress": "198.51.100.20", "transport": "TCP", "authUsername": "ops", "allowedAddresses": ["198.51.100.0/28"]
    }
    assert await livekit_side(app, trunk["id"]) == with_changes(
        livekit_before, inbound__allowed_addresses=["198.51.100.0/28"], inbound__auth_username="ops",
        inbound__auth_password=NEW_PASSWORD, outbound__address="198.51.100.20", outbound__transport=TCP,
        outbound__auth_username="ops", outbound__auth_password=NEW_PASSWORD,
    )


async def test_a_trunk_without_numbers_changes_in_its_row_alone(app, tenant):
    # given
    trunk = await create_trunk(tenant)
    carriers_before = sandbox_state(app)

    # when
    changed = await updated(tenant, trunk["id"], sipAddress="sip3.example-carrier.com", authPassword=NEW_PASSWORD)

    # then nothing is made at LiveKit, and the first number builds its LiveKit trunks from the new row
    assert changed == {**trunk, "sipAddress": "sip3.example-carrier.com"}
    assert sandbox_state(app) == carriers_before
    imported = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": NUMBERS[0], "source": "BYOC", "trunkId": trunk["id"]}}))
    assert imported["__typename"] == "ImportPhoneNumberSuccess", imported
    livekit = await livekit_side(app, trunk["id"])
    assert (livekit["outbound"]["address"], livekit["outbound"]["auth_password"]) == ("sip3.example-carrier.com", NEW_PASSWORD)
    assert livekit["inbound"]["auth_password"] == NEW_PASSWORD


async def test_numbers_keep_riding_the_same_livekit_trunks_and_new_ones_join_them(app, tenant):
    # given
    trunk = await trunk_with_numbers(tenant)
    row_before = await SipTrunk.get(id=trunk["id"])

    # when
    await updated(tenant, trunk["id"], sipAddress="sip2.example-carrier.com", allowedAddresses=["198.51.100.7"])
    third = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": "+12025550149", "source": "BYOC", "trunkId": trunk["id"]}}))

    # then
    assert third["__typename"] == "ImportPhoneNumberSuccess", third
    row = await SipTrunk.get(id=trunk["id"])
    assert (row.livekit_inbound_trunk_id, row.livekit_outbound_trunk_id) == (
        row_before.livekit_inbound_trunk_id, row_before.livekit_outbound_trunk_id
    )
    livekit = await livekit_side(app, trunk["id"])
    assert livekit["inbound"]["numbers"] == livekit["outbound"]["numbers"] == sorted([*NUMBERS, "+12025550149"])
    assert livekit["inbound"]["allowed_addresses"] == ["198.51.100.7/32"]


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"sipAddress": "sip:carrier.example.com"}, [("sipAddress", "INVALID_FORMAT")], id="sip-uri"),
        pytest.param({"sipAddress": "carrier.example.com;transport=tls"}, [("sipAddress", "INVALID_FORMAT")], id="transport-in-address"),
        pytest.param({"sipAddress": "carrier.example.com:70000"}, [("sipAddress", "INVALID_FORMAT")], id="port-out-of-range"),
        pytest.param({"sipAddress": None}, [("sipAddress", "REQUIRED")], id="address-cleared-on-both-trunk"),
        pytest.param({"name": "   "}, [("name", "REQUIRED")], id="blank-name"),
        pytest.param({"name": None}, [("name", "REQUIRED")], id="null-name"),
        pytest.param({"allowedAddresses": ["203.0.113.7", "not-an-ip"]}, [("allowedAddresses.1", "INVALID_FORMAT")], id="bad-allowed-address"),
        pytest.param({"allowedAddresses": ["203.0.113.7"] * 101}, [("allowedAddresses", "TOO_MANY")], id="too-many-allowed-addresses"),
        pytest.param({"authPassword": "short"}, [("authPassword", "INVALID_FORMAT")], id="short-password"),
        pytest.param({"authPassword": None}, [("authPassword", "REQUIRED")], id="password-removed-alone"),
        pytest.param({"authUsername": None, "authPassword": NEW_PASSWORD}, [("authUsername", "REQUIRED")], id="password-without-username"),
        pytest.param({"authUsername": "has space"}, [("authUsername", "INVALID_FORMAT")], id="bad-username"),
    ],
)
async def test_invalid_changes_are_refused_naming_the_field_and_change_nothing(app, tenant, change, expected):
    # given
    trunk = await trunk_with_numbers(tenant)
    before = await what_exists(app.state.sandbox)

    # when
    result = await update(tenant, trunk["id"], **change)

    # then
    assert (result["__typename"], result["code"]) == ("ValidationError", "VALIDATION_FAILED")
    assert field_codes(result) == expected
    assert await what_exists(app.state.sandbox) == before


async def test_username_on_a_trunk_without_a_password_needs_the_password(app, tenant):
    # given
    trunk = await create_trunk(tenant, authUsername=None, authPassword=None)

    # when
    result = await update(tenant, trunk["id"], authUsername="ops")

    # then
    assert field_codes(result) == [("authPassword", "REQUIRED")]
    assert await updated(tenant, trunk["id"], authUsername="ops", authPassword=NEW_PASSWORD) == {
        **trunk, "authUsername": "ops", "authPasswordSet": True
    }


async def test_a_transport_that_is_not_one_is_refused_naming_the_field(app, tenant):
    # given
    trunk = await create_trunk(tenant)
    before = await what_exists(app.state.sandbox)

    # when
    body = await tenant.graphql(UPDATE_SIP_TRUNK, {"input": {"id": trunk["id"], "transport": "PIGEON"}})

    # then
    assert body.get("data") is None
    assert "transport" in body["errors"][0]["message"] and "SipTransport" in body["errors"][0]["message"]
    assert await what_exists(app.state.sandbox) == before


async def test_the_shared_twilio_trunk_is_not_allowed_to_change(app, tenant):
    # given
    number = import_result(
        await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS}})
    )
    before = await what_exists(app.state.sandbox)

    # when
    result = await update(tenant, number["phoneNumber"]["trunkId"], name="Mine now", sipAddress="sip.example-carrier.com")

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("id", "NOT_ALLOWED")]
    assert await what_exists(app.state.sandbox) == before


@pytest.mark.parametrize("whose", ["another-workspace", "unknown", "malformed"])
async def test_a_trunk_not_in_the_workspace_is_not_found(app, tenant, make_tenant, whose):
    # given
    other = await make_tenant("Globex")
    theirs = await create_trunk(other)
    trunk_id = {"another-workspace": theirs["id"], "unknown": new_id("trunk"), "malformed": "nope"}[whose]
    before = await what_exists(app.state.sandbox)

    # when
    result = await update(tenant, trunk_id, name="Taken", authPassword=NEW_PASSWORD)

    # then
    assert (result["__typename"], result["code"], result["id"]) == ("NotFoundError", "NOT_FOUND", trunk_id)
    assert await what_exists(app.state.sandbox) == before
    assert await read_back(other, theirs["id"]) == theirs


# --- carrier failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fault", "expected"),
    [
        pytest.param(UPDATE_INBOUND, {"status": 503, "times": EVERY_ATTEMPT}, ("PROVIDER_UNAVAILABLE", True), id="inbound-down"),
        pytest.param(UPDATE_OUTBOUND, {"status": 503, "times": EVERY_ATTEMPT}, ("PROVIDER_UNAVAILABLE", True), id="outbound-down-after-inbound"),
        pytest.param(
            UPDATE_OUTBOUND, {"status": 400, "times": 1, "body": {"code": "invalid_argument", "msg": "refused", "meta": {}}},
            ("PROVIDER_REJECTED", False), id="outbound-refused-after-inbound",
        ),
        pytest.param(UPDATE_OUTBOUND, {"drop": True, "times": EVERY_ATTEMPT}, ("PROVIDER_UNAVAILABLE", True), id="outbound-dropped"),
    ],
)
async def test_a_carrier_failure_leaves_the_old_settings_at_both_ends(app, tenant, call, fault, expected):
    # given
    trunk = await trunk_with_numbers(tenant)
    sandbox = app.state.sandbox
    before = await what_exists(sandbox)
    livekit_before = await livekit_side(app, trunk["id"])
    sandbox.faults.add(*call, **fault)
    change = {"sipAddress": "sip2.example-carrier.com", "authPassword": NEW_PASSWORD, "allowedAddresses": ["198.51.100.7"]}

    # when
    result = await update(tenant, trunk["id"], **change)

    # then the row, both LiveKit trunks (passwords too) and the journal are as before
    assert (result["__typename"], result["provider"], result["code"], result["retryable"]) == ("ProviderError", "LIVEKIT", *expected)
    assert "Nothing was changed" in result["message"]
    assert await what_exists(sandbox) == before
    assert await livekit_side(app, trunk["id"]) == livekit_before
    assert await read_back(tenant, trunk["id"]) == trunk
    # and the same update succeeds once LiveKit is well
    sandbox.faults.clear()
    assert (await updated(tenant, trunk["id"], **change))["sipAddress"] == "sip2.example-carrier.com"
    assert (await livekit_side(app, trunk["id"]))["outbound"]["auth_password"] == NEW_PASSWORD


def let_one_through_then_fail(sandbox, call: tuple[str, str]) -> None:
    """The first request of `call` goes through; every later one fails."""
    sandbox.faults.add(*call, delay=0.001, times=1)
    sandbox.faults.add(*call, status=503)


async def half_done_update(app, tenant, trunk: dict) -> dict:
    """LiveKit takes the inbound change, fails the outbound one, then fails putting the inbound one back."""
    sandbox = app.state.sandbox
    let_one_through_then_fail(sandbox, UPDATE_INBOUND)
    sandbox.faults.add(*UPDATE_OUTBOUND, status=503)
    result = await update(tenant, trunk["id"], authPassword=NEW_PASSWORD, allowedAddresses=["198.51.100.7"])
    assert (result["__typename"], result["code"], result["retryable"]) == ("ProviderError", "PROVIDER_UNAVAILABLE", True)
    assert "keeps its settings" in result["message"]
    sandbox.faults.clear()
    return result


async def test_recovery_sets_back_what_a_failed_update_left_at_livekit_and_keeps_the_trunks(app, tenant):
    # given an update whose put-back failed: the row is old, LiveKit's inbound trunk new, the journal kept
    trunk = await trunk_with_numbers(tenant)
    before = await what_exists(app.state.sandbox)
    livekit_before = await livekit_side(app, trunk["id"])
    await half_done_update(app, tenant, trunk)
    assert await read_back(tenant, trunk["id"]) == trunk
    assert (await livekit_side(app, trunk["id"]))["inbound"]["allowed_addresses"] == ["198.51.100.7/32"]
    journalled = await CarrierStep.filter(owner_id=trunk["id"]).values_list("params", flat=True)
    assert journalled and all(NEW_PASSWORD not in json.dumps(params) for params in journalled)
    assert await recover_interrupted(app.state.services, timedelta(minutes=10)) == 0  # still within its grace

    # when
    finished = await recover_interrupted(app.state.services, NOW)

    # then both LiveKit trunks hold the row's settings again, with their numbers, and the journal is gone
    assert finished == 1
    assert await livekit_side(app, trunk["id"]) == livekit_before
    assert await what_exists(app.state.sandbox) == before


async def test_the_next_update_first_sets_back_what_a_failed_one_left(app, tenant):
    # given
    trunk = await trunk_with_numbers(tenant)
    livekit_before = await livekit_side(app, trunk["id"])
    await half_done_update(app, tenant, trunk)

    # when
    changed = await updated(tenant, trunk["id"], sipAddress="sip2.example-carrier.com")

    # then only this update's change is made; the failed one's is undone
    assert changed == {**trunk, "sipAddress": "sip2.example-carrier.com"}
    assert await livekit_side(app, trunk["id"]) == with_changes(livekit_before, outbound__address="sip2.example-carrier.com")
    assert not await CarrierStep.exists()


# --- the password -----------------------------------------------------------------------------------


async def test_the_password_is_never_in_a_response_or_a_log(app, tenant, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    trunk = await trunk_with_numbers(tenant)
    sandbox = app.state.sandbox
    answers = []

    async def send(**changes) -> None:
        response = await tenant.client.post(
            "/graphql", json={"query": UPDATE_SIP_TRUNK, "variables": {"input": {"id": trunk["id"], **changes}}}, headers=tenant.headers
        )
        answers.append(response.text)

    # when: a rotation succeeds, fails at LiveKit, fails and is left for recovery, and is refused
    await send(authPassword=NEW_PASSWORD)
    sandbox.faults.add(*UPDATE_OUTBOUND, status=503, times=EVERY_ATTEMPT)
    await send(authPassword=NEW_PASSWORD + "-2")
    sandbox.faults.clear()
    let_one_through_then_fail(sandbox, UPDATE_INBOUND)
    sandbox.faults.add(*UPDATE_OUTBOUND, status=503)
    await send(authPassword=NEW_PASSWORD + "-3")
    sandbox.faults.clear()
    await recover_interrupted(app.state.services, NOW)
    await send(authUsername="bad name", authPassword=NEW_PASSWORD + "-4")
    await send(authPassword=NEW_PASSWORD + "\n")

    # then
    assert [json.loads(answer)["data"]["updateSipTrunk"]["__typename"] for answer in answers] == [
        "UpdateSipTrunkSuccess", "ProviderError", "ProviderError", "ValidationError", "ValidationError"
    ]
    assert (await livekit_side(app, trunk["id"]))["inbound"]["auth_password"] == NEW_PASSWORD
    for text in (*answers, caplog.text):
        assert NEW_PASSWORD not in text and PASSWORD not in text
