"""The use cases' requests built from the same input dicts the GraphQL tests send, field for field as the
schema's mutations build them, and the problems a validator returns in the form a ValidationError shows."""

from __future__ import annotations

from collections.abc import Iterable

from models.enums import PhoneNumberSource, SipTransport, SipTrunkDirection
from resolvers.create_sip_trunk import SipTrunkRequest
from resolvers.import_phone_number import ImportRequest
from resolvers.outcomes import FieldProblem
from resolvers.services import TwilioCredentials


def import_request(given: dict) -> ImportRequest:
    """ImportPhoneNumberInput → ImportRequest (schema/mutations/import_phone_number.py)."""
    credentials = given.get("twilio")
    return ImportRequest(
        e164=given["e164"],
        source=PhoneNumberSource(given["source"]),
        label=given.get("label"),
        trunk_id=given.get("trunkId"),
        agent_id=given.get("agentId"),
        twilio=TwilioCredentials(credentials["accountSid"], credentials["authToken"]) if credentials else None,
    )


def sip_trunk_request(given: dict) -> SipTrunkRequest:
    """CreateSipTrunkInput → SipTrunkRequest (schema/mutations/create_sip_trunk.py)."""
    return SipTrunkRequest(
        name=given["name"],
        direction=SipTrunkDirection(given["direction"]),
        sip_address=given.get("sipAddress"),
        transport=SipTransport(given.get("transport") or "AUTO"),
        auth_username=given.get("authUsername"),
        auth_password=given.get("authPassword"),
        allowed_addresses=tuple(given.get("allowedAddresses") or ()),
    )


def problem_codes(problems: Iterable[FieldProblem]) -> list[tuple[str, str]]:
    """The (field, code) pairs, sorted, as tests.graphql_documents.field_codes reads them from a ValidationError."""
    return sorted((problem.field, str(problem.code)) for problem in problems)
