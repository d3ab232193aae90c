"""Stateful emulator of LiveKit's Twirp API: SIP trunks, dispatch rules and phone numbers.

`livekit.SIP` speaks protobuf (what the official SDK sends) and JSON; `livekit.PhoneNumberService`
speaks JSON only, because no Python message classes exist for it. Auth, validation and error bodies
follow LiveKit's server (see docs/carriers.md).
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import string
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import jwt
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit.protocol import sip
from livekit.protocol.models import ListUpdate

__all__ = ["LiveKitState", "OfferedNumber", "PhoneNumberRecord", "TwirpError", "setup_livekit"]

PROTOBUF = "application/protobuf"
JSON = "application/json"

TWIRP_STATUS = {
    "canceled": 408, "unknown": 500, "invalid_argument": 400, "malformed": 400,
    "deadline_exceeded": 408, "not_found": 404, "bad_route": 404, "already_exists": 409,
    "permission_denied": 403, "unauthenticated": 401, "resource_exhausted": 429,
    "failed_precondition": 412, "aborted": 409, "out_of_range": 400, "unimplemented": 501,
    "internal": 500, "unavailable": 503, "dataloss": 500,
}

# Locality and region for the area codes the generated inventory draws from.
AREA_CODES = {
    "415": ("San Francisco", "CA"),
    "212": ("New York", "NY"),
    "312": ("Chicago", "IL"),
    "512": ("Austin", "TX"),
    "206": ("Seattle", "WA"),
}
# Generated numbers use the 555-01XX block, which is reserved for fiction and never rings anyone.
_GENERATED = re.compile(r"^\+1([2-9]\d\d)55501\d\d$")
_US_E164 = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_ID_ALPHABET = string.ascii_letters + string.digits

STATUS_ACTIVE = "PHONE_NUMBER_STATUS_ACTIVE"
STATUS_OFFLINE = "PHONE_NUMBER_STATUS_OFFLINE"
STATUS_RELEASED = "PHONE_NUMBER_STATUS_RELEASED"
STATUS_PENDING = "PHONE_NUMBER_STATUS_PENDING"
_STATUS_NAMES = ["PHONE_NUMBER_STATUS_UNSPECIFIED", STATUS_ACTIVE, STATUS_PENDING, STATUS_RELEASED, STATUS_OFFLINE]


class TwirpError(Exception):
    """A Twirp error answer: `{code, msg, meta}` with the HTTP status of its code."""

    def __init__(self, code: str, msg: str, meta: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.meta = code, msg, meta or {}

    def response(self) -> web.Response:
        body = {"code": self.code, "msg": self.msg, "meta": self.meta}
        return web.json_response(body, status=TWIRP_STATUS[self.code])


def new_id(prefix: str) -> str:
    """An id shaped like LiveKit's guids (`ST_`, `SDR_`, `PN_` + 12 characters)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _rfc3339(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def normalize_number(number: str) -> str:
    """LiveKit's NormalizeNumber: drop spaces, dashes and parentheses, make sure of a leading `+`."""
    if not re.fullmatch(r"\+?[\d\- ()]+", number):
        return number
    digits = re.sub(r"[\s\-()]", "", number)
    return digits if digits.startswith("+") else "+" + digits


@dataclass(frozen=True)
class OfferedNumber:
    """A number the project could buy."""

    e164: str
    locality: str = ""
    region: str = ""

    @property
    def area_code(self) -> str:
        return self.e164[2:5]

    @classmethod
    def parse(cls, entry: str | dict[str, Any]) -> OfferedNumber:
        if isinstance(entry, str):
            entry = {"e164": entry}
        if not isinstance(entry, dict):
            raise ValueError(f"available_phone_numbers: expected an E.164 string or an object, got {entry!r}")
        e164 = entry.get("e164") or entry.get("e164_format") or entry.get("phone_number") or ""
        if not _US_E164.match(e164):
            raise ValueError(f"available_phone_numbers: {e164!r} is not a US number in E.164 form (+1NXXNXXXXXX)")
        locality, region = AREA_CODES.get(e164[2:5], ("", ""))
        return cls(e164, entry.get("locality", locality), entry.get("region", region))

    def to_json(self) -> dict[str, Any]:
        """The PhoneNumber message of a search result."""
        return {
            "id": "", "e164_format": self.e164, "country_code": "US", "area_code": self.area_code,
            "number_type": "PHONE_NUMBER_TYPE_LOCAL", "locality": self.locality, "region": self.region,
            "spam_score": 0, "capabilities": ["voice"], "status": "PHONE_NUMBER_STATUS_UNSPECIFIED",
            "created_at": None, "updated_at": None, "assigned_at": None, "released_at": None,
            "sip_dispatch_rule_id": "", "sip_dispatch_rule_ids": [],
        }


