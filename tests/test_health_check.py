"""checkPhoneNumber and `trunkline doctor`: each drift made at the sandbox carriers (through the official
SDKs, LiveKit's Twirp JSON, or the sandbox's control routes) is found, repaired where it can be, and
then reported healthy."""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp
import pytest
from livekit import api
from livekit.protocol.models import ListUpdate
from prometheus_client import REGISTRY
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from app.settings import Settings
from models import CarrierStep, PhoneNumber, SipTrunk
from models.enums import PhoneNumberStatus
from tests import launcher
from tests.launcher import TRUNKLINE
from tests.conftest import SECRET_KEY, app_settings
from tests.factories import add_agent
from tests.graphql_documents import (
    CHECK_PHONE_NUMBER,
    CREATE_SIP_TRUNK,
    DELETE_PHONE_NUMBER,
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    create_trunk_result,
    import_result,
    sandbox_state,
)
from tests.server_processes import http_client, wait_until

LIVEKIT_KEY, LIVEKIT_SECRET = "devkey", "secret"  # the demo seed's LiveKit project
ROTATED_TOKEN = "f00dfacef00dfacef00dfacef00dface"
BYOC_NUMBERS = ("+12025550147", "+12025550148")


async def check(tenant, number_id: str, *, repair: bool | None = None) -> dict:
    body = await tenant.graphql(CHECK_PHONE_NUMBER, {"id": number_id, "repair": repair})
    assert "errors" not in body, body
    return body["data"]["checkPhoneNumber"]


def codes(result: dict) -> list[tuple[str, bool]]:
    return sorted((p["code"], p["repaired"]) for p in result["problems"])


async def import_number(tenant, **fields) -> dict:
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": fields}))
    assert result["__typename"] == "ImportPhoneNumberSuccess", result
    return result["phoneNumber"]


# ---------------------------------------------------------------- carriers, as their owners would change them


class Carriers:
    """The official SDKs pointed at the app's sandbox, acting as the customer or as LiveKit's console."""

    def __init__(self, app, twilio_http: AsyncTwilioHttpClient, livekit: api.LiveKitAPI) -> None:
        self.app = app
        self.url = app.state.sandbox.url
        self.twilio = Client(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, http_client=twilio_http)
        self.twilio.api.base_url = self.twilio.trunking.base_url = self.url
        self.livekit = livekit

    @property
    def sandbox(self):
        return self.app.state.sandbox

    async def release_livekit_number(self, number_id: str) -> None:
        """LiveKit's PhoneNumberService has no Python client: its Twirp JSON, as the SDK's token signs it."""
        token = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_sip_grants(api.SIPGrants(admin=True)).to_jwt()
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                f"{self.url}/twirp/livekit.PhoneNumberService/ReleasePhoneNumbers",
                json={"ids": [number_id]}, headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status == 200, await response.text()

    async def set_auth_token(self, token: str) -> None:
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                f"{self.url}/__sandbox/twilio/accounts/{DEMO_ACCOUNT_SID}/auth_token", json={"auth_token": token}
            )
            assert response.status == 204


@pytest.fixture
async def carriers(app):
    http = AsyncTwilioHttpClient()
    async with api.LiveKitAPI(app.state.sandbox.url, LIVEKIT_KEY, LIVEKIT_SECRET, failover=False) as livekit:
        yield Carriers(app, http, livekit)
    await http.close()


async def twilio_trunk(number_id: str) -> SipTrunk:
    return await SipTrunk.get(id=(await PhoneNumber.get(id=number_id)).trunk_id)


# Each drift: what it does at the carriers, and the problems a check of the first DID then finds.


async def delete_dispatch_rule(carriers, number_id):
    rule_id = (await PhoneNumber.get(id=number_id)).livekit_dispatch_rule_id
    await carriers.livekit.sip.delete_dispatch_rule(api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id))


async def point_rule_at_another_agent(carriers, number_id):
    rule_id = (await PhoneNumber.get(id=number_id)).livekit_dispatch_rule_id
    listed = await carriers.livekit.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest(dispatch_rule_ids=[rule_id]))
    rule = listed.items[0]
    del rule.room_config.agents[:]
    rule.room_config.agents.add(agent_name="agent_someone_else")
    await carriers.livekit.sip.update_dispatch_rule(rule_id, rule)


