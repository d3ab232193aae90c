"""What one emulated LiveKit project holds, its number inventory and the rules on its phone numbers.

No HTTP here. SIP trunks and dispatch rules are kept as LiveKit's own protobuf messages; the checks
on them are in `sip_rules`.
"""

from __future__ import annotations

import datetime
import re
import secrets
import string
from dataclasses import dataclass, field
from collections.abc import MutableMapping
from typing import Any, Callable, Iterable, Iterator

from livekit.protocol import sip

from providers.sandbox.livekit import wire
from providers.sandbox.livekit.errors import TwirpError, invalid, not_found
from providers.sandbox.livekit.wire import STATUS_ACTIVE, STATUS_OFFLINE, STATUS_PENDING, STATUS_RELEASED

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


def new_id(prefix: str) -> str:
    """An id shaped like LiveKit's guids (`ST_`, `SDR_`, `PN_` + 12 characters)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


RuleKey = tuple[str, str, str, str]  # a dispatch rule's (PIN, trunk id, caller number, called number)


def rule_claims(rule: sip.SIPDispatchRuleInfo) -> Iterator[RuleKey]:
    """The (PIN, trunk, caller number, called number) combinations a rule claims.

    An empty list stands for the catch-all "", which collides only with other catch-alls: a rule
    without trunk ids does not conflict with one for a given trunk (the specific rule wins at call time).
    """
    kind = rule.rule.WhichOneof("rule")
    if kind is None:
        raise invalid("missing rule")
    pin = getattr(rule.rule, kind).pin
    for trunk in rule.trunk_ids or [""]:
        for caller in rule.inbound_numbers or [""]:
            for called in rule.numbers or [""]:
                yield pin, trunk, normalize_number(caller), normalize_number(called)


class DispatchRules(MutableMapping[str, sip.SIPDispatchRuleInfo]):
    """The project's dispatch rules by id, knowing which rule claims each combination (`claimant`), however
    the mapping is changed (pop, update, … all go through __setitem__ and __delitem__): a rule is checked
    against the others in the time its own combinations take (sip_rules.check_dispatch_rule), where going
    through every rule cost a millisecond per hundred rules."""

    def __init__(self) -> None:
        self._rules: dict[str, sip.SIPDispatchRuleInfo] = {}
        self._claims_of: dict[str, tuple[RuleKey, ...]] = {}
        self._claimant: dict[RuleKey, str] = {}

    def claimant(self, key: RuleKey) -> str | None:
        """The id of the rule that claims the combination, if one does."""
        return self._claimant.get(key)

    def __getitem__(self, rule_id: str) -> sip.SIPDispatchRuleInfo:
        return self._rules[rule_id]

    def __setitem__(self, rule_id: str, rule: sip.SIPDispatchRuleInfo) -> None:
        claims = tuple(rule_claims(rule))
        if rule_id in self._rules:
            del self[rule_id]
        self._rules[rule_id] = rule
        self._claims_of[rule_id] = claims
        for key in claims:
            self._claimant[key] = rule_id

    def __delitem__(self, rule_id: str) -> None:
        del self._rules[rule_id]
        for key in self._claims_of.pop(rule_id):
            if self._claimant.get(key) == rule_id:
                del self._claimant[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return repr(self._rules)


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

    def release(self) -> None:
        # Releasing a number that is already released changes nothing, so a repeated release succeeds.
        if self.is_held:
            self.sip_dispatch_rule_id, self.status = "", STATUS_RELEASED
            self.released_at = self.updated_at = _now()


@dataclass
class LiveKitState:
    """Everything one emulated LiveKit project holds."""

    api_key: str
    api_secret: str = field(repr=False)
    offered: tuple[OfferedNumber, ...] | None = None
    inbound_trunks: dict[str, sip.SIPInboundTrunkInfo] = field(default_factory=dict)
    outbound_trunks: dict[str, sip.SIPOutboundTrunkInfo] = field(default_factory=dict)
    dispatch_rules: DispatchRules = field(default_factory=DispatchRules)
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

    def check_rule_exists(self, rule_id: str) -> None:
        """A number may only be routed through a dispatch rule that exists ("" routes nowhere)."""
        if rule_id and rule_id not in self.dispatch_rules:
            raise not_found(f"SIP dispatch rule {rule_id}")

    def purchase(self, wanted: list[str], rule_id: str) -> list[PhoneNumberRecord]:
        """Buy every number in `wanted`, or none of them if one cannot be bought."""
        self.check_rule_exists(rule_id)
        held, offers = self.held_numbers(), []
        for e164 in wanted:
            if not _E164.match(e164):
                raise invalid(f"{e164!r} is not a phone number in E.164 form")
            if self.held_record(e164):
                raise TwirpError("already_exists", f"phone number {e164} already belongs to this project")
            offer = self.find_offered(e164)
            if offer is None or e164 in held:
                raise TwirpError("failed_precondition", f"phone number {e164} is not available for purchase")
            offers.append(offer)
        bought = []
        for offer in offers:
            record = PhoneNumberRecord(id=new_id("PN_"), number=offer, status=STATUS_PENDING)
            record.assign(rule_id)
            self.phone_numbers[record.id] = record
            bought.append(record)
        return bought

    def route(self, record: PhoneNumberRecord, rule_id: str | None) -> None:
        """Send the number's calls to `rule_id` ("" for nowhere); None leaves the routing as it is."""
        if not record.is_held:
            raise TwirpError("failed_precondition", f"phone number {record.id} has been released")
        self.check_rule_exists(rule_id or "")
        if rule_id is not None:
            record.assign(rule_id)

    def release(self, ids: list[str], numbers: list[str]) -> None:
        """Release the numbers with these ids and these held E.164s, or none if one is unknown."""
        records = []
        for number_id in ids:
            if number_id not in self.phone_numbers:
                raise not_found(f"phone number {number_id}")
            records.append(self.phone_numbers[number_id])
        for e164 in numbers:
            record = self.held_record(e164)
            if record is None:
                raise not_found(f"phone number {e164}")
            records.append(record)
        for record in records:
            record.release()

    def delete_dispatch_rule(self, rule_id: str) -> None:
        del self.dispatch_rules[rule_id]
        # A number whose rule is gone has nowhere to send calls: it goes OFFLINE.
        for record in self.phone_numbers.values():
            if record.is_held and record.sip_dispatch_rule_id == rule_id:
                record.assign("")

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able picture of the project; secrets (API secret, SIP passwords) are left out."""
        return {
            "api_key": self.api_key,
            "inbound_trunks": {k: wire.redacted_trunk(v) for k, v in self.inbound_trunks.items()},
            "outbound_trunks": {k: wire.redacted_trunk(v) for k, v in self.outbound_trunks.items()},
            "dispatch_rules": {k: wire.message_dict(v) for k, v in self.dispatch_rules.items()},
            "phone_numbers": {k: wire.number_json(v) for k, v in self.phone_numbers.items()},
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