@dataclass
class PhoneNumberRecord:
    """A number bought by the project (kept after release, with status RELEASED)."""

    id: str
    number: OfferedNumber
    status: str
    sip_dispatch_rule_id: str = ""
    created_at: datetime.datetime = field(default_factory=_now)
    updated_at: datetime.datetime = field(default_factory=_now)
    assigned_at: datetime.datetime | None = None
    released_at: datetime.datetime | None = None

    @property
    def e164(self) -> str:
        return self.number.e164

    @property
    def is_held(self) -> bool:
        return self.status != STATUS_RELEASED

    def assign(self, rule_id: str) -> None:
        """Route the number through a dispatch rule; a number without one is OFFLINE."""
        self.sip_dispatch_rule_id = rule_id
        self.status = STATUS_ACTIVE if rule_id else STATUS_OFFLINE
        self.assigned_at = _now() if rule_id else None
        self.updated_at = _now()

    def to_json(self) -> dict[str, Any]:
        body = self.number.to_json()
        body.update(
            id=self.id, status=self.status, created_at=_rfc3339(self.created_at),
            updated_at=_rfc3339(self.updated_at), assigned_at=_rfc3339(self.assigned_at),
            released_at=_rfc3339(self.released_at), sip_dispatch_rule_id=self.sip_dispatch_rule_id,
            sip_dispatch_rule_ids=[self.sip_dispatch_rule_id] if self.sip_dispatch_rule_id else [],
        )
        return body


@dataclass
class LiveKitState:
    """Everything one emulated LiveKit project holds."""

    api_key: str
    api_secret: str = field(repr=False)
    offered: tuple[OfferedNumber, ...] | None = None
    inbound_trunks: dict[str, sip.SIPInboundTrunkInfo] = field(default_factory=dict)
    outbound_trunks: dict[str, sip.SIPOutboundTrunkInfo] = field(default_factory=dict)
    dispatch_rules: dict[str, sip.SIPDispatchRuleInfo] = field(default_factory=dict)
    phone_numbers: dict[str, PhoneNumberRecord] = field(default_factory=dict)
    # Numbers another emulator in the same sandbox holds (its DIDs), kept out of this inventory.
    held_elsewhere: Callable[[], Iterable[str]] | None = field(default=None, repr=False)

    @classmethod
    def from_seed(cls, seed: dict[str, Any]) -> LiveKitState:
        """Build a project from `{"api_key", "api_secret", "available_phone_numbers"?}`.

        Without `available_phone_numbers` the project offers generated US numbers (555-01XX).
        """
        api_key, api_secret = seed.get("api_key", "devkey"), seed.get("api_secret", "secret")
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("livekit seed: api_key must be a non-empty string")
        if not isinstance(api_secret, str) or not api_secret:
            raise ValueError("livekit seed: api_secret must be a non-empty string")
        offered = seed.get("available_phone_numbers")
        if offered is not None and not isinstance(offered, list):
            raise ValueError("livekit seed: available_phone_numbers must be a list of E.164 numbers")
        if offered is not None:
            offered = tuple(OfferedNumber.parse(entry) for entry in offered)
        return cls(api_key=api_key, api_secret=api_secret, offered=offered)

    def held_numbers(self) -> set[str]:
        """Numbers already in use: bought and not released, on any trunk, or held elsewhere."""
        held = {record.e164 for record in self.phone_numbers.values() if record.is_held}
        if self.held_elsewhere is not None:
            held.update(self.held_elsewhere())
        for trunk in [*self.inbound_trunks.values(), *self.outbound_trunks.values()]:
            held.update(normalize_number(n) for n in trunk.numbers)
        return held

    def inventory(self, area_code: str | None) -> Iterator[OfferedNumber]:
        """Numbers on offer now, optionally in one area code."""
        held = self.held_numbers()
        for number in self._catalogue(area_code):
            if number.e164 not in held and (not area_code or number.area_code == area_code):
                yield number

    def find_offered(self, e164: str) -> OfferedNumber | None:
        if self.offered is not None:
            return next((n for n in self.offered if n.e164 == e164), None)
        if _GENERATED.match(e164):
            return OfferedNumber.parse(e164)
        return None

    def held_record(self, e164: str) -> PhoneNumberRecord | None:
        return next((r for r in self.phone_numbers.values() if r.is_held and r.e164 == e164), None)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able picture of the project; secrets (API secret, SIP passwords) are left out."""
        return {
            "api_key": self.api_key,
            "inbound_trunks": {k: _redacted(v) for k, v in self.inbound_trunks.items()},
            "outbound_trunks": {k: _redacted(v) for k, v in self.outbound_trunks.items()},
            "dispatch_rules": {k: _to_dict(v) for k, v in self.dispatch_rules.items()},
            "phone_numbers": {k: v.to_json() for k, v in self.phone_numbers.items()},
            "available_phone_numbers": (
                "generated" if self.offered is None else [n.e164 for n in self.inventory(None)]
            ),
        }

    def _catalogue(self, area_code: str | None) -> Iterable[OfferedNumber]:
        if self.offered is not None:
            return self.offered
        codes = [area_code] if area_code else list(AREA_CODES)
        # Counting down from 0199 keeps clear of stock other emulators hand out from 0100 upwards.
        return (OfferedNumber.parse(f"+1{code}55501{line:02d}") for code in codes for line in range(99, -1, -1))


def _to_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _redacted(trunk: sip.SIPInboundTrunkInfo | sip.SIPOutboundTrunkInfo) -> dict[str, Any]:
    body = _to_dict(trunk)
    if body.get("auth_password"):
        body["auth_password"] = "***"
    return body


# --- auth -------------------------------------------------------------------------------------


def authorize(state: LiveKitState, request: web.Request) -> None:
    """Check the bearer JWT like LiveKit: signed by the project's secret and carrying `sip.admin`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TwirpError("unauthenticated", "authorization header missing or not a bearer token")
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise TwirpError("unauthenticated", "invalid token: could not be parsed") from None
    if issuer != state.api_key:
        raise TwirpError("unauthenticated", "invalid API key")
    try:
        with warnings.catch_warnings():
            # LiveKit's dev secret ("secret") is shorter than PyJWT likes; the real server accepts it too.
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            claims = jwt.decode(
                token, state.api_secret, algorithms=["HS256"], issuer=state.api_key,
                options={"require": ["exp", "iss"]}, leeway=10,
            )
    except jwt.ExpiredSignatureError:
        raise TwirpError("unauthenticated", "invalid token: expired") from None
    except jwt.PyJWTError:
        raise TwirpError("unauthenticated", "invalid token: signature could not be verified") from None
    grants = claims.get("sip")
    if not (isinstance(grants, dict) and grants.get("admin") is True):
        raise TwirpError("permission_denied", "permissions denied: the token lacks the sip.admin grant")


