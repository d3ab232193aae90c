"""GraphQL documents and small readers shared by the suites and the soak: one definition of each."""

from __future__ import annotations

import json
from typing import Any

from providers.sandbox.server import DEMO_STATE

# What each member of a result union selects: every field, so one document serves every test.
PHONE_NUMBER = "id e164 source status capabilities label trunkId agentId livekitPhoneNumberId"
SIP_TRUNK = "id name provider direction sipAddress transport authUsername authPasswordSet allowedAddresses"
MEMBERS = {
    "ImportPhoneNumberSuccess": f"phoneNumber {{ {PHONE_NUMBER} }}",
    "PurchasePhoneNumberSuccess": f"phoneNumber {{ {PHONE_NUMBER} }}",
    "UpdatePhoneNumberSuccess": f"phoneNumber {{ {PHONE_NUMBER} }}",
    "DeletePhoneNumberSuccess": "deletedId",
    "CreateSipTrunkSuccess": f"sipTrunk {{ {SIP_TRUNK} }}",
    "DeleteSipTrunkSuccess": "deletedId",
    "UpdateSipTrunkSuccess": f"sipTrunk {{ {SIP_TRUNK} }}",
    "CreateAgentSuccess": "agent { id name }",
    "ValidationError": "message code fieldErrors { field code message }",
    "PaymentRequiredError": "message code limit current",
    "NotFoundError": "message code id",
    "ProviderError": "message code provider retryable",
    "ImportPlan": "source capabilities steps { provider action resource detail }",
    "PhoneNumberCheck": (
        "healthy checkedAt phoneNumber { id status agentId } problems { provider resource code message repaired }"
    ),
    "CreateWebhookEndpointSuccess": "endpoint { id url events createdAt } signingSecret",
    "DeleteWebhookEndpointSuccess": "deletedWebhookEndpointId",
}


def mutation(field: str, arguments: str, *members: str, kind: str = "mutation") -> str:
    """`field(arguments)` with __typename and every field of each named member of its result union."""
    variables = ", ".join(
        f"${name}: {kind}" for name, kind in (part.split(": ") for part in arguments.split(", "))
    )
    passed = ", ".join(f"{name}: ${name}" for name, _ in (part.split(": ") for part in arguments.split(", ")))
    selections = "\n".join(f"    ... on {member} {{ {MEMBERS[member]} }}" for member in members)
    return f"{kind} {field[0].upper() + field[1:]}({variables}) {{\n  {field}({passed}) {{\n    __typename\n{selections}\n  }}\n}}"


IMPORT_PHONE_NUMBER = mutation(
    "importPhoneNumber", "input: ImportPhoneNumberInput!",
    "ImportPhoneNumberSuccess", "ValidationError", "PaymentRequiredError", "ProviderError",
)  # fmt: skip
PURCHASE_PHONE_NUMBER = mutation(
    "purchasePhoneNumber", "input: PurchasePhoneNumberInput!",
    "PurchasePhoneNumberSuccess", "ValidationError", "PaymentRequiredError", "ProviderError",
)  # fmt: skip
UPDATE_PHONE_NUMBER = mutation(
    "updatePhoneNumber", "input: UpdatePhoneNumberInput!",
    "UpdatePhoneNumberSuccess", "ValidationError", "NotFoundError", "ProviderError",
)  # fmt: skip
DELETE_PHONE_NUMBER = mutation(
    "deletePhoneNumber", "id: ID!", "DeletePhoneNumberSuccess", "NotFoundError", "ProviderError"
)
CREATE_SIP_TRUNK = mutation(
    "createSipTrunk", "input: CreateSipTrunkInput!",
    "CreateSipTrunkSuccess", "ValidationError", "PaymentRequiredError", "ProviderError",
)  # fmt: skip
DELETE_SIP_TRUNK = mutation(
    "deleteSipTrunk", "id: ID!", "DeleteSipTrunkSuccess", "ValidationError", "NotFoundError", "ProviderError"
)
UPDATE_SIP_TRUNK = mutation(
    "updateSipTrunk", "input: UpdateSipTrunkInput!",
    "UpdateSipTrunkSuccess", "ValidationError", "NotFoundError", "ProviderError",
)  # fmt: skip
CHECK_PHONE_NUMBER = mutation(
    "checkPhoneNumber", "id: ID!, repair: Boolean", "PhoneNumberCheck", "NotFoundError", "ProviderError"
)
CREATE_AGENT = mutation("createAgent", "input: CreateAgentInput!", "CreateAgentSuccess", "ValidationError")
PLAN_PHONE_NUMBER_IMPORT = mutation(
    "planPhoneNumberImport", "input: ImportPhoneNumberInput!",
    "ImportPlan", "ValidationError", "PaymentRequiredError", "ProviderError", kind="query",
)  # fmt: skip
CREATE_WEBHOOK_ENDPOINT = mutation(
    "createWebhookEndpoint", "input: CreateWebhookEndpointInput!", "CreateWebhookEndpointSuccess", "ValidationError"
)
DELETE_WEBHOOK_ENDPOINT = mutation("deleteWebhookEndpoint", "id: ID!", "DeleteWebhookEndpointSuccess", "NotFoundError")
WORKSPACE_COUNT = "query { workspace { phoneNumberCount phoneNumberLimit } }"

