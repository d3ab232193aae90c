"""A TWILIO import proves the credentials and the number before it can learn that another workspace holds it:
without that proof the answer is the same whether the number is held elsewhere or not."""

from __future__ import annotations

import dataclasses
import json

import pytest

from models import PhoneNumber, TwilioAccount
from providers.sandbox.server import DEMO_STATE
from tests.graphql_documents import DEMO_CALLER_IDS, DEMO_CREDENTIALS, DEMO_DIDS, IMPORT_PHONE_NUMBER, field_codes, import_result

WRONG_TOKEN = {**DEMO_CREDENTIALS, "authToken": "0123456789abcdef0123456789abcdef"}
# Another account of the sandbox, which holds none of the demo customer's numbers.
_PLATFORM = next(a for a in json.loads(DEMO_STATE.read_text())["twilio"]["accounts"] if a.get("platform"))
OTHER_ACCOUNT = {"accountSid": _PLATFORM["sid"], "authToken": _PLATFORM["auth_token"]}
FREE_DID = DEMO_DIDS[1]  # on the demo account, held by no workspace


@pytest.fixture
def settings(settings):
    """The demo sandbox seed, whatever TRUNKLINE_SANDBOX_STATE says."""
    return dataclasses.replace(settings, sandbox_state=str(DEMO_STATE))


@pytest.fixture
async def holder(make_tenant):
    """Another workspace that imported the demo account's first DID and, riding its trunk, a caller ID."""
    other = await make_tenant("Globex")
    for e164 in (DEMO_DIDS[0], DEMO_CALLER_IDS[0]):
        done = import_result(await other.graphql(IMPORT_PHONE_NUMBER, {"input": twilio_input(e164, DEMO_CREDENTIALS)}))
        assert done["__typename"] == "ImportPhoneNumberSuccess", done
    return other


def twilio_input(e164: str, credentials: dict) -> dict:
    return {"e164": e164, "source": "TWILIO", "twilio": credentials}


async def import_as(tenant, e164: str, credentials: dict) -> dict:
    return import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": twilio_input(e164, credentials)}))


def without_number(result: dict, e164: str) -> dict:
    """The answer with the number itself blanked, so answers about two numbers can be compared."""
    return json.loads(json.dumps(result).replace(e164, "+NUMBER"))


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        pytest.param(WRONG_TOKEN, [("twilio.authToken", "CREDENTIALS_REJECTED")], id="wrong-auth-token"),
        pytest.param(OTHER_ACCOUNT, [("e164", "NOT_OWNED")], id="account-without-the-number"),
    ],
)
@pytest.mark.parametrize("held_e164", [DEMO_DIDS[0], DEMO_CALLER_IDS[0]], ids=["did", "caller-id"])
async def test_unproved_import_of_a_number_held_elsewhere_answers_as_for_a_free_number(
    app, tenant, holder, credentials, expected, held_e164
):
    # given
    rows_before = await PhoneNumber.all().order_by("id").values_list("id", "workspace_id", "status")

    # when
    held_elsewhere = await import_as(tenant, held_e164, credentials)
    free = await import_as(tenant, FREE_DID, credentials)

    # then
    assert held_elsewhere["__typename"] == "ValidationError"
    assert field_codes(held_elsewhere) == expected
    assert without_number(held_elsewhere, held_e164) == without_number(free, FREE_DID)
    assert await PhoneNumber.all().order_by("id").values_list("id", "workspace_id", "status") == rows_before
    assert await TwilioAccount.filter(workspace_id=tenant.workspace.id).count() == 0


async def test_proved_import_of_a_number_held_elsewhere_is_already_existing_without_its_id(app, tenant, holder):
    # given
    held = await PhoneNumber.get(e164=DEMO_DIDS[0])

    # when
    result = await import_as(tenant, DEMO_DIDS[0], DEMO_CREDENTIALS)

    # then
    assert field_codes(result) == [("e164", "ALREADY_EXISTS")]
    assert held.id not in result["fieldErrors"][0]["message"]
    assert await PhoneNumber.filter(workspace_id=tenant.workspace.id).count() == 0


@pytest.mark.parametrize("credentials", [DEMO_CREDENTIALS, WRONG_TOKEN], ids=["right-credentials", "wrong-credentials"])
async def test_number_in_the_callers_own_workspace_is_already_existing_at_once(app, holder, credentials):
    # given
    requests_before = len(app.state.sandbox.requests)
    held = await PhoneNumber.get(e164=DEMO_DIDS[0])

    # when
    result = await import_as(holder, DEMO_DIDS[0], credentials)

    # then
    assert field_codes(result) == [("e164", "ALREADY_EXISTS")]
    assert held.id in result["fieldErrors"][0]["message"]
    assert len(app.state.sandbox.requests) == requests_before, "nothing was asked of Twilio"


async def test_twilio_failing_during_the_look_up_of_a_number_held_elsewhere_is_a_provider_error(app, tenant, holder):
    # given
    app.state.sandbox.faults.add("GET", "/2010-04-01/Accounts/*/IncomingPhoneNumbers.json", status=503)

    # when
    result = await import_as(tenant, DEMO_DIDS[0], WRONG_TOKEN)

    # then
    assert result["__typename"] == "ProviderError"
    assert (result["provider"], result["code"], result["retryable"]) == ("TWILIO", "PROVIDER_UNAVAILABLE", True)
    assert await PhoneNumber.filter(workspace_id=tenant.workspace.id).count() == 0
