"""importPhoneNumber refuses bad input as one ValidationError naming every problem, and changes nothing."""

import pytest

from models import PhoneNumber, SipTrunk, TwilioAccount
from models.ids import new_id
from tests.factories import add_agent, add_sip_trunk
from tests.graphql_documents import DEMO_CREDENTIALS, IMPORT_PHONE_NUMBER, field_codes, import_result, sandbox_state

US_NUMBER = "+12025551234"
UK_NUMBER = "+442071838750"
WELL_FORMED_TRUNK_ID = new_id("trunk")
WELL_FORMED_AGENT_ID = new_id("agent")
LEGACY_UUID = "3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b"
BAD_SID = {"accountSid": "AC123", "authToken": DEMO_CREDENTIALS["authToken"]}
BAD_TOKEN = {"accountSid": DEMO_CREDENTIALS["accountSid"], "authToken": "not-a-token"}


def livekit(**fields):
    return {"e164": US_NUMBER, "source": "LIVEKIT", **fields}


def twilio(**fields):
    return {"e164": US_NUMBER, "source": "TWILIO", "twilio": DEMO_CREDENTIALS, **fields}


def byoc(**fields):
    return {"e164": US_NUMBER, "source": "BYOC", "trunkId": WELL_FORMED_TRUNK_ID, **fields}


# (input, the exact (field, code) pairs of the ValidationError)
RULES = [
    (livekit(e164="(202) 555-1234"), [("e164", "INVALID_FORMAT")]),
    (livekit(e164="12025551234"), [("e164", "INVALID_FORMAT")]),
    (livekit(e164="+1 202 555 1234"), [("e164", "INVALID_FORMAT")]),
    (livekit(e164="+1202555123"), [("e164", "INVALID_NUMBER")]),
    (livekit(e164=""), [("e164", "INVALID_FORMAT")]),
    (livekit(e164=UK_NUMBER), [("e164", "UNSUPPORTED_COUNTRY")]),
    ({"e164": US_NUMBER, "source": "TWILIO"}, [("twilio", "REQUIRED")]),
    (twilio(twilio=BAD_SID), [("twilio.accountSid", "INVALID_FORMAT")]),
    (twilio(twilio={**DEMO_CREDENTIALS, "accountSid": "ZZ" + "0" * 32}), [("twilio.accountSid", "INVALID_FORMAT")]),
    (twilio(twilio=BAD_TOKEN), [("twilio.authToken", "INVALID_FORMAT")]),
    (twilio(twilio={**DEMO_CREDENTIALS, "authToken": "0" * 31}), [("twilio.authToken", "INVALID_FORMAT")]),
    (
        twilio(twilio={"accountSid": "AC123", "authToken": "short"}),
        [("twilio.accountSid", "INVALID_FORMAT"), ("twilio.authToken", "INVALID_FORMAT")],
    ),
    ({"e164": US_NUMBER, "source": "BYOC"}, [("trunkId", "REQUIRED")]),
    (livekit(trunkId=WELL_FORMED_TRUNK_ID), [("trunkId", "NOT_ALLOWED")]),
    (twilio(trunkId=WELL_FORMED_TRUNK_ID), [("trunkId", "NOT_ALLOWED")]),
    (livekit(twilio=DEMO_CREDENTIALS), [("twilio", "NOT_ALLOWED")]),
    (byoc(twilio=DEMO_CREDENTIALS), [("twilio", "NOT_ALLOWED")]),
    ({"e164": US_NUMBER, "source": "TWILIO_PURCHASED"}, [("source", "NOT_ALLOWED")]),
    ({"e164": US_NUMBER, "source": "VERIFIED_CALLER_ID"}, [("source", "SERVER_DETERMINED")]),
    (livekit(label="x" * 256), [("label", "TOO_LONG")]),
    (livekit(agentId="agent_123"), [("agentId", "INVALID_FORMAT")]),
    (livekit(agentId=LEGACY_UUID), [("agentId", "INVALID_FORMAT")]),
    (livekit(agentId=WELL_FORMED_TRUNK_ID), [("agentId", "INVALID_FORMAT")]),
    (livekit(agentId=WELL_FORMED_AGENT_ID.lower()), [("agentId", "INVALID_FORMAT")]),
    (byoc(trunkId="trunk_123"), [("trunkId", "INVALID_FORMAT")]),
    (byoc(trunkId=WELL_FORMED_AGENT_ID), [("trunkId", "INVALID_FORMAT")]),
    (
        {"e164": "(202) 555-1234", "source": "TWILIO", "label": "x" * 256, "agentId": "agent_1", "trunkId": "t"},
        [
            ("agentId", "INVALID_FORMAT"),
            ("e164", "INVALID_FORMAT"),
            ("label", "TOO_LONG"),
            ("trunkId", "INVALID_FORMAT"),
            ("trunkId", "NOT_ALLOWED"),
            ("twilio", "REQUIRED"),
        ],
    ),
    (
        {"e164": "+1202555123", "source": "VERIFIED_CALLER_ID", "twilio": BAD_TOKEN},
        [("e164", "INVALID_NUMBER"), ("source", "SERVER_DETERMINED"), ("twilio", "NOT_ALLOWED")],
    ),
    (
        {"e164": UK_NUMBER, "source": "LIVEKIT", "label": "x" * 300, "twilio": DEMO_CREDENTIALS, "trunkId": WELL_FORMED_TRUNK_ID},
        [("e164", "UNSUPPORTED_COUNTRY"), ("label", "TOO_LONG"), ("trunkId", "NOT_ALLOWED"), ("twilio", "NOT_ALLOWED")],
    ),
]
RULE_IDS = [
    "e164-national-format",
    "e164-without-plus",
    "e164-with-spaces",
    "e164-too-short",
    "e164-empty",
    "livekit-outside-us",
    "twilio-without-credentials",
    "twilio-sid-too-short",
    "twilio-sid-wrong-prefix",
    "twilio-token-not-hex",
    "twilio-token-31-hex",
    "twilio-sid-and-token-malformed",
    "byoc-without-trunk",
    "livekit-with-trunk",
    "twilio-with-trunk",
    "livekit-with-twilio",
    "byoc-with-twilio",
    "twilio-purchased-source",
    "verified-caller-id-source",
    "label-256-characters",
    "agent-id-short",
    "agent-id-legacy-uuid",
    "agent-id-trunk-prefix",
    "agent-id-lower-case",
    "trunk-id-short",
    "trunk-id-agent-prefix",
    "six-problems-at-once",
    "server-determined-source-bad-number-and-twilio",
    "livekit-uk-number-long-label-trunk-and-twilio",
]


