"""TwilioAccountClient against the sandbox over real HTTP: every operation and every error mapping."""

import pytest

from providers.errors import CredentialsRejected, NotFound, ProviderTimeout, RateLimited, Rejected, Unavailable
from providers.sandbox.twilio import IncomingNumber, new_sid
from providers.twilio import AvailableNumber, CallerId, TwilioGateway
from tests.providers.conftest import CUSTOMER_SID, FAST_RETRY, PLATFORM_SID, TIMED_OUT

MISSING_TK = "TK" + "0" * 32
MISSING_PN = "PN" + "0" * 32
MISSING_CL = "CL" + "0" * 32
SIP_URL = "sip:vjnxecm0tjk.sip.livekit.cloud"
PASSWORD = "Str0ngSipPassw0rd"


def twilio_paths(sandbox, method):
    return [r["path"] for r in sandbox.requests if r["method"] == method]


# Lookups


async def test_find_incoming_number_returns_exact_match(sandbox, customer):
    # given a number whose E.164 contains the one searched, which Twilio's partial filter also returns
    sandbox.twilio.account(CUSTOMER_SID).incoming_phone_numbers.clear()
    for e164 in ("+141555501012", "+14155550101"):
        _seed_number(sandbox, e164)

    found = await customer.find_incoming_number("+14155550101")

    assert found is not None and found.phone_number == "+14155550101"
    assert found.sid == sandbox.twilio.account(CUSTOMER_SID).number("+14155550101").sid
    assert found.trunk_sid is None


async def test_find_incoming_number_ignores_partial_matches(customer):
    assert await customer.find_incoming_number("+1415555010") is None


async def test_find_incoming_number_returns_none_when_not_held(customer):
    assert await customer.find_incoming_number("+19995550100") is None


async def test_find_caller_id_returns_exact_match(sandbox, customer):
    found = await customer.find_caller_id("+13125550150")

    expected = next(iter(sandbox.twilio.account(CUSTOMER_SID).outgoing_caller_ids.values()))
    assert found == CallerId(expected.sid, "+13125550150")


async def test_find_caller_id_returns_none_for_a_did(customer):
    assert await customer.find_caller_id("+14155550101") is None


# Trunks


async def test_create_trunk_gets_unique_pstn_domain(sandbox, customer):
    first = await customer.create_trunk("Trunkline")
    second = await customer.create_trunk("Trunkline")

    assert first.sid.startswith("TK") and len(first.sid) == 34
    assert first.domain_name.endswith(".pstn.twilio.com")
    assert first.domain_name != second.domain_name
    assert set(sandbox.twilio.account(CUSTOMER_SID).trunks) == {first.sid, second.sid}


async def test_create_trunk_retries_with_new_domain_when_taken(sandbox, customer):
    # given Twilio answers the first attempt with "Trunk Domain already taken"
    sandbox.faults.add("POST", "/v1/Trunks", status=400, times=1,
                       body={"code": 21248, "message": "Trunk Domain already taken", "status": 400})

    trunk = await customer.create_trunk("Trunkline")

    assert list(sandbox.twilio.account(CUSTOMER_SID).trunks) == [trunk.sid]
    assert twilio_paths(sandbox, "POST") == ["/v1/Trunks", "/v1/Trunks"]


async def test_create_trunk_gives_up_after_repeated_taken_domains(sandbox, customer):
    sandbox.faults.add("POST", "/v1/Trunks", status=400,
                       body={"code": 21248, "message": "Trunk Domain already taken", "status": 400})

    with pytest.raises(Rejected) as caught:
        await customer.create_trunk("Trunkline")

    assert caught.value.code == "21248"
    assert len(twilio_paths(sandbox, "POST")) == 5


