"""deletePhoneNumber end to end: the row and its slot go, and every carrier lets go of the number."""

import pytest

from models import CarrierStep, PhoneNumber, SipTrunk, TwilioAccount
from models.ids import new_id
from tests.factories import add_agent
from tests.graphql_documents import (
    DELETE_PHONE_NUMBER,
    DEMO_ACCOUNT_SID,
    DEMO_CALLER_IDS,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    PURCHASE_PHONE_NUMBER,
    answer,
    byoc_trunk,
    import_result,
    imported,
    sandbox_state,
)

PHONE_NUMBER_STATUS = """
query PhoneNumber($id: ID!) {
  phoneNumber(id: $id) { id status }
  workspace { phoneNumberCount phoneNumberLimit }
}"""

BYOC_NUMBERS = ("+12025550147", "+12025550148")
PLATFORM_ACCOUNT_SID = "AC5a4db0c0000000000000000000000002"  # marked "platform" in the sandbox's demo state
PURCHASABLE = "+15125550123"
RELEASED = "PHONE_NUMBER_STATUS_RELEASED"
DELETE_TWILIO_TRUNK = "/v1/Trunks/*"


# ---------------------------------------------------------------- arranging numbers through the API


async def import_twilio(tenant, e164: str = DEMO_DIDS[0], **fields) -> dict:
    return await imported(tenant, {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS, **fields})


async def import_livekit(app, tenant, **fields) -> dict:
    e164 = next(app.state.sandbox.livekit.inventory("415")).e164
    return await imported(tenant, {"e164": e164, "source": "LIVEKIT", **fields})


async def import_byoc(tenant, trunk: dict, e164: str = BYOC_NUMBERS[0], **fields) -> dict:
    return await imported(tenant, {"e164": e164, "source": "BYOC", "trunkId": trunk["id"], **fields})


async def delete(tenant, phone_number_id: str) -> dict:
    return answer(await tenant.graphql(DELETE_PHONE_NUMBER, {"id": phone_number_id}))


async def number_and_slots(tenant, phone_number_id: str) -> dict:
    body = await tenant.graphql(PHONE_NUMBER_STATUS, {"id": phone_number_id})
    assert "errors" not in body, body
    return body["data"]


def deleted(phone_number_id: str) -> dict:
    return {"__typename": "DeletePhoneNumberSuccess", "deletedId": phone_number_id}


def demo_account(app):
    return app.state.sandbox.twilio.account(DEMO_ACCOUNT_SID)


def livekit_trunks(app) -> dict:
    """Numbers on each LiveKit trunk, by direction."""
    livekit = app.state.sandbox.livekit
    return {
        "inbound": [list(trunk.numbers) for trunk in livekit.inbound_trunks.values()],
        "outbound": [list(trunk.numbers) for trunk in livekit.outbound_trunks.values()],
    }


def twilio_trunks(app) -> list[dict]:
    """The demo customer's Twilio trunks, with the numbers on each and their credential lists."""
    account = demo_account(app)
    return [
        {
            "numbers": sorted(n.phone_number for n in account.trunk_numbers(trunk.sid)),
            "credential_lists": len(trunk.credential_list_sids),
        }
        for trunk in account.trunks.values()
    ]


async def rows() -> dict:
    return {model.__name__: await model.all().count() for model in (PhoneNumber, SipTrunk, TwilioAccount, CarrierStep)}


# ---------------------------------------------------------------- per source


async def test_deleting_a_livekit_number_releases_it_and_drops_its_dispatch_rule(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_livekit(app, tenant, agentId=agent.id)
    livekit = app.state.sandbox.livekit
    assert len(livekit.dispatch_rules) == 1

    # when
    result = await delete(tenant, number["id"])

    # then
    assert result == deleted(number["id"])
    record = livekit.phone_numbers[number["livekitPhoneNumberId"]]
    assert (record.e164, record.status) == (number["e164"], RELEASED)
    assert livekit.dispatch_rules == {}
    assert await number_and_slots(tenant, number["id"]) == {
        "phoneNumber": None,
        "workspace": {"phoneNumberCount": 0, "phoneNumberLimit": 100},
    }
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}


