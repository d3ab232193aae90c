"""importPhoneNumber's input rules, on the pure validator the mutation runs first: every problem at once,
each named by field and code. tests/test_import_validation.py proves the wiring through GraphQL."""

from __future__ import annotations

import pytest

from models.ids import new_id
from resolvers.import_phone_number import validate
from tests.graphql_documents import DEMO_CREDENTIALS
from tests.unit.requests import import_request, problem_codes

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
    return {
        "e164": US_NUMBER,
        "source": "BYOC",
        "trunkId": WELL_FORMED_TRUNK_ID,
        **fields,
    }


def problems_of(given: dict) -> list:
    return list(validate(import_request(given)))


# (input, the exact (field, code) pairs of the ValidationError)
RULES = [
    pytest.param(
        livekit(e164="(202) 555-1234"),
        [("e164", "INVALID_FORMAT")],
        id="e164-national-format",
    ),
    pytest.param(
        livekit(e164="12025551234"),
        [("e164", "INVALID_FORMAT")],
        id="e164-without-plus",
    ),
    pytest.param(
        livekit(e164="+1 202 555 1234"),
        [("e164", "INVALID_FORMAT")],
        id="e164-with-spaces",
    ),
    pytest.param(livekit(e164="+1202555123"), [("e164", "INVALID_NUMBER")], id="e164-too-short"),
    pytest.param(livekit(e164=""), [("e164", "INVALID_FORMAT")], id="e164-empty"),
    pytest.param(
        livekit(e164=UK_NUMBER),
        [("e164", "UNSUPPORTED_COUNTRY")],
        id="livekit-outside-us",
    ),
    pytest.param(
        {"e164": US_NUMBER, "source": "TWILIO"},
        [("twilio", "REQUIRED")],
        id="twilio-without-credentials",
    ),
    pytest.param(
        twilio(twilio=BAD_SID),
        [("twilio.accountSid", "INVALID_FORMAT")],
        id="twilio-sid-too-short",
    ),
    pytest.param(
        twilio(twilio={**DEMO_CREDENTIALS, "accountSid": "ZZ" + "0" * 32}),
        [("twilio.accountSid", "INVALID_FORMAT")],
        id="twilio-sid-wrong-prefix",
    ),
    pytest.param(
        twilio(twilio=BAD_TOKEN),
        [("twilio.authToken", "INVALID_FORMAT")],
        id="twilio-token-not-hex",
    ),
    pytest.param(
        twilio(twilio={**DEMO_CREDENTIALS, "authToken": "0" * 31}),
        [("twilio.authToken", "INVALID_FORMAT")],
        id="twilio-token-31-hex",
    ),
    pytest.param(
        twilio(twilio={"accountSid": "AC123", "authToken": "short"}),
        [
            ("twilio.accountSid", "INVALID_FORMAT"),
            ("twilio.authToken", "INVALID_FORMAT"),
        ],
        id="twilio-sid-and-token-malformed",
    ),
    pytest.param(
        {"e164": US_NUMBER, "source": "BYOC"},
        [("trunkId", "REQUIRED")],
        id="byoc-without-trunk",
    ),
    pytest.param(
        livekit(trunkId=WELL_FORMED_TRUNK_ID),
        [("trunkId", "NOT_ALLOWED")],
        id="livekit-with-trunk",
    ),
    pytest.param(
        twilio(trunkId=WELL_FORMED_TRUNK_ID),
        [("trunkId", "NOT_ALLOWED")],
        id="twilio-with-trunk",
    ),
    pytest.param(
        livekit(twilio=DEMO_CREDENTIALS),
        [("twilio", "NOT_ALLOWED")],
        id="livekit-with-twilio",
    ),
    pytest.param(
        byoc(twilio=DEMO_CREDENTIALS),
        [("twilio", "NOT_ALLOWED")],
        id="byoc-with-twilio",
    ),
    pytest.param(
        {"e164": US_NUMBER, "source": "TWILIO_PURCHASED"},
        [("source", "NOT_ALLOWED")],
        id="twilio-purchased-source",
    ),
    pytest.param(
        {"e164": US_NUMBER, "source": "VERIFIED_CALLER_ID"},
        [("source", "SERVER_DETERMINED")],
        id="verified-caller-id-source",
    ),
    pytest.param(livekit(label="x" * 256), [("label", "TOO_LONG")], id="label-256-characters"),
    pytest.param(
        livekit(agentId="agent_123"),
        [("agentId", "INVALID_FORMAT")],
        id="agent-id-short",
    ),
    pytest.param(
        livekit(agentId=LEGACY_UUID),
        [("agentId", "INVALID_FORMAT")],
        id="agent-id-legacy-uuid",
    ),
    pytest.param(
        livekit(agentId=WELL_FORMED_TRUNK_ID),
        [("agentId", "INVALID_FORMAT")],
        id="agent-id-trunk-prefix",
    ),
    pytest.param(
        livekit(agentId=WELL_FORMED_AGENT_ID.lower()),
        [("agentId", "INVALID_FORMAT")],
        id="agent-id-lower-case",
    ),
    pytest.param(byoc(trunkId="trunk_123"), [("trunkId", "INVALID_FORMAT")], id="trunk-id-short"),
    pytest.param(
        byoc(trunkId=WELL_FORMED_AGENT_ID),
        [("trunkId", "INVALID_FORMAT")],
        id="trunk-id-agent-prefix",
    ),
    pytest.param(
        {
            "e164": "(202) 555-1234",
            "source": "TWILIO",
            "label": "x" * 256,
            "agentId": "agent_1",
            "trunkId": "t",
        },
        [
            ("agentId", "INVALID_FORMAT"),
            ("e164", "INVALID_FORMAT"),
            ("label", "TOO_LONG"),
            ("trunkId", "INVALID_FORMAT"),
            ("trunkId", "NOT_ALLOWED"),
            ("twilio", "REQUIRED"),
        ],
        id="six-problems-at-once",
    ),
    pytest.param(
        {"e164": "+1202555123", "source": "VERIFIED_CALLER_ID", "twilio": BAD_TOKEN},
        [
            ("e164", "INVALID_NUMBER"),
            ("source", "SERVER_DETERMINED"),
            ("twilio", "NOT_ALLOWED"),
        ],
        id="server-determined-source-bad-number-and-twilio",
    ),
    pytest.param(
        {
            "e164": UK_NUMBER,
            "source": "LIVEKIT",
            "label": "x" * 300,
            "twilio": DEMO_CREDENTIALS,
            "trunkId": WELL_FORMED_TRUNK_ID,
        },
        [
            ("e164", "UNSUPPORTED_COUNTRY"),
            ("label", "TOO_LONG"),
            ("trunkId", "NOT_ALLOWED"),
            ("twilio", "NOT_ALLOWED"),
        ],
        id="livekit-uk-number-long-label-trunk-and-twilio",
    ),
]


