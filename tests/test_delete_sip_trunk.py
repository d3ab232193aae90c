"""deleteSipTrunk end to end: a BYOC trunk goes once no number rides it; the server's Twilio trunk never."""

import asyncio

import pytest

from models import PhoneNumber, SipTrunk
from models.ids import new_id
from tests.graphql_documents import (
    DELETE_PHONE_NUMBER,
    DELETE_SIP_TRUNK,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    answer,
    byoc_trunk,
    field_codes,
    imported,
    sandbox_state,
)

SIP_TRUNKS = """
query SipTrunks($id: ID!) {
  sipTrunk(id: $id) { id }
  sipTrunks { id }
}"""

BYOC_NUMBERS = ("+12025550147", "+12025550148")


async def import_byoc(tenant, trunk: dict, e164: str) -> dict:
    return await imported(tenant, {"e164": e164, "source": "BYOC", "trunkId": trunk["id"]})


async def delete_number(tenant, phone_number_id: str) -> None:
    result = answer(await tenant.graphql(DELETE_PHONE_NUMBER, {"id": phone_number_id}))
    assert result == {"__typename": "DeletePhoneNumberSuccess", "deletedId": phone_number_id}, result


async def delete_trunk(tenant, trunk_id: str) -> dict:
    return answer(await tenant.graphql(DELETE_SIP_TRUNK, {"id": trunk_id}))


async def trunks_seen_by(tenant, trunk_id: str) -> dict:
    body = await tenant.graphql(SIP_TRUNKS, {"id": trunk_id})
    assert "errors" not in body, body
    return {"sipTrunk": body["data"]["sipTrunk"], "sipTrunks": [t["id"] for t in body["data"]["sipTrunks"]]}


def livekit_trunk_ids(app) -> dict:
    livekit = app.state.sandbox.livekit
    return {"inbound": list(livekit.inbound_trunks), "outbound": list(livekit.outbound_trunks)}


async def test_trunk_without_numbers_is_deleted(app, tenant):
    # given
    trunk = await byoc_trunk(tenant)
    kept = await byoc_trunk(tenant, "Other carrier")
    carriers_before = sandbox_state(app)

    # when
    result = await delete_trunk(tenant, trunk["id"])

    # then
    assert result == {"__typename": "DeleteSipTrunkSuccess", "deletedId": trunk["id"]}
    assert await trunks_seen_by(tenant, trunk["id"]) == {"sipTrunk": None, "sipTrunks": [kept["id"]]}
    assert sandbox_state(app) == carriers_before


@pytest.mark.parametrize("riders", [1, 2], ids=["one-number", "two-numbers"])
async def test_trunk_numbers_ride_is_in_use_and_kept(app, tenant, riders):
    # given
    trunk = await byoc_trunk(tenant)
    for e164 in BYOC_NUMBERS[:riders]:
        await import_byoc(tenant, trunk, e164)
    carriers_before = sandbox_state(app)

    # when
    result = await delete_trunk(tenant, trunk["id"])

    # then
    assert result["__typename"] == "ValidationError"
    assert (result["code"], field_codes(result)) == ("IN_USE", [("id", "IN_USE")])
    assert f"{riders} phone number" in result["fieldErrors"][0]["message"]
    assert await trunks_seen_by(tenant, trunk["id"]) == {"sipTrunk": {"id": trunk["id"]}, "sipTrunks": [trunk["id"]]}
    assert sandbox_state(app) == carriers_before


async def test_trunk_is_deleted_once_its_last_number_is_deleted(app, tenant):
    # given
    trunk = await byoc_trunk(tenant)
    numbers = [await import_byoc(tenant, trunk, e164) for e164 in BYOC_NUMBERS]
    for number in numbers:
        await delete_number(tenant, number["id"])

    # when
    result = await delete_trunk(tenant, trunk["id"])

    # then
    assert result == {"__typename": "DeleteSipTrunkSuccess", "deletedId": trunk["id"]}
    assert await SipTrunk.all().count() == 0
    assert livekit_trunk_ids(app) == {"inbound": [], "outbound": []}