async def test_add_origination_url_points_trunk_at_sip_uri(sandbox, customer):
    trunk = await customer.create_trunk("Trunkline")

    ou_sid = await customer.add_origination_url(trunk.sid, SIP_URL, "LiveKit")

    stored = sandbox.twilio.account(CUSTOMER_SID).trunks[trunk.sid].origination_urls[ou_sid]
    assert (stored.sip_url, stored.weight, stored.priority, stored.enabled, stored.friendly_name) == (
        SIP_URL, 1, 1, True, "LiveKit"
    )


async def test_delete_trunk_removes_it_and_frees_its_numbers(sandbox, customer):
    trunk = await customer.create_trunk("Trunkline")
    number = await customer.find_incoming_number("+14155550101")
    await customer.attach_number(trunk.sid, number.sid)

    await customer.delete_trunk(trunk.sid)

    account = sandbox.twilio.account(CUSTOMER_SID)
    assert account.trunks == {}
    assert account.incoming_phone_numbers[number.sid].trunk_sid is None


# Credential lists


async def test_a_credential_list_holds_the_credential_added_to_it(sandbox, customer):
    cl_sid = await customer.create_credential_list("Trunkline outbound")
    await customer.add_credential(cl_sid, "trunkline", PASSWORD)

    cl = sandbox.twilio.account(CUSTOMER_SID).credential_lists[cl_sid]
    assert cl.friendly_name == "Trunkline outbound"
    assert [(c.username, c.password) for c in cl.credentials.values()] == [("trunkline", PASSWORD)]


async def test_a_weak_password_is_refused_and_the_list_stays_empty(sandbox, customer):
    cl_sid = await customer.create_credential_list("Trunkline outbound")
    with pytest.raises(Rejected):
        await customer.add_credential(cl_sid, "trunkline", "weak")

    assert sandbox.twilio.account(CUSTOMER_SID).credential_lists[cl_sid].credentials == {}


async def test_attach_credential_list_to_trunk(sandbox, customer):
    trunk = await customer.create_trunk("Trunkline")
    cl_sid = await customer.create_credential_list("Trunkline outbound")

    await customer.attach_credential_list(trunk.sid, cl_sid)

    assert sandbox.twilio.account(CUSTOMER_SID).trunks[trunk.sid].credential_list_sids == [cl_sid]


async def test_delete_credential_list_removes_it(sandbox, customer):
    cl_sid = await customer.create_credential_list("Trunkline outbound")

    await customer.delete_credential_list(cl_sid)

    assert sandbox.twilio.account(CUSTOMER_SID).credential_lists == {}


# Numbers on trunks


async def test_attach_number_puts_it_on_the_trunk(sandbox, customer):
    trunk = await customer.create_trunk("Trunkline")
    number = await customer.find_incoming_number("+14155550101")

    await customer.attach_number(trunk.sid, number.sid)

    assert (await customer.find_incoming_number("+14155550101")).trunk_sid == trunk.sid


async def test_attach_number_already_on_another_trunk_is_rejected(customer):
    first = await customer.create_trunk("First")
    second = await customer.create_trunk("Second")
    number = await customer.find_incoming_number("+14155550101")
    await customer.attach_number(first.sid, number.sid)

    with pytest.raises(Rejected) as caught:
        await customer.attach_number(second.sid, number.sid)

    assert (caught.value.code, caught.value.status) == ("21245", 400)
    assert "already associated" in caught.value.message


async def test_detach_number_takes_it_off_the_trunk(customer):
    trunk = await customer.create_trunk("Trunkline")
    number = await customer.find_incoming_number("+14155550101")
    await customer.attach_number(trunk.sid, number.sid)

    await customer.detach_number(trunk.sid, number.sid)

    assert (await customer.find_incoming_number("+14155550101")).trunk_sid is None


async def test_deletes_of_resources_already_gone_succeed(sandbox, customer):
    trunk = await customer.create_trunk("Trunkline")

    await customer.delete_trunk(MISSING_TK)
    await customer.detach_number(trunk.sid, MISSING_PN)
    await customer.delete_credential_list(MISSING_CL)
    await customer.release_number(MISSING_PN)

    assert [r["status"] for r in sandbox.requests[1:]] == [404, 404, 404, 404]


