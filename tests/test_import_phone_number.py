"""importPhoneNumber end to end: the answer, our rows, and what the sandbox carriers hold afterwards."""

import base64
import logging

import pytest

from models import CarrierStep, PhoneNumber, SipTrunk, TwilioAccount
from providers.sandbox.twilio import Trunk as TwilioTrunk
from tests.factories import add_agent, add_phone_number
from tests.graphql_documents import (
    CREATE_SIP_TRUNK,
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_CALLER_IDS,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    create_trunk_result,
    field_codes,
    import_result,
    sandbox_state,
)

WRONG_TOKEN = "0123456789abcdef0123456789abcdef"
ROTATED_TOKEN = "f00dfacef00dfacef00dfacef00dface"
MASKED_DEMO_SID = "AC…" + DEMO_ACCOUNT_SID[-4:]
BYOC_NUMBER = "+12025550147"
NOT_ON_OFFER = "+12025557788"  # outside the 555-01XX block the sandbox's LiveKit sells from


def twilio_import(e164: str, **fields) -> dict:
    return {"input": {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS, **fields}}


async def import_number(tenant, variables: dict) -> dict:
    return import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, variables))


def demo_account(app):
    return app.state.sandbox.twilio.account(DEMO_ACCOUNT_SID)


def did_sid(app, e164: str) -> str:
    return demo_account(app).number(e164).sid


def only(mapping: dict):
    assert len(mapping) == 1, mapping
    return next(iter(mapping.values()))


def agents_of(rule) -> list[str]:
    return [agent.agent_name for agent in rule.room_config.agents]


def livekit_number_to_buy(app) -> str:
    """A number LiveKit's inventory offers now."""
    return next(app.state.sandbox.livekit.inventory("415")).e164


# ---------------------------------------------------------------- TWILIO: DIDs


async def test_twilio_did_import_bridges_the_number_through_a_new_elastic_sip_trunk(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)

    # when
    result = await import_number(tenant, twilio_import(DEMO_DIDS[0], agentId=agent.id, label="Front desk"))

    # then the answer
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    number = result["phoneNumber"]
    assert number == {
        "id": number["id"],
        "e164": DEMO_DIDS[0],
        "source": "TWILIO",
        "status": "ACTIVE",
        "capabilities": ["INBOUND", "OUTBOUND"],
        "label": "Front desk",
        "trunkId": number["trunkId"],
        "agentId": agent.id,
        "livekitPhoneNumberId": None,
    }
    trunk_row = await SipTrunk.get(id=number["trunkId"])
    assert (trunk_row.provider, trunk_row.direction, trunk_row.name) == ("TWILIO", "BOTH", f"Twilio {MASKED_DEMO_SID}")

    # then Twilio: one trunk sending calls to LiveKit, holding the number, with a credential list
    account = demo_account(app)
    twilio_trunk = only(account.trunks)
    assert twilio_trunk.sid == trunk_row.twilio_trunk_sid
    assert [url.sip_url for url in twilio_trunk.origination_urls.values()] == [app.state.services.livekit_sip_uri]
    assert [n.phone_number for n in account.trunk_numbers(twilio_trunk.sid)] == [DEMO_DIDS[0]]
    credential_list = only(account.credential_lists)
    assert twilio_trunk.credential_list_sids == [credential_list.sid]
    credential = only(credential_list.credentials)

    # then LiveKit: the number on both trunks; outbound calls go to the Twilio trunk with those credentials
    livekit = app.state.sandbox.livekit
    inbound, outbound = only(livekit.inbound_trunks), only(livekit.outbound_trunks)
    assert list(inbound.numbers) == [DEMO_DIDS[0]]
    assert (outbound.address, list(outbound.numbers)) == (twilio_trunk.domain_name, [DEMO_DIDS[0]])
    assert (outbound.auth_username, outbound.auth_password) == (credential.username, credential.password)
    assert (trunk_row.livekit_inbound_trunk_id, trunk_row.livekit_outbound_trunk_id) == (
        inbound.sip_trunk_id,
        outbound.sip_trunk_id,
    )

    # then the dispatch rule sends the number's calls to the agent
    rule = only(livekit.dispatch_rules)
    assert (agents_of(rule), list(rule.trunk_ids), list(rule.numbers)) == ([agent.id], [inbound.sip_trunk_id], [DEMO_DIDS[0]])
    stored = await PhoneNumber.get(id=number["id"])
    assert (stored.livekit_dispatch_rule_id, stored.twilio_phone_number_sid) == (rule.sip_dispatch_rule_id, did_sid(app, DEMO_DIDS[0]))
    assert await CarrierStep.all().count() == 0


