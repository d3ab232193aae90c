"""No Twilio auth token or SIP password in any exception, repr or log line, on every error path."""

import logging
import traceback

import pytest

from providers.errors import ProviderFailure
from providers.retry import RetryPolicy
from providers.twilio import TwilioGateway
from tests.providers.conftest import CUSTOMER_SID, CUSTOMER_TOKEN, FAST_RETRY, TIMED_OUT

SIP_PASSWORD = "Sip-Secret-Passw0rd-4711"
WRONG_TOKEN = "badbadbadbadbadbadbadbadbad00000"
SECRETS = (CUSTOMER_TOKEN, SIP_PASSWORD, WRONG_TOKEN)
# A carrier answer that repeats the credentials it was sent, to prove the client scrubs them.
ECHOING = {"code": 21999, "status": 400, "message": f"Refused {CUSTOMER_SID}:{CUSTOMER_TOKEN}"}


def arrange_401(sandbox):
    return WRONG_TOKEN


def arrange_echoing_404(sandbox):
    sandbox.faults.add("*", "*", status=404, body={**ECHOING, "status": 404})
    return CUSTOMER_TOKEN


def arrange_echoing_400(sandbox):
    sandbox.faults.add("*", "*", status=400, body=ECHOING)
    return CUSTOMER_TOKEN


def arrange_echoing_429(sandbox):
    sandbox.faults.add("*", "*", status=429, headers={"Retry-After": "0"}, body={**ECHOING, "status": 429})
    return CUSTOMER_TOKEN


def arrange_503(sandbox):
    sandbox.faults.add("*", "*", status=503, body={**ECHOING, "status": 503})
    return CUSTOMER_TOKEN


def arrange_timeout(sandbox):
    sandbox.faults.add("*", "*", delay=TIMED_OUT)
    return CUSTOMER_TOKEN


def arrange_drop(sandbox):
    sandbox.faults.add("*", "*", drop=True)
    return CUSTOMER_TOKEN


ARRANGEMENTS = [
    arrange_401, arrange_echoing_404, arrange_echoing_400, arrange_echoing_429, arrange_503, arrange_timeout,
    arrange_drop,
]
MISSING = "TK" + "0" * 32
OPERATIONS = {
    "find_incoming_number": lambda c: c.find_incoming_number("+14155550101"),
    "add_credential": lambda c: c.add_credential("CL" + "0" * 32, "acme", SIP_PASSWORD),
    "attach_number": lambda c: c.attach_number(MISSING, "PN" + "0" * 32),
    "search_available_numbers": lambda c: c.search_available_numbers("415", 5),
}


def assert_no_secret(*texts):
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


@pytest.mark.parametrize("arrange", ARRANGEMENTS, ids=lambda f: f.__name__.removeprefix("arrange_"))
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_twilio_failure_reveals_no_secret(sandbox, twilio_gateway, caplog, arrange, operation):
    # given
    caplog.set_level(logging.DEBUG)
    client = twilio_gateway.account(CUSTOMER_SID, arrange(sandbox))

    # when
    with pytest.raises(ProviderFailure) as caught:
        await operation(client)

    # then
    failure = caught.value
    assert_no_secret(
        str(failure), repr(failure), failure.message, repr(failure.args),
        "".join(traceback.format_exception(failure)), repr(client), caplog.text,
    )


@pytest.mark.parametrize("status", [400, 503], ids=["rejected", "unavailable"])
async def test_refused_credential_echoing_its_password_reveals_no_secret(sandbox, customer, caplog, status):
    # given the carrier repeats the SIP password it was sent
    caplog.set_level(logging.DEBUG)
    sandbox.faults.add("POST", "*/Credentials.json", status=status,
                       body={"code": 21999, "status": status, "message": f"Password {SIP_PASSWORD} refused"})

    cl_sid = await customer.create_credential_list("Outbound")
    with pytest.raises(ProviderFailure) as caught:
        await customer.add_credential(cl_sid, "acme", SIP_PASSWORD)

    assert "refused" in caught.value.message
    assert_no_secret(str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value)),
                     caplog.text)


async def test_unreachable_twilio_reveals_no_secret(caplog):
    caplog.set_level(logging.DEBUG)
    async with TwilioGateway(api_base_url="http://127.0.0.1:9", timeout=1.0, retry=FAST_RETRY) as gateway:
        client = gateway.account(CUSTOMER_SID, CUSTOMER_TOKEN)
        with pytest.raises(ProviderFailure) as caught:
            await client.find_caller_id("+13125550150")

    assert_no_secret(str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value)),
                     caplog.text)


async def test_successful_calls_log_no_secret(sandbox, twilio_gateway, caplog):
    caplog.set_level(logging.DEBUG)
    client = twilio_gateway.account(CUSTOMER_SID, CUSTOMER_TOKEN)

    trunk = await client.create_trunk("Trunkline")
    cl_sid = await client.create_credential_list("Outbound")
    await client.add_credential(cl_sid, "acme", SIP_PASSWORD)
    await client.attach_credential_list(trunk.sid, cl_sid)

    assert caplog.records, "the SDK logs each request at INFO"
    assert_no_secret(caplog.text, repr(client), repr(sandbox.twilio.account(CUSTOMER_SID)))


def test_retry_policy_repr_is_plain():
    assert "RetryPolicy(max_attempts=4" in repr(RetryPolicy())