async def detach_from_twilio_trunk(carriers, number_id):
    number, trunk = await PhoneNumber.get(id=number_id), await twilio_trunk(number_id)
    await carriers.twilio.trunking.v1.trunks(trunk.twilio_trunk_sid).phone_numbers(number.twilio_phone_number_sid).delete_async()


async def remove_from_livekit_inbound_trunk(carriers, number_id):
    number, trunk = await PhoneNumber.get(id=number_id), await twilio_trunk(number_id)
    await carriers.livekit.sip.update_inbound_trunk_fields(trunk.livekit_inbound_trunk_id, numbers=ListUpdate(remove=[number.e164]))


async def remove_from_livekit_outbound_trunk(carriers, number_id):
    number, trunk = await PhoneNumber.get(id=number_id), await twilio_trunk(number_id)
    await carriers.livekit.sip.update_outbound_trunk_fields(trunk.livekit_outbound_trunk_id, numbers=ListUpdate(remove=[number.e164]))


async def delete_livekit_inbound_trunk(carriers, number_id):
    trunk = await twilio_trunk(number_id)
    await carriers.livekit.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.livekit_inbound_trunk_id))


async def delete_twilio_trunk(carriers, number_id):
    trunk = await twilio_trunk(number_id)
    await carriers.twilio.trunking.v1.trunks(trunk.twilio_trunk_sid).delete_async()


async def change_origination_url(carriers, number_id):
    trunk = await twilio_trunk(number_id)
    urls = carriers.twilio.trunking.v1.trunks(trunk.twilio_trunk_sid).origination_urls
    await urls(trunk.twilio_origination_url_sid).update_async(sip_url="sip:somewhere-else.example.com")


async def delete_credential_list(carriers, number_id):
    trunk = await twilio_trunk(number_id)
    await carriers.twilio.sip.credential_lists(trunk.twilio_credential_list_sid).delete_async()


DRIFTS = {
    "dispatch-rule-deleted": (delete_dispatch_rule, ["DISPATCH_RULE_MISSING"]),
    "dispatch-rule-wrong-agent": (point_rule_at_another_agent, ["DISPATCH_RULE_WRONG_AGENT"]),
    "detached-from-twilio-trunk": (detach_from_twilio_trunk, ["NUMBER_NOT_ON_TWILIO_TRUNK"]),
    "off-livekit-inbound-trunk": (remove_from_livekit_inbound_trunk, ["NUMBER_NOT_ON_LIVEKIT_TRUNK"]),
    "off-livekit-outbound-trunk": (remove_from_livekit_outbound_trunk, ["NUMBER_NOT_ON_LIVEKIT_TRUNK"]),
    # The number's dispatch rule named the deleted trunk, so it no longer catches the number's calls.
    "livekit-trunk-deleted": (delete_livekit_inbound_trunk, ["DISPATCH_RULE_MISSING", "LIVEKIT_TRUNK_MISSING"]),
    "twilio-trunk-deleted": (delete_twilio_trunk, ["TWILIO_TRUNK_MISSING"]),
    "origination-url-changed": (change_origination_url, ["ORIGINATION_URL_WRONG"]),
    "credential-list-deleted": (delete_credential_list, ["CREDENTIAL_LIST_MISSING"]),
}


@pytest.fixture
async def two_dids(app, tenant):
    """Two DIDs of the demo account on their shared trunk (LiveKit refuses to take a trunk's last number
    off it), the first bound to an agent."""
    agent = await add_agent(tenant.workspace)
    first = await import_number(tenant, e164=DEMO_DIDS[0], source="TWILIO", twilio=DEMO_CREDENTIALS, agentId=agent.id)
    second = await import_number(tenant, e164=DEMO_DIDS[1], source="TWILIO", twilio=DEMO_CREDENTIALS)
    return first["id"], second["id"]


