"""Faults and races between operations on one number or one trunk: each ends in a documented answer and
leaves the carriers matching the rows.

- An attempt finds again exactly what it made, never what a later attempt made under the same trunk.
- A shared trunk goes when its last number leaves in any way, an undone import included.
- A bind whose answer is lost leaves no dispatch rule behind once recovery has looked.
- An update racing a delete answers NotFoundError or NOT_ALLOWED, never an unexpected error.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from fnmatch import fnmatchcase

import httpx
import pytest

from app.main import create_app
from models import CarrierStep, PhoneNumber, SipTrunk
from models.enums import PhoneNumberStatus
from resolvers.api_keys import issue_api_key
from resolvers.recover_interrupted import recover_interrupted
from resolvers.workspaces import create_workspace
from tests.conftest import IMPATIENT, Tenant, app_settings
from tests.factories import add_agent
from tests.graphql_documents import DEMO_ACCOUNT_SID, DEMO_CREDENTIALS, DEMO_DIDS, IMPORT_PHONE_NUMBER, byoc_trunk, import_result
from tests.sandbox_snapshot import carrier_state, holdings_of, what_exists
from tests.server_processes import wait_until

NOW = timedelta(0)
# The carrier acts this long after the request: after the client (IMPATIENT) gave up, and after the failure's
# own settling (which looks for what the call made, finds nothing yet and leaves it to recovery) is over,
# with room to spare on a loaded machine (at 0.5 s past the time-out, a settle slowed past the late create
# once found and removed it itself, which left this file's "made after all" premise false).
LATE = IMPATIENT + 2.0


async def carried_out(sandbox, method: str, path_glob: str) -> None:
    """Wait until the carrier has acted on every late call to `path_glob` (its answer sent, or dropped)."""

    async def acted() -> bool:
        calls = [e for e in sandbox.requests if e["method"] == method and fnmatchcase(e["path"], path_glob)]
        return bool(calls) and all(e["status"] is not None or e.get("dropped") for e in calls)

    await wait_until(acted, seconds=LATE + 10, what=f"the carrier to act on {method} {path_glob}", pause=0.02)
UPDATE = """
mutation ($input: UpdatePhoneNumberInput!) {
  updatePhoneNumber(input: $input) {
    __typename
    ... on UpdatePhoneNumberSuccess { phoneNumber { id label status agentId } }
    ... on ValidationError { code fieldErrors { field code } }
    ... on NotFoundError { code id }
    ... on ProviderError { code retryable message }
  }
}"""
DELETE = """mutation ($id: ID!) { deletePhoneNumber(id: $id) { __typename ... on ProviderError { code } } }"""
BYOC_NUMBERS = ["+12025550147", "+12025550148"]


@pytest.fixture
async def impatient(database_url):
    """A server whose carrier calls time out after IMPATIENT seconds, and a tenant on it."""
    app = create_app(app_settings(database_url, provider_timeout=IMPATIENT))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            workspace = await create_workspace("Acme", 100)
            yield app, Tenant(workspace, "", (await issue_api_key(workspace)).secret, http)


async def import_number(tenant: Tenant, **number_input) -> dict:
    return import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": number_input}))


async def byoc_trunk_id(tenant: Tenant, direction: str = "BOTH") -> str:
    return (await byoc_trunk(tenant, direction=direction))["id"]


def twilio_account(app):
    return app.state.sandbox.twilio.account(DEMO_ACCOUNT_SID)


# ---------------------------------------------------------------- 1. an attempt finds only what it made


async def test_a_late_livekit_trunk_is_undone_without_touching_the_trunk_a_later_import_made(impatient):
    app, tenant = impatient
    livekit = app.state.sandbox.livekit
    trunk_id = await byoc_trunk_id(tenant, "OUTBOUND")
    # given: LiveKit makes the first import's outbound trunk only after the client stopped waiting
    app.state.sandbox.faults.add("POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk", delay=LATE, times=1)
    first = await import_number(tenant, e164=BYOC_NUMBERS[0], source="BYOC", trunkId=trunk_id)
    assert (first["__typename"], first["code"]) == ("ProviderError", "PROVIDER_TIMEOUT")
    await carried_out(app.state.sandbox, "POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk")
    # and a second import on the same trunk makes the trunk's outbound side again, under the same trunk
    second = await import_number(tenant, e164=BYOC_NUMBERS[1], source="BYOC", trunkId=trunk_id)
    assert second["__typename"] == "ImportPhoneNumberSuccess", second
    assert len(livekit.outbound_trunks) == 2

    # when: recovery finishes the first import
    assert await recover_interrupted(app.state.services, NOW) == 1

    # then: only the late trunk went; the second number still places calls through its trunk
    (kept,) = livekit.outbound_trunks.values()
    assert list(kept.numbers) == [BYOC_NUMBERS[1]]
    assert (await SipTrunk.get(id=trunk_id)).livekit_outbound_trunk_id == kept.sip_trunk_id
    assert not await PhoneNumber.exists(e164=BYOC_NUMBERS[0])


async def test_a_late_twilio_trunk_is_undone_without_touching_the_trunk_a_later_import_made(impatient):
    app, tenant = impatient
    account = twilio_account(app)
    app.state.sandbox.faults.add("POST", "/v1/Trunks", delay=LATE, times=1)
    first = await import_number(tenant, e164=DEMO_DIDS[0], source="TWILIO", twilio=DEMO_CREDENTIALS)
    assert (first["__typename"], first["code"]) == ("ProviderError", "PROVIDER_TIMEOUT")
    await carried_out(app.state.sandbox, "POST", "/v1/Trunks")
    second = await import_number(tenant, e164=DEMO_DIDS[1], source="TWILIO", twilio=DEMO_CREDENTIALS)
    assert second["__typename"] == "ImportPhoneNumberSuccess", second
    assert len(account.trunks) == 2

    assert await recover_interrupted(app.state.services, NOW) == 1

    trunk = await SipTrunk.get(twilio_account__account_sid=DEMO_ACCOUNT_SID)
    assert list(account.trunks) == [trunk.twilio_trunk_sid]
    assert list(account.credential_lists) == [trunk.twilio_credential_list_sid]
    assert account.number(DEMO_DIDS[1]).trunk_sid == trunk.twilio_trunk_sid
    assert holdings_of(app.state.sandbox, DEMO_DIDS[1])["livekit_inbound_trunks"] == 1


# ---------------------------------------------------------------- 2. the last rider takes the trunk along


async def test_an_import_left_for_recovery_comes_off_the_trunk_that_a_later_import_keeps(impatient):
    app, tenant = impatient
    sandbox = app.state.sandbox
    # given: the first import builds the shared trunk, then Twilio attaches its number only after the
    # client stopped waiting, so the import is left for recovery with its number on the LiveKit trunks
    sandbox.faults.add("POST", "/v1/Trunks/*/PhoneNumbers", delay=LATE, times=1)
    first = await import_number(tenant, e164=DEMO_DIDS[0], source="TWILIO", twilio=DEMO_CREDENTIALS)
    assert (first["__typename"], first["code"]) == ("ProviderError", "PROVIDER_TIMEOUT")
    # and a second number joins that trunk meanwhile
    second = await import_number(tenant, e164=DEMO_DIDS[1], source="TWILIO", twilio=DEMO_CREDENTIALS)
    assert second["__typename"] == "ImportPhoneNumberSuccess", second
    await carried_out(app.state.sandbox, "POST", "/v1/Trunks/*/PhoneNumbers")

    assert await recover_interrupted(app.state.services, NOW) == 1

    # then the first number is on no trunk anywhere, and the second keeps all it needs
    assert holdings_of(sandbox, DEMO_DIDS[0]) == {
        "livekit_numbers": 0, "livekit_inbound_trunks": 0, "livekit_outbound_trunks": 0, "twilio_trunks": 0
    }
    assert holdings_of(sandbox, DEMO_DIDS[1]) == {
        "livekit_numbers": 0, "livekit_inbound_trunks": 1, "livekit_outbound_trunks": 1, "twilio_trunks": 1
    }



async def test_a_shared_trunk_goes_when_the_import_left_on_it_is_undone_after_the_last_number_was_deleted(app, tenant):
    sandbox = app.state.sandbox
    before = await what_exists(sandbox)
    kept = await import_number(tenant, e164=DEMO_DIDS[0], source="TWILIO", twilio=DEMO_CREDENTIALS)
    assert kept["__typename"] == "ImportPhoneNumberSuccess", kept
    agent = await add_agent(tenant.workspace)
    # given: a second import fails at its last step, and its cleanup fails too: it waits for recovery
    sandbox.faults.add("POST", "/twirp/livekit.SIP/CreateSIPDispatchRule", status=503, times=1)
    sandbox.faults.add("DELETE", "/v1/Trunks/*/PhoneNumbers/*", status=503)
    failed = await import_number(tenant, e164=DEMO_DIDS[1], source="TWILIO", twilio=DEMO_CREDENTIALS, agentId=agent.id)
    assert (failed["__typename"], failed["retryable"]) == ("ProviderError", True)
    assert (await PhoneNumber.get(e164=DEMO_DIDS[1])).status == PhoneNumberStatus.PROVISIONING
    sandbox.faults.clear()
    # and the last ACTIVE number on the trunk is deleted meanwhile
    deleted = (await tenant.graphql(DELETE, {"id": kept["phoneNumber"]["id"]}))["data"]["deletePhoneNumber"]
    assert deleted["__typename"] == "DeletePhoneNumberSuccess", deleted

    # when: recovery undoes the failed import
    assert await recover_interrupted(app.state.services, NOW) == 1

    # then: no trunk, credential list or LiveKit trunk is left on the customer's account
    await agent.delete()
    assert await what_exists(sandbox) == before


# ---------------------------------------------------------------- 3. binds are journalled


async def test_a_bind_whose_answer_is_lost_leaves_no_dispatch_rule_after_recovery(impatient):
    app, tenant = impatient
    livekit = app.state.sandbox.livekit
    trunk_id = await byoc_trunk_id(tenant)
    imported = await import_number(tenant, e164=BYOC_NUMBERS[0], source="BYOC", trunkId=trunk_id)
    number_id = imported["phoneNumber"]["id"]
    agent = await add_agent(tenant.workspace)
    # given: LiveKit makes the rule only after the client stopped waiting
    app.state.sandbox.faults.add("POST", "/twirp/livekit.SIP/CreateSIPDispatchRule", delay=LATE, times=1)
    bound = (await tenant.graphql(UPDATE, {"input": {"id": number_id, "agentId": agent.id}}))["data"]["updatePhoneNumber"]
    assert (bound["__typename"], bound["code"]) == ("ProviderError", "PROVIDER_TIMEOUT")
    await carried_out(app.state.sandbox, "POST", "/twirp/livekit.SIP/CreateSIPDispatchRule")
    assert len(livekit.dispatch_rules) == 1  # made after all, and recorded nowhere but the journal
    number = await PhoneNumber.get(id=number_id)
    assert (number.agent_id, number.livekit_dispatch_rule_id) == (None, None)

    # when
    await recover_interrupted(app.state.services, NOW)

    # then: the rule is gone, the journal is empty, and binding again makes exactly one rule
    assert livekit.dispatch_rules == {}
    assert not await CarrierStep.filter(owner_id=number_id).exists()
    again = (await tenant.graphql(UPDATE, {"input": {"id": number_id, "agentId": agent.id}}))["data"]["updatePhoneNumber"]
    assert again["__typename"] == "UpdatePhoneNumberSuccess", again
    (rule,) = livekit.dispatch_rules.values()
    assert [a.agent_name for a in rule.room_config.agents] == [agent.id]


async def test_a_bind_interrupted_on_an_active_number_keeps_the_rule_its_row_records(impatient):
    """Recovery of a bind's journal never deletes the rule the number already had."""
    app, tenant = impatient
    livekit = app.state.sandbox.livekit
    first, second = await add_agent(tenant.workspace, "First"), await add_agent(tenant.workspace, "Second")
    trunk_id = await byoc_trunk_id(tenant)
    imported = await import_number(tenant, e164=BYOC_NUMBERS[0], source="BYOC", trunkId=trunk_id, agentId=first.id)
    number_id = imported["phoneNumber"]["id"]
    # given: every attempt of the rebind's update is answered late (it is safe to repeat, so it is retried)
    app.state.sandbox.faults.add("POST", "/twirp/livekit.SIP/UpdateSIPDispatchRule", delay=LATE, times=4)
    rebound = (await tenant.graphql(UPDATE, {"input": {"id": number_id, "agentId": second.id}}))["data"]["updatePhoneNumber"]
    assert rebound["__typename"] == "ProviderError", rebound
    await carried_out(app.state.sandbox, "POST", "/twirp/livekit.SIP/UpdateSIPDispatchRule")
    (rule,) = livekit.dispatch_rules.values()
    assert [a.agent_name for a in rule.room_config.agents] == [second.id]  # LiveKit acted after all

    await recover_interrupted(app.state.services, NOW)

    # then: the row's binding holds at LiveKit: the first agent, through the rule the row records
    number = await PhoneNumber.get(id=number_id)
    assert number.agent_id == first.id
    (rule,) = livekit.dispatch_rules.values()
    assert rule.sip_dispatch_rule_id == number.livekit_dispatch_rule_id
    assert [a.agent_name for a in rule.room_config.agents] == [first.id]
    assert not await CarrierStep.filter(owner_id=number_id).exists()


