"""The Twilio emulator driven by the official SDK: each resource it serves parses as Twilio's would."""

import aiohttp
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from tests.providers.conftest import CUSTOMER_SID, CUSTOMER_TOKEN, PLATFORM_SID, PLATFORM_TOKEN

SIP_URL = "sip:vjnxecm0tjk.sip.livekit.cloud"
PASSWORD = "Str0ngSipPassw0rd"


@pytest.fixture
async def http_client():
    client = AsyncTwilioHttpClient()
    yield client
    await client.close()


def sdk_client(sandbox, http_client, sid=CUSTOMER_SID, token=CUSTOMER_TOKEN):
    client = Client(sid, token, http_client=http_client)
    client.api.base_url = sandbox.url
    client.trunking.base_url = sandbox.url
    return client


@pytest.fixture
def sdk(sandbox, http_client):
    return sdk_client(sandbox, http_client)


async def new_trunk(sdk, domain="acme-test.pstn.twilio.com"):
    return await sdk.trunking.v1.trunks.create_async(friendly_name="Acme", domain_name=domain)


# api.twilio.com


async def test_sdk_fetches_account(sdk):
    account = await sdk.api.v2010.accounts(CUSTOMER_SID).fetch_async()

    assert (account.sid, account.status) == (CUSTOMER_SID, "active")


async def test_sdk_lists_incoming_phone_numbers_with_partial_filter(sdk):
    numbers = await sdk.incoming_phone_numbers.list_async(phone_number="+1415555010")

    assert sorted(n.phone_number for n in numbers) == ["+14155550101", "+14155550102"]
    assert all(n.sid.startswith("PN") and n.account_sid == CUSTOMER_SID for n in numbers)
    assert numbers[0].date_created.year >= 2024


async def test_sdk_pages_through_incoming_phone_numbers(sdk):
    numbers = await sdk.incoming_phone_numbers.list_async(page_size=1)

    assert len(numbers) == 2


async def test_sdk_fetches_incoming_phone_number(sdk):
    listed = (await sdk.incoming_phone_numbers.list_async(phone_number="+14155550101"))[0]

    fetched = await sdk.incoming_phone_numbers(listed.sid).fetch_async()

    assert (fetched.phone_number, fetched.friendly_name, fetched.trunk_sid) == ("+14155550101", "(415) 555-0101", None)


async def test_sdk_buys_and_releases_number(sandbox, http_client):
    platform = sdk_client(sandbox, http_client, PLATFORM_SID, PLATFORM_TOKEN)
    offered = await platform.available_phone_numbers("US").local.list_async(area_code=617, limit=2)

    bought = await platform.incoming_phone_numbers.create_async(phone_number=offered[0].phone_number)
    released = await platform.incoming_phone_numbers(bought.sid).delete_async()

    assert [(o.locality, o.region, o.iso_country) for o in offered] == [("Boston", "MA", "US")] * 2
    assert bought.phone_number == offered[0].phone_number and released is True
    assert sandbox.twilio.account(PLATFORM_SID).incoming_phone_numbers == {}


async def test_sdk_buys_by_area_code(sandbox, http_client):
    platform = sdk_client(sandbox, http_client, PLATFORM_SID, PLATFORM_TOKEN)

    bought = await platform.incoming_phone_numbers.create_async(area_code="404")

    assert bought.phone_number.startswith("+1404")


async def test_sdk_buys_a_number_from_seeded_stock(sandbox, sdk):
    offered = await sdk.available_phone_numbers("US").local.list_async()

    bought = await sdk.incoming_phone_numbers.create_async(phone_number="+12065550170")

    assert "+12065550170" in [o.phone_number for o in offered]
    assert (bought.phone_number, bought.friendly_name) == ("+12065550170", "(206) 555-0170")
    remaining = await sdk.available_phone_numbers("US").local.list_async()
    assert [o.phone_number for o in remaining] == ["+14155550171"]