async def test_a_number_deleted_while_its_check_waits_for_the_trunk_is_not_reported_broken(app, tenant, two_dids):
    """A delete marks the number RELEASING before it waits for the number's lease; the delete of the trunk's
    other number may meanwhile take the trunk's sides down. The check then answers that the number is being
    released, where it reported (and with `repair`, rebuilt) a trunk gone."""
    first, _ = two_dids
    trunk = await twilio_trunk(first)
    async with app.state.services.leases.trunk(trunk.id):  # the other number's delete, at the trunk
        checking = asyncio.create_task(check(tenant, first, repair=True))

        async def checking_waits() -> bool:  # the check holds the number's lease, and waits for the trunk's
            return bool(await PhoneNumber.filter(id=first).first().values_list("lease_token", flat=True))

        await wait_until(checking_waits, seconds=10, what="the check to take the number's lease")
        deleting = asyncio.create_task(tenant.graphql(DELETE_PHONE_NUMBER, {"id": first}))

        async def releasing() -> bool:
            return (await PhoneNumber.get(id=first)).status == PhoneNumberStatus.RELEASING

        await wait_until(releasing, seconds=10, what="the delete to mark the number RELEASING")

    checked = await checking
    assert checked["__typename"] == "ProviderError", checked
    assert "RELEASING" in checked["message"] and checked["retryable"] is True
    assert (await deleting)["data"]["deletePhoneNumber"]["__typename"] == "DeletePhoneNumberSuccess"
    assert not await CarrierStep.filter(owner_id=first).exists()


@pytest.mark.parametrize("drift", DRIFTS, ids=list(DRIFTS))
async def test_drift_is_found_then_repaired_then_healthy(app, tenant, carriers, two_dids, drift):
    # given
    make_drift, expected = DRIFTS[drift]
    number_id, other_id = two_dids
    assert (await check(tenant, number_id))["healthy"] is True
    await make_drift(carriers, number_id)
    drifted = sandbox_state(app)

    # when
    found = await check(tenant, number_id)
    repaired = await check(tenant, number_id, repair=True)
    after = await check(tenant, number_id)

    # then the check only read
    assert found["__typename"] == "PhoneNumberCheck", found
    assert (found["healthy"], codes(found)) == (False, [(code, False) for code in expected])
    assert all(p["resource"] and p["message"] for p in found["problems"])
    # then the repair put it back and recorded it, leaving no journal behind
    assert (repaired["healthy"], codes(repaired)) == (True, [(code, True) for code in expected])
    assert sandbox_state(app) != drifted
    assert after == {**after, "healthy": True, "problems": []}
    assert await CarrierStep.all().count() == 0
    # then the other number of the trunk is healthy once it is repaired too
    assert (await check(tenant, other_id, repair=True))["healthy"] is True
    assert (await check(tenant, other_id))["problems"] == []


async def test_repaired_dispatch_rule_is_recorded_and_routes_to_the_agent(app, tenant, carriers, two_dids):
    # given
    number_id, _ = two_dids
    await delete_dispatch_rule(carriers, number_id)

    # when
    await check(tenant, number_id, repair=True)

    # then
    number, trunk = await PhoneNumber.get(id=number_id), await twilio_trunk(number_id)
    rule = app.state.sandbox.livekit.dispatch_rules[number.livekit_dispatch_rule_id]
    assert [a.agent_name for a in rule.room_config.agents] == [number.agent_id]
    assert (list(rule.numbers), list(rule.trunk_ids)) == ([number.e164], [trunk.livekit_inbound_trunk_id])


async def test_rebuilt_twilio_trunk_keeps_the_domain_livekit_calls(app, tenant, carriers, two_dids):
    # given
    number_id, _ = two_dids
    before = await twilio_trunk(number_id)
    await delete_twilio_trunk(carriers, number_id)

    # when
    await check(tenant, number_id, repair=True)

    # then
    after = await twilio_trunk(number_id)
    account = app.state.sandbox.twilio.account(DEMO_ACCOUNT_SID)
    rebuilt = account.trunks[after.twilio_trunk_sid]
    outbound = app.state.sandbox.livekit.outbound_trunks[after.livekit_outbound_trunk_id]
    assert after.twilio_trunk_sid != before.twilio_trunk_sid
    assert rebuilt.domain_name == before.twilio_domain_name == outbound.address
    assert [u.sip_url for u in rebuilt.origination_urls.values()] == [app.state.services.livekit_sip_uri]
    assert rebuilt.credential_list_sids == [after.twilio_credential_list_sid]