# ---------------------------------------------------------------- 4. update racing delete


async def test_a_label_update_during_a_delete_is_refused_and_after_it_not_found(app, tenant):
    sandbox = app.state.sandbox
    trunk_id = await byoc_trunk_id(tenant)
    imported = await import_number(tenant, e164=BYOC_NUMBERS[0], source="BYOC", trunkId=trunk_id)
    number_id = imported["phoneNumber"]["id"]
    sandbox.faults.add("POST", "/twirp/livekit.SIP/DeleteSIPTrunk", delay=0.5)
    deleting = asyncio.create_task(tenant.graphql(DELETE, {"id": number_id}))
    while (await PhoneNumber.get(id=number_id)).status != PhoneNumberStatus.RELEASING:
        await asyncio.sleep(0.01)

    during = (await tenant.graphql(UPDATE, {"input": {"id": number_id, "label": "x"}}))["data"]["updatePhoneNumber"]
    assert (during["__typename"], during["fieldErrors"]) == ("ValidationError", [{"field": "id", "code": "NOT_ALLOWED"}])
    assert (await deleting)["data"]["deletePhoneNumber"]["__typename"] == "DeletePhoneNumberSuccess"
    after = (await tenant.graphql(UPDATE, {"input": {"id": number_id, "label": "y"}}))["data"]["updatePhoneNumber"]
    assert (after["__typename"], after["id"]) == ("NotFoundError", number_id)


