"""Stateful emulator of the Twilio REST API that Trunkline uses.

Serves api.twilio.com paths (`/2010-04-01/Accounts/{AC}/...json`) and trunking.twilio.com paths
(`/v1/Trunks...`) from one aiohttp app, with Twilio's auth, JSON shapes, status codes and error
bodies. Passwords and auth tokens are stored but never sent back, as at Twilio.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

API = "/2010-04-01/Accounts/{account_sid}"
ERRORS_URL = "https://www.twilio.com/docs/errors/{code}"

# Codes Twilio documents for these cases. For a missing or malformed parameter Twilio's own
# per-field code is not documented, so the generic 20001 stands in; attaching a number that is
# already on a trunk uses 21245 from the same trunking range as 21248.
AUTHENTICATE = 20003
MISSING_PARAMETER = 20001
NOT_FOUND = 20404
INVALID_DOMAIN = 21232
NUMBER_ON_TRUNK = 21245
DOMAIN_TAKEN = 21248
NUMBER_INVALID = 21421
NUMBER_NOT_AVAILABLE = 21422

US_NUMBER = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")
# Generated stock uses 555-01XX, the NANP block set aside for fiction, so it reaches no one.
GENERATED = re.compile(r"^\+1[2-9]\d{2}55501\d{2}$")
DEFAULT_AREA_CODES = ("415", "212", "312", "512", "206", "617", "303", "404")
LOCALITIES = {
    "206": ("Seattle", "WA"),
    "212": ("New York", "NY"),
    "303": ("Denver", "CO"),
    "312": ("Chicago", "IL"),
    "404": ("Atlanta", "GA"),
    "415": ("San Francisco", "CA"),
    "512": ("Austin", "TX"),
    "617": ("Boston", "MA"),
}


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def friendly_number(e164: str) -> str:
    """Twilio's default friendly name: `(415) 555-0101` for US numbers."""
    if US_NUMBER.match(e164):
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return e164


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _rfc2822(when: datetime) -> str:
    return email.utils.format_datetime(when)


