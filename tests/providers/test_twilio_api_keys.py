"""API keys at the Twilio emulator, through the official SDK and through Trunkline's client: a key opens its
own account only, a Standard key does not open the Account resource, a removed key opens nothing."""

import json

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from providers.errors import CredentialsRejected
from tests.providers.conftest import CUSTOMER_SID, CUSTOMER_TOKEN, PLATFORM_SID, build_seed

STANDARD_KEY = "SK" + "5eed0001" * 4
STANDARD_SECRET = "StandardKeySecret000000000000001"
MAIN_KEY = "SK" + "5eed0002" * 4
MAIN_SECRET = "MainKeySecret0000000000000000002"
WRONG_SECRET = "WrongKeySecret000000000000000003"


@pytest.fixture
def sandbox_seed() -> dict:
    seed = build_seed()
    seed["twilio"]["accounts"][0]["api_keys"] = [
        {"sid": STANDARD_KEY, "secret": STANDARD_SECRET, "type": "standard"},
        {"sid": MAIN_KEY, "secret": MAIN_SECRET, "type": "main"},
    ]
    return seed


@pytest.fixture
async def http_client():
    client = AsyncTwilioHttpClient()
    yield client
    await client.close()


def key_client(sandbox, http_client, key_sid=STANDARD_KEY, secret=STANDARD_SECRET, account_sid=CUSTOMER_SID) -> Client:
    """The SDK as Twilio documents API-key auth: the key as username and password, the account SID apart."""
    client = Client(username=key_sid, password=secret, account_sid=account_sid, http_client=http_client)
    client.api.base_url = sandbox.url
    client.trunking.base_url = sandbox.url
    return client


def status_and_code(caught: pytest.ExceptionInfo) -> tuple[int, int]:
    error = caught.value
    if isinstance(error, TwilioRestException):
        return error.status, error.code
    response = error.args[1]  # list calls raise a bare TwilioException holding the response
    return response.status_code, json.loads(response.text)["code"]


async def test_standard_key_reads_and_writes_its_account(sandbox, http_client):
    sdk = key_client(sandbox, http_client)

    page = await sdk.incoming_phone_numbers.page_async(page_size=1)
    trunk = await sdk.trunking.v1.trunks.create_async(friendly_name="Acme", domain_name="acme-key.pstn.twilio.com")

    assert [n.account_sid for n in page] == [CUSTOMER_SID]
    assert trunk.account_sid == CUSTOMER_SID
    assert trunk.sid in sandbox.twilio.account(CUSTOMER_SID).trunks
    assert trunk.sid not in sandbox.twilio.account(PLATFORM_SID).trunks


async def test_wrong_key_secret_is_401_20003(sandbox, http_client):
    sdk = key_client(sandbox, http_client, secret=WRONG_SECRET)

    with pytest.raises(TwilioException) as caught:
        await sdk.incoming_phone_numbers.list_async(page_size=1)

    assert status_and_code(caught) == (401, 20003)


async def test_key_opens_no_other_account(sandbox, http_client):
    sdk = key_client(sandbox, http_client, account_sid=PLATFORM_SID)

    with pytest.raises(TwilioException) as caught:
        await sdk.incoming_phone_numbers.list_async(page_size=1)

    assert status_and_code(caught) == (401, 20003)


async def test_key_as_account_credentials_opens_nothing(sandbox, http_client):
    """The key's secret is no auth token: the account SID with it as password is refused."""
    sdk = key_client(sandbox, http_client, key_sid=CUSTOMER_SID)

    with pytest.raises(TwilioRestException) as caught:
        await sdk.trunking.v1.trunks.create_async(friendly_name="Acme", domain_name="acme-x.pstn.twilio.com")

    assert status_and_code(caught) == (401, 20003)


async def test_standard_key_cannot_fetch_the_account_but_a_main_key_and_the_token_can(sandbox, http_client):
    standard = key_client(sandbox, http_client)
    main = key_client(sandbox, http_client, key_sid=MAIN_KEY, secret=MAIN_SECRET)
    token = Client(CUSTOMER_SID, CUSTOMER_TOKEN, http_client=http_client)
    token.api.base_url = sandbox.url

    with pytest.raises(TwilioRestException) as caught:
        await standard.api.v2010.accounts(CUSTOMER_SID).fetch_async()

    assert status_and_code(caught) == (401, 20003)
    assert (await main.api.v2010.accounts(CUSTOMER_SID).fetch_async()).sid == CUSTOMER_SID
    assert (await token.api.v2010.accounts(CUSTOMER_SID).fetch_async()).sid == CUSTOMER_SID


async def test_removed_key_opens_nothing(sandbox, http_client):
    sdk = key_client(sandbox, http_client)
    assert await sdk.incoming_phone_numbers.list_async(page_size=1)

    del sandbox.twilio.account(CUSTOMER_SID).api_keys[STANDARD_KEY]  # the customer deleted the key
    with pytest.raises(TwilioException) as caught:
        await sdk.incoming_phone_numbers.list_async(page_size=1)

    assert status_and_code(caught) == (401, 20003)


async def test_trunkline_client_with_a_key_checks_credentials_and_hides_the_secret(sandbox, twilio_gateway):
    good = twilio_gateway.account(CUSTOMER_SID, STANDARD_SECRET, api_key_sid=STANDARD_KEY)
    bad = twilio_gateway.account(CUSTOMER_SID, WRONG_SECRET, api_key_sid=STANDARD_KEY)

    await good.check_credentials()
    found = await good.find_incoming_number("+14155550101")
    with pytest.raises(CredentialsRejected) as caught:
        await bad.check_credentials()

    assert found is not None and found.phone_number == "+14155550101"
    assert (caught.value.status, caught.value.code, caught.value.account_sid) == (401, "20003", CUSTOMER_SID)
    assert WRONG_SECRET not in f"{caught.value} {caught.value!r}"
    # one page of one number: a read a Standard key may make
    assert sandbox.requests[-1]["path"] == f"/2010-04-01/Accounts/{CUSTOMER_SID}/IncomingPhoneNumbers.json"
