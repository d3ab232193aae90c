"""Twilio's JSON: resource shapes, list envelopes with their paging, and error bodies.

api.twilio.com resources carry RFC 2822 dates and relative URIs; trunking.twilio.com resources
carry ISO 8601 dates and absolute URLs.
"""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import Any

from aiohttp import web

from providers.sandbox.twilio.errors import TwilioError, invalid_parameter
from providers.sandbox.twilio.state import (
    CallerId,
    Credential,
    CredentialList,
    IncomingNumber,
    OriginationUrl,
    StockNumber,
    Trunk,
    TwilioAccount,
)

API = "/2010-04-01/Accounts/{account_sid}"
ERRORS_URL = "https://www.twilio.com/docs/errors/{code}"


def _rfc2822(when: datetime) -> str:
    return email.utils.format_datetime(when)


def _iso8601(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _api_uri(account: TwilioAccount, tail: str = "") -> str:
    return API.format(account_sid=account.sid) + tail


def _absolute(request: web.Request, path: str) -> str:
    return str(request.url.with_path(path).with_query(None))


def _trunk_url(request: web.Request, trunk_sid: str, tail: str = "") -> str:
    return _absolute(request, f"/v1/Trunks/{trunk_sid}{tail}")


def error_response(error: TwilioError) -> web.Response:
    body = {"code": error.code, "message": error.message, "more_info": ERRORS_URL.format(code=error.code),
            "status": error.status}
    return web.json_response(body, status=error.status, headers=error.headers)


# Paging


def page_params(request: web.Request) -> tuple[int, int]:
    """(Page, PageSize) from the query; PageSize is 1..1000 with 50 by default, as at Twilio."""
    try:
        page, size = int(request.query.get("Page", 0)), int(request.query.get("PageSize", 50))
    except ValueError:
        raise invalid_parameter("Page and PageSize must be integers") from None
    return max(page, 0), max(1, min(size, 1000))


def _window(request: web.Request, items: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]], bool]:
    """The requested page: its number, size, items, and whether a next page exists."""
    page, size = page_params(request)
    return page, size, items[page * size:(page + 1) * size], (page + 1) * size < len(items)