async def test_deleting_the_last_twilio_number_removes_the_shared_trunk_on_both_sides(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_twilio(tenant, agentId=agent.id)
    account = demo_account(app)
    assert (len(account.trunks), len(account.credential_lists)) == (1, 1)

    # when
    result = await delete(tenant, number["id"])

    # then the number is back with the customer, on no trunk
    assert result == deleted(number["id"])
    assert account.number(DEMO_DIDS[0]).trunk_sid is None
    # then the trunk went at Twilio and at LiveKit, and so did our rows for it
    assert (account.trunks, account.credential_lists) == ({}, {})
    livekit = app.state.sandbox.livekit
    assert (livekit.inbound_trunks, livekit.outbound_trunks, livekit.dispatch_rules) == ({}, {}, {})
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}
    assert (await number_and_slots(tenant, number["id"]))["workspace"]["phoneNumberCount"] == 0


async def test_deleting_one_of_two_twilio_numbers_keeps_the_trunk_for_the_other(app, tenant):
    # given
    first = await import_twilio(tenant, DEMO_DIDS[0])
    second = await import_twilio(tenant, DEMO_DIDS[1])

    # when
    result = await delete(tenant, first["id"])

    # then
    assert result == deleted(first["id"])
    assert demo_account(app).number(DEMO_DIDS[0]).trunk_sid is None
    assert twilio_trunks(app) == [{"numbers": [DEMO_DIDS[1]], "credential_lists": 1}]
    assert livekit_trunks(app) == {"inbound": [[DEMO_DIDS[1]]], "outbound": [[DEMO_DIDS[1]]]}
    assert await rows() == {"PhoneNumber": 1, "SipTrunk": 1, "TwilioAccount": 1, "CarrierStep": 0}
    assert (await SipTrunk.get()).id == second["trunkId"]


async def test_deleting_a_verified_caller_id_takes_it_off_the_outbound_trunk_only(app, tenant):
    # given
    await import_twilio(tenant, DEMO_DIDS[0])
    caller_id = await import_twilio(tenant, DEMO_CALLER_IDS[0])
    assert livekit_trunks(app) == {"inbound": [[DEMO_DIDS[0]]], "outbound": [[DEMO_DIDS[0], DEMO_CALLER_IDS[0]]]}
    twilio_before = app.state.sandbox.twilio.snapshot()

    # when
    result = await delete(tenant, caller_id["id"])

    # then
    assert result == deleted(caller_id["id"])
    assert livekit_trunks(app) == {"inbound": [[DEMO_DIDS[0]]], "outbound": [[DEMO_DIDS[0]]]}
    assert app.state.sandbox.twilio.snapshot() == twilio_before
    assert await rows() == {"PhoneNumber": 1, "SipTrunk": 1, "TwilioAccount": 1, "CarrierStep": 0}


async def test_deleting_the_did_then_its_caller_id_leaves_nothing_anywhere(app, tenant):
    # given
    carriers_before = sandbox_state(app)
    did = await import_twilio(tenant, DEMO_DIDS[0])
    caller_id = await import_twilio(tenant, DEMO_CALLER_IDS[0])

    # when
    results = [await delete(tenant, did["id"]), await delete(tenant, caller_id["id"])]

    # then
    assert results == [deleted(did["id"]), deleted(caller_id["id"])]
    assert sandbox_state(app) == carriers_before
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}


async def test_deleting_a_purchased_number_detaches_it_and_releases_it_from_the_platform_account(app, tenant):
    # given
    carriers_before = sandbox_state(app)
    body = await tenant.graphql(PURCHASE_PHONE_NUMBER, {"input": {"e164": PURCHASABLE}})
    assert body["data"]["purchasePhoneNumber"]["__typename"] == "PurchasePhoneNumberSuccess", body
    number = body["data"]["purchasePhoneNumber"]["phoneNumber"]
    platform = app.state.sandbox.twilio.account(PLATFORM_ACCOUNT_SID)
    assert platform.number(PURCHASABLE).trunk_sid in platform.trunks

    # when
    result = await delete(tenant, number["id"])

    # then the number is no longer held, and the platform trunk and its LiveKit side went with it
    assert result == deleted(number["id"])
    assert platform.number(PURCHASABLE) is None
    assert sandbox_state(app) == carriers_before
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}


