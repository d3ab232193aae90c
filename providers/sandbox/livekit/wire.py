"""LiveKit's wire format: Twirp error bodies, message JSON, PhoneNumber shapes, paging, JSON request fields.

No HTTP here: the handlers turn these bodies into responses.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any, Callable

from google.protobuf import json_format
from google.protobuf.message import Message
from livekit.protocol import sip

from providers.sandbox.livekit.errors import TwirpError, invalid, malformed

if TYPE_CHECKING:
    from providers.sandbox.livekit.state import OfferedNumber, PhoneNumberRecord

PROTOBUF = "application/protobuf"
JSON = "application/json"

TWIRP_STATUS = {
    "canceled": 408, "unknown": 500, "invalid_argument": 400, "malformed": 400,
    "deadline_exceeded": 408, "not_found": 404, "bad_route": 404, "already_exists": 409,
    "permission_denied": 403, "unauthenticated": 401, "resource_exhausted": 429,
    "failed_precondition": 412, "aborted": 409, "out_of_range": 400, "unimplemented": 501,
    "internal": 500, "unavailable": 503, "dataloss": 500,
}

# PhoneNumberStatus, by name; JSON clients may also send the index.
STATUS_ACTIVE = "PHONE_NUMBER_STATUS_ACTIVE"
STATUS_OFFLINE = "PHONE_NUMBER_STATUS_OFFLINE"
STATUS_RELEASED = "PHONE_NUMBER_STATUS_RELEASED"
STATUS_PENDING = "PHONE_NUMBER_STATUS_PENDING"
STATUS_NAMES = ["PHONE_NUMBER_STATUS_UNSPECIFIED", STATUS_ACTIVE, STATUS_PENDING, STATUS_RELEASED, STATUS_OFFLINE]

DEFAULT_LIMIT = 50


def error_body(error: TwirpError) -> tuple[dict[str, Any], int]:
    """The Twirp error body and its HTTP status."""
    return {"code": error.code, "msg": error.msg, "meta": error.meta}, TWIRP_STATUS[error.code]


def message_dict(message: Message) -> dict[str, Any]:
    """A protobuf message as LiveKit's JSON, every field present."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def redacted_trunk(trunk: sip.SIPInboundTrunkInfo | sip.SIPOutboundTrunkInfo) -> dict[str, Any]:
    body = message_dict(trunk)
    if body.get("auth_password"):
        body["auth_password"] = "***"
    return body


def legacy_trunk_info(trunk: sip.SIPInboundTrunkInfo | sip.SIPOutboundTrunkInfo) -> sip.SIPTrunkInfo:
    """The deprecated SIPTrunkInfo shape that DeleteSIPTrunk answers with."""
    first_number = trunk.numbers[0] if trunk.numbers else ""
    if isinstance(trunk, sip.SIPInboundTrunkInfo):
        return sip.SIPTrunkInfo(
            sip_trunk_id=trunk.sip_trunk_id, kind=sip.SIPTrunkInfo.TRUNK_INBOUND, name=trunk.name,
            metadata=trunk.metadata, outbound_number=first_number, inbound_addresses=trunk.allowed_addresses,
            inbound_numbers=trunk.allowed_numbers, inbound_username=trunk.auth_username,
        )
    return sip.SIPTrunkInfo(
        sip_trunk_id=trunk.sip_trunk_id, kind=sip.SIPTrunkInfo.TRUNK_OUTBOUND, name=trunk.name,
        metadata=trunk.metadata, outbound_address=trunk.address, transport=trunk.transport,
        outbound_number=first_number, outbound_username=trunk.auth_username,
    )


def _rfc3339(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def offered_json(number: OfferedNumber) -> dict[str, Any]:
    """The PhoneNumber message of a search result."""
    return {
        "id": "", "e164_format": number.e164, "country_code": "US", "area_code": number.area_code,
        "number_type": "PHONE_NUMBER_TYPE_LOCAL", "locality": number.locality, "region": number.region,
        "spam_score": 0, "capabilities": ["voice"], "status": "PHONE_NUMBER_STATUS_UNSPECIFIED",
        "created_at": None, "updated_at": None, "assigned_at": None, "released_at": None,
        "sip_dispatch_rule_id": "", "sip_dispatch_rule_ids": [],
    }


def number_json(record: PhoneNumberRecord) -> dict[str, Any]:
    """The PhoneNumber message of a number the project bought."""
    body = offered_json(record.number)
    body.update(
        id=record.id, status=record.status, created_at=_rfc3339(record.created_at),
        updated_at=_rfc3339(record.updated_at), assigned_at=_rfc3339(record.assigned_at),
        released_at=_rfc3339(record.released_at), sip_dispatch_rule_id=record.sip_dispatch_rule_id,
        sip_dispatch_rule_ids=[record.sip_dispatch_rule_id] if record.sip_dispatch_rule_id else [],
    )
    return body


# Paging: livekit.SIP lists page by id (`after_id`), PhoneNumberService by an offset token.


def page_after_id(items: dict[str, Message], page: Any, keep: Callable[[Message], bool]) -> list[Message]:
    """Items in id order after `page.after_id`, at most `page.limit` of them."""
    chosen = [v for k, v in sorted(items.items()) if k > page.after_id and keep(v)]
    return chosen[: page.limit] if page.limit > 0 else chosen


def page_by_offset(items: list[Any], offset: int, limit: int) -> tuple[list[Any], dict[str, str] | None]:
    """The page at `offset` and the `next_page_token` after it, None on the last page."""
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, {"token": str(offset + limit)} if more else None


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


class JsonFields:
    """Typed reads from a JSON request body that may use snake_case or lowerCamel names."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise malformed("expected an object")
        self._body = {_snake(k): v for k, v in body.items()}

    def text(self, name: str) -> str | None:
        value = self._body.get(name)
        if value is not None and not isinstance(value, str):
            raise malformed(f"{name} must be a string")
        return value

    def texts(self, name: str) -> list[str]:
        value = self._body.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise malformed(f"{name} must be a list of strings")
        return value

    def integer(self, name: str) -> int | None:
        value = self._body.get(name)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise malformed(f"{name} must be an integer")
        return value

    def page_offset(self) -> int:
        token = JsonFields(self._body.get("page_token") or {}).text("token") or ""
        if token and not token.isdigit():
            raise invalid("invalid page token")
        return int(token or 0)

    def limit(self) -> int:
        limit = self.integer("limit")
        if limit is not None and limit < 0:
            raise invalid("limit must not be negative")
        return limit or DEFAULT_LIMIT

    def statuses(self) -> set[str]:
        raw = self._body.get("statuses") or []
        if not isinstance(raw, list):
            raise malformed("statuses must be a list")
        # JSON enums arrive as names, or as numbers from clients that send them that way.
        names = {STATUS_NAMES[v] if isinstance(v, int) and 0 <= v < len(STATUS_NAMES) else v for v in raw}
        if not names.issubset(STATUS_NAMES):
            raise malformed("unknown status")
        return names
