"""Twilio's routes: authenticate, read the request, act on the state, answer in Twilio's JSON.

api.twilio.com paths (`/2010-04-01/Accounts/{AC}/...json`) and trunking.twilio.com paths
(`/v1/Trunks...`) are served from one aiohttp app.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from providers.sandbox.twilio import wire
from providers.sandbox.twilio.errors import (
    AUTHENTICATE,
    TwilioError,
    invalid_parameter,
    missing_parameter,
    resource_not_found,
)
from providers.sandbox.twilio.state import (
    CallerId,
    CredentialList,
    Caller,
    IncomingNumber,
    OriginationUrl,
    Trunk,
    TwilioAccount,
    TwilioState,
    new_sid,
)

# Request reading


def _unauthenticated() -> TwilioError:
    return TwilioError(401, AUTHENTICATE, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})


def _authenticate(request: web.Request, state: TwilioState) -> Caller:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise _unauthenticated()
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthenticated() from None
    caller = state.authenticate(username, password, request.match_info.get("account_sid"))
    if caller is None:
        raise _unauthenticated()
    return caller


def _not_found(request: web.Request) -> TwilioError:
    return resource_not_found(request.path)


def _required(form: MultiDictProxy[Any], *names: str) -> list[str]:
    for name in names:
        if not form.get(name):
            raise missing_parameter(name)
    return [form[name] for name in names]


def _integer(form: MultiDictProxy[Any], name: str, low: int, high: int) -> int:
    try:
        value = int(form[name])
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise invalid_parameter(f"{name} must be an integer between {low} and {high}")
    return value


def _get(items: dict[str, Any], request: web.Request, key: str = "sid") -> Any:
    """The item the path names under `key`; a missing one is Twilio's 404 for the path."""
    item = items.get(request.match_info[key])
    if item is None:
        raise _not_found(request)
    return item


def _trunk(request: web.Request, account: TwilioAccount) -> Trunk:
    return _get(account.trunks, request, "trunk_sid")


def _credential_list(request: web.Request, account: TwilioAccount) -> CredentialList:
    return _get(account.credential_lists, request, "cl_sid")


def _attached_credential_list(request: web.Request, account: TwilioAccount, trunk: Trunk) -> CredentialList:
    if request.match_info["sid"] not in trunk.credential_list_sids:
        raise _not_found(request)
    return account.credential_lists[request.match_info["sid"]]


def _trunk_number(request: web.Request, account: TwilioAccount, trunk: Trunk) -> IncomingNumber:
    number = account.incoming_phone_numbers.get(request.match_info["sid"])
    if number is None or number.trunk_sid != trunk.sid:
        raise _not_found(request)
    return number


def _created(body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=201)


def _no_content() -> web.Response:
    return web.Response(status=204)


# Handlers. Each takes (request, state, account) once authentication has passed.