async def test_recreated_credential_list_holds_the_credentials_livekit_sends(app, tenant, carriers, two_dids):
    # given
    number_id, _ = two_dids
    await delete_credential_list(carriers, number_id)

    # when
    await check(tenant, number_id, repair=True)

    # then
    trunk = await twilio_trunk(number_id)
    account = app.state.sandbox.twilio.account(DEMO_ACCOUNT_SID)
    credential = next(iter(account.credential_lists[trunk.twilio_credential_list_sid].credentials.values()))
    outbound = app.state.sandbox.livekit.outbound_trunks[trunk.livekit_outbound_trunk_id]
    assert (credential.username, credential.password) == (outbound.auth_username, outbound.auth_password)
    assert account.trunks[trunk.twilio_trunk_sid].credential_list_sids == [trunk.twilio_credential_list_sid]


async def test_rejected_credentials_are_a_problem_of_the_check_and_not_repaired(app, tenant, carriers, two_dids):
    # given the customer rotated the token at Twilio
    number_id, _ = two_dids
    await carriers.set_auth_token(ROTATED_TOKEN)

    # when
    found = await check(tenant, number_id)
    repaired = await check(tenant, number_id, repair=True)

    # then
    for result in (found, repaired):
        assert result["__typename"] == "PhoneNumberCheck"
        assert (result["healthy"], codes(result)) == (False, [("CREDENTIALS_REJECTED", False)])
    problem = found["problems"][0]
    assert problem["provider"] == "TWILIO" and DEMO_ACCOUNT_SID not in json.dumps(found)
    assert ROTATED_TOKEN not in json.dumps(found) and DEMO_AUTH_TOKEN not in json.dumps(found)


async def test_number_released_at_twilio_is_not_owned_and_not_repaired(app, tenant, carriers, two_dids):
    # given
    number_id, _ = two_dids
    sid = (await PhoneNumber.get(id=number_id)).twilio_phone_number_sid
    await carriers.twilio.incoming_phone_numbers(sid).delete_async()

    # when
    repaired = await check(tenant, number_id, repair=True)

    # then
    assert (repaired["healthy"], codes(repaired)) == (False, [("NUMBER_NOT_OWNED", False)])
    assert repaired["problems"][0]["resource"] == sid


# ---------------------------------------------------------------- LIVEKIT and BYOC numbers


@pytest.fixture
async def livekit_number(app, tenant) -> dict:
    agent = await add_agent(tenant.workspace)
    e164 = next(app.state.sandbox.livekit.inventory("415")).e164
    return await import_number(tenant, e164=e164, source="LIVEKIT", agentId=agent.id)


async def test_livekit_number_without_its_rule_is_routed_again(app, tenant, carriers, livekit_number):
    # given
    await delete_dispatch_rule(carriers, livekit_number["id"])
    assert app.state.sandbox.livekit.phone_numbers[livekit_number["livekitPhoneNumberId"]].status.endswith("OFFLINE")

    # when
    found = await check(tenant, livekit_number["id"])
    repaired = await check(tenant, livekit_number["id"], repair=True)

    # then
    assert codes(found) == [("DISPATCH_RULE_MISSING", False)]
    assert (repaired["healthy"], codes(repaired)) == (True, [("DISPATCH_RULE_MISSING", True)])
    held = app.state.sandbox.livekit.phone_numbers[livekit_number["livekitPhoneNumberId"]]
    assert held.sip_dispatch_rule_id == (await PhoneNumber.get(id=livekit_number["id"])).livekit_dispatch_rule_id
    assert held.status.endswith("ACTIVE")
    assert (await check(tenant, livekit_number["id"]))["problems"] == []


async def test_released_livekit_number_is_reported_not_repaired(app, tenant, carriers, livekit_number):
    # given
    await carriers.release_livekit_number(livekit_number["livekitPhoneNumberId"])
    state = sandbox_state(app)

    # when
    repaired = await check(tenant, livekit_number["id"], repair=True)

    # then
    assert (repaired["healthy"], codes(repaired)) == (False, [("LIVEKIT_NUMBER_NOT_ACTIVE", False)])
    assert repaired["problems"][0]["resource"] == livekit_number["livekitPhoneNumberId"]
    assert sandbox_state(app) == state