# The seeded demo customer's Twilio account (providers/sandbox/demo_state.json).
_DEMO_CUSTOMER = next(a for a in json.loads(DEMO_STATE.read_text())["twilio"]["accounts"] if not a.get("platform"))
DEMO_ACCOUNT_SID: str = _DEMO_CUSTOMER["sid"]
DEMO_AUTH_TOKEN: str = _DEMO_CUSTOMER["auth_token"]
DEMO_DIDS: list[str] = _DEMO_CUSTOMER["incoming_phone_numbers"]
DEMO_CALLER_IDS: list[str] = _DEMO_CUSTOMER["outgoing_caller_ids"]
DEMO_CREDENTIALS = {"accountSid": DEMO_ACCOUNT_SID, "authToken": DEMO_AUTH_TOKEN}


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """The one root field's value of a GraphQL answer that has no errors."""
    assert "errors" not in body, body
    (value,) = body["data"].values()
    return value


def only(value: Any, like: Any) -> Any:
    """`value` with only the keys `like` names, at every depth: to compare an answer with a table's
    expectation that names fewer fields than the shared documents select."""
    if isinstance(value, dict) and isinstance(like, dict):
        return {key: only(value.get(key), like[key]) for key in like}
    if isinstance(value, list) and isinstance(like, list) and len(value) == len(like):
        return [only(item, pattern) for item, pattern in zip(value, like)]
    return value


def import_result(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"]["importPhoneNumber"]


def create_trunk_result(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"]["createSipTrunk"]


def field_codes(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field, code) pairs of a ValidationError, sorted, so a table can name them exactly."""
    return sorted((error["field"], error["code"]) for error in result["fieldErrors"])


def sandbox_state(app) -> dict[str, Any]:
    """Both emulators' state, without secrets; equal before and after means the carriers were not changed."""
    sandbox = app.state.sandbox
    return {"twilio": sandbox.twilio.snapshot(), "livekit": sandbox.livekit.snapshot()}



async def imported(tenant, number_input: dict[str, Any]) -> dict[str, Any]:
    """Import through the API, which must succeed; the new number."""
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": number_input}))
    assert result["__typename"] == "ImportPhoneNumberSuccess", result
    return result["phoneNumber"]


async def byoc_trunk(tenant, name: str = "Carrier", direction: str = "BOTH", **fields: Any) -> dict[str, Any]:
    """Create a BYOC trunk through the API, which must succeed; the new trunk."""
    trunk_input = {"name": name, "direction": direction, "sipAddress": "sip.example-carrier.com", **fields}
    result = create_trunk_result(await tenant.graphql(CREATE_SIP_TRUNK, {"input": trunk_input}))
    assert result["__typename"] == "CreateSipTrunkSuccess", result
    return result["sipTrunk"]
