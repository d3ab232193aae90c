"""The livekit.PhoneNumberService Twirp methods: each takes the project and the JSON request's fields."""

from __future__ import annotations

import re
from typing import Any, Callable

from providers.sandbox.livekit import wire
from providers.sandbox.livekit.errors import invalid, not_found
from providers.sandbox.livekit.state import LiveKitState, PhoneNumberRecord
from providers.sandbox.livekit.wire import STATUS_OFFLINE, JsonFields


def _search_numbers(state: LiveKitState, fields: JsonFields) -> dict[str, Any]:
    if (fields.text("country_code") or "US") != "US":
        raise invalid("only US phone numbers are available")
    area_code = fields.text("area_code") or None
    if area_code is not None and not re.fullmatch(r"[2-9]\d\d", area_code):
        raise invalid(f"invalid area code {area_code!r}")
    offset, limit = fields.page_offset(), fields.limit()
    found = []
    # The inventory may be endless: take only as far as one past this page, to know if another follows.
    for number in state.inventory(area_code):
        found.append(number)
        if len(found) > offset + limit:
            break
    page, next_token = wire.page_by_offset(found, offset, limit)
    return {"items": [wire.offered_json(n) for n in page], "next_page_token": next_token}


def _purchase_numbers(state: LiveKitState, fields: JsonFields) -> dict[str, Any]:
    wanted = list(dict.fromkeys(fields.texts("phone_numbers")))
    rule_id = fields.text("sip_dispatch_rule_id") or ""
    if not wanted:
        raise invalid("phone_numbers must not be empty")
    return {"phone_numbers": [wire.number_json(r) for r in state.purchase(wanted, rule_id)]}


def _find_record(state: LiveKitState, fields: JsonFields) -> PhoneNumberRecord:
    number_id, e164 = fields.text("id"), fields.text("phone_number")
    if number_id:
        record = state.phone_numbers.get(number_id)
    elif e164:
        record = state.held_record(e164)
    else:
        raise invalid("one of id or phone_number must be set")
    if record is None:
        raise not_found(f"phone number {number_id or e164}")
    return record


def _list_numbers(state: LiveKitState, fields: JsonFields) -> dict[str, Any]:
    statuses, rule_id = fields.statuses(), fields.text("sip_dispatch_rule_id")
    chosen = [
        r for r in sorted(state.phone_numbers.values(), key=lambda r: r.created_at)
        if (not statuses or r.status in statuses) and (not rule_id or r.sip_dispatch_rule_id == rule_id)
    ]
    page, next_token = wire.page_by_offset(chosen, fields.page_offset(), fields.limit())
    return {
        "items": [wire.number_json(r) for r in page], "next_page_token": next_token, "total_count": len(chosen),
        "offline_count": sum(r.status == STATUS_OFFLINE for r in chosen),
    }


def _get_number(state: LiveKitState, fields: JsonFields) -> dict[str, Any]:
    return {"phone_number": wire.number_json(_find_record(state, fields))}


def _update_number(state: LiveKitState, fields: JsonFields) -> dict[str, Any]:
    record = _find_record(state, fields)
    state.route(record, fields.text("sip_dispatch_rule_id"))
    return {"phone_number": wire.number_json(record)}


def _release_numbers(state: LiveKitState, fields: JsonFields) -> dict[str, Any]:
    ids, numbers = fields.texts("ids"), fields.texts("phone_numbers")
    if not ids and not numbers:
        raise invalid("one of ids or phone_numbers must be set")
    state.release(ids, numbers)
    return {}


NUMBER_METHODS: dict[str, Callable[[LiveKitState, JsonFields], dict[str, Any]]] = {
    "SearchPhoneNumbers": _search_numbers,
    "PurchasePhoneNumber": _purchase_numbers,
    "ListPhoneNumbers": _list_numbers,
    "GetPhoneNumber": _get_number,
    "UpdatePhoneNumber": _update_number,
    "ReleasePhoneNumbers": _release_numbers,
}