# --- SIP validation (livekit/protocol livekit/sip.go) --------------------------------------------


def _invalid(msg: str) -> TwirpError:
    return TwirpError("invalid_argument", msg)


def _check_host(value: str, what: str) -> None:
    if "transport=" in value:
        raise _invalid(f"{what} should not contain transport parameter")
    if any(c in value for c in "@;") or value.startswith(("sip:", "sips:")):
        raise _invalid(f"{what} should be a hostname or IP, not SIP URI")


def _check_inbound(trunk: sip.SIPInboundTrunkInfo) -> None:
    if not (trunk.auth_username or trunk.auth_password or trunk.allowed_addresses or trunk.numbers):
        raise _invalid(
            "for security, one of the fields must be set: AuthUsername+AuthPassword, AllowedAddresses or Numbers"
        )


def _check_outbound(trunk: sip.SIPOutboundTrunkInfo) -> None:
    if not trunk.numbers:
        raise _invalid("no trunk numbers specified")
    if not trunk.address:
        raise _invalid("no outbound address specified")
    _check_host(trunk.address, "trunk address")
    _check_host(trunk.from_host, "from_host")


def _check_list_update(update: ListUpdate) -> None:
    changes = bool(update.add or update.remove)
    if update.clear and (changes or update.set):
        raise _invalid("cannot clear and change the list at the same time")
    if update.set and changes:
        raise _invalid("cannot set and change the list at the same time")
    if any(not v for v in [*update.set, *update.add, *update.remove]):
        raise _invalid("empty element in the list")


def _apply_list_update(current: Any, update: ListUpdate) -> list[str]:
    """LiveKit's applyListUpdate: clear, else set when non-empty, else remove then add."""
    if update.clear:
        return []
    if update.set:
        return list(update.set)
    result = [v for v in current if v not in update.remove]
    result.extend(v for v in dict.fromkeys(update.add) if v not in result)
    return result


def _check_inbound_conflicts(state: LiveKitState, trunk: sip.SIPInboundTrunkInfo, own_id: str = "") -> None:
    """Two inbound trunks without AllowedNumbers may not catch the same called number."""
    if trunk.allowed_numbers:
        return
    mine = [normalize_number(n) for n in trunk.numbers]
    for other in state.inbound_trunks.values():
        if other.sip_trunk_id == own_id or other.allowed_numbers:
            continue
        theirs = {normalize_number(n) for n in other.numbers}
        if mine and theirs:
            shared = [n for n in mine if n in theirs]
        else:
            shared = ["<any>"] if not mine and not theirs else []
        if shared:
            raise _invalid(
                f'Conflicting inbound SIP Trunks: "{own_id or "<new>"}" and "{other.sip_trunk_id}", '
                f"using the same number(s) {json.dumps(shared)} without AllowedNumbers set"
            )


def _stamp(message: Message, *, created: bool) -> None:
    if created:
        message.created_at.GetCurrentTime()
    message.updated_at.GetCurrentTime()