async def test_second_did_of_the_same_account_joins_the_shared_trunk(app, tenant):
    # given
    first = await import_number(tenant, twilio_import(DEMO_DIDS[0]))

    # when
    second = await import_number(tenant, twilio_import(DEMO_DIDS[1]))

    # then
    assert (first["__typename"], second["__typename"]) == ("ImportPhoneNumberSuccess", "ImportPhoneNumberSuccess")
    assert second["phoneNumber"]["trunkId"] == first["phoneNumber"]["trunkId"]
    assert await SipTrunk.all().count() == 1
    assert await TwilioAccount.all().count() == 1
    account = demo_account(app)
    twilio_trunk = only(account.trunks)
    assert len(account.credential_lists) == 1
    assert sorted(n.phone_number for n in account.trunk_numbers(twilio_trunk.sid)) == sorted(DEMO_DIDS[:2])
    livekit = app.state.sandbox.livekit
    assert sorted(only(livekit.inbound_trunks).numbers) == sorted(DEMO_DIDS[:2])
    assert sorted(only(livekit.outbound_trunks).numbers) == sorted(DEMO_DIDS[:2])
    assert livekit.dispatch_rules == {}


async def test_dids_of_two_workspaces_ride_separate_trunks(app, tenant, make_tenant):
    # given
    other = await make_tenant("Globex")
    await import_number(tenant, twilio_import(DEMO_DIDS[0]))

    # when
    result = await import_number(other, twilio_import(DEMO_DIDS[1]))

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    assert await SipTrunk.all().count() == 2
    assert len(demo_account(app).trunks) == 2
    livekit = app.state.sandbox.livekit
    assert sorted(list(t.numbers) for t in livekit.inbound_trunks.values()) == sorted([[DEMO_DIDS[0]], [DEMO_DIDS[1]]])


async def test_did_on_another_elastic_sip_trunk_is_refused_and_leaves_nothing(app, tenant):
    # given the customer put the number on a trunk of their own at Twilio
    account = demo_account(app)
    their_trunk = TwilioTrunk(sid="TK" + "ab" * 16, friendly_name="Their PBX", domain_name="their-pbx.pstn.twilio.com")
    account.trunks[their_trunk.sid] = their_trunk
    account.number(DEMO_DIDS[0]).trunk_sid = their_trunk.sid
    carriers_before = sandbox_state(app)

    # when
    result = await import_number(tenant, twilio_import(DEMO_DIDS[0]))

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("e164", "NOT_ALLOWED")]
    assert their_trunk.sid in result["fieldErrors"][0]["message"]
    assert [await model.all().count() for model in (PhoneNumber, SipTrunk, TwilioAccount, CarrierStep)] == [0, 0, 0, 0]
    assert sandbox_state(app) == carriers_before


# ---------------------------------------------------------------- TWILIO: verified caller IDs


async def test_verified_caller_id_rides_the_outbound_side_of_the_accounts_trunk(app, tenant):
    # given
    did = await import_number(tenant, twilio_import(DEMO_DIDS[0]))

    # when
    result = await import_number(tenant, twilio_import(DEMO_CALLER_IDS[0]))

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    number = result["phoneNumber"]
    assert number == {
        "id": number["id"],
        "e164": DEMO_CALLER_IDS[0],
        "source": "VERIFIED_CALLER_ID",
        "status": "ACTIVE",
        "capabilities": ["OUTBOUND"],
        "label": None,
        "trunkId": did["phoneNumber"]["trunkId"],
        "agentId": None,
        "livekitPhoneNumberId": None,
    }
    livekit = app.state.sandbox.livekit
    assert list(only(livekit.inbound_trunks).numbers) == [DEMO_DIDS[0]]
    assert list(only(livekit.outbound_trunks).numbers) == [DEMO_DIDS[0], DEMO_CALLER_IDS[0]]
    account = demo_account(app)
    assert [n.phone_number for n in account.trunk_numbers(only(account.trunks).sid)] == [DEMO_DIDS[0]]


