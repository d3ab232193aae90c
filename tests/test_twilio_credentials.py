"""Twilio credentials that change: imports with an API key, rotateTwilioCredentials, and what an operation
answers when Twilio refuses the credentials stored for an account. Through the API, against the sandbox."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import timedelta

import pytest

from models import PhoneNumber, TwilioAccount
from providers.sandbox.server import DEMO_STATE
from resolvers.recover_interrupted import recover_interrupted
from tests.factories import add_agent
from tests.graphql_documents import (
    DELETE_PHONE_NUMBER,
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    PURCHASE_PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    field_codes,
    import_result,
    sandbox_state,
)

_SEED = json.loads(DEMO_STATE.read_text())["twilio"]["accounts"]
_KEY = next(a for a in _SEED if not a.get("platform"))["api_keys"][0]
DEMO_KEY = {"accountSid": DEMO_ACCOUNT_SID, "apiKeySid": _KEY["sid"], "apiKeySecret": _KEY["secret"]}
PLATFORM_SID = next(a for a in _SEED if a.get("platform"))["sid"]
NEW_TOKEN = "f00dfacef00dfacef00dfacef00dface"
WRONG_TOKEN = "0123456789abcdef0123456789abcdef"
WRONG_SECRET = "WrongKeySecret000000000000000009"
# The demo token is the account SID's tail, so it is left out: finding the SID would be a false alarm.
SECRETS = (_KEY["secret"], NEW_TOKEN, WRONG_TOKEN, WRONG_SECRET)

ROTATE = """
mutation ($input: RotateTwilioCredentialsInput!) {
  rotateTwilioCredentials(input: $input) {
    __typename
    ... on RotateTwilioCredentialsSuccess { accountSid phoneNumberCount }
    ... on ValidationError { message code fieldErrors { field code message } }
    ... on NotFoundError { message code id }
    ... on ProviderError { message code provider retryable }
  }
}"""
def demo_account(app):
    return app.state.sandbox.twilio.account(DEMO_ACCOUNT_SID)


def field(body: dict, name: str) -> dict:
    assert "errors" not in body, body
    return body["data"][name]


async def import_did(tenant, credentials: dict = DEMO_CREDENTIALS, e164: str = DEMO_DIDS[0]) -> dict:
    return import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": e164, "source": "TWILIO", "twilio": credentials}}))


async def imported(tenant, credentials: dict = DEMO_CREDENTIALS, e164: str = DEMO_DIDS[0]) -> dict:
    result = await import_did(tenant, credentials, e164)
    assert result["__typename"] == "ImportPhoneNumberSuccess", result
    return result["phoneNumber"]


async def rotate(tenant, credentials: dict) -> dict:
    return field(await tenant.graphql(ROTATE, {"input": {"credentials": credentials}}), "rotateTwilioCredentials")


async def delete(tenant, number_id: str) -> dict:
    return field(await tenant.graphql(DELETE_PHONE_NUMBER, {"id": number_id}), "deletePhoneNumber")


async def bind(tenant, number_id: str, agent_id: str | None) -> dict:
    return field(await tenant.graphql(UPDATE_PHONE_NUMBER, {"input": {"id": number_id, "agentId": agent_id}}), "updatePhoneNumber")


async def stored(app) -> tuple[str, str | None]:
    """What the account's row opens Twilio with: (secret, API key SID)."""
    account = await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID)
    return app.state.services.secrets.decrypt(account.auth_token_encrypted), account.api_key_sid


def on_twilio_trunk(app, e164: str) -> bool:
    number = demo_account(app).number(e164)
    return number is not None and number.trunk_sid is not None


def assert_no_secret(*texts: str) -> None:
    for secret in SECRETS:
        for text in texts:
            assert secret not in text
            assert base64.b64encode(f"{DEMO_ACCOUNT_SID}:{secret}".encode()).decode() not in text
            assert base64.b64encode(f"{_KEY['sid']}:{secret}".encode()).decode() not in text


# ---------------------------------------------------------------- importing with an API key


async def test_import_with_an_api_key_stores_the_key_and_later_operations_use_it(app, tenant):
    # when
    number = await imported(tenant, DEMO_KEY)
    demo_account(app).auth_token = NEW_TOKEN  # the auth token changes at Twilio; the key still opens the account

    # then
    account = await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID)
    assert _KEY["secret"] not in account.auth_token_encrypted
    assert await stored(app) == (_KEY["secret"], _KEY["sid"])
    assert on_twilio_trunk(app, DEMO_DIDS[0])
    assert (await delete(tenant, number["id"]))["__typename"] == "DeletePhoneNumberSuccess"
    assert not on_twilio_trunk(app, DEMO_DIDS[0])


async def test_import_with_a_wrong_api_key_secret_is_refused_on_that_field(app, tenant):
    # when
    result = await import_did(tenant, {**DEMO_KEY, "apiKeySecret": WRONG_SECRET})

    # then
    assert field_codes(result) == [("twilio.apiKeySecret", "CREDENTIALS_REJECTED")]
    assert "API key" in result["fieldErrors"][0]["message"]
    assert await TwilioAccount.all().count() == 0