@pytest.mark.parametrize("given_input, expected", RULES)
def test_invalid_input_is_refused_naming_each_field(given_input, expected):
    problems = problems_of(given_input)

    assert problem_codes(problems) == expected
    assert all(problem.message for problem in problems)


@pytest.mark.parametrize(
    "given_input",
    [
        livekit(),
        livekit(label="x" * 255, agentId=WELL_FORMED_AGENT_ID),
        twilio(),
        byoc(agentId=WELL_FORMED_AGENT_ID),
    ],
    ids=["livekit", "livekit-label-255-and-agent", "twilio", "byoc-with-agent"],
)
def test_valid_input_has_no_problems(given_input):
    assert problems_of(given_input) == []


@pytest.mark.parametrize(
    "e164, message",
    [
        (
            "(202) 555-1234",
            "e164 must be in E.164 form, e.g. +12025551234 (not '(202) 555-1234')",
        ),
        (
            "12025551234",
            "e164 must be in E.164 form, e.g. +12025551234 (not '12025551234')",
        ),
        ("+1 202 555 1234", "e164 must be written in E.164 form: +12025551234"),
        (
            "+1202555123",
            "e164 '+1202555123' is not a valid phone number; expected e.g. +12025551234",
        ),
        (
            "call me",
            "e164 must be in E.164 form: +, country code and number, e.g. +12025551234 (not 'call me')",
        ),
    ],
    ids=["national-format", "without-plus", "with-spaces", "too-short", "not-a-number"],
)
def test_e164_refusal_shows_the_expected_form(e164, message):
    assert [problem.message for problem in problems_of(livekit(e164=e164))] == [message]


def test_twilio_purchased_refusal_points_to_purchase_phone_number():
    (problem,) = problems_of({"e164": US_NUMBER, "source": "TWILIO_PURCHASED"})

    assert "purchasePhoneNumber" in problem.message


def test_malformed_auth_token_is_not_echoed():
    token = "secret-looking-token-value"

    problems = problems_of(twilio(twilio={**DEMO_CREDENTIALS, "authToken": token}))

    assert problem_codes(problems) == [("twilio.authToken", "INVALID_FORMAT")]
    assert token not in repr(problems)
