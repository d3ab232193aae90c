"""Lifecycle events: each change to a number writes its event in the same transaction, and only then."""

from models import PhoneNumber, PhoneNumberEvent, PhoneNumberEventType
from tests.factories import add_agent
from tests.graphql_documents import (
    DELETE_PHONE_NUMBER,
    IMPORT_PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    answer,
    byoc_trunk,
    import_result,
    imported,
)

IMPORTED, UPDATED, DELETED = PhoneNumberEventType.IMPORTED, PhoneNumberEventType.UPDATED, PhoneNumberEventType.DELETED
FAILED = PhoneNumberEventType.PROVISIONING_FAILED


async def events_of(phone_number_id: str) -> list[PhoneNumberEvent]:
    return await PhoneNumberEvent.filter(phone_number_id=phone_number_id).order_by("id")


async def update(tenant, **fields) -> dict:
    return answer(await tenant.graphql(UPDATE_PHONE_NUMBER, {"input": fields}))


async def test_import_update_bind_unbind_and_delete_each_record_their_event(app, tenant):
    agent = await add_agent(tenant.workspace)
    trunk = await byoc_trunk(tenant)
    number = await imported(tenant, {"e164": "+12025550147", "source": "BYOC", "trunkId": trunk["id"]})

    assert (await update(tenant, id=number["id"], label="Front desk"))["__typename"] == "UpdatePhoneNumberSuccess"
    assert (await update(tenant, id=number["id"], agentId=agent.id))["__typename"] == "UpdatePhoneNumberSuccess"
    assert (await update(tenant, id=number["id"], agentId=None))["__typename"] == "UpdatePhoneNumberSuccess"
    assert answer(await tenant.graphql(DELETE_PHONE_NUMBER, {"id": number["id"]}))["__typename"] == "DeletePhoneNumberSuccess"

    events = await events_of(number["id"])
    assert [event.type for event in events] == [IMPORTED, UPDATED, UPDATED, UPDATED, DELETED]
    assert {event.workspace_id for event in events} == {tenant.workspace.id}
    imported_event, labelled, bound, unbound, deleted = (event.number for event in events)
    assert imported_event == {
        "id": number["id"], "e164": "+12025550147", "source": "BYOC", "status": "ACTIVE",
        "capabilities": ["INBOUND", "OUTBOUND"], "label": None, "agent_id": None, "trunk_id": trunk["id"],
    }
    assert labelled["label"] == "Front desk"
    assert (bound["agent_id"], unbound["agent_id"]) == (agent.id, None)
    assert deleted["status"] == "RELEASING"
    assert not await PhoneNumber.exists(id=number["id"])


async def test_a_request_that_changes_nothing_records_nothing(app, tenant):
    trunk = await byoc_trunk(tenant)
    number = await imported(tenant, {"e164": "+12025550147", "source": "BYOC", "trunkId": trunk["id"]})

    assert (await update(tenant, id=number["id"]))["__typename"] == "UpdatePhoneNumberSuccess"
    refused = await update(tenant, id=number["id"], label="x" * 300)

    assert refused["__typename"] == "ValidationError"
    assert [event.type for event in await events_of(number["id"])] == [IMPORTED]


async def test_an_import_undone_records_provisioning_failed_and_never_imported(app, tenant):
    trunk = await byoc_trunk(tenant)
    app.state.sandbox.faults.add("POST", "/twirp/livekit.SIP/CreateSIPInboundTrunk", status=503)

    result = import_result(
        await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": {"e164": "+12025550148", "source": "BYOC", "trunkId": trunk["id"]}})
    )

    assert result["__typename"] == "ProviderError"
    events = await PhoneNumberEvent.filter(workspace_id=tenant.workspace.id).order_by("id")
    assert [(event.type, event.number["e164"], event.number["status"]) for event in events] == [
        (FAILED, "+12025550148", "PROVISIONING")
    ]
    assert not await PhoneNumber.exists(e164="+12025550148")


CHECK = """
mutation Check($id: ID!, $repair: Boolean) {
  checkPhoneNumber(id: $id, repair: $repair) { __typename ... on PhoneNumberCheck { healthy } }
}"""


async def test_a_check_that_finds_the_health_changed_records_it_and_keeps_the_result_on_the_row(app, tenant):
    agent = await add_agent(tenant.workspace)
    trunk = await byoc_trunk(tenant)
    number = await imported(tenant, {"e164": "+12025550147", "source": "BYOC", "trunkId": trunk["id"], "agentId": agent.id})

    async def check(repair: bool) -> bool:
        return answer(await tenant.graphql(CHECK, {"id": number["id"], "repair": repair}))["healthy"]

    assert await check(repair=False)  # a first check that finds nothing wrong is no news
    row = await PhoneNumber.get(id=number["id"])
    app.state.sandbox.livekit.dispatch_rules.pop(row.livekit_dispatch_rule_id)  # someone deletes it in a console
    assert not await check(repair=False)
    assert not await check(repair=False)  # still unhealthy: nothing changed since
    assert await check(repair=True)

    health = [event.number for event in await events_of(number["id"]) if event.type == PhoneNumberEventType.HEALTH_CHANGED]
    assert len(health) == 2
    row = await PhoneNumber.get(id=number["id"])
    assert row.healthy is True and row.health_checked_at is not None