def _page(items: dict[str, Message], page: Any, keep: Callable[[Message], bool]) -> list[Message]:
    """Items in id order after `page.after_id`, at most `page.limit` of them."""
    chosen = [v for k, v in sorted(items.items()) if k > page.after_id and keep(v)]
    return chosen[: page.limit] if page.limit > 0 else chosen


def _matches_numbers(wanted: Iterable[str], numbers: Iterable[str]) -> bool:
    wanted, numbers = {normalize_number(n) for n in wanted}, [normalize_number(n) for n in numbers]
    return not wanted or not numbers or any(n in wanted for n in numbers)


# --- SIP handlers ----------------------------------------------------------------------------


def _create_inbound_trunk(state: LiveKitState, req: sip.CreateSIPInboundTrunkRequest) -> Message:
    if not req.HasField("trunk"):
        raise _invalid("missing trunk")
    if req.trunk.sip_trunk_id:
        raise _invalid("trunk id must not be set")
    trunk = sip.SIPInboundTrunkInfo()
    trunk.CopyFrom(req.trunk)
    _check_inbound(trunk)
    _check_inbound_conflicts(state, trunk)
    trunk.sip_trunk_id = new_id("ST_")
    _stamp(trunk, created=True)
    state.inbound_trunks[trunk.sip_trunk_id] = trunk
    return trunk


def _create_outbound_trunk(state: LiveKitState, req: sip.CreateSIPOutboundTrunkRequest) -> Message:
    if not req.HasField("trunk"):
        raise _invalid("missing trunk")
    if req.trunk.sip_trunk_id:
        raise _invalid("trunk id must not be set")
    trunk = sip.SIPOutboundTrunkInfo()
    trunk.CopyFrom(req.trunk)
    _check_outbound(trunk)
    trunk.sip_trunk_id = new_id("ST_")
    _stamp(trunk, created=True)
    state.outbound_trunks[trunk.sip_trunk_id] = trunk
    return trunk


def _updated_trunk(req: Any, current: Message, apply_update: Callable[[Message, Any], None]) -> Message:
    """The trunk an Update*Trunk request asks for (`replace` or `update`), not yet validated."""
    action = req.WhichOneof("action")
    if action is None:
        raise _invalid("missing or unsupported update action")
    result = type(current)()
    if action == "replace":
        if req.replace.sip_trunk_id and req.replace.sip_trunk_id != req.sip_trunk_id:
            raise _invalid("trunk id in the info must be empty or match the id in the update")
        result.CopyFrom(req.replace)
        result.sip_trunk_id = current.sip_trunk_id
        result.created_at.CopyFrom(current.created_at)
    else:
        result.CopyFrom(current)
        apply_update(result, req.update)
    return result


def _apply_trunk_update(trunk: Any, update: Any) -> None:
    lists = [f.name for f in update.DESCRIPTOR.fields if f.message_type is ListUpdate.DESCRIPTOR]
    for name in lists:
        if update.HasField(name):
            _check_list_update(getattr(update, name))
    for name in lists:
        if update.HasField(name):
            value = _apply_list_update(getattr(trunk, name), getattr(update, name))
            trunk.ClearField(name)
            getattr(trunk, name).extend(value)
    for f in update.DESCRIPTOR.fields:
        if f.name not in lists and f.message_type is None and update.HasField(f.name):
            setattr(trunk, f.name, getattr(update, f.name))


def _update_inbound_trunk(state: LiveKitState, req: sip.UpdateSIPInboundTrunkRequest) -> Message:
    current = _existing(state.inbound_trunks, req.sip_trunk_id, "SIP inbound trunk")
    trunk = _updated_trunk(req, current, _apply_trunk_update)
    _check_inbound(trunk)
    _check_inbound_conflicts(state, trunk, own_id=trunk.sip_trunk_id)
    _stamp(trunk, created=False)
    state.inbound_trunks[trunk.sip_trunk_id] = trunk
    return trunk


def _update_outbound_trunk(state: LiveKitState, req: sip.UpdateSIPOutboundTrunkRequest) -> Message:
    current = _existing(state.outbound_trunks, req.sip_trunk_id, "SIP outbound trunk")
    trunk = _updated_trunk(req, current, _apply_trunk_update)
    _check_outbound(trunk)
    _stamp(trunk, created=False)
    state.outbound_trunks[trunk.sip_trunk_id] = trunk
    return trunk


def _existing(items: dict[str, Any], item_id: str, what: str) -> Any:
    if not item_id:
        raise _invalid(f"{what} id must be set")
    if item_id not in items:
        raise TwirpError("not_found", f"{what} {item_id} not found")
    return items[item_id]


def _get_inbound_trunk(state: LiveKitState, req: sip.GetSIPInboundTrunkRequest) -> Message:
    trunk = _existing(state.inbound_trunks, req.sip_trunk_id, "SIP inbound trunk")
    return sip.GetSIPInboundTrunkResponse(trunk=trunk)