def api_page(request: web.Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """api.twilio.com list envelope with Page/PageSize paging."""
    page, size, chunk, more = _window(request, items)

    def uri(number: int) -> str:
        return str(request.rel_url.update_query(Page=str(number), PageSize=str(size)))

    return {
        key: chunk,
        "page": page,
        "page_size": size,
        "start": page * size,
        "end": page * size + max(len(chunk) - 1, 0),
        "uri": str(request.rel_url),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if more else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
    }


def trunking_page(request: web.Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """trunking.twilio.com list envelope (`meta` with absolute URLs)."""
    page, size, chunk, more = _window(request, items)

    def url(number: int) -> str:
        return str(request.url.update_query(Page=str(number), PageSize=str(size)))

    return {
        key: chunk,
        "meta": {
            "key": key,
            "page": page,
            "page_size": size,
            "first_page_url": url(0),
            "previous_page_url": url(page - 1) if page > 0 else None,
            "next_page_url": url(page + 1) if more else None,
            "url": url(page),
        },
    }


# api.twilio.com resources


def account_json(account: TwilioAccount) -> dict[str, Any]:
    return {
        "sid": account.sid,
        "owner_account_sid": account.sid,
        "friendly_name": account.friendly_name,
        "status": "active",
        "type": "Full",
        "date_created": _rfc2822(account.created),
        "date_updated": _rfc2822(account.created),
        "uri": _api_uri(account, ".json"),
        "subresource_uris": {},
    }


def incoming_json(account: TwilioAccount, number: IncomingNumber) -> dict[str, Any]:
    uri = _api_uri(account, f"/IncomingPhoneNumbers/{number.sid}")
    return {
        "account_sid": account.sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": "2010-04-01",
        "beta": False,
        "bundle_sid": None,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "date_created": _rfc2822(number.created),
        "date_updated": _rfc2822(number.created),
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Inactive",
        "friendly_name": number.friendly_name,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": number.phone_number,
        "sid": number.sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status": "in-use",
        "status_callback": "",
        "status_callback_method": "POST",
        "subresource_uris": {"assigned_add_ons": f"{uri}/AssignedAddOns.json"},
        "trunk_sid": number.trunk_sid,
        "type": "local",
        "uri": f"{uri}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": None,
    }


def caller_id_json(account: TwilioAccount, caller_id: CallerId) -> dict[str, Any]:
    return {
        "account_sid": account.sid,
        "date_created": _rfc2822(caller_id.created),
        "date_updated": _rfc2822(caller_id.created),
        "friendly_name": caller_id.friendly_name,
        "phone_number": caller_id.phone_number,
        "sid": caller_id.sid,
        "uri": _api_uri(account, f"/OutgoingCallerIds/{caller_id.sid}.json"),
    }


def stock_json(stock: StockNumber) -> dict[str, Any]:
    return {
        "address_requirements": "none",
        "beta": False,
        "capabilities": {"voice": True, "SMS": True, "MMS": True},
        "friendly_name": stock.friendly_name,
        "iso_country": "US",
        "lata": None,
        "latitude": None,
        "locality": stock.locality,
        "longitude": None,
        "phone_number": stock.phone_number,
        "postal_code": None,
        "rate_center": None,
        "region": stock.region,
    }


def credential_list_json(account: TwilioAccount, cl: CredentialList) -> dict[str, Any]:
    base = _api_uri(account, f"/SIP/CredentialLists/{cl.sid}")
    return {
        "account_sid": account.sid,
        "date_created": _rfc2822(cl.created),
        "date_updated": _rfc2822(cl.created),
        "friendly_name": cl.friendly_name,
        "sid": cl.sid,
        "subresource_uris": {"credentials": f"{base}/Credentials.json"},
        "uri": f"{base}.json",
    }


def credential_json(account: TwilioAccount, cl: CredentialList, credential: Credential) -> dict[str, Any]:
    return {
        "account_sid": account.sid,
        "credential_list_sid": cl.sid,
        "date_created": _rfc2822(credential.created),
        "date_updated": _rfc2822(credential.created),
        "sid": credential.sid,
        "uri": _api_uri(account, f"/SIP/CredentialLists/{cl.sid}/Credentials/{credential.sid}.json"),
        "username": credential.username,
    }


# trunking.twilio.com resources


def trunk_json(request: web.Request, account: TwilioAccount, trunk: Trunk) -> dict[str, Any]:
    return {
        "account_sid": account.sid,
        "auth_type": "CREDENTIAL_LIST" if trunk.credential_list_sids else "",
        "auth_type_set": ["CREDENTIAL_LIST"] if trunk.credential_list_sids else [],
        "cnam_lookup_enabled": False,
        "date_created": _iso8601(trunk.created),
        "date_updated": _iso8601(trunk.created),
        "disaster_recovery_method": None,
        "disaster_recovery_url": None,
        "domain_name": trunk.domain_name,
        "friendly_name": trunk.friendly_name,
        "links": {
            name: _trunk_url(request, trunk.sid, f"/{name_path}")
            for name, name_path in (
                ("origination_urls", "OriginationUrls"),
                ("credential_lists", "CredentialLists"),
                ("ip_access_control_lists", "IpAccessControlLists"),
                ("phone_numbers", "PhoneNumbers"),
                ("recordings", "Recording"),
            )
        },
        "recording": {"mode": "do-not-record", "trim": "do-not-trim"},
        "secure": False,
        "sid": trunk.sid,
        "symmetric_rtp_enabled": False,
        "transfer_caller_id": "from-transferee",
        "transfer_mode": "disable-all",
        "url": _trunk_url(request, trunk.sid),
    }


def origination_url_json(request: web.Request, account: TwilioAccount, url: OriginationUrl) -> dict[str, Any]:
    return {
        "account_sid": account.sid,
        "date_created": _iso8601(url.created),
        "date_updated": _iso8601(url.created),
        "enabled": url.enabled,
        "friendly_name": url.friendly_name,
        "priority": url.priority,
        "sid": url.sid,
        "sip_url": url.sip_url,
        "trunk_sid": url.trunk_sid,
        "url": _trunk_url(request, url.trunk_sid, f"/OriginationUrls/{url.sid}"),
        "weight": url.weight,
    }


def trunk_credential_list_json(
    request: web.Request, account: TwilioAccount, trunk: Trunk, cl: CredentialList
) -> dict[str, Any]:
    return {
        "account_sid": account.sid,
        "date_created": _iso8601(cl.created),
        "date_updated": _iso8601(cl.created),
        "friendly_name": cl.friendly_name,
        "sid": cl.sid,
        "trunk_sid": trunk.sid,
        "url": _trunk_url(request, trunk.sid, f"/CredentialLists/{cl.sid}"),
    }


def trunk_number_json(request: web.Request, account: TwilioAccount, number: IncomingNumber) -> dict[str, Any]:
    """The api.twilio.com number without its API-only fields, with trunking dates and links."""
    body = incoming_json(account, number)
    for api_only in ("subresource_uris", "uri", "origin", "status", "type", "identity_sid", "address_sid",
                     "bundle_sid", "emergency_address_sid", "emergency_address_status", "emergency_status",
                     "voice_receive_mode"):
        body.pop(api_only)
    body["date_created"] = _iso8601(number.created)
    body["date_updated"] = _iso8601(number.created)
    body["links"] = {"phone_number": _absolute(request, _api_uri(account, f"/IncomingPhoneNumbers/{number.sid}.json"))}
    body["url"] = _trunk_url(request, number.trunk_sid or "", f"/PhoneNumbers/{number.sid}")
    return body