@pytest.mark.parametrize(
    ("account", "e164"),
    [
        ("platform", "+13035550299"),
        ("platform", "+14155550101"),
        ("customer", "+12065550199"),
        ("customer", "+14155550102"),
    ],
    ids=["outside-generated-stock", "held-by-another-account", "outside-seeded-stock", "already-its-own"],
)
async def test_sdk_buying_a_number_not_offered_gets_21422(sandbox, http_client, account, e164):
    sid, token = {"platform": (PLATFORM_SID, PLATFORM_TOKEN), "customer": (CUSTOMER_SID, CUSTOMER_TOKEN)}[account]
    client = sdk_client(sandbox, http_client, sid, token)
    before = dict(sandbox.twilio.account(sid).incoming_phone_numbers)

    with pytest.raises(TwilioRestException) as caught:
        await client.incoming_phone_numbers.create_async(phone_number=e164)

    assert (caught.value.status, caught.value.code) == (400, 21422)
    assert caught.value.msg.endswith(f"Phone number {e164} is not available")
    assert sandbox.twilio.account(sid).incoming_phone_numbers == before


async def test_sdk_lists_and_fetches_outgoing_caller_ids(sdk):
    caller_ids = await sdk.outgoing_caller_ids.list_async(phone_number="+13125550150")
    fetched = await sdk.outgoing_caller_ids(caller_ids[0].sid).fetch_async()

    assert [c.phone_number for c in caller_ids] == ["+13125550150"]
    assert (fetched.sid, fetched.friendly_name) == (caller_ids[0].sid, "(312) 555-0150")


async def test_sdk_manages_credential_lists_and_credentials(sandbox, sdk):
    cl = await sdk.sip.credential_lists.create_async(friendly_name="Outbound")
    credential = await sdk.sip.credential_lists(cl.sid).credentials.create_async(username="acme", password=PASSWORD)

    listed = await sdk.sip.credential_lists.list_async()
    fetched = await sdk.sip.credential_lists(cl.sid).fetch_async()
    credentials = await sdk.sip.credential_lists(cl.sid).credentials.list_async()
    fetched_credential = await sdk.sip.credential_lists(cl.sid).credentials(credential.sid).fetch_async()
    await sdk.sip.credential_lists(cl.sid).credentials(credential.sid).delete_async()
    await sdk.sip.credential_lists(cl.sid).delete_async()

    assert cl.sid.startswith("CL") and credential.sid.startswith("CR")
    assert [c.sid for c in listed] == [cl.sid] and fetched.friendly_name == "Outbound"
    assert [c.username for c in credentials] == ["acme"] and fetched_credential.username == "acme"
    assert sandbox.twilio.account(CUSTOMER_SID).credential_lists == {}


async def test_sdk_sees_no_password_in_credential_answers(sdk):
    cl = await sdk.sip.credential_lists.create_async(friendly_name="Outbound")
    await sdk.sip.credential_lists(cl.sid).credentials.create_async(username="acme", password=PASSWORD)

    response = sdk.http_client._test_only_last_response
    listed = await sdk.sip.credential_lists(cl.sid).credentials.list_async()

    assert PASSWORD not in response.text
    assert PASSWORD not in sdk.http_client._test_only_last_response.text
    assert listed[0].username == "acme"


# trunking.twilio.com


async def test_sdk_creates_lists_fetches_and_deletes_trunks(sandbox, sdk):
    trunk = await new_trunk(sdk)
    await new_trunk(sdk, "acme-other.pstn.twilio.com")

    listed = await sdk.trunking.v1.trunks.list_async(page_size=1)
    fetched = await sdk.trunking.v1.trunks(trunk.sid).fetch_async()
    deleted = await sdk.trunking.v1.trunks(trunk.sid).delete_async()

    assert (trunk.domain_name, trunk.friendly_name) == ("acme-test.pstn.twilio.com", "Acme")
    assert trunk.links["phone_numbers"] == f"{sandbox.url}/v1/Trunks/{trunk.sid}/PhoneNumbers"
    assert len(listed) == 2
    assert fetched.date_created.year >= 2024 and fetched.recording == {"mode": "do-not-record", "trim": "do-not-trim"}
    assert deleted is True
    assert len(sandbox.twilio.account(CUSTOMER_SID).trunks) == 1