def _get_outbound_trunk(state: LiveKitState, req: sip.GetSIPOutboundTrunkRequest) -> Message:
    trunk = _existing(state.outbound_trunks, req.sip_trunk_id, "SIP outbound trunk")
    return sip.GetSIPOutboundTrunkResponse(trunk=trunk)


def _list_inbound_trunks(state: LiveKitState, req: sip.ListSIPInboundTrunkRequest) -> Message:
    def keep(t: Any) -> bool:
        return (not req.trunk_ids or t.sip_trunk_id in req.trunk_ids) and _matches_numbers(req.numbers, t.numbers)

    return sip.ListSIPInboundTrunkResponse(items=_page(state.inbound_trunks, req.page, keep))


def _list_outbound_trunks(state: LiveKitState, req: sip.ListSIPOutboundTrunkRequest) -> Message:
    def keep(t: Any) -> bool:
        return (not req.trunk_ids or t.sip_trunk_id in req.trunk_ids) and _matches_numbers(req.numbers, t.numbers)

    return sip.ListSIPOutboundTrunkResponse(items=_page(state.outbound_trunks, req.page, keep))


def _delete_trunk(state: LiveKitState, req: sip.DeleteSIPTrunkRequest) -> Message:
    """Delete an inbound or outbound trunk; the answer is the legacy SIPTrunkInfo shape."""
    trunk_id = req.sip_trunk_id
    if trunk_id in state.inbound_trunks:
        t = state.inbound_trunks.pop(trunk_id)
        return sip.SIPTrunkInfo(
            sip_trunk_id=trunk_id, kind=sip.SIPTrunkInfo.TRUNK_INBOUND, name=t.name, metadata=t.metadata,
            outbound_number=t.numbers[0] if t.numbers else "", inbound_addresses=t.allowed_addresses,
            inbound_numbers=t.allowed_numbers, inbound_username=t.auth_username,
        )
    if trunk_id in state.outbound_trunks:
        t = state.outbound_trunks.pop(trunk_id)
        return sip.SIPTrunkInfo(
            sip_trunk_id=trunk_id, kind=sip.SIPTrunkInfo.TRUNK_OUTBOUND, name=t.name, metadata=t.metadata,
            outbound_address=t.address, transport=t.transport,
            outbound_number=t.numbers[0] if t.numbers else "", outbound_username=t.auth_username,
        )
    raise TwirpError("not_found", f"SIP trunk {trunk_id} not found")


def _go_quote(text: str) -> str:
    """Go's %q for the plain strings in LiveKit's messages."""
    return json.dumps(text, ensure_ascii=False)


def _rule_keys(rule: sip.SIPDispatchRuleInfo) -> Iterator[tuple[str, str, str, str]]:
    """The (PIN, trunk, caller number, called number) combinations a rule claims.

    An empty list stands for the catch-all "", which collides only with other catch-alls: a rule
    without trunk ids does not conflict with one for a given trunk (the specific rule wins at call time).
    """
    kind = rule.rule.WhichOneof("rule")
    if kind is None:
        raise _invalid("missing rule")
    pin = getattr(rule.rule, kind).pin
    for trunk in rule.trunk_ids or [""]:
        for caller in rule.inbound_numbers or [""]:
            for called in rule.numbers or [""]:
                yield pin, trunk, normalize_number(caller), normalize_number(called)


def _check_dispatch_conflicts(state: LiveKitState, rule: sip.SIPDispatchRuleInfo) -> None:
    """LiveKit's DispatchRuleValidator (livekit/protocol sip/sip.go) over every rule with `rule` in place.

    Rules are walked in id order, as LiveKit lists them, with a new rule (no id yet) last and an
    updated one in its own place, so it never conflicts with its former self. A key repeated within
    one rule (a trunk id listed twice, "+1 415…" and "+1415…") conflicts too, as at LiveKit.
    """
    own_id = rule.sip_dispatch_rule_id
    rules = [rule if rule_id == own_id else r for rule_id, r in sorted(state.dispatch_rules.items())]
    if not own_id:
        rules.append(rule)
    claimed: dict[tuple[str, str, str, str], sip.SIPDispatchRuleInfo] = {}
    for current in rules:
        for key in _rule_keys(current):
            other = claimed.get(key)
            if other is not None:
                raise _invalid(
                    "Dispatch rule for the same trunk, inbound number, number, and PIN combination already exists "
                    f"in dispatch rule {_go_quote(other.sip_dispatch_rule_id or '<new>')} "
                    f"{_go_quote(other.name or '<blank name>')}"
                )
            claimed[key] = current