async def test_verified_caller_id_before_any_did_import_is_refused(app, tenant):
    # given
    carriers_before = sandbox_state(app)

    # when
    result = await import_number(tenant, twilio_import(DEMO_CALLER_IDS[0]))

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("e164", "DID_IMPORT_REQUIRED")]
    assert MASKED_DEMO_SID in result["fieldErrors"][0]["message"]
    assert await PhoneNumber.all().count() == 0
    assert await TwilioAccount.all().count() == 0
    assert sandbox_state(app) == carriers_before


async def test_verified_caller_id_cannot_be_bound_to_an_agent(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    await import_number(tenant, twilio_import(DEMO_DIDS[0]))
    carriers_before = sandbox_state(app)

    # when
    result = await import_number(tenant, twilio_import(DEMO_CALLER_IDS[0], agentId=agent.id))

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("agentId", "NOT_AGENT_BINDABLE")]
    assert await PhoneNumber.filter(e164=DEMO_CALLER_IDS[0]).count() == 0
    assert sandbox_state(app) == carriers_before


# ---------------------------------------------------------------- TWILIO: refusals and the stored token


async def test_number_the_account_does_not_hold_is_not_owned(app, tenant):
    # given
    carriers_before = sandbox_state(app)

    # when
    body = await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import("+12025550188"))

    # then
    result = import_result(body)
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("e164", "NOT_OWNED")]
    message = result["fieldErrors"][0]["message"]
    assert MASKED_DEMO_SID in message and DEMO_ACCOUNT_SID not in message
    assert DEMO_AUTH_TOKEN not in str(body)
    assert await PhoneNumber.all().count() == 0
    assert await TwilioAccount.all().count() == 0
    assert sandbox_state(app) == carriers_before


async def test_wrong_auth_token_is_credentials_rejected(app, tenant):
    # given
    carriers_before = sandbox_state(app)

    # when
    body = await tenant.graphql(
        IMPORT_PHONE_NUMBER, twilio_import(DEMO_DIDS[0], twilio={"accountSid": DEMO_ACCOUNT_SID, "authToken": WRONG_TOKEN})
    )

    # then
    result = import_result(body)
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("twilio.authToken", "CREDENTIALS_REJECTED")]
    assert MASKED_DEMO_SID in result["fieldErrors"][0]["message"]
    assert WRONG_TOKEN not in str(body) and DEMO_ACCOUNT_SID not in str(body)
    assert await PhoneNumber.all().count() == 0
    assert await TwilioAccount.all().count() == 0
    assert sandbox_state(app) == carriers_before


async def test_auth_token_is_stored_encrypted(app, tenant):
    # when
    await import_number(tenant, twilio_import(DEMO_DIDS[0]))

    # then
    account = await TwilioAccount.get(workspace_id=tenant.workspace.id, account_sid=DEMO_ACCOUNT_SID)
    assert DEMO_AUTH_TOKEN not in account.auth_token_encrypted
    assert app.state.services.secrets.decrypt(account.auth_token_encrypted) == DEMO_AUTH_TOKEN


async def test_rejected_new_token_leaves_the_stored_token_unchanged(app, tenant):
    # given
    await import_number(tenant, twilio_import(DEMO_DIDS[0]))
    stored_before = (await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID)).auth_token_encrypted

    # when
    rejected = await import_number(
        tenant, twilio_import(DEMO_DIDS[1], twilio={"accountSid": DEMO_ACCOUNT_SID, "authToken": WRONG_TOKEN})
    )
    accepted = await import_number(tenant, twilio_import(DEMO_DIDS[1]))

    # then
    assert field_codes(rejected) == [("twilio.authToken", "CREDENTIALS_REJECTED")]
    assert accepted["__typename"] == "ImportPhoneNumberSuccess"
    assert (await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID)).auth_token_encrypted == stored_before


