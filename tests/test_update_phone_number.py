"""updatePhoneNumber end to end: the label, the agent binding through a LiveKit dispatch rule, and refusals."""

import asyncio
from datetime import datetime

import pytest

from models import PhoneNumber
from models.ids import new_id
from tests.factories import add_agent
from tests.graphql_documents import (
    DEMO_CALLER_IDS,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    byoc_trunk,
    field_codes,
    imported,
    sandbox_state,
)

PHONE_NUMBER_FIELDS = """
  id e164 source status capabilities createdAt updatedAt label trunkId agentId livekitPhoneNumberId
  trunk { id } agent { id name }
"""

UPDATE_PHONE_NUMBER = f"""
mutation UpdatePhoneNumber($input: UpdatePhoneNumberInput!) {{
  updatePhoneNumber(input: $input) {{
    __typename
    ... on UpdatePhoneNumberSuccess {{ phoneNumber {{ {PHONE_NUMBER_FIELDS} }} }}
    ... on ValidationError {{ message code fieldErrors {{ field code message }} }}
    ... on NotFoundError {{ message code id }}
    ... on ProviderError {{ message code provider retryable }}
  }}
}}"""

PHONE_NUMBER = f"""
query PhoneNumber($id: ID!) {{
  phoneNumber(id: $id) {{ {PHONE_NUMBER_FIELDS} }}
}}"""

PHONE_NUMBERS = """
query PhoneNumbers($source: PhoneNumberSource, $agentId: ID) {
  phoneNumbers(source: $source, agentId: $agentId) {
    totalCount
    edges { node { e164 source agentId } }
  }
}"""

BYOC_NUMBER = "+12025550147"
CREATE_DISPATCH_RULE = "/twirp/livekit.SIP/CreateSIPDispatchRule"
UPDATE_DISPATCH_RULE = "/twirp/livekit.SIP/UpdateSIPDispatchRule"
UPDATE_LIVEKIT_NUMBER = "/twirp/livekit.PhoneNumberService/UpdatePhoneNumber"


# ---------------------------------------------------------------- arranging numbers through the API


async def import_twilio(app, tenant, **fields) -> dict:
    return await imported(tenant, {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS, **fields})


async def import_byoc(app, tenant, **fields) -> dict:
    trunk = await byoc_trunk(tenant)
    return await imported(tenant, {"e164": BYOC_NUMBER, "source": "BYOC", "trunkId": trunk["id"], **fields})


async def import_livekit(app, tenant, **fields) -> dict:
    e164 = next(app.state.sandbox.livekit.inventory("415")).e164
    return await imported(tenant, {"e164": e164, "source": "LIVEKIT", **fields})


IMPORTERS = {"TWILIO": import_twilio, "BYOC": import_byoc, "LIVEKIT": import_livekit}
TRUNK_SOURCES = pytest.mark.parametrize("source", ["TWILIO", "BYOC"], ids=["twilio", "byoc"])
EVERY_BINDABLE_SOURCE = pytest.mark.parametrize("source", ["TWILIO", "BYOC", "LIVEKIT"], ids=["twilio", "byoc", "livekit"])


async def update(tenant, **changes) -> dict:
    body = await tenant.graphql(UPDATE_PHONE_NUMBER, {"input": changes})
    assert "errors" not in body, body
    return body["data"]["updatePhoneNumber"]


async def read_number(tenant, phone_number_id: str) -> dict:
    body = await tenant.graphql(PHONE_NUMBER, {"id": phone_number_id})
    assert "errors" not in body, body
    return body["data"]["phoneNumber"]


def without(node: dict, *keys: str) -> dict:
    return {key: value for key, value in node.items() if key not in keys}


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def dispatch_rules(app) -> list[dict]:
    """Every LiveKit dispatch rule: whom it dispatches, for which numbers, over which trunks."""
    return [
        {
            "id": rule.sip_dispatch_rule_id,
            "agents": [agent.agent_name for agent in rule.room_config.agents],
            "numbers": list(rule.numbers),
            "trunk_ids": list(rule.trunk_ids),
        }
        for rule in app.state.sandbox.livekit.dispatch_rules.values()
    ]


