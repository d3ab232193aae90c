"""importPhoneNumber when a carrier fails at one step: the right error, nothing half-made anywhere,
and the same import succeeding once the carrier is well again."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pytest

from providers.retry import RetryPolicy
from providers.sandbox.server import DEMO_STATE
from tests.conftest import IMPATIENT, table_gone
from tests.graphql_documents import (
    CREATE_AGENT,
    CREATE_SIP_TRUNK,
    DEMO_CALLER_IDS,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    answer,
    only,
)
from tests.sandbox_snapshot import what_exists

# The demo sandbox's customer account (providers/sandbox/demo_state.json, pinned by the `settings` fixture below).
TWILIO = DEMO_CREDENTIALS
(DID, OTHER_DID, *_), (CALLER_ID, *_) = DEMO_DIDS, DEMO_CALLER_IDS
LIVEKIT_NUMBER = "+15125550199"  # in LiveKit's generated 555-01XX inventory
ALLOWED = ["203.0.113.0/24"]
BYOC_NUMBER, OTHER_BYOC_NUMBER = "+16175550123", "+16175550124"

ATTEMPTS = RetryPolicy().max_attempts

# Faults: a create is not repeated after a 5xx, so one is enough; a repeatable call needs every attempt to fail.
ONCE_503 = {"status": 503, "times": 1}
EVERY_ATTEMPT_503 = {"status": 503, "times": ATTEMPTS}
DROPPED_ONCE = {"drop": True, "times": 1}
TWILIO_400 = {
    "status": 400,
    "times": 1,
    "body": {"code": 21232, "message": "Invalid domain name", "more_info": "https://www.twilio.com/docs/errors/21232", "status": 400},
}
TWILIO_401 = {
    "status": 401,
    "times": 1,
    "body": {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401},
}
TWIRP_400 = {"status": 400, "times": 1, "body": {"code": "invalid_argument", "msg": "refused by the sandbox", "meta": {}}}
TWIRP_NOT_AVAILABLE = {
    "status": 412,
    "times": 1,
    "body": {"code": "failed_precondition", "msg": f"phone number {LIVEKIT_NUMBER} is not available for purchase", "meta": {}},
}

TWILIO_API = "/2010-04-01/Accounts/*"
LOOKUP_NUMBERS = ("GET", TWILIO_API + "/IncomingPhoneNumbers.json")
LOOKUP_CALLER_IDS = ("GET", TWILIO_API + "/OutgoingCallerIds.json")
CREATE_CREDENTIAL_LIST = ("POST", TWILIO_API + "/SIP/CredentialLists.json")
CREATE_CREDENTIAL = ("POST", TWILIO_API + "/SIP/CredentialLists/*/Credentials.json")
CREATE_TRUNK = ("POST", "/v1/Trunks")
ADD_ORIGINATION_URL = ("POST", "/v1/Trunks/*/OriginationUrls")
ATTACH_CREDENTIAL_LIST = ("POST", "/v1/Trunks/*/CredentialLists")
ATTACH_NUMBER = ("POST", "/v1/Trunks/*/PhoneNumbers")
CREATE_INBOUND_TRUNK = ("POST", "/twirp/livekit.SIP/CreateSIPInboundTrunk")
CREATE_OUTBOUND_TRUNK = ("POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk")
UPDATE_INBOUND_TRUNK = ("POST", "/twirp/livekit.SIP/UpdateSIPInboundTrunk")
UPDATE_OUTBOUND_TRUNK = ("POST", "/twirp/livekit.SIP/UpdateSIPOutboundTrunk")
CREATE_DISPATCH_RULE = ("POST", "/twirp/livekit.SIP/CreateSIPDispatchRule")
PURCHASE_NUMBER = ("POST", "/twirp/livekit.PhoneNumberService/PurchasePhoneNumber")


@pytest.fixture
def settings(settings):
    """The app's settings with the demo sandbox seed, whatever TRUNKLINE_SANDBOX_STATE says."""
    return dataclasses.replace(settings, sandbox_state=str(DEMO_STATE))