async def test_rotated_token_accepted_by_twilio_replaces_the_stored_one(app, tenant):
    # given
    await import_number(tenant, twilio_import(DEMO_DIDS[0]))
    demo_account(app).auth_token = ROTATED_TOKEN  # the customer rotated the token at Twilio

    # when
    result = await import_number(
        tenant, twilio_import(DEMO_DIDS[1], twilio={"accountSid": DEMO_ACCOUNT_SID, "authToken": ROTATED_TOKEN})
    )

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    account = await TwilioAccount.get(account_sid=DEMO_ACCOUNT_SID)
    assert app.state.services.secrets.decrypt(account.auth_token_encrypted) == ROTATED_TOKEN


async def test_auth_token_appears_in_no_answer_and_no_log(app, tenant, caplog):
    # given a token that is no part of the account SID, so finding the SID in a URL is no false alarm
    demo_account(app).auth_token = ROTATED_TOKEN
    right = {"accountSid": DEMO_ACCOUNT_SID, "authToken": ROTATED_TOKEN}
    wrong = {"accountSid": DEMO_ACCOUNT_SID, "authToken": WRONG_TOKEN}
    caplog.set_level(logging.DEBUG)

    # when
    bodies = [
        await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import(DEMO_DIDS[0], twilio=wrong)),
        await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import(DEMO_DIDS[0], twilio=right)),
        await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import(DEMO_CALLER_IDS[0], twilio=right)),
        await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import("+12025550188", twilio=right)),
        await tenant.graphql(IMPORT_PHONE_NUMBER, twilio_import(DEMO_DIDS[0], twilio=right)),
    ]

    # then
    assert [import_result(body)["__typename"] for body in bodies] == [
        "ValidationError",
        "ImportPhoneNumberSuccess",
        "ImportPhoneNumberSuccess",
        "ValidationError",
        "ValidationError",
    ]
    assert caplog.records, "nothing was logged at DEBUG; the check below would prove nothing"
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    for token in (ROTATED_TOKEN, WRONG_TOKEN):
        basic = base64.b64encode(f"{DEMO_ACCOUNT_SID}:{token}".encode()).decode()
        assert token not in str(bodies)
        assert token not in logged and basic not in logged


# ---------------------------------------------------------------- LIVEKIT


async def test_livekit_import_buys_the_number_and_routes_it_to_the_agent(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    e164 = livekit_number_to_buy(app)

    # when
    result = await import_number(tenant, {"input": {"e164": e164, "source": "LIVEKIT", "agentId": agent.id}})

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    livekit = app.state.sandbox.livekit
    bought = only(livekit.phone_numbers)
    number = result["phoneNumber"]
    assert number == {
        "id": number["id"],
        "e164": e164,
        "source": "LIVEKIT",
        "status": "ACTIVE",
        "capabilities": ["INBOUND"],
        "label": None,
        "trunkId": None,
        "agentId": agent.id,
        "livekitPhoneNumberId": bought.id,
    }
    assert bought.id.startswith("PN_") and bought.e164 == e164
    rule = only(livekit.dispatch_rules)
    assert (bought.sip_dispatch_rule_id, agents_of(rule)) == (rule.sip_dispatch_rule_id, [agent.id])
    assert (livekit.inbound_trunks, livekit.outbound_trunks) == ({}, {})
    assert demo_account(app).trunks == {}


async def test_livekit_number_not_on_offer_is_not_available_and_its_rule_is_removed(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)

    # when
    result = await import_number(tenant, {"input": {"e164": NOT_ON_OFFER, "source": "LIVEKIT", "agentId": agent.id}})

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("e164", "NOT_AVAILABLE")]
    assert "availablePhoneNumbers(source: LIVEKIT)" in result["fieldErrors"][0]["message"]
    assert [await model.all().count() for model in (PhoneNumber, CarrierStep)] == [0, 0]
    livekit = app.state.sandbox.livekit
    assert (livekit.phone_numbers, livekit.dispatch_rules) == ({}, {})