def _create_dispatch_rule(state: LiveKitState, req: sip.CreateSIPDispatchRuleRequest) -> Message:
    rule = sip.SIPDispatchRuleInfo()
    if req.HasField("dispatch_rule"):
        if req.dispatch_rule.sip_dispatch_rule_id:
            raise _invalid("rule id must not be set")
        rule.CopyFrom(req.dispatch_rule)
    else:
        # The flat request fields are the deprecated form of the same rule.
        rule = sip.SIPDispatchRuleInfo(
            trunk_ids=req.trunk_ids, inbound_numbers=req.inbound_numbers, name=req.name,
            hide_phone_number=req.hide_phone_number, metadata=req.metadata, attributes=req.attributes,
            room_preset=req.room_preset,
        )
        for name in ("rule", "room_config"):
            if req.HasField(name):
                getattr(rule, name).CopyFrom(getattr(req, name))
    if not rule.HasField("rule"):
        raise _invalid("missing rule")
    _check_dispatch_conflicts(state, rule)
    rule.sip_dispatch_rule_id = new_id("SDR_")
    _stamp(rule, created=True)
    state.dispatch_rules[rule.sip_dispatch_rule_id] = rule
    return rule


def _update_dispatch_rule(state: LiveKitState, req: sip.UpdateSIPDispatchRuleRequest) -> Message:
    current = _existing(state.dispatch_rules, req.sip_dispatch_rule_id, "SIP dispatch rule")
    action = req.WhichOneof("action")
    if action is None:
        raise _invalid("missing or unsupported update action")
    rule = sip.SIPDispatchRuleInfo()
    if action == "replace":
        if req.replace.sip_dispatch_rule_id not in ("", req.sip_dispatch_rule_id):
            raise _invalid("rule id in the info must be empty or match the id in the update")
        rule.CopyFrom(req.replace)
        rule.sip_dispatch_rule_id = current.sip_dispatch_rule_id
        rule.created_at.CopyFrom(current.created_at)
    else:
        rule.CopyFrom(current)
        _apply_rule_update(rule, req.update)
    if not rule.HasField("rule"):
        raise _invalid("missing rule")
    _check_dispatch_conflicts(state, rule)
    _stamp(rule, created=False)
    state.dispatch_rules[rule.sip_dispatch_rule_id] = rule
    return rule


def _apply_rule_update(rule: sip.SIPDispatchRuleInfo, update: sip.SIPDispatchRuleUpdate) -> None:
    if update.HasField("trunk_ids"):
        _check_list_update(update.trunk_ids)
        trunk_ids = _apply_list_update(rule.trunk_ids, update.trunk_ids)
        del rule.trunk_ids[:]
        rule.trunk_ids.extend(trunk_ids)
    if update.HasField("rule"):
        rule.rule.CopyFrom(update.rule)
    for name in ("name", "metadata"):
        if update.HasField(name):
            setattr(rule, name, getattr(update, name))
    for key, value in update.attributes.items():
        if value:
            rule.attributes[key] = value
        else:
            rule.attributes.pop(key, None)


def _list_dispatch_rules(state: LiveKitState, req: sip.ListSIPDispatchRuleRequest) -> Message:
    def keep(r: Any) -> bool:
        wanted = set(req.trunk_ids)
        return (not req.dispatch_rule_ids or r.sip_dispatch_rule_id in req.dispatch_rule_ids) and (
            not wanted or not r.trunk_ids or bool(wanted.intersection(r.trunk_ids))
        )

    return sip.ListSIPDispatchRuleResponse(items=_page(state.dispatch_rules, req.page, keep))


def _delete_dispatch_rule(state: LiveKitState, req: sip.DeleteSIPDispatchRuleRequest) -> Message:
    rule = _existing(state.dispatch_rules, req.sip_dispatch_rule_id, "SIP dispatch rule")
    del state.dispatch_rules[rule.sip_dispatch_rule_id]
    # A number whose rule is gone has nowhere to send calls: it goes OFFLINE.
    for record in state.phone_numbers.values():
        if record.is_held and record.sip_dispatch_rule_id == rule.sip_dispatch_rule_id:
            record.assign("")
    return rule


SIP_METHODS: dict[str, tuple[type[Message], Callable[[LiveKitState, Any], Message]]] = {
    "CreateSIPInboundTrunk": (sip.CreateSIPInboundTrunkRequest, _create_inbound_trunk),
    "CreateSIPOutboundTrunk": (sip.CreateSIPOutboundTrunkRequest, _create_outbound_trunk),
    "UpdateSIPInboundTrunk": (sip.UpdateSIPInboundTrunkRequest, _update_inbound_trunk),
    "UpdateSIPOutboundTrunk": (sip.UpdateSIPOutboundTrunkRequest, _update_outbound_trunk),
    "GetSIPInboundTrunk": (sip.GetSIPInboundTrunkRequest, _get_inbound_trunk),
    "GetSIPOutboundTrunk": (sip.GetSIPOutboundTrunkRequest, _get_outbound_trunk),
    "ListSIPInboundTrunk": (sip.ListSIPInboundTrunkRequest, _list_inbound_trunks),
    "ListSIPOutboundTrunk": (sip.ListSIPOutboundTrunkRequest, _list_outbound_trunks),
    "DeleteSIPTrunk": (sip.DeleteSIPTrunkRequest, _delete_trunk),
    "CreateSIPDispatchRule": (sip.CreateSIPDispatchRuleRequest, _create_dispatch_rule),
    "UpdateSIPDispatchRule": (sip.UpdateSIPDispatchRuleRequest, _update_dispatch_rule),
    "ListSIPDispatchRule": (sip.ListSIPDispatchRuleRequest, _list_dispatch_rules),
    "DeleteSIPDispatchRule": (sip.DeleteSIPDispatchRuleRequest, _delete_dispatch_rule),
}