async def test_deleting_the_trunk_removes_a_livekit_side_left_behind(app, tenant):
    # given a trunk row still pointing at LiveKit trunks, as an interrupted release can leave it
    trunk = await byoc_trunk(tenant)
    livekit_client = app.state.services.livekit
    inbound = await livekit_client.create_inbound_trunk(f"trunkline {trunk['id']}", [BYOC_NUMBERS[0]])
    outbound = await livekit_client.create_outbound_trunk(
        f"trunkline {trunk['id']}", "sip.example-carrier.com", [BYOC_NUMBERS[0]], transport="auto"
    )
    await SipTrunk.filter(id=trunk["id"]).update(livekit_inbound_trunk_id=inbound, livekit_outbound_trunk_id=outbound)
    assert livekit_trunk_ids(app) == {"inbound": [inbound], "outbound": [outbound]}

    # when
    result = await delete_trunk(tenant, trunk["id"])

    # then
    assert result == {"__typename": "DeleteSipTrunkSuccess", "deletedId": trunk["id"]}
    assert livekit_trunk_ids(app) == {"inbound": [], "outbound": []}
    assert await SipTrunk.all().count() == 0


async def test_livekit_failure_keeps_the_trunk_and_deleting_again_finishes(app, tenant):
    # given a trunk row still pointing at a LiveKit trunk, and LiveKit failing
    trunk = await byoc_trunk(tenant)
    inbound = await app.state.services.livekit.create_inbound_trunk(f"trunkline {trunk['id']}", [BYOC_NUMBERS[0]])
    await SipTrunk.filter(id=trunk["id"]).update(livekit_inbound_trunk_id=inbound)
    faults = app.state.sandbox.faults
    faults.add("POST", "/twirp/livekit.SIP/DeleteSIPTrunk", status=503)

    # when
    failed = await delete_trunk(tenant, trunk["id"])
    faults.clear()
    finished = await delete_trunk(tenant, trunk["id"])

    # then
    assert failed["__typename"] == "ProviderError"
    assert (failed["provider"], failed["code"], failed["retryable"]) == ("LIVEKIT", "PROVIDER_UNAVAILABLE", True)
    assert finished == {"__typename": "DeleteSipTrunkSuccess", "deletedId": trunk["id"]}
    assert livekit_trunk_ids(app) == {"inbound": [], "outbound": []}
    assert await SipTrunk.all().count() == 0


@pytest.mark.parametrize(
    "unknown_id", [new_id("trunk"), "0b7c5c4e-3a55-4a7d-9a43-1d5e0a3e6f10", new_id("phone")],
    ids=["unknown", "legacy-uuid", "another-kind"],
)
async def test_unknown_trunk_is_not_found(tenant, unknown_id):
    # when
    result = await delete_trunk(tenant, unknown_id)

    # then
    assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": unknown_id, "message": result["message"]}


async def test_another_workspaces_trunk_is_not_found_and_kept(tenant, make_tenant):
    # given
    other = await make_tenant("Globex")
    theirs = await byoc_trunk(other)

    # when
    result = await delete_trunk(tenant, theirs["id"])

    # then
    assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": theirs["id"], "message": result["message"]}
    assert (await trunks_seen_by(other, theirs["id"]))["sipTrunk"] == {"id": theirs["id"]}


async def test_shared_twilio_trunk_is_not_allowed_and_kept(app, tenant):
    # given
    number = await imported(tenant, {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS})
    carriers_before = sandbox_state(app)

    # when
    result = await delete_trunk(tenant, number["trunkId"])

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("id", "NOT_ALLOWED")]
    assert (await trunks_seen_by(tenant, number["trunkId"]))["sipTrunk"] == {"id": number["trunkId"]}
    assert await PhoneNumber.filter(trunk_id=number["trunkId"]).count() == 1
    assert sandbox_state(app) == carriers_before


async def test_concurrent_deletes_of_one_trunk_all_answer_within_the_contract(app, tenant):
    # given a trunk whose LiveKit side is slow to delete, so the deletes overlap under its lease
    trunk = await byoc_trunk(tenant)
    livekit_client = app.state.services.livekit
    inbound = await livekit_client.create_inbound_trunk(f"trunkline {trunk['id']}", [BYOC_NUMBERS[0]])
    await SipTrunk.filter(id=trunk["id"]).update(livekit_inbound_trunk_id=inbound)
    app.state.sandbox.faults.add("POST", "/twirp/livekit.SIP/DeleteSIPTrunk", delay=0.3, times=1)

    # when
    results = await asyncio.gather(*(delete_trunk(tenant, trunk["id"]) for _ in range(4)))

    # then each delete that found the trunk succeeds, even when another finished it first
    assert {result["__typename"] for result in results} <= {"DeleteSipTrunkSuccess", "NotFoundError"}
    assert "DeleteSipTrunkSuccess" in {result["__typename"] for result in results}
    assert livekit_trunk_ids(app) == {"inbound": [], "outbound": []}
    assert await SipTrunk.all().count() == 0