# ---------------------------------------------------------------- BYOC


async def create_trunk(tenant, direction: str) -> dict:
    trunk_input = {
        "name": f"Carrier {direction.lower()}",
        "direction": direction,
        "allowedAddresses": ["203.0.113.0/24"],
        "authUsername": "acme",
        "authPassword": "s3cret-passw0rd",
    }
    if direction != "INBOUND":
        trunk_input.update(sipAddress="sip.example-carrier.com", transport="TCP")
    result = create_trunk_result(await tenant.graphql(CREATE_SIP_TRUNK, {"input": trunk_input}))
    assert result["__typename"] == "CreateSipTrunkSuccess", result
    return result["sipTrunk"]


@pytest.mark.parametrize(
    "direction, capabilities",
    [("INBOUND", ["INBOUND"]), ("OUTBOUND", ["OUTBOUND"]), ("BOTH", ["INBOUND", "OUTBOUND"])],
    ids=["inbound", "outbound", "both"],
)
async def test_byoc_import_puts_the_number_on_the_trunks_livekit_sides(app, tenant, direction, capabilities):
    # given
    trunk = await create_trunk(tenant, direction)
    livekit = app.state.sandbox.livekit
    assert (livekit.inbound_trunks, livekit.outbound_trunks) == ({}, {})
    twilio_before = app.state.sandbox.twilio.snapshot()

    # when
    result = await import_number(tenant, {"input": {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk["id"]}})

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    number = result["phoneNumber"]
    assert number == {
        "id": number["id"],
        "e164": BYOC_NUMBER,
        "source": "BYOC",
        "status": "ACTIVE",
        "capabilities": capabilities,
        "label": None,
        "trunkId": trunk["id"],
        "agentId": None,
        "livekitPhoneNumberId": None,
    }
    inbound = [
        {"numbers": list(t.numbers), "allowed_addresses": list(t.allowed_addresses), "auth_username": t.auth_username,
         "auth_password": t.auth_password}
        for t in livekit.inbound_trunks.values()
    ]
    outbound = [
        {"numbers": list(t.numbers), "address": t.address, "auth_username": t.auth_username, "auth_password": t.auth_password}
        for t in livekit.outbound_trunks.values()
    ]
    expected_inbound = {
        "numbers": [BYOC_NUMBER], "allowed_addresses": ["203.0.113.0/24"], "auth_username": "acme",
        "auth_password": "s3cret-passw0rd",
    }
    expected_outbound = {
        "numbers": [BYOC_NUMBER], "address": "sip.example-carrier.com", "auth_username": "acme",
        "auth_password": "s3cret-passw0rd",
    }
    assert inbound == ([expected_inbound] if "INBOUND" in capabilities else [])
    assert outbound == ([expected_outbound] if "OUTBOUND" in capabilities else [])
    assert livekit.dispatch_rules == {}
    assert app.state.sandbox.twilio.snapshot() == twilio_before


async def test_second_byoc_number_joins_the_existing_livekit_trunks(app, tenant):
    # given
    trunk = await create_trunk(tenant, "BOTH")
    await import_number(tenant, {"input": {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk["id"]}})

    # when
    result = await import_number(tenant, {"input": {"e164": "+12025550148", "source": "BYOC", "trunkId": trunk["id"]}})

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    livekit = app.state.sandbox.livekit
    assert list(only(livekit.inbound_trunks).numbers) == [BYOC_NUMBER, "+12025550148"]
    assert list(only(livekit.outbound_trunks).numbers) == [BYOC_NUMBER, "+12025550148"]