# --- PhoneNumberService (JSON) ---------------------------------------------------------------


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


class _Fields:
    """Typed reads from a JSON request body that may use snake_case or lowerCamel names."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise TwirpError("malformed", "the json request could not be decoded: expected an object")
        self._body = {_snake(k): v for k, v in body.items()}

    def text(self, name: str) -> str | None:
        value = self._body.get(name)
        if value is not None and not isinstance(value, str):
            raise TwirpError("malformed", f"the json request could not be decoded: {name} must be a string")
        return value

    def texts(self, name: str) -> list[str]:
        value = self._body.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TwirpError("malformed", f"the json request could not be decoded: {name} must be a list of strings")
        return value

    def integer(self, name: str) -> int | None:
        value = self._body.get(name)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TwirpError("malformed", f"the json request could not be decoded: {name} must be an integer")
        return value

    def page_offset(self) -> int:
        token = _Fields(self._body.get("page_token") or {}).text("token") or ""
        if token and not token.isdigit():
            raise _invalid("invalid page token")
        return int(token or 0)

    def statuses(self) -> set[str]:
        raw = self._body.get("statuses") or []
        if not isinstance(raw, list):
            raise TwirpError("malformed", "the json request could not be decoded: statuses must be a list")
        # JSON enums arrive as names, or as numbers from clients that send them that way.
        names = {_STATUS_NAMES[v] if isinstance(v, int) and 0 <= v < len(_STATUS_NAMES) else v for v in raw}
        if not names.issubset(_STATUS_NAMES):
            raise TwirpError("malformed", "the json request could not be decoded: unknown status")
        return names


def _limit(fields: _Fields) -> int:
    limit = fields.integer("limit")
    if limit is not None and limit < 0:
        raise _invalid("limit must not be negative")
    return limit or 50


def _paged(items: list[Any], offset: int, limit: int) -> tuple[list[Any], dict[str, str] | None]:
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, {"token": str(offset + limit)} if more else None


def _search_numbers(state: LiveKitState, fields: _Fields) -> dict[str, Any]:
    if (fields.text("country_code") or "US") != "US":
        raise _invalid("only US phone numbers are available")
    area_code = fields.text("area_code") or None
    if area_code is not None and not re.fullmatch(r"[2-9]\d\d", area_code):
        raise _invalid(f"invalid area code {area_code!r}")
    offset, limit = fields.page_offset(), _limit(fields)
    found = []
    for number in state.inventory(area_code):
        found.append(number)
        if len(found) > offset + limit:
            break
    page, next_token = _paged(found, offset, limit)
    return {"items": [n.to_json() for n in page], "next_page_token": next_token}


def _purchase_numbers(state: LiveKitState, fields: _Fields) -> dict[str, Any]:
    wanted = list(dict.fromkeys(fields.texts("phone_numbers")))
    rule_id = fields.text("sip_dispatch_rule_id") or ""
    if not wanted:
        raise _invalid("phone_numbers must not be empty")
    if rule_id and rule_id not in state.dispatch_rules:
        raise TwirpError("not_found", f"SIP dispatch rule {rule_id} not found")
    held, offers = state.held_numbers(), []
    for e164 in wanted:
        if not _E164.match(e164):
            raise _invalid(f"{e164!r} is not a phone number in E.164 form")
        if state.held_record(e164):
            raise TwirpError("already_exists", f"phone number {e164} already belongs to this project")
        offer = state.find_offered(e164)
        if offer is None or e164 in held:
            raise TwirpError("failed_precondition", f"phone number {e164} is not available for purchase")
        offers.append(offer)
    bought = []
    for offer in offers:
        record = PhoneNumberRecord(id=new_id("PN_"), number=offer, status=STATUS_PENDING)
        record.assign(rule_id)
        state.phone_numbers[record.id] = record
        bought.append(record.to_json())
    return {"phone_numbers": bought}


def _find_record(state: LiveKitState, fields: _Fields) -> PhoneNumberRecord:
    number_id, e164 = fields.text("id"), fields.text("phone_number")
    if number_id:
        record = state.phone_numbers.get(number_id)
    elif e164:
        record = state.held_record(e164)
    else:
        raise _invalid("one of id or phone_number must be set")
    if record is None:
        raise TwirpError("not_found", f"phone number {number_id or e164} not found")
    return record


def _list_numbers(state: LiveKitState, fields: _Fields) -> dict[str, Any]:
    statuses, rule_id = fields.statuses(), fields.text("sip_dispatch_rule_id")
    chosen = [
        r for r in sorted(state.phone_numbers.values(), key=lambda r: r.created_at)
        if (not statuses or r.status in statuses) and (not rule_id or r.sip_dispatch_rule_id == rule_id)
    ]
    page, next_token = _paged(chosen, fields.page_offset(), _limit(fields))
    return {
        "items": [r.to_json() for r in page], "next_page_token": next_token, "total_count": len(chosen),
        "offline_count": sum(r.status == STATUS_OFFLINE for r in chosen),
    }


def _get_number(state: LiveKitState, fields: _Fields) -> dict[str, Any]:
    return {"phone_number": _find_record(state, fields).to_json()}


def _update_number(state: LiveKitState, fields: _Fields) -> dict[str, Any]:
    record = _find_record(state, fields)
    rule_id = fields.text("sip_dispatch_rule_id")
    if not record.is_held:
        raise TwirpError("failed_precondition", f"phone number {record.id} has been released")
    if rule_id and rule_id not in state.dispatch_rules:
        raise TwirpError("not_found", f"SIP dispatch rule {rule_id} not found")
    if rule_id is not None:
        record.assign(rule_id)
    return {"phone_number": record.to_json()}


def _release_numbers(state: LiveKitState, fields: _Fields) -> dict[str, Any]:
    ids, numbers = fields.texts("ids"), fields.texts("phone_numbers")
    if not ids and not numbers:
        raise _invalid("one of ids or phone_numbers must be set")
    records = []
    for number_id in ids:
        if number_id not in state.phone_numbers:
            raise TwirpError("not_found", f"phone number {number_id} not found")
        records.append(state.phone_numbers[number_id])
    for e164 in numbers:
        record = state.held_record(e164)
        if record is None:
            raise TwirpError("not_found", f"phone number {e164} not found")
        records.append(record)
    # Releasing a number that is already released changes nothing, so a repeated release succeeds.
    for record in records:
        if record.is_held:
            record.sip_dispatch_rule_id, record.status = "", STATUS_RELEASED
            record.released_at = record.updated_at = _now()
    return {}


NUMBER_METHODS: dict[str, Callable[[LiveKitState, _Fields], dict[str, Any]]] = {
    "SearchPhoneNumbers": _search_numbers,
    "PurchasePhoneNumber": _purchase_numbers,
    "ListPhoneNumbers": _list_numbers,
    "GetPhoneNumber": _get_number,
    "UpdatePhoneNumber": _update_number,
    "ReleasePhoneNumbers": _release_numbers,
}


# --- HTTP --------------------------------------------------------------------------------------


def _no_handler(request: web.Request) -> TwirpError:
    return TwirpError("bad_route", f"no handler for path {request.path!r}")


async def _decode_sip(request: web.Request, message_type: type[Message]) -> Message:
    raw = await request.read()
    try:
        if request.content_type == PROTOBUF:
            return message_type.FromString(raw)
        return json_format.Parse(raw or b"{}", message_type(), ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError):
        kind = "protobuf" if request.content_type == PROTOBUF else "json"
        raise TwirpError("malformed", f"the {kind} request could not be decoded") from None


def _encode_sip(request: web.Request, message: Message) -> web.Response:
    if request.content_type == PROTOBUF:
        return web.Response(body=message.SerializeToString(), content_type=PROTOBUF)
    return web.json_response(_to_dict(message))


def _sip_handler(state: LiveKitState) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        try:
            authorize(state, request)
            if request.content_type not in (PROTOBUF, JSON):
                raise TwirpError("bad_route", f"unexpected Content-Type: {request.content_type!r}")
            if request.match_info["method"] not in SIP_METHODS:
                raise _no_handler(request)
            message_type, handler = SIP_METHODS[request.match_info["method"]]
            return _encode_sip(request, handler(state, await _decode_sip(request, message_type)))
        except TwirpError as error:
            return error.response()

    return handle


def _numbers_handler(state: LiveKitState) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        try:
            authorize(state, request)
            if request.content_type != JSON:
                raise TwirpError("bad_route", "PhoneNumberService is served as JSON only (application/json)")
            handler = NUMBER_METHODS.get(request.match_info["method"])
            if handler is None:
                raise _no_handler(request)
            try:
                body = json.loads(await request.read() or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise TwirpError("malformed", "the json request could not be decoded") from None
            return web.json_response(handler(state, _Fields(body)))
        except TwirpError as error:
            return error.response()

    return handle


def setup_livekit(app: web.Application, state: LiveKitState) -> None:
    """Serve `livekit.SIP` and `livekit.PhoneNumberService` for `state` on `app`."""
    app.router.add_post("/twirp/livekit.SIP/{method}", _sip_handler(state))
    app.router.add_post("/twirp/livekit.PhoneNumberService/{method}", _numbers_handler(state))