async def test_failed_release_of_a_purchased_number_is_finished_by_deleting_again(app, tenant):
    # given
    carriers_before = sandbox_state(app)
    body = await tenant.graphql(PURCHASE_PHONE_NUMBER, {"input": {"e164": PURCHASABLE}})
    number = body["data"]["purchasePhoneNumber"]["phoneNumber"]
    faults = app.state.sandbox.faults
    faults.add("DELETE", f"/2010-04-01/Accounts/{PLATFORM_ACCOUNT_SID}/IncomingPhoneNumbers/*", status=503)

    # when
    failed = await delete(tenant, number["id"])
    still_held = app.state.sandbox.twilio.account(PLATFORM_ACCOUNT_SID).number(PURCHASABLE)
    faults.clear()
    finished = await delete(tenant, number["id"])

    # then
    assert (failed["__typename"], failed["provider"], failed["retryable"]) == ("ProviderError", "TWILIO", True)
    assert (still_held.phone_number, still_held.trunk_sid) == (PURCHASABLE, None)
    assert finished == deleted(number["id"])
    assert sandbox_state(app) == carriers_before
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}


async def test_deleting_one_of_two_byoc_numbers_leaves_the_other_on_the_livekit_trunks(app, tenant):
    # given
    trunk = await byoc_trunk(tenant)
    first = await import_byoc(tenant, trunk, BYOC_NUMBERS[0])
    await import_byoc(tenant, trunk, BYOC_NUMBERS[1])
    twilio_before = app.state.sandbox.twilio.snapshot()

    # when
    result = await delete(tenant, first["id"])

    # then
    assert result == deleted(first["id"])
    assert livekit_trunks(app) == {"inbound": [[BYOC_NUMBERS[1]]], "outbound": [[BYOC_NUMBERS[1]]]}
    assert app.state.sandbox.twilio.snapshot() == twilio_before
    assert await rows() == {"PhoneNumber": 1, "SipTrunk": 1, "TwilioAccount": 0, "CarrierStep": 0}


@pytest.mark.parametrize("direction", ["INBOUND", "OUTBOUND", "BOTH"], ids=["inbound", "outbound", "both"])
async def test_deleting_the_last_byoc_number_removes_the_livekit_trunks_but_keeps_the_sip_trunk(app, tenant, direction):
    # given
    trunk = await byoc_trunk(tenant, direction=direction)
    number = await import_byoc(tenant, trunk)

    # when
    result = await delete(tenant, number["id"])

    # then
    assert result == deleted(number["id"])
    livekit = app.state.sandbox.livekit
    assert (livekit.inbound_trunks, livekit.outbound_trunks) == ({}, {})
    stored = await SipTrunk.get(id=trunk["id"])
    assert (stored.livekit_inbound_trunk_id, stored.livekit_outbound_trunk_id) == (None, None)
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 1, "TwilioAccount": 0, "CarrierStep": 0}


async def test_deleting_a_byoc_number_drops_its_dispatch_rule(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    trunk = await byoc_trunk(tenant)
    number = await import_byoc(tenant, trunk, agentId=agent.id)
    await import_byoc(tenant, trunk, BYOC_NUMBERS[1])

    # when
    result = await delete(tenant, number["id"])

    # then
    assert result == deleted(number["id"])
    assert app.state.sandbox.livekit.dispatch_rules == {}


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "unknown_id", [new_id("phone"), "0b7c5c4e-3a55-4a7d-9a43-1d5e0a3e6f10"], ids=["unknown", "legacy-uuid"]
)
async def test_unknown_number_is_not_found(tenant, unknown_id):
    # when
    result = await delete(tenant, unknown_id)

    # then
    assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": unknown_id, "message": result["message"]}