ONE_FORM = [
    pytest.param({"accountSid": DEMO_ACCOUNT_SID}, [("authToken", "REQUIRED")], id="neither"),
    pytest.param({**DEMO_KEY, "authToken": DEMO_AUTH_TOKEN}, [("authToken", "NOT_ALLOWED")], id="both"),
    pytest.param({**DEMO_KEY, "apiKeySid": "AK" + "0" * 32}, [("apiKeySid", "INVALID_FORMAT")], id="not-an-SK-sid"),
    pytest.param({"accountSid": DEMO_ACCOUNT_SID, "apiKeySid": _KEY["sid"]}, [("apiKeySecret", "REQUIRED")], id="key-without-secret"),
    pytest.param({"accountSid": DEMO_ACCOUNT_SID, "apiKeySecret": _KEY["secret"]}, [("apiKeySid", "REQUIRED")], id="secret-without-key"),
    pytest.param({**DEMO_KEY, "apiKeySecret": WRONG_SECRET[:31] + "!"}, [("apiKeySecret", "INVALID_FORMAT")], id="secret-not-alphanumeric"),
    pytest.param({**DEMO_KEY, "apiKeySecret": WRONG_SECRET[:20]}, [("apiKeySecret", "INVALID_FORMAT")], id="secret-too-short"),
]


@pytest.mark.parametrize(("credentials", "expected"), ONE_FORM)
async def test_credentials_take_exactly_one_form_in_imports_and_rotations(app, tenant, credentials, expected):
    # given
    await imported(tenant)
    carriers_before = sandbox_state(app)

    # when
    import_answer = await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": DEMO_DIDS[1], "source": "TWILIO", "twilio": credentials}})
    rotate_answer = await tenant.graphql(ROTATE, {"input": {"credentials": credentials}})

    # then every problem names its field, and nothing was asked of Twilio
    assert field_codes(import_result(import_answer)) == [(f"twilio.{name}", code) for name, code in expected]
    assert field_codes(field(rotate_answer, "rotateTwilioCredentials")) == [(f"credentials.{name}", code) for name, code in expected]
    assert sandbox_state(app) == carriers_before
    assert await stored(app) == (DEMO_AUTH_TOKEN, None)
    assert_no_secret(json.dumps(import_answer), json.dumps(rotate_answer))


# ---------------------------------------------------------------- rotation


async def test_revoked_token_refuses_deletes_until_rotated_then_deletes_and_binds_work(app, tenant, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    agent = await add_agent(tenant.workspace)
    first, second = await imported(tenant), await imported(tenant, e164=DEMO_DIDS[1])
    demo_account(app).auth_token = NEW_TOKEN  # the customer rotated the token at Twilio

    # when
    refused = await delete(tenant, first["id"])

    # then the number is as it was, at Twilio and here
    assert (refused["__typename"], refused["code"], refused["provider"], refused["retryable"]) == (
        "ProviderError", "CREDENTIALS_REJECTED", "TWILIO", False,
    )
    assert "rotateTwilioCredentials" in refused["message"] and "AC…" in refused["message"]
    assert (await PhoneNumber.get(id=first["id"])).status == "ACTIVE"
    assert on_twilio_trunk(app, DEMO_DIDS[0])
    assert app.state.sandbox.livekit.inbound_trunks  # no LiveKit side taken off ahead of Twilio's

    # when the workspace gives the new token
    rotated = await rotate(tenant, {"accountSid": DEMO_ACCOUNT_SID, "authToken": NEW_TOKEN})

    # then later operations use it
    assert rotated == {"__typename": "RotateTwilioCredentialsSuccess", "accountSid": DEMO_ACCOUNT_SID, "phoneNumberCount": 2}
    assert await stored(app) == (NEW_TOKEN, None)
    assert (await bind(tenant, second["id"], agent.id))["phoneNumber"]["agentId"] == agent.id
    assert (await delete(tenant, first["id"]))["__typename"] == "DeletePhoneNumberSuccess"
    assert not on_twilio_trunk(app, DEMO_DIDS[0])
    assert (await delete(tenant, second["id"]))["__typename"] == "DeletePhoneNumberSuccess"
    assert demo_account(app).trunks == {}
    assert_no_secret(json.dumps([refused, rotated]), caplog.text + "".join(repr(r.args) for r in caplog.records))


async def test_rotation_to_an_api_key_after_the_token_was_revoked(app, tenant):
    # given
    number = await imported(tenant)
    demo_account(app).auth_token = NEW_TOKEN

    # when
    rotated = await rotate(tenant, DEMO_KEY)

    # then
    assert rotated == {"__typename": "RotateTwilioCredentialsSuccess", "accountSid": DEMO_ACCOUNT_SID, "phoneNumberCount": 1}
    assert await stored(app) == (_KEY["secret"], _KEY["sid"])
    assert (await delete(tenant, number["id"]))["__typename"] == "DeletePhoneNumberSuccess"
    assert not on_twilio_trunk(app, DEMO_DIDS[0])


@pytest.mark.parametrize(
    ("credentials", "refused_field"),
    [
        pytest.param({"accountSid": DEMO_ACCOUNT_SID, "authToken": WRONG_TOKEN}, "credentials.authToken", id="token"),
        pytest.param({**DEMO_KEY, "apiKeySecret": WRONG_SECRET}, "credentials.apiKeySecret", id="api-key"),
    ],
)
async def test_rotation_twilio_refuses_changes_nothing(app, tenant, credentials, refused_field):
    # given
    number = await imported(tenant)
    row_before = await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID).values()

    # when
    refused = await rotate(tenant, credentials)

    # then
    assert field_codes(refused) == [(refused_field, "CREDENTIALS_REJECTED")]
    assert await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID).values() == row_before
    assert (await delete(tenant, number["id"]))["__typename"] == "DeletePhoneNumberSuccess"  # the old credentials still serve
    assert_no_secret(json.dumps(refused))