def _iso8601(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# State


@dataclass
class IncomingNumber:
    sid: str
    phone_number: str
    friendly_name: str
    trunk_sid: str | None = None
    created: datetime = field(default_factory=_now)


@dataclass
class CallerId:
    sid: str
    phone_number: str
    friendly_name: str
    created: datetime = field(default_factory=_now)


@dataclass
class StockNumber:
    phone_number: str
    friendly_name: str
    locality: str | None
    region: str | None


@dataclass
class Credential:
    sid: str
    username: str
    password: str = field(repr=False)
    created: datetime = field(default_factory=_now)


@dataclass
class CredentialList:
    sid: str
    friendly_name: str
    credentials: dict[str, Credential] = field(default_factory=dict)
    created: datetime = field(default_factory=_now)


@dataclass
class OriginationUrl:
    sid: str
    trunk_sid: str
    sip_url: str
    weight: int
    priority: int
    enabled: bool
    friendly_name: str
    created: datetime = field(default_factory=_now)


@dataclass
class Trunk:
    sid: str
    friendly_name: str
    domain_name: str | None
    origination_urls: dict[str, OriginationUrl] = field(default_factory=dict)
    credential_list_sids: list[str] = field(default_factory=list)
    created: datetime = field(default_factory=_now)


@dataclass
class TwilioAccount:
    sid: str
    auth_token: str = field(repr=False)
    friendly_name: str
    incoming_phone_numbers: dict[str, IncomingNumber] = field(default_factory=dict)
    outgoing_caller_ids: dict[str, CallerId] = field(default_factory=dict)
    # None means an endless generated US stock, like a real inventory.
    available_phone_numbers: list[StockNumber] | None = None
    trunks: dict[str, Trunk] = field(default_factory=dict)
    credential_lists: dict[str, CredentialList] = field(default_factory=dict)
    created: datetime = field(default_factory=_now)

    def number(self, e164: str) -> IncomingNumber | None:
        """The account's IncomingPhoneNumber with exactly this E.164, if held."""
        return next((n for n in self.incoming_phone_numbers.values() if n.phone_number == e164), None)

    def trunk_numbers(self, trunk_sid: str) -> list[IncomingNumber]:
        return [n for n in self.incoming_phone_numbers.values() if n.trunk_sid == trunk_sid]

    def snapshot(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "friendly_name": self.friendly_name,
            "incoming_phone_numbers": [
                {"sid": n.sid, "phone_number": n.phone_number, "friendly_name": n.friendly_name,
                 "trunk_sid": n.trunk_sid}
                for n in self.incoming_phone_numbers.values()
            ],
            "outgoing_caller_ids": [
                {"sid": c.sid, "phone_number": c.phone_number, "friendly_name": c.friendly_name}
                for c in self.outgoing_caller_ids.values()
            ],
            "available_phone_numbers": (
                "generated"
                if self.available_phone_numbers is None
                else [s.phone_number for s in self.available_phone_numbers]
            ),
            "trunks": [
                {
                    "sid": t.sid,
                    "friendly_name": t.friendly_name,
                    "domain_name": t.domain_name,
                    "origination_urls": [
                        {"sid": o.sid, "sip_url": o.sip_url, "weight": o.weight, "priority": o.priority,
                         "enabled": o.enabled, "friendly_name": o.friendly_name}
                        for o in t.origination_urls.values()
                    ],
                    "credential_list_sids": list(t.credential_list_sids),
                    "phone_number_sids": [n.sid for n in self.trunk_numbers(t.sid)],
                }
                for t in self.trunks.values()
            ],
            "credential_lists": [
                {
                    "sid": cl.sid,
                    "friendly_name": cl.friendly_name,
                    "credentials": [{"sid": c.sid, "username": c.username} for c in cl.credentials.values()],
                }
                for cl in self.credential_lists.values()
            ],
        }


class TwilioState:
    """Every emulated Twilio account; trunk domains and numbers are unique across all of them."""

    def __init__(self, accounts: Iterable[TwilioAccount] = ()) -> None:
        self.accounts: dict[str, TwilioAccount] = {a.sid: a for a in accounts}

    @classmethod
    def from_seed(cls, seed: dict[str, Any]) -> TwilioState:
        """Build from the `twilio` section of a seed: `{"accounts": [{"sid", "auth_token", ...}]}`."""
        return cls(_account_from_seed(entry) for entry in seed.get("accounts", []))

    def account(self, sid: str) -> TwilioAccount:
        return self.accounts[sid]

    def held_numbers(self) -> set[str]:
        return {n.phone_number for a in self.accounts.values() for n in a.incoming_phone_numbers.values()}

    def domain_taken(self, domain_name: str) -> bool:
        return any(t.domain_name == domain_name for a in self.accounts.values() for t in a.trunks.values())

    def stock(self, account: TwilioAccount, area_code: str | None) -> Iterator[StockNumber]:
        """Numbers `account` could buy now, optionally within one area code."""
        held = self.held_numbers()
        if account.available_phone_numbers is not None:
            for stock in account.available_phone_numbers:
                if stock.phone_number not in held and (not area_code or stock.phone_number[2:5] == area_code):
                    yield stock
            return
        for code in (area_code,) if area_code else DEFAULT_AREA_CODES:
            for line in range(100, 200):
                e164 = f"+1{code}5550{line}"
                if e164 not in held:
                    yield _stock_number(e164)

    def claimable(self, account: TwilioAccount, e164: str) -> StockNumber | None:
        """The stock entry `account` may buy as `e164`: only a free number that AvailablePhoneNumbers
        offers it (for generated stock, a 555-01XX number of any area code), as Twilio sells only
        numbers it has."""
        if e164 in self.held_numbers():
            return None
        if account.available_phone_numbers is None:
            return _stock_number(e164) if GENERATED.match(e164) else None
        return next((s for s in account.available_phone_numbers if s.phone_number == e164), None)

    def snapshot(self) -> dict[str, Any]:
        """All state as JSON-able data, without auth tokens or passwords."""
        return {"accounts": [a.snapshot() for a in self.accounts.values()]}


def _stock_number(e164: str, friendly_name: str | None = None) -> StockNumber:
    locality, region = LOCALITIES.get(e164[2:5], (None, None)) if e164.startswith("+1") else (None, None)
    return StockNumber(e164, friendly_name or friendly_number(e164), locality, region)


def _entry(item: str | dict[str, Any]) -> dict[str, Any]:
    return {"phone_number": item} if isinstance(item, str) else item


def _account_from_seed(entry: dict[str, Any]) -> TwilioAccount:
    account = TwilioAccount(
        sid=entry["sid"],
        auth_token=entry["auth_token"],
        friendly_name=entry.get("friendly_name", entry["sid"]),
    )
    for item in map(_entry, entry.get("incoming_phone_numbers", [])):
        number = IncomingNumber(
            sid=item.get("sid") or new_sid("PN"),
            phone_number=item["phone_number"],
            friendly_name=item.get("friendly_name") or friendly_number(item["phone_number"]),
        )
        account.incoming_phone_numbers[number.sid] = number
    for item in map(_entry, entry.get("outgoing_caller_ids", [])):
        caller_id = CallerId(
            sid=item.get("sid") or new_sid("PN"),
            phone_number=item["phone_number"],
            friendly_name=item.get("friendly_name") or friendly_number(item["phone_number"]),
        )
        account.outgoing_caller_ids[caller_id.sid] = caller_id
    if "available_phone_numbers" in entry:
        account.available_phone_numbers = []
        for item in map(_entry, entry["available_phone_numbers"]):
            stock = _stock_number(item["phone_number"], item.get("friendly_name"))
            stock.locality = item.get("locality", stock.locality)
            stock.region = item.get("region", stock.region)
            account.available_phone_numbers.append(stock)
    return account


# Errors


class TwilioError(Exception):
    """An error answer in Twilio's JSON shape."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def response(self) -> web.Response:
        body = {"code": self.code, "message": self.message, "more_info": ERRORS_URL.format(code=self.code),
                "status": self.status}
        return web.json_response(body, status=self.status, headers=self.headers)


def _unauthenticated() -> TwilioError:
    return TwilioError(401, AUTHENTICATE, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})


def _not_found(request: web.Request) -> TwilioError:
    return TwilioError(404, NOT_FOUND, f"The requested resource {request.path} was not found")


def _missing(name: str) -> TwilioError:
    return TwilioError(400, MISSING_PARAMETER, f"Missing required parameter {name} in the post body")


def _required(form: MultiDictProxy[Any], *names: str) -> list[str]:
    for name in names:
        if not form.get(name):
            raise _missing(name)
    return [form[name] for name in names]


def _integer(form: MultiDictProxy[Any], name: str, low: int, high: int) -> int:
    try:
        value = int(form[name])
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise TwilioError(400, MISSING_PARAMETER, f"{name} must be an integer between {low} and {high}")
    return value


def _authenticate(request: web.Request, state: TwilioState) -> TwilioAccount:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise _unauthenticated()
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthenticated() from None
    account = state.accounts.get(username)
    if account is None or not hmac.compare_digest(password.encode(), account.auth_token.encode()):
        raise _unauthenticated()
    return account


# Rendering


def _paging(request: web.Request) -> tuple[int, int]:
    """(Page, PageSize) from the query; PageSize is 1..1000 with 50 by default, as at Twilio."""
    try:
        page, size = int(request.query.get("Page", 0)), int(request.query.get("PageSize", 50))
    except ValueError:
        raise TwilioError(400, MISSING_PARAMETER, "Page and PageSize must be integers") from None
    return max(page, 0), max(1, min(size, 1000))


def _page(request: web.Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """api.twilio.com list envelope with Page/PageSize paging."""
    page, size = _paging(request)
    chunk = items[page * size:(page + 1) * size]

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
        "next_page_uri": uri(page + 1) if (page + 1) * size < len(items) else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
    }


def _meta_page(request: web.Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """trunking.twilio.com list envelope (`meta` with absolute URLs)."""
    page, size = _paging(request)
    chunk = items[page * size:(page + 1) * size]

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
            "next_page_url": url(page + 1) if (page + 1) * size < len(items) else None,
            "url": url(page),
        },
    }


def _capabilities() -> dict[str, bool]:
    return {"voice": True, "sms": True, "mms": True, "fax": False}


def _incoming_json(account: TwilioAccount, number: IncomingNumber) -> dict[str, Any]:
    uri = f"{API.format(account_sid=account.sid)}/IncomingPhoneNumbers/{number.sid}"
    return {
        "account_sid": account.sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": "2010-04-01",
        "beta": False,
        "bundle_sid": None,
        "capabilities": _capabilities(),
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


def _caller_id_json(account: TwilioAccount, caller_id: CallerId) -> dict[str, Any]:
    return {
        "account_sid": account.sid,
        "date_created": _rfc2822(caller_id.created),
        "date_updated": _rfc2822(caller_id.created),
        "friendly_name": caller_id.friendly_name,
        "phone_number": caller_id.phone_number,
        "sid": caller_id.sid,
        "uri": f"{API.format(account_sid=account.sid)}/OutgoingCallerIds/{caller_id.sid}.json",
    }


def _stock_json(stock: StockNumber) -> dict[str, Any]:
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


def _credential_list_json(account: TwilioAccount, cl: CredentialList) -> dict[str, Any]:
    base = f"{API.format(account_sid=account.sid)}/SIP/CredentialLists/{cl.sid}"
    return {
        "account_sid": account.sid,
        "date_created": _rfc2822(cl.created),
        "date_updated": _rfc2822(cl.created),
        "friendly_name": cl.friendly_name,
        "sid": cl.sid,
        "subresource_uris": {"credentials": f"{base}/Credentials.json"},
        "uri": f"{base}.json",
    }


def _credential_json(account: TwilioAccount, cl: CredentialList, credential: Credential) -> dict[str, Any]:
    return {
        "account_sid": account.sid,
        "credential_list_sid": cl.sid,
        "date_created": _rfc2822(credential.created),
        "date_updated": _rfc2822(credential.created),
        "sid": credential.sid,
        "uri": f"{API.format(account_sid=account.sid)}/SIP/CredentialLists/{cl.sid}/Credentials/{credential.sid}.json",
        "username": credential.username,
    }


def _trunk_url(request: web.Request, trunk_sid: str, tail: str = "") -> str:
    return str(request.url.with_path(f"/v1/Trunks/{trunk_sid}{tail}").with_query(None))


def _trunk_json(request: web.Request, account: TwilioAccount, trunk: Trunk) -> dict[str, Any]:
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


def _origination_url_json(request: web.Request, account: TwilioAccount, url: OriginationUrl) -> dict[str, Any]:
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


def _trunk_credential_list_json(
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


def _trunk_number_json(request: web.Request, account: TwilioAccount, number: IncomingNumber) -> dict[str, Any]:
    body = _incoming_json(account, number)
    for api_only in ("subresource_uris", "uri", "origin", "status", "type", "identity_sid", "address_sid",
                     "bundle_sid", "emergency_address_sid", "emergency_address_status", "emergency_status",
                     "voice_receive_mode"):
        body.pop(api_only)
    body["date_created"] = _iso8601(number.created)
    body["date_updated"] = _iso8601(number.created)
    body["links"] = {"phone_number": str(request.url.with_path(
        f"{API.format(account_sid=account.sid)}/IncomingPhoneNumbers/{number.sid}.json").with_query(None))}
    body["url"] = _trunk_url(request, number.trunk_sid or "", f"/PhoneNumbers/{number.sid}")
    return body


# Handlers. Each takes (request, state, account) once authentication has passed.


def _get(items: dict[str, Any], request: web.Request, key: str = "sid") -> Any:
    item = items.get(request.match_info[key])
    if item is None:
        raise _not_found(request)
    return item


def _no_content() -> web.Response:
    return web.Response(status=204)


async def fetch_account(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response({
        "sid": account.sid,
        "owner_account_sid": account.sid,
        "friendly_name": account.friendly_name,
        "status": "active",
        "type": "Full",
        "date_created": _rfc2822(account.created),
        "date_updated": _rfc2822(account.created),
        "uri": f"{API.format(account_sid=account.sid)}.json",
        "subresource_uris": {},
    })


async def list_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    # Like Twilio, PhoneNumber filters by partial match.
    wanted = request.query.get("PhoneNumber", "")
    items = [_incoming_json(account, n) for n in account.incoming_phone_numbers.values() if wanted in n.phone_number]
    return web.json_response(_page(request, "incoming_phone_numbers", items))


async def fetch_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(_incoming_json(account, _get(account.incoming_phone_numbers, request)))


async def buy_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    form = await request.post()
    e164, area_code = form.get("PhoneNumber", ""), form.get("AreaCode", "")
    if not e164 and not area_code:
        raise _missing("PhoneNumber")
    if not e164:
        stock = next(state.stock(account, area_code), None)
        if stock is None:
            raise TwilioError(400, NUMBER_NOT_AVAILABLE, f"No phone numbers available in area code {area_code}")
        e164 = stock.phone_number
    if not US_NUMBER.match(e164):
        raise TwilioError(400, NUMBER_INVALID, f"The phone number {e164} is invalid")
    stock = state.claimable(account, e164)
    if stock is None:
        # A number Twilio does not offer (held by anyone, or never in stock) is 400 with 21422
        # "PhoneNumber is not available": https://www.twilio.com/docs/errors/21422; 400 is Twilio's
        # status for a request that fails validation: https://www.twilio.com/docs/api/errors/400
        raise TwilioError(400, NUMBER_NOT_AVAILABLE, f"Phone number {e164} is not available")
    if account.available_phone_numbers is not None:
        account.available_phone_numbers.remove(stock)
    number = IncomingNumber(new_sid("PN"), e164, form.get("FriendlyName") or stock.friendly_name)
    account.incoming_phone_numbers[number.sid] = number
    return web.json_response(_incoming_json(account, number), status=201)


async def release_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    del account.incoming_phone_numbers[_get(account.incoming_phone_numbers, request).sid]
    return _no_content()


async def list_caller_ids(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    wanted = request.query.get("PhoneNumber", "")
    items = [_caller_id_json(account, c) for c in account.outgoing_caller_ids.values() if wanted in c.phone_number]
    return web.json_response(_page(request, "outgoing_caller_ids", items))


async def fetch_caller_id(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(_caller_id_json(account, _get(account.outgoing_caller_ids, request)))


async def list_available(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    if request.match_info["country"] != "US":
        raise _not_found(request)
    area_code = request.query.get("AreaCode")
    _, size = _paging(request)
    items = []
    for stock in state.stock(account, area_code):
        if len(items) == size:
            break
        items.append(_stock_json(stock))
    # Twilio answers a search with a single page.
    return web.json_response(_page(request, "available_phone_numbers", items))


async def list_credential_lists(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    items = [_credential_list_json(account, cl) for cl in account.credential_lists.values()]
    return web.json_response(_page(request, "credential_lists", items))


async def create_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    (friendly_name,) = _required(await request.post(), "FriendlyName")
    cl = CredentialList(new_sid("CL"), friendly_name)
    account.credential_lists[cl.sid] = cl
    return web.json_response(_credential_list_json(account, cl), status=201)


async def fetch_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(_credential_list_json(account, _get(account.credential_lists, request, "cl_sid")))


async def delete_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _get(account.credential_lists, request, "cl_sid")
    del account.credential_lists[cl.sid]
    for trunk in account.trunks.values():
        if cl.sid in trunk.credential_list_sids:
            trunk.credential_list_sids.remove(cl.sid)
    return _no_content()


async def list_credentials(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _get(account.credential_lists, request, "cl_sid")
    items = [_credential_json(account, cl, c) for c in cl.credentials.values()]
    return web.json_response(_page(request, "credentials", items))


def _check_password(password: str) -> None:
    strong = (len(password) >= 12 and any(c.isdigit() for c in password)
              and any(c.islower() for c in password) and any(c.isupper() for c in password))
    if not strong:
        raise TwilioError(400, MISSING_PARAMETER, "Password must be at least 12 characters long and contain "
                          "a digit, an uppercase and a lowercase letter")


async def create_credential(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _get(account.credential_lists, request, "cl_sid")
    username, password = _required(await request.post(), "Username", "Password")
    _check_password(password)
    if any(c.username == username for c in cl.credentials.values()):
        raise TwilioError(400, MISSING_PARAMETER, f"Username {username} already exists in this credential list")
    credential = Credential(new_sid("CR"), username, password)
    cl.credentials[credential.sid] = credential
    return web.json_response(_credential_json(account, cl, credential), status=201)


async def fetch_credential(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _get(account.credential_lists, request, "cl_sid")
    return web.json_response(_credential_json(account, cl, _get(cl.credentials, request)))


async def delete_credential(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _get(account.credential_lists, request, "cl_sid")
    del cl.credentials[_get(cl.credentials, request).sid]
    return _no_content()


async def list_trunks(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    items = [_trunk_json(request, account, t) for t in account.trunks.values()]
    return web.json_response(_meta_page(request, "trunks", items))


async def create_trunk(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    form = await request.post()
    domain_name = form.get("DomainName") or None
    if domain_name is not None:
        if not domain_name.endswith(".pstn.twilio.com"):
            raise TwilioError(400, INVALID_DOMAIN, f"Trunk domain name {domain_name} must end in pstn.twilio.com")
        if state.domain_taken(domain_name):
            raise TwilioError(400, DOMAIN_TAKEN, "Trunk Domain already taken")
    trunk = Trunk(new_sid("TK"), form.get("FriendlyName", ""), domain_name)
    account.trunks[trunk.sid] = trunk
    return web.json_response(_trunk_json(request, account, trunk), status=201)


async def fetch_trunk(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(_trunk_json(request, account, _get(account.trunks, request, "trunk_sid")))


async def delete_trunk(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    for number in account.trunk_numbers(trunk.sid):
        number.trunk_sid = None
    del account.trunks[trunk.sid]
    return _no_content()


async def list_origination_urls(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    items = [_origination_url_json(request, account, o) for o in trunk.origination_urls.values()]
    return web.json_response(_meta_page(request, "origination_urls", items))


async def create_origination_url(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    form = await request.post()
    _, _, enabled, friendly_name, sip_url = _required(form, "Weight", "Priority", "Enabled", "FriendlyName", "SipUrl")
    if not sip_url.startswith("sip:"):
        raise TwilioError(400, MISSING_PARAMETER, f"SipUrl {sip_url} must be a sip: URI")
    url = OriginationUrl(
        sid=new_sid("OU"),
        trunk_sid=trunk.sid,
        sip_url=sip_url,
        weight=_integer(form, "Weight", 1, 65535),
        priority=_integer(form, "Priority", 0, 65535),
        enabled=enabled.lower() == "true",
        friendly_name=friendly_name,
    )
    trunk.origination_urls[url.sid] = url
    return web.json_response(_origination_url_json(request, account, url), status=201)


async def fetch_origination_url(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    return web.json_response(_origination_url_json(request, account, _get(trunk.origination_urls, request)))


async def delete_origination_url(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    del trunk.origination_urls[_get(trunk.origination_urls, request).sid]
    return _no_content()


def _attached_credential_list(request: web.Request, account: TwilioAccount, trunk: Trunk) -> CredentialList:
    if request.match_info["sid"] not in trunk.credential_list_sids:
        raise _not_found(request)
    return account.credential_lists[request.match_info["sid"]]


async def list_trunk_credential_lists(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    items = [_trunk_credential_list_json(request, account, trunk, account.credential_lists[sid])
             for sid in trunk.credential_list_sids]
    return web.json_response(_meta_page(request, "credential_lists", items))


async def attach_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    (cl_sid,) = _required(await request.post(), "CredentialListSid")
    cl = account.credential_lists.get(cl_sid)
    if cl is None:
        raise TwilioError(404, NOT_FOUND, f"The requested resource CredentialList {cl_sid} was not found")
    if cl_sid in trunk.credential_list_sids:
        raise TwilioError(400, MISSING_PARAMETER, f"CredentialList {cl_sid} is already associated with this trunk")
    trunk.credential_list_sids.append(cl_sid)
    return web.json_response(_trunk_credential_list_json(request, account, trunk, cl), status=201)


async def fetch_trunk_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    cl = _attached_credential_list(request, account, trunk)
    return web.json_response(_trunk_credential_list_json(request, account, trunk, cl))


async def detach_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    trunk.credential_list_sids.remove(_attached_credential_list(request, account, trunk).sid)
    return _no_content()


def _trunk_number(request: web.Request, account: TwilioAccount, trunk: Trunk) -> IncomingNumber:
    number = account.incoming_phone_numbers.get(request.match_info["sid"])
    if number is None or number.trunk_sid != trunk.sid:
        raise _not_found(request)
    return number


async def list_trunk_numbers(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    items = [_trunk_number_json(request, account, n) for n in account.trunk_numbers(trunk.sid)]
    return web.json_response(_meta_page(request, "phone_numbers", items))


async def attach_number(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    (number_sid,) = _required(await request.post(), "PhoneNumberSid")
    number = account.incoming_phone_numbers.get(number_sid)
    if number is None:
        raise TwilioError(404, NOT_FOUND, f"The requested resource PhoneNumber {number_sid} was not found")
    if number.trunk_sid is not None:
        raise TwilioError(400, NUMBER_ON_TRUNK, f"Phone number {number.phone_number} is already associated "
                          f"with trunk {number.trunk_sid}")
    number.trunk_sid = trunk.sid
    return web.json_response(_trunk_number_json(request, account, number), status=201)


async def fetch_trunk_number(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    return web.json_response(_trunk_number_json(request, account, _trunk_number(request, account, trunk)))


async def detach_number(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _get(account.trunks, request, "trunk_sid")
    _trunk_number(request, account, trunk).trunk_sid = None
    return _no_content()


async def unknown_resource(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    raise _not_found(request)


# Routing

Handler = Callable[[web.Request, TwilioState, TwilioAccount], Awaitable[web.Response]]
SID = "{sid:[A-Za-z0-9]+}"
TK = "/v1/Trunks/{trunk_sid:[A-Za-z0-9]+}"
ACCOUNT = "/2010-04-01/Accounts/{account_sid:[A-Za-z0-9]+}"
CL = ACCOUNT + "/SIP/CredentialLists/{cl_sid:[A-Za-z0-9]+}"

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", ACCOUNT + ".json", fetch_account),
    ("GET", ACCOUNT + "/IncomingPhoneNumbers.json", list_incoming),
    ("POST", ACCOUNT + "/IncomingPhoneNumbers.json", buy_incoming),
    ("GET", ACCOUNT + f"/IncomingPhoneNumbers/{SID}.json", fetch_incoming),
    ("DELETE", ACCOUNT + f"/IncomingPhoneNumbers/{SID}.json", release_incoming),
    ("GET", ACCOUNT + "/OutgoingCallerIds.json", list_caller_ids),
    ("GET", ACCOUNT + f"/OutgoingCallerIds/{SID}.json", fetch_caller_id),
    ("GET", ACCOUNT + "/AvailablePhoneNumbers/{country:[A-Z]{2}}/Local.json", list_available),
    ("GET", ACCOUNT + "/SIP/CredentialLists.json", list_credential_lists),
    ("POST", ACCOUNT + "/SIP/CredentialLists.json", create_credential_list),
    ("GET", CL + ".json", fetch_credential_list),
    ("DELETE", CL + ".json", delete_credential_list),
    ("GET", CL + "/Credentials.json", list_credentials),
    ("POST", CL + "/Credentials.json", create_credential),
    ("GET", CL + f"/Credentials/{SID}.json", fetch_credential),
    ("DELETE", CL + f"/Credentials/{SID}.json", delete_credential),
    ("GET", "/v1/Trunks", list_trunks),
    ("POST", "/v1/Trunks", create_trunk),
    ("GET", TK, fetch_trunk),
    ("DELETE", TK, delete_trunk),
    ("GET", TK + "/OriginationUrls", list_origination_urls),
    ("POST", TK + "/OriginationUrls", create_origination_url),
    ("GET", TK + f"/OriginationUrls/{SID}", fetch_origination_url),
    ("DELETE", TK + f"/OriginationUrls/{SID}", delete_origination_url),
    ("GET", TK + "/CredentialLists", list_trunk_credential_lists),
    ("POST", TK + "/CredentialLists", attach_credential_list),
    ("GET", TK + f"/CredentialLists/{SID}", fetch_trunk_credential_list),
    ("DELETE", TK + f"/CredentialLists/{SID}", detach_credential_list),
    ("GET", TK + "/PhoneNumbers", list_trunk_numbers),
    ("POST", TK + "/PhoneNumbers", attach_number),
    ("GET", TK + f"/PhoneNumbers/{SID}", fetch_trunk_number),
    ("DELETE", TK + f"/PhoneNumbers/{SID}", detach_number),
    # Registered last so that every other Twilio path still answers in Twilio's 404 shape.
    ("*", "/2010-04-01/{tail:.*}", unknown_resource),
    ("*", "/v1/{tail:.*}", unknown_resource),
]


def _endpoint(state: TwilioState, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def endpoint(request: web.Request) -> web.Response:
        try:
            account = _authenticate(request, state)
            path_account = request.match_info.get("account_sid")
            # Another account's resources look exactly like missing ones.
            if path_account is not None and path_account != account.sid:
                raise _not_found(request)
            return await handler(request, state, account)
        except TwilioError as error:
            return error.response()

    return endpoint


def setup_twilio(app: web.Application, state: TwilioState) -> None:
    """Add the Twilio API routes, served from `state`, to `app`."""
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, _endpoint(state, handler))