async def test_another_workspaces_number_is_not_found_and_kept(app, tenant, make_tenant):
    # given
    other = await make_tenant("Globex")
    theirs = await import_livekit(app, other)
    carriers_before = sandbox_state(app)

    # when
    result = await delete(tenant, theirs["id"])

    # then
    assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": theirs["id"], "message": result["message"]}
    assert (await number_and_slots(other, theirs["id"]))["phoneNumber"] == {"id": theirs["id"], "status": "ACTIVE"}
    assert sandbox_state(app) == carriers_before


# ---------------------------------------------------------------- a carrier failure, finished by deleting again


async def test_failed_delete_keeps_the_number_releasing_and_deleting_again_finishes(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    carriers_before = sandbox_state(app)
    number = await import_twilio(tenant, agentId=agent.id)
    faults = app.state.sandbox.faults
    faults.add("DELETE", DELETE_TWILIO_TRUNK, status=503)  # the shared trunk goes with its last number

    # when
    failed = await delete(tenant, number["id"])

    # then the number is kept, RELEASING, still holding its slot
    assert failed["__typename"] == "ProviderError"
    assert (failed["provider"], failed["code"], failed["retryable"]) == ("TWILIO", "PROVIDER_UNAVAILABLE", True)
    assert "delete it again" in failed["message"]
    assert await number_and_slots(tenant, number["id"]) == {
        "phoneNumber": {"id": number["id"], "status": "RELEASING"},
        "workspace": {"phoneNumberCount": 1, "phoneNumberLimit": 100},
    }
    assert demo_account(app).number(DEMO_DIDS[0]).trunk_sid is not None

    # when the carrier is back
    faults.clear()
    finished = await delete(tenant, number["id"])

    # then everything is clean
    assert finished == deleted(number["id"])
    assert sandbox_state(app) == carriers_before
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}
    assert (await number_and_slots(tenant, number["id"]))["workspace"]["phoneNumberCount"] == 0


async def test_failed_livekit_release_is_finished_by_deleting_again(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_livekit(app, tenant, agentId=agent.id)
    faults = app.state.sandbox.faults
    faults.add("POST", "/twirp/livekit.PhoneNumberService/ReleasePhoneNumbers", status=503)

    # when
    failed = await delete(tenant, number["id"])
    faults.clear()
    finished = await delete(tenant, number["id"])

    # then
    assert (failed["__typename"], failed["provider"], failed["retryable"]) == ("ProviderError", "LIVEKIT", True)
    assert finished == deleted(number["id"])
    livekit = app.state.sandbox.livekit
    assert livekit.phone_numbers[number["livekitPhoneNumberId"]].status == RELEASED
    assert livekit.dispatch_rules == {}
    assert await rows() == {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}


async def test_deleting_twice_in_a_row_answers_not_found_the_second_time(app, tenant):
    # given
    number = await import_livekit(app, tenant)
    await delete(tenant, number["id"])

    # when
    again = await delete(tenant, number["id"])

    # then
    assert (again["__typename"], again["id"]) == ("NotFoundError", number["id"])


# ---------------------------------------------------------------- the cap


async def test_delete_frees_the_slot_an_import_then_uses(app, make_tenant):
    # given a workspace with room for one number, holding one
    tenant = await make_tenant("Small", phone_number_limit=1)
    first = await import_twilio(tenant, DEMO_DIDS[0])
    refused = import_result(
        await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": DEMO_DIDS[1], "source": "TWILIO", "twilio": DEMO_CREDENTIALS}})
    )

    # when
    removed = await delete(tenant, first["id"])
    second = import_result(
        await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": DEMO_DIDS[1], "source": "TWILIO", "twilio": DEMO_CREDENTIALS}})
    )

    # then
    assert refused == {
        "__typename": "PaymentRequiredError",
        "code": "PHONE_NUMBER_LIMIT_REACHED",
        "limit": 1,
        "current": 1,
        "message": refused["message"],
    }
    assert removed == deleted(first["id"])
    assert (second["__typename"], second["phoneNumber"]["e164"]) == ("ImportPhoneNumberSuccess", DEMO_DIDS[1])
    assert twilio_trunks(app) == [{"numbers": [DEMO_DIDS[1]], "credential_lists": 1}]