async def test_rotation_for_an_account_no_number_of_the_workspace_uses_is_not_found(app, tenant, make_tenant):
    # given another workspace's number on the account
    other = await make_tenant("Globex")
    await imported(other)
    row_before = await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID).values()

    # when
    result = await rotate(tenant, {"accountSid": DEMO_ACCOUNT_SID, "authToken": DEMO_AUTH_TOKEN})

    # then
    assert (result["__typename"], result["code"], result["id"]) == ("NotFoundError", "NOT_FOUND", DEMO_ACCOUNT_SID)
    assert await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID).values() == row_before


async def test_an_import_running_with_the_old_credentials_does_not_undo_a_rotation(app, tenant):
    # given a number, and a second import whose look-up at Twilio is slow
    await imported(tenant)
    app.state.sandbox.faults.add("GET", "*/OutgoingCallerIds.json", delay=3.0, times=1)
    caller_ids = f"/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/OutgoingCallerIds.json"
    requests_before = len(app.state.sandbox.requests)

    async def rotate_once_the_import_proved_its_credentials():
        while not any(r["path"] == caller_ids for r in app.state.sandbox.requests[requests_before:]):
            await asyncio.sleep(0.02)
        return await rotate(tenant, DEMO_KEY)

    # when the workspace rotates to an API key while that import runs with the (still valid) token
    running_import, rotated = await asyncio.gather(
        import_did(tenant, e164=DEMO_DIDS[1]), rotate_once_the_import_proved_its_credentials()
    )

    # then both succeed and the rotated credentials stay
    assert (running_import["__typename"], rotated["__typename"]) == ("ImportPhoneNumberSuccess", "RotateTwilioCredentialsSuccess")
    assert await stored(app) == (_KEY["secret"], _KEY["sid"])


async def test_a_delete_recovery_waits_for_rotated_credentials_without_logging_them(app, tenant, caplog):
    # given a delete that Twilio interrupted after the credentials check, then a token revoked at Twilio
    caplog.set_level(logging.DEBUG)
    number = await imported(tenant)
    app.state.sandbox.faults.add("DELETE", "/v1/Trunks/*", status=503)
    assert (await delete(tenant, number["id"]))["code"] == "PROVIDER_UNAVAILABLE"
    app.state.sandbox.faults.clear()
    demo_account(app).auth_token = NEW_TOKEN

    # when
    waited = await recover_interrupted(app.state.services, timedelta(0))
    refused = await delete(tenant, number["id"])
    await rotate(tenant, {"accountSid": DEMO_ACCOUNT_SID, "authToken": NEW_TOKEN})
    finished = await recover_interrupted(app.state.services, timedelta(0))

    # then
    assert waited == 0 and "rotateTwilioCredentials" in caplog.text
    assert refused["code"] == "CREDENTIALS_REJECTED"
    assert finished == 1 and not await PhoneNumber.exists(id=number["id"])
    assert demo_account(app).trunks == {}
    assert_no_secret(caplog.text + "".join(repr(r.args) for r in caplog.records), json.dumps(refused))


async def test_purchase_refused_platform_credentials_are_the_operators_to_renew(app, tenant):
    # given the platform's token changed at Twilio, and not yet in the server's settings
    platform = app.state.sandbox.twilio.account(PLATFORM_SID)
    platform_token = platform.auth_token
    platform.auth_token = NEW_TOKEN

    # when
    result = field(await tenant.graphql(PURCHASE_PHONE_NUMBER, {"input": {"e164": "+15125550123"}}), "purchasePhoneNumber")
    rotation = await rotate(tenant, {"accountSid": PLATFORM_SID, "authToken": NEW_TOKEN})

    # then the workspace is told it is not its to fix, and cannot rotate the platform's account
    assert (result["__typename"], result["code"], result["retryable"]) == ("ProviderError", "CREDENTIALS_REJECTED", False)
    assert "operator" in result["message"] and "rotateTwilioCredentials" not in result["message"]
    assert field_codes(rotation) == [("credentials.accountSid", "NOT_ALLOWED")]

    # when the operator's credentials open the account again, recovery undoes what the purchase began
    platform.auth_token = platform_token
    assert await recover_interrupted(app.state.services, timedelta(0)) == 1
    assert await PhoneNumber.all().count() == 0
    assert platform.incoming_phone_numbers == {}
