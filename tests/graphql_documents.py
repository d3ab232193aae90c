"""GraphQL documents and small readers shared by the mutation suites."""

from __future__ import annotations

import json
from typing import Any

from providers.sandbox.server import DEMO_STATE

IMPORT_PHONE_NUMBER = """
mutation ImportPhoneNumber($input: ImportPhoneNumberInput!) {
  importPhoneNumber(input: $input) {
    __typename
    ... on ImportPhoneNumberSuccess {
      phoneNumber { id e164 source status capabilities label trunkId agentId livekitPhoneNumberId }
    }
    ... on ValidationError { message code fieldErrors { field code message } }
    ... on PaymentRequiredError { message code limit current }
    ... on ProviderError { message code provider retryable }
  }
}"""

CREATE_SIP_TRUNK = """
mutation CreateSipTrunk($input: CreateSipTrunkInput!) {
  createSipTrunk(input: $input) {
    __typename
    ... on CreateSipTrunkSuccess {
      sipTrunk { id name provider direction sipAddress transport authUsername authPasswordSet allowedAddresses }
    }
    ... on ValidationError { message code fieldErrors { field code message } }
    ... on PaymentRequiredError { message code limit current }
    ... on ProviderError { message code provider retryable }
  }
}"""

# The seeded demo customer's Twilio account (providers/sandbox/demo_state.json).
_DEMO_CUSTOMER = next(a for a in json.loads(DEMO_STATE.read_text())["twilio"]["accounts"] if not a.get("platform"))
DEMO_ACCOUNT_SID: str = _DEMO_CUSTOMER["sid"]
DEMO_AUTH_TOKEN: str = _DEMO_CUSTOMER["auth_token"]
DEMO_DIDS: list[str] = _DEMO_CUSTOMER["incoming_phone_numbers"]
DEMO_CALLER_IDS: list[str] = _DEMO_CUSTOMER["outgoing_caller_ids"]
DEMO_CREDENTIALS = {"accountSid": DEMO_ACCOUNT_SID, "authToken": DEMO_AUTH_TOKEN}


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