# Buying numbers


async def test_search_available_numbers_in_area_code(platform):
    found = await platform.search_available_numbers("512", 3)

    assert len(found) == 3
    assert all(n.phone_number.startswith("+1512") for n in found)
    assert found[0] == AvailableNumber(found[0].phone_number, "Austin", "TX")


async def test_search_available_numbers_without_area_code(platform):
    found = await platform.search_available_numbers(None, 5)

    assert len(found) == 5
    assert len({n.phone_number for n in found}) == 5


async def test_search_never_offers_a_held_number(platform):
    found = await platform.search_available_numbers("415", 10)

    assert "+14155550101" not in {n.phone_number for n in found}
    assert "+14155550102" not in {n.phone_number for n in found}


async def test_search_offers_seeded_stock_only(customer):
    found = await customer.search_available_numbers(None, 10)

    assert found == [
        AvailableNumber("+12065550170", "Seattle", "WA"),
        AvailableNumber("+14155550171", "San Francisco", "CA"),
    ]


async def test_buy_number_adds_it_to_the_account(sandbox, platform):
    offered = (await platform.search_available_numbers("212", 1))[0]

    bought = await platform.buy_number(offered.phone_number)

    assert bought.phone_number == offered.phone_number and bought.trunk_sid is None
    assert sandbox.twilio.account(PLATFORM_SID).number(offered.phone_number).sid == bought.sid
    assert offered not in await platform.search_available_numbers("212", 100)


async def test_buy_number_held_elsewhere_is_rejected(platform):
    with pytest.raises(Rejected) as caught:
        await platform.buy_number("+14155550101")

    assert (caught.value.code, caught.value.status) == ("21422", 400)


async def test_release_number_removes_it(sandbox, platform):
    bought = await platform.buy_number("+13035550123")

    await platform.release_number(bought.sid)

    assert sandbox.twilio.account(PLATFORM_SID).incoming_phone_numbers == {}


# Error mapping


async def test_twilio_401_becomes_credentials_rejected(twilio_gateway):
    client = twilio_gateway.account(CUSTOMER_SID, "f" * 32)

    with pytest.raises(CredentialsRejected) as caught:
        await client.find_incoming_number("+14155550101")

    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("20003", 401, False)


async def test_twilio_401_on_create_becomes_credentials_rejected(twilio_gateway):
    client = twilio_gateway.account(CUSTOMER_SID, "f" * 32)

    with pytest.raises(CredentialsRejected) as caught:
        await client.create_trunk("Trunkline")

    assert (caught.value.code, caught.value.status) == ("20003", 401)


async def test_twilio_404_becomes_not_found(customer):
    with pytest.raises(NotFound) as caught:
        await customer.attach_number(MISSING_TK, MISSING_PN)

    assert (caught.value.code, caught.value.status) == ("20404", 404)


async def test_twilio_400_becomes_rejected_with_carrier_code_and_message(customer):
    with pytest.raises(Rejected) as caught:
        await customer.buy_number("+1415")

    assert (caught.value.code, caught.value.status) == ("21421", 400)
    assert "+1415 is invalid" in caught.value.message


async def test_twilio_429_then_success_is_retried(sandbox, customer):
    sandbox.faults.add("GET", "*/IncomingPhoneNumbers.json", status=429, times=1, headers={"Retry-After": "0"},
                       body={"code": 20429, "message": "Too Many Requests", "status": 429})

    found = await customer.find_incoming_number("+14155550101")

    assert found is not None
    assert [r["status"] for r in sandbox.requests] == [429, 200]