async def test_byoc_number_is_put_back_on_its_livekit_trunk(app, tenant, carriers):
    # given
    trunk_input = {"name": "Carrier", "direction": "BOTH", "sipAddress": "sip.example-carrier.com",
                   "allowedAddresses": ["203.0.113.0/24"]}
    trunk = create_trunk_result(await tenant.graphql(CREATE_SIP_TRUNK, {"input": trunk_input}))["sipTrunk"]
    first, _ = [await import_number(tenant, e164=e164, source="BYOC", trunkId=trunk["id"]) for e164 in BYOC_NUMBERS]
    row = await SipTrunk.get(id=trunk["id"])
    await carriers.livekit.sip.update_inbound_trunk_fields(
        row.livekit_inbound_trunk_id, numbers=ListUpdate(remove=[BYOC_NUMBERS[0]])
    )

    # when
    repaired = await check(tenant, first["id"], repair=True)

    # then
    assert (repaired["healthy"], codes(repaired)) == (True, [("NUMBER_NOT_ON_LIVEKIT_TRUNK", True)])
    assert sorted(app.state.sandbox.livekit.inbound_trunks[row.livekit_inbound_trunk_id].numbers) == sorted(BYOC_NUMBERS)


# ---------------------------------------------------------------- refusals and failures


async def test_unknown_or_foreign_number_is_not_found(tenant, make_tenant, two_dids):
    other = await make_tenant("Other")

    unknown = await check(tenant, "phone_01J9Z3Q5V8K2M4N6P8R0S2T4W6")
    foreign = await check(other, two_dids[0])
    malformed = await check(tenant, "not-an-id")

    assert [r["__typename"] for r in (unknown, foreign, malformed)] == ["NotFoundError"] * 3
    assert foreign["id"] == two_dids[0]


async def test_carrier_down_is_a_provider_error_and_repairs_nothing(app, tenant, carriers, two_dids):
    # given
    number_id, _ = two_dids
    await delete_dispatch_rule(carriers, number_id)
    async with http_client() as http:
        added = await http.post(f"{carriers.url}/__sandbox/faults",
                                json={"path": "/twirp/livekit.SIP/CreateSIPDispatchRule", "status": 503})
        assert added.status_code == 201
        state = sandbox_state(app)

        # when
        failed = await check(tenant, number_id, repair=True)
        await http.delete(f"{carriers.url}/__sandbox/faults")

    # then
    assert (failed["__typename"], failed["provider"], failed["retryable"]) == ("ProviderError", "LIVEKIT", True)
    assert sandbox_state(app)["livekit"]["dispatch_rules"] == state["livekit"]["dispatch_rules"]
    assert await CarrierStep.all().count() == 0


async def test_problems_are_counted_in_metrics(client, tenant, carriers, two_dids):
    await delete_dispatch_rule(carriers, two_dids[0])

    await check(tenant, two_dids[0], repair=True)

    metrics = (await client.get("/metrics")).text
    assert 'trunkline_carrier_problems_total{code="DISPATCH_RULE_MISSING",repaired="true"}' in metrics
    assert 'trunkline_health_checks_total{outcome="healthy"}' in metrics


# ---------------------------------------------------------------- trunkline doctor


ORPHAN_TRUNK_NAME = "trunkline trunk_01J9Z3Q5V8K2M4N6P8R0S2T4W6 0123456789ab"
ORPHAN_LIST_NAME = "Trunkline trunk_01J9Z3Q5V8K2M4N6P8R0S2T4W6 0123456789ab"