def livekit_inbound_trunk_ids(app) -> list[str]:
    return list(app.state.sandbox.livekit.inbound_trunks)


def livekit_record(app, e164: str):
    return app.state.sandbox.livekit.held_record(e164)


# ---------------------------------------------------------------- label


async def test_label_is_set_and_only_it_and_updated_at_change(app, tenant):
    # given
    number = await import_twilio(app, tenant)
    before = await read_number(tenant, number["id"])

    # when
    result = await update(tenant, id=number["id"], label="Front desk")

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    after = result["phoneNumber"]
    assert without(after, "updatedAt") == {**without(before, "updatedAt"), "label": "Front desk"}
    assert moment(after["updatedAt"]) > moment(before["updatedAt"])
    assert await read_number(tenant, number["id"]) == after


@pytest.mark.parametrize("cleared_with", [None, ""], ids=["null", "empty"])
async def test_label_null_or_empty_clears_it(app, tenant, cleared_with):
    # given
    number = await import_twilio(app, tenant, label="Front desk")
    before = await read_number(tenant, number["id"])

    # when
    result = await update(tenant, id=number["id"], label=cleared_with)

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    after = result["phoneNumber"]
    assert without(after, "updatedAt") == {**without(before, "updatedAt"), "label": None}
    assert moment(after["updatedAt"]) > moment(before["updatedAt"])


async def test_label_of_255_characters_is_kept_whole(app, tenant):
    # given
    number = await import_twilio(app, tenant)

    # when
    result = await update(tenant, id=number["id"], label="x" * 255)

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    assert result["phoneNumber"]["label"] == "x" * 255


async def test_label_of_256_characters_is_too_long_and_changes_nothing(app, tenant):
    # given
    number = await import_twilio(app, tenant, label="Front desk")
    before = await read_number(tenant, number["id"])

    # when
    result = await update(tenant, id=number["id"], label="x" * 256)

    # then
    assert result["__typename"] == "ValidationError"
    assert (result["code"], field_codes(result)) == ("VALIDATION_FAILED", [("label", "TOO_LONG")])
    assert "255" in result["fieldErrors"][0]["message"]
    assert await read_number(tenant, number["id"]) == before