async def test_twilio_429_on_create_is_retried(sandbox, customer):
    sandbox.faults.add("POST", "/v1/Trunks", status=429, times=1,
                       body={"code": 20429, "message": "Too Many Requests", "status": 429})

    await customer.create_trunk("Trunkline")

    assert [r["status"] for r in sandbox.requests] == [429, 201]


async def test_twilio_429_keeps_retry_after(sandbox, customer):
    sandbox.faults.add("GET", "*", status=429, headers={"Retry-After": "0"},
                       body={"code": 20429, "message": "Too Many Requests", "status": 429})

    with pytest.raises(RateLimited) as caught:
        await customer.find_caller_id("+13125550150")

    assert (caught.value.code, caught.value.retry_after, caught.value.retryable) == ("20429", 0.0, True)
    assert len(sandbox.requests) == FAST_RETRY.max_attempts


async def test_twilio_503_until_retries_run_out_becomes_unavailable(sandbox, customer):
    sandbox.faults.add("GET", "*", status=503, body={"code": 20503, "message": "Service Unavailable", "status": 503})

    with pytest.raises(Unavailable) as caught:
        await customer.find_incoming_number("+14155550101")

    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("20503", 503, True)
    assert len(sandbox.requests) == FAST_RETRY.max_attempts


async def test_twilio_create_is_not_retried_on_503(sandbox, customer):
    sandbox.faults.add("POST", "/v1/Trunks", status=503)

    with pytest.raises(Unavailable):
        await customer.create_trunk("Trunkline")

    assert sandbox.requests == [{"method": "POST", "path": "/v1/Trunks", "status": 503}]


async def test_twilio_delete_is_retried_on_503(sandbox, customer):
    trunk = await customer.create_trunk("Trunkline")
    sandbox.faults.add("DELETE", "/v1/Trunks/*", status=503, times=1)

    await customer.delete_trunk(trunk.sid)

    assert sandbox.twilio.account(CUSTOMER_SID).trunks == {}


async def test_twilio_timeout_becomes_provider_timeout(sandbox, customer):
    sandbox.faults.add("GET", "*", delay=TIMED_OUT)

    with pytest.raises(ProviderTimeout) as caught:
        await customer.find_incoming_number("+14155550101")

    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("timeout", None, True)


async def test_twilio_create_is_not_retried_after_timeout(sandbox, customer):
    sandbox.faults.add("POST", "/v1/Trunks", delay=TIMED_OUT)

    with pytest.raises(ProviderTimeout):
        await customer.create_trunk("Trunkline")

    assert len(twilio_paths(sandbox, "POST")) == 1


async def test_twilio_dropped_connection_becomes_unavailable(sandbox, customer):
    sandbox.faults.add("GET", "*", drop=True)

    with pytest.raises(Unavailable) as caught:
        await customer.find_incoming_number("+14155550101")

    assert (caught.value.code, caught.value.status) == ("connection_error", None)
    # aiohttp itself resends once on a dropped keep-alive connection, so count at least ours.
    assert len(sandbox.requests) >= FAST_RETRY.max_attempts
    assert all(r["dropped"] for r in sandbox.requests)


async def test_unreachable_twilio_becomes_unavailable():
    gateway = TwilioGateway(api_base_url="http://127.0.0.1:9", timeout=1.0, retry=FAST_RETRY)
    async with gateway:
        with pytest.raises(Unavailable):
            await gateway.account(CUSTOMER_SID, "f" * 32).find_caller_id("+13125550150")


# The client itself


def test_account_before_start_is_refused():
    with pytest.raises(RuntimeError, match="start"):
        TwilioGateway().account(CUSTOMER_SID, "f" * 32)


def test_account_client_repr_masks_sid(customer):
    assert repr(customer) == f"<TwilioAccountClient AC…{CUSTOMER_SID[-4:]}>"


def _seed_number(sandbox, e164):
    number = IncomingNumber(new_sid("PN"), e164, e164)
    sandbox.twilio.account(CUSTOMER_SID).incoming_phone_numbers[number.sid] = number
