"""Shared provider fixtures: a seeded sandbox on a free loopback port, and clients pointed at it."""

import pytest

from providers.retry import RetryPolicy
from providers.sandbox.server import RunningSandbox, start_sandbox
from providers.twilio import TwilioGateway

CUSTOMER_SID = "AC" + "c0ffee00" * 4
CUSTOMER_TOKEN = "c0ffee00" * 3 + "70ce4e11"
PLATFORM_SID = "AC" + "0b1a7f00" * 4
PLATFORM_TOKEN = "0b1a7f00" * 3 + "70ce4e22"
LIVEKIT_API_KEY = "APItestkey"
LIVEKIT_API_SECRET = "livekit-test-secret-0123456789abcdef"

CUSTOMER_DIDS = ["+14155550101", "+14155550102"]
CUSTOMER_CALLER_IDS = ["+13125550150"]

# Tiny waits keep retry tests fast while exercising the same code paths.
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, total_budget=5.0)
# Room for a loaded machine: a call that should answer must never time out (0.6 s did, under a full run
# beside other work). The timeout tests inject TIMED_OUT, beyond it.
CLIENT_TIMEOUT = 2.0
TIMED_OUT = 2 * CLIENT_TIMEOUT


def build_seed() -> dict:
    """A small seed: a customer with DIDs and a caller ID, a platform account with generated stock."""
    return {
        "twilio": {
            "accounts": [
                {
                    "sid": CUSTOMER_SID,
                    "auth_token": CUSTOMER_TOKEN,
                    "incoming_phone_numbers": list(CUSTOMER_DIDS),
                    "outgoing_caller_ids": list(CUSTOMER_CALLER_IDS),
                    "available_phone_numbers": [
                        {"phone_number": "+12065550170", "locality": "Seattle", "region": "WA"},
                        "+14155550171",
                    ],
                },
                {"sid": PLATFORM_SID, "auth_token": PLATFORM_TOKEN},
            ]
        },
        "livekit": {"api_key": LIVEKIT_API_KEY, "api_secret": LIVEKIT_API_SECRET},
    }


@pytest.fixture
def sandbox_seed() -> dict:
    return build_seed()


@pytest.fixture
async def sandbox(sandbox_seed) -> RunningSandbox:
    running = await start_sandbox(seed=sandbox_seed)
    yield running
    await running.close()


@pytest.fixture
async def twilio_gateway(sandbox) -> TwilioGateway:
    gateway = TwilioGateway(
        api_base_url=sandbox.url, trunking_base_url=sandbox.url, timeout=CLIENT_TIMEOUT, retry=FAST_RETRY
    )
    await gateway.start()
    yield gateway
    await gateway.close()


@pytest.fixture
def customer(twilio_gateway):
    return twilio_gateway.account(CUSTOMER_SID, CUSTOMER_TOKEN)


@pytest.fixture
def platform(twilio_gateway):
    return twilio_gateway.account(PLATFORM_SID, PLATFORM_TOKEN)
