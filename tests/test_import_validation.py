"""importPhoneNumber refuses bad input as one ValidationError naming every problem, and changes nothing."""

import pytest

from models import PhoneNumber, SipTrunk, TwilioAccount
from models.ids import new_id
from tests.factories import add_agent, add_sip_trunk
from tests.graphql_documents import (
    DEMO_CREDENTIALS,
    IMPORT_PHONE_NUMBER,
    field_codes,
    import_result,
    sandbox_state,
)
from tests.unit.test_import_rules import (
    RULES,
    US_NUMBER,
    WELL_FORMED_AGENT_ID,
    livekit,
    twilio,
)

# The rules themselves are unit tests (tests/unit/test_import_rules.py); these cases prove that the mutation
# runs them, answers every problem at once as one ValidationError, and touches neither rows nor carriers.
WIRING = [case for case in RULES if case.id in ("twilio-sid-and-token-malformed", "six-problems-at-once")]


async def assert_nothing_written(app) -> None:
    assert await PhoneNumber.all().count() == 0
    assert await TwilioAccount.all().count() == 0
    assert app.state.sandbox.requests == []


@pytest.mark.parametrize("given_input, expected", WIRING)
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


async def test_e164_refusal_shows_the_expected_form(tenant):
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": livekit(e164="+1 202 555 1234")}))

    assert result["__typename"] == "ValidationError"
    assert [error["message"] for error in result["fieldErrors"]] == ["e164 must be written in E.164 form: +12025551234"]


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