async def test_sdk_manages_origination_urls(sdk):
    trunk = await new_trunk(sdk)
    urls = sdk.trunking.v1.trunks(trunk.sid).origination_urls

    created = await urls.create_async(weight=1, priority=1, enabled=True, friendly_name="LiveKit", sip_url=SIP_URL)
    listed = await urls.list_async()
    fetched = await urls(created.sid).fetch_async()
    await urls(created.sid).delete_async()

    assert created.sid.startswith("OU") and created.trunk_sid == trunk.sid
    assert (fetched.sip_url, fetched.weight, fetched.priority, fetched.enabled) == (SIP_URL, 1, 1, True)
    assert [u.sid for u in listed] == [created.sid]
    assert await urls.list_async() == []


async def test_sdk_updates_an_origination_url(sdk):
    trunk = await new_trunk(sdk)
    urls = sdk.trunking.v1.trunks(trunk.sid).origination_urls
    created = await urls.create_async(weight=1, priority=1, enabled=True, friendly_name="LiveKit", sip_url=SIP_URL)

    updated = await urls(created.sid).update_async(sip_url="sip:elsewhere.example.com", enabled=False)
    fetched = await urls(created.sid).fetch_async()

    assert (updated.sid, updated.sip_url, updated.enabled, updated.weight) == (created.sid, "sip:elsewhere.example.com", False, 1)
    assert (fetched.sip_url, fetched.enabled) == ("sip:elsewhere.example.com", False)
    with pytest.raises(TwilioRestException) as refused:
        await urls(created.sid).update_async(sip_url="https://not-sip.example.com")
    assert refused.value.status == 400


async def test_sdk_manages_trunk_credential_lists(sdk):
    trunk = await new_trunk(sdk)
    cl = await sdk.sip.credential_lists.create_async(friendly_name="Outbound")
    attached = sdk.trunking.v1.trunks(trunk.sid).credentials_lists

    created = await attached.create_async(credential_list_sid=cl.sid)
    listed = await attached.list_async()
    fetched = await attached(cl.sid).fetch_async()
    await attached(cl.sid).delete_async()

    assert (created.sid, created.trunk_sid, fetched.friendly_name) == (cl.sid, trunk.sid, "Outbound")
    assert [c.sid for c in listed] == [cl.sid]
    assert await attached.list_async() == []


async def test_sdk_manages_trunk_phone_numbers(sdk):
    trunk = await new_trunk(sdk)
    number = (await sdk.incoming_phone_numbers.list_async(phone_number="+14155550101"))[0]
    attached = sdk.trunking.v1.trunks(trunk.sid).phone_numbers

    created = await attached.create_async(phone_number_sid=number.sid)
    listed = await attached.list_async()
    fetched = await attached(number.sid).fetch_async()
    on_api = await sdk.incoming_phone_numbers(number.sid).fetch_async()
    await attached(number.sid).delete_async()

    assert (created.sid, created.trunk_sid, created.phone_number) == (number.sid, trunk.sid, "+14155550101")
    assert [n.sid for n in listed] == [number.sid] and fetched.trunk_sid == trunk.sid
    assert on_api.trunk_sid == trunk.sid
    assert (await sdk.incoming_phone_numbers(number.sid).fetch_async()).trunk_sid is None


# Errors in Twilio's shapes