async def doctor(app, database_url: str, *args: str) -> tuple[int, str, str]:
    """`trunkline doctor` as a process, on the test's database and the app's sandbox. Run from a thread: the
    sandbox answers on this test's event loop."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")} | {
        "TRUNKLINE_DATABASE_URL": database_url, "TRUNKLINE_SECRET_KEY": SECRET_KEY,
        "TRUNKLINE_SANDBOX_URL": app.state.sandbox.url,
    }
    done = await asyncio.to_thread(launcher.run, [TRUNKLINE, "doctor", *args], env=env)
    return done.returncode, done.stdout, done.stderr


async def test_doctor_finds_drift_and_orphans_then_repairs_and_removes_them(app, database_url, carriers, two_dids):
    # given a drift, and resources bearing our names that no row owns, beside one of the customer's own
    number_id, other_id = two_dids
    await delete_dispatch_rule(carriers, number_id)
    orphan_trunk = await carriers.livekit.sip.create_inbound_trunk(api.CreateSIPInboundTrunkRequest(
        trunk=api.SIPInboundTrunkInfo(name=ORPHAN_TRUNK_NAME, numbers=["+12025550199"])
    ))
    orphan_list = await carriers.twilio.sip.credential_lists.create_async(friendly_name=ORPHAN_LIST_NAME)
    customers = await carriers.twilio.sip.credential_lists.create_async(friendly_name="Trunkline of the customer's own")

    # when
    found_status, found_out, found_err = await doctor(app, database_url, "--json")
    repair_status, repair_out, _ = await doctor(app, database_url, "--repair", "--json")
    after_status, after_out, _ = await doctor(app, database_url, "--json")

    # then the first run reports, exactly one JSON document
    assert found_status == 1, found_err
    found = json.loads(found_out)
    assert [n["id"] for n in found["numbers"]] == sorted([number_id, other_id])
    by_id = {n["id"]: n for n in found["numbers"]}
    assert (by_id[number_id]["healthy"], [p["code"] for p in by_id[number_id]["problems"]]) == (False, ["DISPATCH_RULE_MISSING"])
    assert (by_id[other_id]["healthy"], by_id[other_id]["problems"]) == (True, [])
    assert sorted(found["orphans"], key=lambda o: o["provider"]) == [
        {"provider": "LIVEKIT", "resource": orphan_trunk.sip_trunk_id, "name": ORPHAN_TRUNK_NAME, "removed": False},
        {"provider": "TWILIO", "resource": orphan_list.sid, "name": ORPHAN_LIST_NAME, "removed": False},
    ]
    # then --repair puts back and removes, and what remains is healthy
    repaired = json.loads(repair_out)
    assert repair_status == 0
    assert [p["repaired"] for n in repaired["numbers"] for p in n["problems"]] == [True]
    assert [o["removed"] for o in repaired["orphans"]] == [True, True]
    assert (after_status, json.loads(after_out)["orphans"]) == (0, [])
    assert all(n["healthy"] and not n["problems"] for n in json.loads(after_out)["numbers"])
    sandbox = app.state.sandbox
    assert orphan_trunk.sip_trunk_id not in sandbox.livekit.inbound_trunks
    assert set(sandbox.twilio.account(DEMO_ACCOUNT_SID).credential_lists) == {
        customers.sid, (await twilio_trunk(number_id)).twilio_credential_list_sid
    }


async def test_doctor_reports_what_it_cannot_repair_with_status_1(app, database_url, carriers, two_dids):
    await carriers.set_auth_token(ROTATED_TOKEN)

    status, out, err = await doctor(app, database_url, "--repair")

    assert status == 1, err
    assert "CREDENTIALS_REJECTED" in out and "UNHEALTHY" in out
    assert ROTATED_TOKEN not in out + err and DEMO_AUTH_TOKEN not in out + err


async def test_doctor_of_one_workspace_checks_only_its_numbers(app, database_url, tenant, make_tenant, two_dids):
    other = await make_tenant("Other")
    byoc = {"name": "Carrier", "direction": "OUTBOUND", "sipAddress": "sip.example-carrier.com"}
    trunk = create_trunk_result(await other.graphql(CREATE_SIP_TRUNK, {"input": byoc}))["sipTrunk"]
    await import_number(other, e164=BYOC_NUMBERS[0], source="BYOC", trunkId=trunk["id"])

    status, out, _ = await doctor(app, database_url, "--workspace", tenant.workspace.id, "--json")
    unknown_status, _, unknown_err = await doctor(app, database_url, "--workspace", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6")

    assert (status, sorted(n["id"] for n in json.loads(out)["numbers"])) == (0, sorted(two_dids))
    assert unknown_status == 1 and "no workspace" in unknown_err


# ---------------------------------------------------------------- the periodic check


class TestPeriodicCheck:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return app_settings(database_url, health_check_interval=0.2)

    async def test_problems_found_by_the_periodic_check_are_counted_and_not_repaired(self, app, carriers, two_dids):
        # given
        labels = {"code": "DISPATCH_RULE_MISSING", "repaired": "false"}
        before = REGISTRY.get_sample_value("trunkline_carrier_problems_total", labels) or 0
        await delete_dispatch_rule(carriers, two_dids[0])

        # when a few passes run
        for _ in range(50):
            if (REGISTRY.get_sample_value("trunkline_carrier_problems_total", labels) or 0) > before:
                break
            await asyncio.sleep(0.1)

        # then
        assert REGISTRY.get_sample_value("trunkline_carrier_problems_total", labels) > before
        rule_id = (await PhoneNumber.get(id=two_dids[0])).livekit_dispatch_rule_id
        assert rule_id not in app.state.sandbox.livekit.dispatch_rules