async def test_byoc_number_on_an_inbound_trunk_is_routed_to_the_agent(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    trunk = await create_trunk(tenant, "INBOUND")

    # when
    result = await import_number(
        tenant, {"input": {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk["id"], "agentId": agent.id}}
    )

    # then
    assert result["__typename"] == "ImportPhoneNumberSuccess"
    livekit = app.state.sandbox.livekit
    rule = only(livekit.dispatch_rules)
    assert (agents_of(rule), list(rule.trunk_ids)) == ([agent.id], [only(livekit.inbound_trunks).sip_trunk_id])


async def test_byoc_number_on_an_outbound_trunk_cannot_be_bound_to_an_agent(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    trunk = await create_trunk(tenant, "OUTBOUND")

    # when
    result = await import_number(
        tenant, {"input": {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk["id"], "agentId": agent.id}}
    )

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("agentId", "NOT_AGENT_BINDABLE")]
    assert await PhoneNumber.all().count() == 0
    assert app.state.sandbox.livekit.outbound_trunks == {}


# ---------------------------------------------------------------- one row per number, and the cap


async def test_number_already_in_the_workspace_is_refused_naming_it(app, tenant):
    # given
    trunk = await create_trunk(tenant, "BOTH")
    first = await import_number(tenant, {"input": {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk["id"]}})
    carriers_before = sandbox_state(app)

    # when
    again = await import_number(tenant, {"input": {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk["id"]}})

    # then
    assert again["__typename"] == "ValidationError"
    assert field_codes(again) == [("e164", "ALREADY_EXISTS")]
    assert first["phoneNumber"]["id"] in again["fieldErrors"][0]["message"]
    assert await PhoneNumber.all().count() == 1
    assert sandbox_state(app) == carriers_before


async def test_number_held_by_another_workspace_is_refused_without_its_id(app, tenant, make_tenant):
    # given
    other = await make_tenant("Globex")
    held = await add_phone_number(other.workspace, "+12025550188")
    carriers_before = sandbox_state(app)

    # when
    result = await import_number(tenant, {"input": {"e164": "+12025550188", "source": "LIVEKIT"}})

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("e164", "ALREADY_EXISTS")]
    assert held.id not in result["fieldErrors"][0]["message"]
    assert await PhoneNumber.filter(workspace_id=tenant.workspace.id).count() == 0
    assert sandbox_state(app) == carriers_before


async def test_import_refused_at_phone_number_limit(app, make_tenant):
    # given
    tenant = await make_tenant("Small", phone_number_limit=2)
    await add_phone_number(tenant.workspace, "+12025550101")
    await add_phone_number(tenant.workspace, "+12025550102", status="PROVISIONING")
    carriers_before = sandbox_state(app)

    # when
    result = await import_number(tenant, {"input": {"e164": livekit_number_to_buy(app), "source": "LIVEKIT"}})

    # then
    assert result == {
        "__typename": "PaymentRequiredError",
        "code": "PHONE_NUMBER_LIMIT_REACHED",
        "limit": 2,
        "current": 2,
        "message": result["message"],
    }
    assert await PhoneNumber.all().count() == 2
    assert sandbox_state(app) == carriers_before


@pytest.mark.parametrize("whose", ["this workspace", "another workspace"])
async def test_a_number_already_held_is_refused_as_such_even_when_the_workspace_is_full(app, make_tenant, whose):
    # given: a full workspace, and the number held by it or by another
    tenant = await make_tenant("Small", phone_number_limit=1)
    other = await make_tenant("Globex")
    await add_phone_number(tenant.workspace, "+12025550101")
    held = await add_phone_number(tenant.workspace if whose == "this workspace" else other.workspace, "+12025550188")

    # when
    result = await import_number(tenant, {"input": {"e164": "+12025550188", "source": "LIVEKIT"}})

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("e164", "ALREADY_EXISTS")]
    assert (held.id in result["fieldErrors"][0]["message"]) == (whose == "this workspace")


async def test_refused_import_frees_its_slot(app, make_tenant):
    # given
    tenant = await make_tenant("Small", phone_number_limit=1)
    refused = await import_number(tenant, twilio_import("+12025550188"))

    # when
    result = await import_number(tenant, {"input": {"e164": livekit_number_to_buy(app), "source": "LIVEKIT"}})

    # then
    assert field_codes(refused) == [("e164", "NOT_OWNED")]
    assert result["__typename"] == "ImportPhoneNumberSuccess"