@dataclass
class World:
    """One workspace with an agent and a BYOC trunk, and the sandbox behind the app."""

    tenant: Any
    sandbox: Any
    agent_id: str
    trunk_id: str

    async def import_number(self, input: dict) -> dict:
        return answer(await self.tenant.graphql(IMPORT_PHONE_NUMBER, {"input": input}))

    async def import_ok(self, input: dict) -> dict:
        result = await self.import_number(input)
        assert result["__typename"] == "ImportPhoneNumberSuccess", result
        return result


@pytest.fixture
async def world(app, tenant) -> World:
    agent = answer(await tenant.graphql(CREATE_AGENT, {"input": {"name": "Receptionist"}}))
    trunk = answer(await tenant.graphql(
        CREATE_SIP_TRUNK,
        {"input": {"name": "Carrier", "direction": "BOTH", "sipAddress": "sip.example-carrier.com", "allowedAddresses": ALLOWED}},
    ))
    return World(tenant=tenant, sandbox=app.state.sandbox, agent_id=agent["agent"]["id"], trunk_id=trunk["sipTrunk"]["id"])


# --- flows: what has happened before, and the import under test ------------------------------------------


async def livekit_with_agent(world: World) -> dict:
    return {"e164": LIVEKIT_NUMBER, "source": "LIVEKIT", "agentId": world.agent_id}


async def twilio_first_did(world: World) -> dict:
    return {"e164": DID, "source": "TWILIO", "twilio": TWILIO, "agentId": world.agent_id}


async def twilio_second_did(world: World) -> dict:
    await world.import_ok({"e164": OTHER_DID, "source": "TWILIO", "twilio": TWILIO})
    return {"e164": DID, "source": "TWILIO", "twilio": TWILIO, "agentId": world.agent_id}


async def twilio_caller_id(world: World) -> dict:
    await world.import_ok({"e164": DID, "source": "TWILIO", "twilio": TWILIO})
    return {"e164": CALLER_ID, "source": "TWILIO", "twilio": TWILIO}