async def test_relabelling_leaves_the_agent_binding_and_its_rule_alone(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_twilio(app, tenant, agentId=agent.id)
    rules_before = dispatch_rules(app)

    # when
    result = await update(tenant, id=number["id"], label="Front desk")

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    assert (result["phoneNumber"]["agentId"], result["phoneNumber"]["label"]) == (agent.id, "Front desk")
    assert dispatch_rules(app) == rules_before


async def test_update_naming_only_the_number_changes_nothing(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_twilio(app, tenant, agentId=agent.id, label="Front desk")
    before = await read_number(tenant, number["id"])
    carriers_before = sandbox_state(app)

    # when
    result = await update(tenant, id=number["id"])

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    assert without(result["phoneNumber"], "updatedAt") == without(before, "updatedAt")
    assert sandbox_state(app) == carriers_before


# ---------------------------------------------------------------- binding an agent


@TRUNK_SOURCES
async def test_binding_creates_a_dispatch_rule_for_the_number_to_the_agent(app, tenant, source):
    # given
    agent = await add_agent(tenant.workspace)
    number = await IMPORTERS[source](app, tenant, label="Front desk")
    before = await read_number(tenant, number["id"])
    assert dispatch_rules(app) == []

    # when
    result = await update(tenant, id=number["id"], agentId=agent.id)

    # then the answer: the agent, and nothing else but updatedAt
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    after = result["phoneNumber"]
    expected = {**without(before, "updatedAt"), "agentId": agent.id, "agent": {"id": agent.id, "name": agent.name}}
    assert without(after, "updatedAt") == expected
    assert moment(after["updatedAt"]) > moment(before["updatedAt"])

    # then LiveKit: one rule sending the number's calls, over the trunk's inbound side, to the agent
    [rule] = dispatch_rules(app)
    assert rule == {"id": rule["id"], "agents": [agent.id], "numbers": [number["e164"]], "trunk_ids": livekit_inbound_trunk_ids(app)}
    assert (await PhoneNumber.get(id=number["id"])).livekit_dispatch_rule_id == rule["id"]


async def test_binding_a_livekit_number_points_its_livekit_record_at_the_new_rule(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_livekit(app, tenant)
    before = await read_number(tenant, number["id"])

    # when
    result = await update(tenant, id=number["id"], agentId=agent.id)

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    after = result["phoneNumber"]
    expected = {**without(before, "updatedAt"), "agentId": agent.id, "agent": {"id": agent.id, "name": agent.name}}
    assert without(after, "updatedAt") == expected
    [rule] = dispatch_rules(app)
    assert rule["agents"] == [agent.id]
    record = livekit_record(app, number["e164"])
    assert (record.id, record.sip_dispatch_rule_id, record.status) == (
        number["livekitPhoneNumberId"],
        rule["id"],
        "PHONE_NUMBER_STATUS_ACTIVE",
    )


@EVERY_BINDABLE_SOURCE
async def test_rebinding_points_the_same_rule_at_the_other_agent(app, tenant, source):
    # given
    first, second = await add_agent(tenant.workspace, "Reception"), await add_agent(tenant.workspace, "Sales")
    number = await IMPORTERS[source](app, tenant, agentId=first.id)
    [rule_before] = dispatch_rules(app)

    # when
    result = await update(tenant, id=number["id"], agentId=second.id)

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    assert result["phoneNumber"]["agent"] == {"id": second.id, "name": "Sales"}
    assert dispatch_rules(app) == [{**rule_before, "agents": [second.id]}]
    assert (await PhoneNumber.get(id=number["id"])).livekit_dispatch_rule_id == rule_before["id"]


@EVERY_BINDABLE_SOURCE
async def test_unbinding_removes_the_dispatch_rule(app, tenant, source):
    # given
    agent = await add_agent(tenant.workspace)
    number = await IMPORTERS[source](app, tenant, agentId=agent.id)
    before = await read_number(tenant, number["id"])
    assert len(dispatch_rules(app)) == 1

    # when
    result = await update(tenant, id=number["id"], agentId=None)

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    after = result["phoneNumber"]
    assert without(after, "updatedAt") == {**without(before, "updatedAt"), "agentId": None, "agent": None}
    assert moment(after["updatedAt"]) > moment(before["updatedAt"])
    assert dispatch_rules(app) == []
    assert (await PhoneNumber.get(id=number["id"])).livekit_dispatch_rule_id is None


async def test_bind_then_unbind_leaves_no_dispatch_rule(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_livekit(app, tenant)

    # when
    bound = await update(tenant, id=number["id"], agentId=agent.id)
    unbound = await update(tenant, id=number["id"], agentId=None)

    # then
    assert (bound["__typename"], unbound["__typename"]) == ("UpdatePhoneNumberSuccess", "UpdatePhoneNumberSuccess")
    assert dispatch_rules(app) == []
    assert livekit_record(app, number["e164"]).sip_dispatch_rule_id == ""
    assert await read_number(tenant, number["id"]) == unbound["phoneNumber"]


async def test_binding_with_the_label_absent_keeps_the_label(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_twilio(app, tenant, label="Front desk")

    # when
    result = await update(tenant, id=number["id"], agentId=agent.id)

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    assert (result["phoneNumber"]["label"], result["phoneNumber"]["agentId"]) == ("Front desk", agent.id)


async def test_label_and_agent_change_together(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_byoc(app, tenant, label="Old")

    # when
    result = await update(tenant, id=number["id"], label="New", agentId=agent.id)

    # then
    assert result["__typename"] == "UpdatePhoneNumberSuccess"
    assert (result["phoneNumber"]["label"], result["phoneNumber"]["agentId"]) == ("New", agent.id)
    assert [rule["agents"] for rule in dispatch_rules(app)] == [[agent.id]]


# ---------------------------------------------------------------- refusals


async def test_verified_caller_id_refuses_an_agent(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    await import_twilio(app, tenant)
    caller_id = await imported(tenant, {"e164": DEMO_CALLER_IDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS})
    before = await read_number(tenant, caller_id["id"])
    carriers_before = sandbox_state(app)

    # when
    result = await update(tenant, id=caller_id["id"], agentId=agent.id)

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("agentId", "NOT_AGENT_BINDABLE")]
    assert await read_number(tenant, caller_id["id"]) == before
    assert sandbox_state(app) == carriers_before


@pytest.mark.parametrize(
    "unknown_id",
    [new_id("phone"), "0b7c5c4e-3a55-4a7d-9a43-1d5e0a3e6f10", new_id("agent")],
    ids=["unknown", "legacy-uuid", "another-kind"],
)
async def test_unknown_number_is_not_found(tenant, unknown_id):
    # when
    result = await update(tenant, id=unknown_id, label="Front desk")

    # then
    assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": unknown_id, "message": result["message"]}


async def test_another_workspaces_number_is_not_found_and_unchanged(app, tenant, make_tenant):
    # given
    other = await make_tenant("Globex")
    theirs = await import_twilio(app, other, label="Theirs")
    before = await read_number(other, theirs["id"])

    # when
    result = await update(tenant, id=theirs["id"], label="Mine")

    # then
    assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": theirs["id"], "message": result["message"]}
    assert await read_number(other, theirs["id"]) == before


@pytest.mark.parametrize("whose", ["nobody", "another-workspace"])
async def test_agent_not_in_the_workspace_is_not_found_on_agent_id(app, tenant, make_tenant, whose):
    # given
    agent_id = new_id("agent") if whose == "nobody" else (await add_agent((await make_tenant("Globex")).workspace)).id
    number = await import_twilio(app, tenant)
    before = await read_number(tenant, number["id"])

    # when
    result = await update(tenant, id=number["id"], agentId=agent_id)

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("agentId", "NOT_FOUND")]
    assert await read_number(tenant, number["id"]) == before
    assert dispatch_rules(app) == []


async def test_malformed_agent_id_is_invalid_format(app, tenant):
    # given
    number = await import_twilio(app, tenant)

    # when
    result = await update(tenant, id=number["id"], agentId="agent-42")

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("agentId", "INVALID_FORMAT")]
    assert dispatch_rules(app) == []


# ---------------------------------------------------------------- carrier failures


@EVERY_BINDABLE_SOURCE
async def test_failure_creating_the_rule_is_a_provider_error_and_changes_nothing(app, tenant, source):
    # given
    agent = await add_agent(tenant.workspace)
    number = await IMPORTERS[source](app, tenant)
    before = await read_number(tenant, number["id"])
    carriers_before = sandbox_state(app)
    app.state.sandbox.faults.add("POST", CREATE_DISPATCH_RULE, status=503)

    # when
    result = await update(tenant, id=number["id"], agentId=agent.id)

    # then
    assert result["__typename"] == "ProviderError"
    assert (result["provider"], result["code"], result["retryable"]) == ("LIVEKIT", "PROVIDER_UNAVAILABLE", True)
    assert await read_number(tenant, number["id"]) == before
    assert sandbox_state(app) == carriers_before


async def test_failure_pointing_a_livekit_number_at_its_rule_removes_the_rule_again(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    number = await import_livekit(app, tenant)
    before = await read_number(tenant, number["id"])
    app.state.sandbox.faults.add("POST", UPDATE_LIVEKIT_NUMBER, status=503)

    # when
    result = await update(tenant, id=number["id"], agentId=agent.id)

    # then
    assert result["__typename"] == "ProviderError"
    assert (result["provider"], result["retryable"]) == ("LIVEKIT", True)
    assert await read_number(tenant, number["id"]) == before
    assert dispatch_rules(app) == []


async def test_failure_rebinding_keeps_the_old_agent_on_number_and_rule(app, tenant):
    # given
    first, second = await add_agent(tenant.workspace, "Reception"), await add_agent(tenant.workspace, "Sales")
    number = await import_twilio(app, tenant, agentId=first.id)
    before = await read_number(tenant, number["id"])
    rules_before = dispatch_rules(app)
    app.state.sandbox.faults.add("POST", UPDATE_DISPATCH_RULE, status=400)

    # when
    result = await update(tenant, id=number["id"], agentId=second.id)

    # then
    assert result["__typename"] == "ProviderError"
    assert (result["provider"], result["code"], result["retryable"]) == ("LIVEKIT", "PROVIDER_REJECTED", False)
    assert await read_number(tenant, number["id"]) == before
    assert dispatch_rules(app) == rules_before


# ---------------------------------------------------------------- phoneNumbers filters after real imports


async def list_numbers(tenant, **arguments) -> dict:
    body = await tenant.graphql(PHONE_NUMBERS, arguments)
    assert "errors" not in body, body
    page = body["data"]["phoneNumbers"]
    return {"totalCount": page["totalCount"], "numbers": sorted(edge["node"]["e164"] for edge in page["edges"])}


async def test_phone_numbers_filter_by_source_and_agent_follows_bindings(app, tenant):
    # given numbers of three sources, two bound to the same agent
    agent, other_agent = await add_agent(tenant.workspace, "Reception"), await add_agent(tenant.workspace, "Sales")
    twilio = await import_twilio(app, tenant, agentId=agent.id)
    await imported(tenant, {"e164": DEMO_DIDS[1], "source": "TWILIO", "twilio": DEMO_CREDENTIALS})
    livekit = await import_livekit(app, tenant, agentId=agent.id)
    byoc = await import_byoc(app, tenant, agentId=other_agent.id)

    # when
    by_source = await list_numbers(tenant, source="TWILIO")
    by_agent = await list_numbers(tenant, agentId=agent.id)
    by_both = await list_numbers(tenant, source="LIVEKIT", agentId=agent.id)
    await update(tenant, id=twilio["id"], agentId=None)
    by_agent_after_unbinding = await list_numbers(tenant, agentId=agent.id)
    by_byoc = await list_numbers(tenant, source="BYOC", agentId=other_agent.id)

    # then
    assert by_source == {"totalCount": 2, "numbers": sorted(DEMO_DIDS[:2])}
    assert by_agent == {"totalCount": 2, "numbers": sorted([twilio["e164"], livekit["e164"]])}
    assert by_both == {"totalCount": 1, "numbers": [livekit["e164"]]}
    assert by_agent_after_unbinding == {"totalCount": 1, "numbers": [livekit["e164"]]}
    assert by_byoc == {"totalCount": 1, "numbers": [byoc["e164"]]}


@EVERY_BINDABLE_SOURCE
async def test_concurrent_binds_leave_one_rule_and_the_row_records_it(app, tenant, source):
    # given
    agents = [await add_agent(tenant.workspace, f"Agent {i}") for i in range(4)]
    number = await IMPORTERS[source](app, tenant)

    # when
    results = await asyncio.gather(*(update(tenant, id=number["id"], agentId=agent.id) for agent in agents))

    # then every bind applied in turn; LiveKit holds exactly the one rule the row records, for the last agent
    assert {r["__typename"] for r in results} == {"UpdatePhoneNumberSuccess"}
    row = await PhoneNumber.get(id=number["id"])
    [rule] = dispatch_rules(app)
    assert rule["id"] == row.livekit_dispatch_rule_id
    assert rule["agents"] == [row.agent_id]
