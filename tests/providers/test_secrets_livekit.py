"""No LiveKit secret (API secret, JWT, SIP password) leaks through failures, reprs or logs."""

import logging
import re
import traceback

import pytest

from providers.errors import ProviderFailure
from providers.livekit import LiveKitGateway
from providers.retry import RetryPolicy
from providers.sandbox.app import FAULTS, create_sandbox_app

KEY = "APIsecretScanKey"
SECRET = "scan-secret-Zq8Lw2Rt6Yp0Nx4Vb7Mc1Kd5Hf9Gj3"
WRONG_SECRET = "wrong-secret-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0"
SIP_PASSWORD = "SipPassw0rd-Qm7Xk2Wn9"
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
FAST = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.01, total_budget=2.0)
LOGGERS = ["", "livekit", "aiohttp", "aiohttp.client", "providers", "providers.retry", "providers.livekit"]


def twirp_body(code: str, msg: str) -> dict:
    return {"code": code, "msg": msg, "meta": {}}


def create_with_password(gateway):
    return gateway.create_outbound_trunk(
        "out", "sip:bad.pstn.twilio.com", ["+14155550100"], auth_username="u", auth_password=SIP_PASSWORD
    )


def inbound_with_password(gateway):
    return gateway.create_inbound_trunk("in", [], auth_username="u", auth_password=SIP_PASSWORD)


# (fault to inject or None, the call, gateway options)
SCENARIOS = {
    "401-wrong-secret-sdk": (None, inbound_with_password, {"api_secret": WRONG_SECRET}),
    "401-wrong-secret-proto": (None, lambda g: g.get_inbound_trunk("ST_x"), {"api_secret": WRONG_SECRET}),
    "401-wrong-secret-json": (None, lambda g: g.search_numbers(), {"api_secret": WRONG_SECRET}),
    "403": ({"status": 403, "body": twirp_body("permission_denied", "permissions denied")}, inbound_with_password, {}),
    "404-proto": (None, lambda g: g.get_outbound_trunk("ST_missing"), {}),
    "404-json": (None, lambda g: g.get_number("PN_missing"), {}),
    "400-rejected-with-password": (None, create_with_password, {}),
    "412-purchase": (None, lambda g: g.purchase_number("+14155551234"), {}),
    "429-exhausted": ({"status": 429, "body": twirp_body("resource_exhausted", "slow down")}, inbound_with_password, {}),
    "503-exhausted": ({"status": 503, "body": twirp_body("unavailable", "down")}, lambda g: g.get_number("PN_x"), {}),
    "timeout": ({"delay": 0.3}, inbound_with_password, {"timeout": 0.05}),
    "dropped": ({"drop": True}, inbound_with_password, {}),
    "echoed-secrets-settings-update": (
        {"status": 400, "body": twirp_body("invalid_argument", f"bad password {SIP_PASSWORD}")},
        lambda g: g.update_outbound_trunk_fields(
            "ST_x", address="sip.example.com", transport="auto", auth_username="u", auth_password=SIP_PASSWORD
        ), {},
    ),
    "echoed-secrets": (
        {"status": 400, "body": twirp_body("invalid_argument", f"bad password {SIP_PASSWORD} for secret {SECRET}")},
        inbound_with_password, {},
    ),
}


def leaks(text: str) -> list[str]:
    found = [name for name, secret in [("api secret", SECRET), ("wrong secret", WRONG_SECRET),
                                       ("sip password", SIP_PASSWORD)] if secret in text]
    return found + (["jwt"] if JWT.search(text) else [])


@pytest.fixture
async def sandbox(aiohttp_server):
    return await aiohttp_server(create_sandbox_app({"livekit": {"api_key": KEY, "api_secret": SECRET}}))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_livekit_failure_holds_no_secret_in_message_repr_traceback_or_logs(sandbox, caplog, scenario):
    # given
    fault, call, options = SCENARIOS[scenario]
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    if fault:
        sandbox.app[FAULTS].add("POST", "/twirp/*", **fault)
    arguments = {"url": str(sandbox.make_url("")), "api_key": KEY, "api_secret": SECRET, "retry": FAST, **options}
    # when
    async with LiveKitGateway(**arguments) as gateway:
        with pytest.raises(ProviderFailure) as caught:
            await call(gateway)
        logging.getLogger("providers.test").exception("LiveKit call failed", exc_info=caught.value)
    # then
    failure = caught.value
    texts = [str(failure), repr(failure), failure.message, "".join(traceback.format_exception(failure)),
             caplog.text, *(r.getMessage() for r in caplog.records), repr(gateway)]
    assert [leaks(text) for text in texts] == [[]] * len(texts)


async def test_echoed_secrets_are_masked_not_dropped(sandbox):
    body = twirp_body("invalid_argument", f"bad password {SIP_PASSWORD}")
    sandbox.app[FAULTS].add("POST", "/twirp/*", status=400, body=body)
    async with LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET, retry=FAST) as gateway:
        with pytest.raises(ProviderFailure) as caught:
            await inbound_with_password(gateway)
    assert caught.value.message.endswith("bad password ***")


async def test_trunk_reads_carry_no_password(sandbox):
    async with LiveKitGateway(url=str(sandbox.make_url("")), api_key=KEY, api_secret=SECRET, retry=FAST) as gateway:
        trunk_id = await gateway.create_outbound_trunk(
            "out", "t.pstn.twilio.com", ["+14155550100"], auth_username="u", auth_password=SIP_PASSWORD
        )
        trunk = await gateway.get_outbound_trunk(trunk_id)
    assert leaks(repr(trunk)) == []