async def byoc_first_number(world: World) -> dict:
    return {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": world.trunk_id, "agentId": world.agent_id}


async def byoc_second_number(world: World) -> dict:
    await world.import_ok({"e164": OTHER_BYOC_NUMBER, "source": "BYOC", "trunkId": world.trunk_id})
    return {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": world.trunk_id, "agentId": world.agent_id}


Flow = Callable[[World], Awaitable[dict]]


def provider_error(provider: str, code: str, retryable: bool) -> dict:
    return {"__typename": "ProviderError", "provider": provider, "code": code, "retryable": retryable}


def validation_error(field: str, code: str) -> dict:
    return {"__typename": "ValidationError", "code": "VALIDATION_FAILED", "fieldErrors": [{"field": field, "code": code}]}


TWILIO_DOWN = provider_error("TWILIO", "PROVIDER_UNAVAILABLE", True)
TWILIO_REFUSED = provider_error("TWILIO", "PROVIDER_REJECTED", False)
LIVEKIT_DOWN = provider_error("LIVEKIT", "PROVIDER_UNAVAILABLE", True)
LIVEKIT_REFUSED = provider_error("LIVEKIT", "PROVIDER_REJECTED", False)

# (flow, the carrier call that fails, how it fails, what the client is told)
FAULT_MATRIX = [
    pytest.param(livekit_with_agent, CREATE_DISPATCH_RULE, ONCE_503, LIVEKIT_DOWN, id="livekit-dispatch-rule-503"),
    pytest.param(livekit_with_agent, CREATE_DISPATCH_RULE, DROPPED_ONCE, LIVEKIT_DOWN, id="livekit-dispatch-rule-dropped"),
    pytest.param(livekit_with_agent, PURCHASE_NUMBER, ONCE_503, LIVEKIT_DOWN, id="livekit-purchase-503"),
    pytest.param(livekit_with_agent, PURCHASE_NUMBER, DROPPED_ONCE, LIVEKIT_DOWN, id="livekit-purchase-dropped"),
    pytest.param(
        livekit_with_agent, PURCHASE_NUMBER, TWIRP_400, validation_error("e164", "NOT_AVAILABLE"), id="livekit-purchase-refused-400"
    ),
    pytest.param(
        livekit_with_agent, PURCHASE_NUMBER, TWIRP_NOT_AVAILABLE, validation_error("e164", "NOT_AVAILABLE"),
        id="livekit-purchase-refused-not-available",
    ),
    pytest.param(twilio_first_did, LOOKUP_NUMBERS, EVERY_ATTEMPT_503, TWILIO_DOWN, id="twilio-first-lookup-numbers-503"),
    pytest.param(twilio_first_did, LOOKUP_CALLER_IDS, EVERY_ATTEMPT_503, TWILIO_DOWN, id="twilio-first-lookup-caller-ids-503"),
    pytest.param(twilio_first_did, LOOKUP_CALLER_IDS, TWILIO_400, TWILIO_REFUSED, id="twilio-first-lookup-caller-ids-400"),
    pytest.param(
        twilio_first_did, LOOKUP_NUMBERS, TWILIO_401, validation_error("twilio.authToken", "CREDENTIALS_REJECTED"),
        id="twilio-first-lookup-numbers-401",
    ),
    pytest.param(twilio_first_did, CREATE_CREDENTIAL_LIST, ONCE_503, TWILIO_DOWN, id="twilio-first-credential-list-503"),
    pytest.param(twilio_first_did, CREATE_CREDENTIAL, ONCE_503, TWILIO_DOWN, id="twilio-first-credential-503"),
    pytest.param(twilio_first_did, CREATE_CREDENTIAL, TWILIO_400, TWILIO_REFUSED, id="twilio-first-credential-400"),
    pytest.param(twilio_first_did, CREATE_TRUNK, ONCE_503, TWILIO_DOWN, id="twilio-first-trunk-503"),
    pytest.param(twilio_first_did, CREATE_TRUNK, TWILIO_400, TWILIO_REFUSED, id="twilio-first-trunk-400"),
    pytest.param(twilio_first_did, CREATE_TRUNK, DROPPED_ONCE, TWILIO_DOWN, id="twilio-first-trunk-dropped"),
    pytest.param(twilio_first_did, ADD_ORIGINATION_URL, ONCE_503, TWILIO_DOWN, id="twilio-first-origination-url-503"),
    pytest.param(twilio_first_did, ATTACH_CREDENTIAL_LIST, ONCE_503, TWILIO_DOWN, id="twilio-first-attach-credential-list-503"),
    pytest.param(twilio_first_did, ATTACH_NUMBER, ONCE_503, TWILIO_DOWN, id="twilio-first-attach-number-503"),
    pytest.param(twilio_first_did, CREATE_INBOUND_TRUNK, ONCE_503, LIVEKIT_DOWN, id="twilio-first-livekit-inbound-trunk-503"),
    pytest.param(twilio_first_did, CREATE_OUTBOUND_TRUNK, ONCE_503, LIVEKIT_DOWN, id="twilio-first-livekit-outbound-trunk-503"),
    pytest.param(twilio_first_did, CREATE_OUTBOUND_TRUNK, TWIRP_400, LIVEKIT_REFUSED, id="twilio-first-livekit-outbound-trunk-400"),
    pytest.param(twilio_first_did, CREATE_DISPATCH_RULE, ONCE_503, LIVEKIT_DOWN, id="twilio-first-dispatch-rule-503"),
    pytest.param(twilio_second_did, ATTACH_NUMBER, ONCE_503, TWILIO_DOWN, id="twilio-second-attach-number-503"),
    pytest.param(twilio_second_did, ATTACH_NUMBER, TWILIO_400, TWILIO_REFUSED, id="twilio-second-attach-number-400"),
    pytest.param(twilio_second_did, UPDATE_INBOUND_TRUNK, EVERY_ATTEMPT_503, LIVEKIT_DOWN, id="twilio-second-livekit-add-inbound-503"),
    pytest.param(twilio_second_did, UPDATE_OUTBOUND_TRUNK, EVERY_ATTEMPT_503, LIVEKIT_DOWN, id="twilio-second-livekit-add-outbound-503"),
    pytest.param(twilio_second_did, UPDATE_OUTBOUND_TRUNK, TWIRP_400, LIVEKIT_REFUSED, id="twilio-second-livekit-add-outbound-400"),
    pytest.param(twilio_second_did, CREATE_DISPATCH_RULE, ONCE_503, LIVEKIT_DOWN, id="twilio-second-dispatch-rule-503"),
    pytest.param(twilio_caller_id, UPDATE_OUTBOUND_TRUNK, EVERY_ATTEMPT_503, LIVEKIT_DOWN, id="caller-id-livekit-add-outbound-503"),
    pytest.param(twilio_caller_id, UPDATE_OUTBOUND_TRUNK, TWIRP_400, LIVEKIT_REFUSED, id="caller-id-livekit-add-outbound-400"),
    pytest.param(byoc_first_number, CREATE_INBOUND_TRUNK, ONCE_503, LIVEKIT_DOWN, id="byoc-first-livekit-inbound-trunk-503"),
    pytest.param(byoc_first_number, CREATE_OUTBOUND_TRUNK, ONCE_503, LIVEKIT_DOWN, id="byoc-first-livekit-outbound-trunk-503"),
    pytest.param(byoc_first_number, CREATE_DISPATCH_RULE, ONCE_503, LIVEKIT_DOWN, id="byoc-first-dispatch-rule-503"),
    pytest.param(byoc_second_number, UPDATE_INBOUND_TRUNK, EVERY_ATTEMPT_503, LIVEKIT_DOWN, id="byoc-second-livekit-add-inbound-503"),
    pytest.param(byoc_second_number, UPDATE_OUTBOUND_TRUNK, EVERY_ATTEMPT_503, LIVEKIT_DOWN, id="byoc-second-livekit-add-outbound-503"),
    pytest.param(byoc_second_number, UPDATE_INBOUND_TRUNK, TWIRP_400, LIVEKIT_REFUSED, id="byoc-second-livekit-add-inbound-400"),
    pytest.param(byoc_second_number, CREATE_DISPATCH_RULE, ONCE_503, LIVEKIT_DOWN, id="byoc-second-dispatch-rule-503"),
]


def statuses_of(sandbox, method: str, path_glob: str) -> list[int | None]:
    """Statuses the sandbox answered to the calls matching a fault rule, in order."""
    return [entry["status"] for entry in sandbox.requests if entry["method"] == method and fnmatchcase(entry["path"], path_glob)]


@pytest.mark.parametrize(("flow", "call", "fault", "expected"), FAULT_MATRIX)
async def test_import_failing_at_one_carrier_step_leaves_nothing_and_succeeds_on_retry(
    world: World, flow: Flow, call: tuple[str, str], fault: dict, expected: dict
):
    # given
    input = await flow(world)
    before = await what_exists(world.sandbox)
    method, path = call
    world.sandbox.faults.add(method, path, **fault)

    # when
    result = await world.import_number(input)

    # then
    assert only(result, expected) == expected
    # A dropped connection is logged without a status.
    assert fault.get("status") in statuses_of(world.sandbox, method, path), "the fault never met the step it was aimed at"
    assert await what_exists(world.sandbox) == before
    world.sandbox.faults.clear()
    retried = await world.import_number(input)
    assert retried["__typename"] == "ImportPhoneNumberSuccess", retried
    assert retried["phoneNumber"]["status"] == "ACTIVE"


TWIRP_429 = {"code": "resource_exhausted", "msg": "slow down", "meta": {}}

# (flow, the call that is told to slow down once, the 429's body, the status of the repeat)
RATE_LIMITED_ONCE = [
    pytest.param(twilio_first_did, LOOKUP_NUMBERS, None, 200, id="twilio-lookup-numbers"),
    pytest.param(twilio_first_did, CREATE_TRUNK, None, 201, id="twilio-create-trunk"),
    pytest.param(twilio_first_did, ATTACH_NUMBER, None, 201, id="twilio-attach-number"),
    pytest.param(twilio_first_did, CREATE_INBOUND_TRUNK, TWIRP_429, 200, id="livekit-create-inbound-trunk"),
    pytest.param(livekit_with_agent, PURCHASE_NUMBER, TWIRP_429, 200, id="livekit-purchase"),
    pytest.param(byoc_second_number, UPDATE_OUTBOUND_TRUNK, TWIRP_429, 200, id="livekit-add-outbound"),
]


@pytest.mark.parametrize(("flow", "call", "body", "repeat_status"), RATE_LIMITED_ONCE)
async def test_import_repeats_a_call_answered_429_once_and_succeeds(
    world: World, flow: Flow, call: tuple[str, str], body: dict | None, repeat_status: int
):
    # given
    input = await flow(world)
    method, path = call
    world.sandbox.faults.add(method, path, status=429, body=body, headers={"Retry-After": "0"}, times=1)

    # when
    result = await world.import_number(input)

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess", result
    assert statuses_of(world.sandbox, method, path) == [429, repeat_status]


class TestProviderTimeout:
    @pytest.fixture
    def settings(self, settings):
        return dataclasses.replace(settings, provider_timeout=IMPATIENT)

    async def test_lookup_without_answer_in_time_is_a_retryable_timeout_and_leaves_nothing(self, world: World):
        # given
        input = await twilio_first_did(world)
        before = await what_exists(world.sandbox)
        method, path = LOOKUP_NUMBERS
        world.sandbox.faults.add(method, path, delay=2 * IMPATIENT)

        # when
        result = await world.import_number(input)

        # then
        timeout = provider_error("TWILIO", "PROVIDER_TIMEOUT", True)
        assert only(result, timeout) == timeout
        assert await what_exists(world.sandbox) == before
        world.sandbox.faults.clear()
        retried = await world.import_number(input)
        assert retried["__typename"] == "ImportPhoneNumberSuccess", retried


class TestCarrierRetryBase:
    """TRUNKLINE_CARRIER_RETRY_BASE: the first repeat of a failed carrier call waits between half of it and all of it."""

    BASE = 0.8

    @pytest.fixture
    def settings(self, settings):
        return dataclasses.replace(settings, carrier_retry_base=self.BASE)

    async def test_the_first_repeat_of_a_failed_call_waits_at_least_half_the_base(self, world: World):
        input = await twilio_first_did(world)
        method, path = LOOKUP_NUMBERS
        world.sandbox.faults.add(method, path, status=503, times=1)

        started = time.monotonic()
        result = await world.import_number(input)

        assert result["__typename"] == "ImportPhoneNumberSuccess", result
        assert statuses_of(world.sandbox, method, path) == [503, 200]
        assert time.monotonic() - started >= self.BASE / 2


async def test_steps_whose_journal_rows_cannot_be_written_are_never_sent(world: World):
    """Steps taken at once are journalled in one transaction: when it fails, none of their calls goes out."""
    # given: the account's trunk, so that the second DID takes its steps at once
    input = await twilio_second_did(world)
    before, seen = await what_exists(world.sandbox), len(world.sandbox.requests)

    # when: the journal's table is gone while the second DID is imported
    async for _ in table_gone("carrier_step"):
        response = await world.tenant.client.post(
            "/graphql", json={"query": IMPORT_PHONE_NUMBER, "variables": {"input": input}}, headers=world.tenant.headers
        )

    # then: the import failed as an internal error; the number's attachment, journalled in the failed write,
    # was never sent (the trunks were only fitted to their riders again), and the carriers are as before
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR", response.text
    sent = [(r["method"], r["path"]) for r in world.sandbox.requests[seen:]]
    assert not [call for call in sent if fnmatchcase(f"{call[0]} {call[1]}", "POST /v1/Trunks/*/PhoneNumbers")], sent
    assert await what_exists(world.sandbox) == before
    retried = await world.import_number(input)
    assert retried["__typename"] == "ImportPhoneNumberSuccess", retried