async def test_sdk_list_with_bad_token_gets_twilio_401(sandbox, http_client):
    client = sdk_client(sandbox, http_client, CUSTOMER_SID, "0" * 32)

    with pytest.raises(TwilioException) as caught:
        await client.incoming_phone_numbers.list_async()

    response = caught.value.args[1]
    assert response.status_code == 401
    assert response.text == (
        '{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", '
        '"status": 401}'
    )


async def test_sdk_create_with_bad_token_gets_rest_exception_20003(sandbox, http_client):
    client = sdk_client(sandbox, http_client, CUSTOMER_SID, "0" * 32)

    with pytest.raises(TwilioRestException) as caught:
        await new_trunk(client)

    assert (caught.value.status, caught.value.code) == (401, 20003)


async def test_sdk_fetch_of_unknown_sid_gets_20404(sdk):
    with pytest.raises(TwilioRestException) as caught:
        await sdk.trunking.v1.trunks("TK" + "0" * 32).fetch_async()

    assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_other_accounts_resources_look_missing(sandbox, http_client, sdk):
    trunk = await new_trunk(sdk)
    platform = sdk_client(sandbox, http_client, PLATFORM_SID, PLATFORM_TOKEN)

    with pytest.raises(TwilioRestException) as caught:
        await platform.trunking.v1.trunks(trunk.sid).fetch_async()

    assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_sdk_taken_trunk_domain_gets_21248(sdk):
    await new_trunk(sdk)

    with pytest.raises(TwilioRestException) as caught:
        await new_trunk(sdk)

    assert (caught.value.status, caught.value.code) == (400, 21248)


async def test_sdk_number_on_another_trunk_gets_21245(sdk):
    first = await new_trunk(sdk)
    second = await new_trunk(sdk, "acme-second.pstn.twilio.com")
    number = (await sdk.incoming_phone_numbers.list_async(phone_number="+14155550101"))[0]
    await sdk.trunking.v1.trunks(first.sid).phone_numbers.create_async(phone_number_sid=number.sid)

    with pytest.raises(TwilioRestException) as caught:
        await sdk.trunking.v1.trunks(second.sid).phone_numbers.create_async(phone_number_sid=number.sid)

    assert (caught.value.status, caught.value.code) == (400, 21245)


async def test_sdk_weak_credential_password_is_refused(sdk):
    cl = await sdk.sip.credential_lists.create_async(friendly_name="Outbound")

    with pytest.raises(TwilioRestException) as caught:
        await sdk.sip.credential_lists(cl.sid).credentials.create_async(username="acme", password="short")

    assert caught.value.status == 400


@pytest.mark.parametrize(
    "missing", ["Weight", "Priority", "Enabled", "FriendlyName", "SipUrl"], ids=lambda name: f"without-{name}"
)
async def test_origination_url_requires_every_field(sandbox, sdk, missing):
    # given a form the SDK would never send, posted directly
    trunk = await new_trunk(sdk)
    form = {"Weight": "1", "Priority": "1", "Enabled": "true", "FriendlyName": "LiveKit", "SipUrl": SIP_URL}
    del form[missing]

    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{sandbox.url}/v1/Trunks/{trunk.sid}/OriginationUrls", data=form,
            headers={"Authorization": aiohttp.encode_basic_auth(CUSTOMER_SID, CUSTOMER_TOKEN)},
        )
        body = await response.json()

    assert response.status == 400, body
    assert body["message"] == f"Missing required parameter {missing} in the post body"


async def test_unknown_twilio_path_answers_twilio_404(sandbox):
    async with aiohttp.ClientSession() as session:
        response = await session.get(
            f"{sandbox.url}/2010-04-01/Accounts/{CUSTOMER_SID}/Calls.json",
            headers={"Authorization": aiohttp.encode_basic_auth(CUSTOMER_SID, CUSTOMER_TOKEN)},
        )
        body = await response.json()

    assert response.status == 404
    assert body == {
        "code": 20404,
        "message": f"The requested resource /2010-04-01/Accounts/{CUSTOMER_SID}/Calls.json was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