async def assert_nothing_written(app) -> None:
    assert await PhoneNumber.all().count() == 0
    assert await TwilioAccount.all().count() == 0
    assert app.state.sandbox.requests == []


@pytest.mark.parametrize("given_input, expected", RULES, ids=RULE_IDS)
async def test_import_refuses_invalid_input_naming_each_field(app, tenant, given_input, expected):
    # given
    carriers_before = sandbox_state(app)

    # when
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": given_input}))

    # then
    assert result["__typename"] == "ValidationError"
    assert result["code"] == "VALIDATION_FAILED"
    assert field_codes(result) == expected
    assert all(error["message"] for error in result["fieldErrors"])
    await assert_nothing_written(app)
    assert sandbox_state(app) == carriers_before


@pytest.mark.parametrize(
    "e164, message",
    [
        ("(202) 555-1234", "e164 must be in E.164 form, e.g. +12025551234 (not '(202) 555-1234')"),
        ("12025551234", "e164 must be in E.164 form, e.g. +12025551234 (not '12025551234')"),
        ("+1 202 555 1234", "e164 must be written in E.164 form: +12025551234"),
        ("+1202555123", "e164 '+1202555123' is not a valid phone number; expected e.g. +12025551234"),
        ("call me", "e164 must be in E.164 form: +, country code and number, e.g. +12025551234 (not 'call me')"),
    ],
    ids=["national-format", "without-plus", "with-spaces", "too-short", "not-a-number"],
)
async def test_e164_refusal_shows_the_expected_form(tenant, e164, message):
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": livekit(e164=e164)}))

    assert result["__typename"] == "ValidationError"
    assert [error["message"] for error in result["fieldErrors"]] == [message]


async def test_twilio_purchased_refusal_points_to_purchase_phone_number(tenant):
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": US_NUMBER, "source": "TWILIO_PURCHASED"}}))

    assert result["__typename"] == "ValidationError"
    assert "purchasePhoneNumber" in result["fieldErrors"][0]["message"]


async def test_malformed_auth_token_is_not_echoed(tenant):
    token = "secret-looking-token-value"
    body = await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": twilio(twilio={**DEMO_CREDENTIALS, "authToken": token})})

    assert field_codes(import_result(body)) == [("twilio.authToken", "INVALID_FORMAT")]
    assert token not in str(body)


async def test_label_of_255_characters_passes_validation(tenant):
    # An unknown agent is only looked up once the input is valid, so NOT_FOUND shows the label passed.
    given = livekit(label="x" * 255, agentId=WELL_FORMED_AGENT_ID)

    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": given}))

    assert field_codes(result) == [("agentId", "NOT_FOUND")]


@pytest.fixture
async def other_tenant(make_tenant):
    return await make_tenant("Globex")


async def unknown_agent(tenant, other):
    return {"agentId": new_id("agent")}


async def other_workspaces_agent(tenant, other):
    return {"agentId": (await add_agent(other.workspace)).id}


async def unknown_trunk(tenant, other):
    return {"trunkId": new_id("trunk")}


async def other_workspaces_trunk(tenant, other):
    return {"trunkId": (await add_sip_trunk(other.workspace)).id}


async def unknown_agent_and_trunk(tenant, other):
    return {"agentId": new_id("agent"), "trunkId": new_id("trunk")}


async def server_managed_trunk(tenant, other):
    trunk = await SipTrunk.create(workspace=tenant.workspace, name="Twilio AC…0001", provider="TWILIO", direction="BOTH")
    return {"trunkId": trunk.id}


@pytest.mark.parametrize(
    "references, expected",
    [
        (unknown_agent, [("agentId", "NOT_FOUND")]),
        (other_workspaces_agent, [("agentId", "NOT_FOUND")]),
        (unknown_trunk, [("trunkId", "NOT_FOUND")]),
        (other_workspaces_trunk, [("trunkId", "NOT_FOUND")]),
        (unknown_agent_and_trunk, [("agentId", "NOT_FOUND"), ("trunkId", "NOT_FOUND")]),
        (server_managed_trunk, [("trunkId", "NOT_ALLOWED")]),
    ],
    ids=["unknown-agent", "other-workspaces-agent", "unknown-trunk", "other-workspaces-trunk", "both-unknown", "twilio-trunk"],
)
async def test_byoc_import_refuses_references_outside_the_workspace(app, tenant, other_tenant, references, expected):
    # given
    given_input = {"e164": US_NUMBER, "source": "BYOC", "trunkId": (await add_sip_trunk(tenant.workspace)).id}
    given_input.update(await references(tenant, other_tenant))

    # when
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": given_input}))

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == expected
    for error in result["fieldErrors"]:
        assert given_input[error["field"]] in error["message"] or error["code"] == "NOT_ALLOWED"
    await assert_nothing_written(app)