async def test_updates_racing_deletes_answer_within_the_contract(app, tenant):
    trunk_id = await byoc_trunk_id(tenant)
    agent = await add_agent(tenant.workspace)
    answers = set()
    for round_ in range(12):
        imported = await import_number(tenant, e164=BYOC_NUMBERS[0], source="BYOC", trunkId=trunk_id)
        number_id = imported["phoneNumber"]["id"]
        bodies = await asyncio.gather(
            tenant.graphql(DELETE, {"id": number_id}),
            tenant.graphql(UPDATE, {"input": {"id": number_id, "label": f"round {round_}"}}),
            tenant.graphql(UPDATE, {"input": {"id": number_id, "agentId": agent.id}}),
        )
        assert all("errors" not in body for body in bodies), bodies
        answers |= {body["data"]["updatePhoneNumber"]["__typename"] for body in bodies[1:]}
        assert bodies[0]["data"]["deletePhoneNumber"]["__typename"] == "DeletePhoneNumberSuccess"
    assert answers <= {"UpdatePhoneNumberSuccess", "NotFoundError", "ValidationError"}
    # nothing of the numbers is left at LiveKit once every delete finished
    livekit = carrier_state(app.state.sandbox)["livekit"]
    assert (livekit["dispatch_rules"], livekit["inbound_trunks"], livekit["outbound_trunks"]) == ({}, {}, {})
