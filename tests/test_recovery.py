"""Recovery finishes what a failure or a crash left: numbers PROVISIONING or RELEASING with their journal."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from app.main import create_app
from models import CarrierStep, PhoneNumber
from models.enums import PhoneNumberStatus
from resolvers.recover_interrupted import recover_interrupted
from tests.conftest import IMPATIENT, Tenant, app_settings
from tests.graphql_documents import DEMO_CREDENTIALS, DEMO_DIDS, IMPORT_PHONE_NUMBER
from tests.sandbox_snapshot import what_exists
from tests.server_processes import wait_until

NOW = timedelta(0)
DELETE = """mutation ($id: ID!) { deletePhoneNumber(id: $id) { __typename ... on ProviderError { code retryable } } }"""


def twilio_import(e164: str = DEMO_DIDS[0]) -> dict:
    return {"input": {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS}}


async def test_an_import_whose_cleanup_failed_is_undone_later_and_its_slot_freed(app, tenant):
    # given: LiveKit fails a step, and Twilio fails the cleanup that follows
    sandbox = app.state.sandbox
    before = await what_exists(sandbox)
    sandbox.faults.add("POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk", status=503, times=1)
    sandbox.faults.add("DELETE", "/v1/Trunks/*", status=503)
    result = (await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import()))["data"]["importPhoneNumber"]
    assert (result["__typename"], result["retryable"]) == ("ProviderError", True)
    assert "cleaned up" in result["message"]
    left = await PhoneNumber.get(e164=DEMO_DIDS[0])
    assert left.status == PhoneNumberStatus.PROVISIONING
    assert await CarrierStep.filter(owner_id=left.id).exists()

    # when: the carrier is back and recovery runs
    sandbox.faults.clear()
    finished = await recover_interrupted(app.state.services, NOW)

    # then
    assert finished == 1
    assert await what_exists(sandbox) == before
    assert (await tenant.graphql("{ workspace { phoneNumberCount } }"))["data"]["workspace"]["phoneNumberCount"] == 0
    retried = (await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import()))["data"]["importPhoneNumber"]
    assert retried["__typename"] == "ImportPhoneNumberSuccess"


@pytest.fixture
async def impatient_app(database_url):
    """A server whose carrier calls time out after IMPATIENT seconds."""
    app = create_app(app_settings(database_url, provider_timeout=IMPATIENT))
    async with app.router.lifespan_context(app):
        yield app


async def test_a_create_that_timed_out_but_happened_is_found_by_name_and_undone(impatient_app):
    from resolvers.api_keys import issue_api_key
    from resolvers.workspaces import create_workspace

    app = impatient_app
    sandbox = app.state.sandbox
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        workspace = await create_workspace("Acme", 100)
        tenant = Tenant(workspace, "", (await issue_api_key(workspace)).secret, http)
        before = await what_exists(sandbox)
        # given: Twilio creates the trunk only after the client gave up waiting
        sandbox.faults.add("POST", "/v1/Trunks", delay=2 * IMPATIENT, times=1)
        result = (await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import()))["data"]["importPhoneNumber"]
        assert (result["__typename"], result["code"], result["retryable"]) == ("ProviderError", "PROVIDER_TIMEOUT", True)
        # the slot stays held: the carrier may still act on the request
        assert (await PhoneNumber.get(e164=DEMO_DIDS[0])).status == PhoneNumberStatus.PROVISIONING

        async def created_late() -> bool:
            return len(sandbox.twilio.account(DEMO_CREDENTIALS["accountSid"]).trunks) == 1

        await wait_until(created_late, seconds=10, what="Twilio to create the trunk after all")

        # when
        finished = await recover_interrupted(app.state.services, NOW)

    # then
    assert finished == 1
    assert await what_exists(sandbox) == before


async def test_a_delete_the_carriers_interrupted_is_completed_later(app, tenant):
    sandbox = app.state.sandbox
    before = await what_exists(sandbox)
    imported = (await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import()))["data"]["importPhoneNumber"]
    number_id = imported["phoneNumber"]["id"]
    sandbox.faults.add("DELETE", "/v1/Trunks/*", status=503)  # the trunk goes with its last number
    failed = (await tenant.graphql(DELETE, {"id": number_id}))["data"]["deletePhoneNumber"]
    assert failed == {"__typename": "ProviderError", "code": "PROVIDER_UNAVAILABLE", "retryable": True}
    assert (await PhoneNumber.get(id=number_id)).status == PhoneNumberStatus.RELEASING

    sandbox.faults.clear()
    finished = await recover_interrupted(app.state.services, NOW)

    assert finished == 1
    assert await what_exists(sandbox) == before


async def test_recovery_leaves_operations_within_the_grace_period_alone(app, tenant):
    sandbox = app.state.sandbox
    sandbox.faults.add("POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk", status=503, times=1)
    sandbox.faults.add("DELETE", "/v1/Trunks/*", status=503)
    await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import())
    sandbox.faults.clear()

    finished = await recover_interrupted(app.state.services, timedelta(minutes=10))

    assert finished == 0
    assert (await PhoneNumber.get(e164=DEMO_DIDS[0])).status == PhoneNumberStatus.PROVISIONING


async def test_concurrent_recoveries_handle_each_number_once(app, tenant):
    sandbox = app.state.sandbox
    before = await what_exists(sandbox)
    sandbox.faults.add("POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk", status=503, times=2)
    sandbox.faults.add("DELETE", "/v1/Trunks/*", status=503)
    for e164 in DEMO_DIDS[:2]:
        await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import(e164))
    sandbox.faults.clear()

    finished = await asyncio.gather(*(recover_interrupted(app.state.services, NOW) for _ in range(4)))

    assert sum(finished) == 2
    assert await what_exists(sandbox) == before