async def fetch_account(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(wire.account_json(account))


def _numbers_page(
    request: web.Request,
    key: str,
    numbers: Iterable[IncomingNumber | CallerId],
    render: Callable[[Any], dict[str, Any]],
) -> web.Response:
    """A page of incoming numbers or caller ids; like Twilio, PhoneNumber filters by partial match."""
    wanted = request.query.get("PhoneNumber", "")
    items = [render(n) for n in numbers if wanted in n.phone_number]
    return web.json_response(wire.api_page(request, key, items))


async def list_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return _numbers_page(request, "incoming_phone_numbers", account.incoming_phone_numbers.values(),
                         partial(wire.incoming_json, account))


async def fetch_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(wire.incoming_json(account, _get(account.incoming_phone_numbers, request)))


async def buy_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    form = await request.post()
    e164, area_code = form.get("PhoneNumber", ""), form.get("AreaCode", "")
    if not e164 and not area_code:
        raise missing_parameter("PhoneNumber")
    number = state.buy_number(account, e164, area_code, form.get("FriendlyName", ""))
    return _created(wire.incoming_json(account, number))


async def release_incoming(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    del account.incoming_phone_numbers[_get(account.incoming_phone_numbers, request).sid]
    return _no_content()


async def list_caller_ids(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return _numbers_page(request, "outgoing_caller_ids", account.outgoing_caller_ids.values(),
                         partial(wire.caller_id_json, account))


async def fetch_caller_id(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(wire.caller_id_json(account, _get(account.outgoing_caller_ids, request)))


async def list_available(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    if request.match_info["country"] != "US":
        raise _not_found(request)
    area_code = request.query.get("AreaCode")
    _, size = wire.page_params(request)
    items = []
    for stock in state.stock(account, area_code):
        if len(items) == size:
            break
        items.append(wire.stock_json(stock))
    # Twilio answers a search with a single page.
    return web.json_response(wire.api_page(request, "available_phone_numbers", items))


async def list_credential_lists(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    items = [wire.credential_list_json(account, cl) for cl in account.credential_lists.values()]
    return web.json_response(wire.api_page(request, "credential_lists", items))


async def create_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    (friendly_name,) = _required(await request.post(), "FriendlyName")
    return _created(wire.credential_list_json(account, account.add_credential_list(friendly_name)))


async def fetch_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(wire.credential_list_json(account, _credential_list(request, account)))


async def delete_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    account.delete_credential_list(_credential_list(request, account))
    return _no_content()


async def list_credentials(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _credential_list(request, account)
    items = [wire.credential_json(account, cl, c) for c in cl.credentials.values()]
    return web.json_response(wire.api_page(request, "credentials", items))


async def create_credential(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _credential_list(request, account)
    username, password = _required(await request.post(), "Username", "Password")
    return _created(wire.credential_json(account, cl, cl.add(username, password)))


async def fetch_credential(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _credential_list(request, account)
    return web.json_response(wire.credential_json(account, cl, _get(cl.credentials, request)))


async def delete_credential(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    cl = _credential_list(request, account)
    del cl.credentials[_get(cl.credentials, request).sid]
    return _no_content()


async def list_trunks(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    items = [wire.trunk_json(request, account, t) for t in account.trunks.values()]
    return web.json_response(wire.trunking_page(request, "trunks", items))


async def create_trunk(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    form = await request.post()
    trunk = state.create_trunk(account, form.get("FriendlyName", ""), form.get("DomainName") or None)
    return _created(wire.trunk_json(request, account, trunk))


async def fetch_trunk(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    return web.json_response(wire.trunk_json(request, account, _trunk(request, account)))


async def delete_trunk(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    account.delete_trunk(_trunk(request, account))
    return _no_content()


async def list_origination_urls(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    items = [wire.origination_url_json(request, account, o) for o in trunk.origination_urls.values()]
    return web.json_response(wire.trunking_page(request, "origination_urls", items))


async def create_origination_url(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    form = await request.post()
    _, _, enabled, friendly_name, sip_url = _required(form, "Weight", "Priority", "Enabled", "FriendlyName", "SipUrl")
    if not sip_url.startswith("sip:"):
        raise invalid_parameter(f"SipUrl {sip_url} must be a sip: URI")
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
    return _created(wire.origination_url_json(request, account, url))


async def fetch_origination_url(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    return web.json_response(wire.origination_url_json(request, account, _get(trunk.origination_urls, request)))


async def update_origination_url(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    """Twilio's update: every field optional, checked as on create; answers 200 with the resource."""
    url = _get(_trunk(request, account).origination_urls, request)
    form = await request.post()
    if "SipUrl" in form:
        if not form["SipUrl"].startswith("sip:"):
            raise invalid_parameter(f"SipUrl {form['SipUrl']} must be a sip: URI")
        url.sip_url = form["SipUrl"]
    if "Weight" in form:
        url.weight = _integer(form, "Weight", 1, 65535)
    if "Priority" in form:
        url.priority = _integer(form, "Priority", 0, 65535)
    if "Enabled" in form:
        url.enabled = form["Enabled"].lower() == "true"
    if form.get("FriendlyName"):
        url.friendly_name = form["FriendlyName"]
    return web.json_response(wire.origination_url_json(request, account, url))


async def delete_origination_url(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    del trunk.origination_urls[_get(trunk.origination_urls, request).sid]
    return _no_content()


async def list_trunk_credential_lists(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    items = [wire.trunk_credential_list_json(request, account, trunk, account.credential_lists[sid])
             for sid in trunk.credential_list_sids]
    return web.json_response(wire.trunking_page(request, "credential_lists", items))


async def attach_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    (cl_sid,) = _required(await request.post(), "CredentialListSid")
    cl = account.attach_credential_list(trunk, cl_sid)
    return _created(wire.trunk_credential_list_json(request, account, trunk, cl))


async def fetch_trunk_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    cl = _attached_credential_list(request, account, trunk)
    return web.json_response(wire.trunk_credential_list_json(request, account, trunk, cl))


async def detach_credential_list(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    trunk.credential_list_sids.remove(_attached_credential_list(request, account, trunk).sid)
    return _no_content()


async def list_trunk_numbers(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    items = [wire.trunk_number_json(request, account, n) for n in account.trunk_numbers(trunk.sid)]
    return web.json_response(wire.trunking_page(request, "phone_numbers", items))


async def attach_number(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    (number_sid,) = _required(await request.post(), "PhoneNumberSid")
    return _created(wire.trunk_number_json(request, account, account.attach_number(trunk, number_sid)))


async def fetch_trunk_number(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
    return web.json_response(wire.trunk_number_json(request, account, _trunk_number(request, account, trunk)))


async def detach_number(request: web.Request, state: TwilioState, account: TwilioAccount) -> web.Response:
    trunk = _trunk(request, account)
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
    ("POST", TK + f"/OriginationUrls/{SID}", update_origination_url),
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


# A Standard API key may not read the Account resource. Twilio's docs say so without naming the answer
# [twilio.com/docs/iam/api-keys/key-resource-v1, "Types of keys"]; the sandbox answers 401 20003
# "Authenticate", Twilio's answer to credentials that do not open what is asked
# [twilio.com/docs/errors/20003]. Trunkline never reads the Account resource, so it never meets this.
ACCOUNT_MANAGEMENT = {fetch_account}


def _endpoint(state: TwilioState, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def endpoint(request: web.Request) -> web.Response:
        try:
            caller = _authenticate(request, state)
            if handler in ACCOUNT_MANAGEMENT and not caller.may_manage_account:
                raise _unauthenticated()
            account = caller.account
            path_account = request.match_info.get("account_sid")
            # Another account's resources look exactly like missing ones.
            if path_account is not None and path_account != account.sid:
                raise _not_found(request)
            return await handler(request, state, account)
        except TwilioError as error:
            return wire.error_response(error)

    return endpoint


def setup_twilio(app: web.Application, state: TwilioState) -> None:
    """Add the Twilio API routes, served from `state`, to `app`."""
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, _endpoint(state, handler))
