"""The emulated Twilio accounts and the rules Twilio applies to them; no HTTP here.

Trunk domains and numbers are unique across all accounts. Passwords, auth tokens and API key secrets
are stored but never shown, as at Twilio.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from providers.sandbox.twilio.errors import (
    DOMAIN_TAKEN,
    INVALID_DOMAIN,
    NUMBER_INVALID,
    NUMBER_NOT_AVAILABLE,
    NUMBER_ON_TRUNK,
    TwilioError,
    invalid_parameter,
    resource_not_found,
)

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

    def add(self, username: str, password: str) -> Credential:
        _check_password(password)
        if any(c.username == username for c in self.credentials.values()):
            raise invalid_parameter(f"Username {username} already exists in this credential list")
        credential = Credential(new_sid("CR"), username, password)
        self.credentials[credential.sid] = credential
        return credential


def _check_password(password: str) -> None:
    strong = (len(password) >= 12 and any(c.isdigit() for c in password)
              and any(c.islower() for c in password) and any(c.isupper() for c in password))
    if not strong:
        raise invalid_parameter("Password must be at least 12 characters long and contain "
                                "a digit, an uppercase and a lowercase letter")


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
class ApiKey:
    """An API key of one account. A Standard key opens everything but the Account and Key resources; a
    Main key opens those too. [twilio.com/docs/iam/api-keys/key-resource-v1, "Types of keys"]"""

    sid: str
    secret: str = field(repr=False)
    main: bool = False


@dataclass
class TwilioAccount:
    sid: str
    auth_token: str = field(repr=False)
    friendly_name: str
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
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

    def add_credential_list(self, friendly_name: str) -> CredentialList:
        cl = CredentialList(new_sid("CL"), friendly_name)
        self.credential_lists[cl.sid] = cl
        return cl

    def delete_credential_list(self, cl: CredentialList) -> None:
        del self.credential_lists[cl.sid]
        for trunk in self.trunks.values():
            if cl.sid in trunk.credential_list_sids:
                trunk.credential_list_sids.remove(cl.sid)

    def delete_trunk(self, trunk: Trunk) -> None:
        for number in self.trunk_numbers(trunk.sid):
            number.trunk_sid = None
        del self.trunks[trunk.sid]

    def attach_credential_list(self, trunk: Trunk, cl_sid: str) -> CredentialList:
        cl = self.credential_lists.get(cl_sid)
        if cl is None:
            raise resource_not_found(f"CredentialList {cl_sid}")
        if cl_sid in trunk.credential_list_sids:
            raise invalid_parameter(f"CredentialList {cl_sid} is already associated with this trunk")
        trunk.credential_list_sids.append(cl_sid)
        return cl

    def attach_number(self, trunk: Trunk, number_sid: str) -> IncomingNumber:
        number = self.incoming_phone_numbers.get(number_sid)
        if number is None:
            raise resource_not_found(f"PhoneNumber {number_sid}")
        if number.trunk_sid is not None:
            raise TwilioError(400, NUMBER_ON_TRUNK, f"Phone number {number.phone_number} is already associated "
                              f"with trunk {number.trunk_sid}")
        number.trunk_sid = trunk.sid
        return number

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


@dataclass(frozen=True)
class Caller:
    """The account a request acts on, and the API key it authenticated with (None: the auth token)."""

    account: TwilioAccount
    api_key: ApiKey | None

    @property
    def may_manage_account(self) -> bool:
        """The auth token and Main keys may read the Account resource; Standard keys may not."""
        return self.api_key is None or self.api_key.main


class TwilioState:
    """Every emulated Twilio account; trunk domains and numbers are unique across all of them."""

    def __init__(self, accounts: Iterable[TwilioAccount] = ()) -> None:
        self.accounts: dict[str, TwilioAccount] = {a.sid: a for a in accounts}

    @classmethod
    def from_seed(cls, seed: dict[str, Any]) -> TwilioState:
        """Build from the `twilio` section of a seed: `{"accounts": [{"sid", "auth_token", ...}]}`; an
        account's `api_keys` are `[{"sid": "SK…", "secret": "…", "type": "standard" | "main"}]`."""
        return cls(_account_from_seed(entry) for entry in seed.get("accounts", []))

    def account(self, sid: str) -> TwilioAccount:
        return self.accounts[sid]

    def authenticate(self, username: str, password: str, path_account_sid: str | None) -> Caller | None:
        """Who these Basic credentials are, if anyone: an account SID with its auth token, or an API key's
        SID with its secret. A key opens only its own account, so on a path naming another account it
        opens nothing (the key is looked up within the account the path names)."""
        if username.startswith("SK"):
            for account in self.accounts.values():
                key = account.api_keys.get(username)
                if key is not None and hmac.compare_digest(password.encode(), key.secret.encode()):
                    if path_account_sid is not None and path_account_sid != account.sid:
                        return None
                    return Caller(account, key)
            return None
        account = self.accounts.get(username)
        if account is None or not hmac.compare_digest(password.encode(), account.auth_token.encode()):
            return None
        return Caller(account, None)

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

    def buy_number(self, account: TwilioAccount, e164: str, area_code: str, friendly_name: str) -> IncomingNumber:
        """Buy `e164`, or without it the first free number in `area_code`."""
        if not e164:
            stock = next(self.stock(account, area_code), None)
            if stock is None:
                raise TwilioError(400, NUMBER_NOT_AVAILABLE, f"No phone numbers available in area code {area_code}")
            e164 = stock.phone_number
        if not US_NUMBER.match(e164):
            raise TwilioError(400, NUMBER_INVALID, f"The phone number {e164} is invalid")
        stock = self.claimable(account, e164)
        if stock is None:
            # A number Twilio does not offer (held by anyone, or never in stock) is 400 with 21422
            # "PhoneNumber is not available": https://www.twilio.com/docs/errors/21422; 400 is Twilio's
            # status for a request that fails validation: https://www.twilio.com/docs/api/errors/400
            raise TwilioError(400, NUMBER_NOT_AVAILABLE, f"Phone number {e164} is not available")
        if account.available_phone_numbers is not None:
            account.available_phone_numbers.remove(stock)
        number = IncomingNumber(new_sid("PN"), e164, friendly_name or stock.friendly_name)
        account.incoming_phone_numbers[number.sid] = number
        return number

    def create_trunk(self, account: TwilioAccount, friendly_name: str, domain_name: str | None) -> Trunk:
        if domain_name is not None:
            if not domain_name.endswith(".pstn.twilio.com"):
                raise TwilioError(400, INVALID_DOMAIN, f"Trunk domain name {domain_name} must end in pstn.twilio.com")
            if self.domain_taken(domain_name):
                raise TwilioError(400, DOMAIN_TAKEN, "Trunk Domain already taken")
        trunk = Trunk(new_sid("TK"), friendly_name, domain_name)
        account.trunks[trunk.sid] = trunk
        return trunk

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
    for key in entry.get("api_keys", []):
        account.api_keys[key["sid"]] = ApiKey(key["sid"], key["secret"], main=key.get("type") == "main")
    # Incoming numbers and caller ids are seeded alike: a PN sid and a default friendly name.
    seeded_numbers: tuple[tuple[str, type[IncomingNumber | CallerId], dict[str, Any]], ...] = (
        ("incoming_phone_numbers", IncomingNumber, account.incoming_phone_numbers),
        ("outgoing_caller_ids", CallerId, account.outgoing_caller_ids),
    )
    for key, kind, items in seeded_numbers:
        for item in map(_entry, entry.get(key, [])):
            seeded = kind(
                sid=item.get("sid") or new_sid("PN"),
                phone_number=item["phone_number"],
                friendly_name=item.get("friendly_name") or friendly_number(item["phone_number"]),
            )
            items[seeded.sid] = seeded
    if "available_phone_numbers" in entry:
        account.available_phone_numbers = []
        for item in map(_entry, entry["available_phone_numbers"]):
            stock = _stock_number(item["phone_number"], item.get("friendly_name"))
            stock.locality = item.get("locality", stock.locality)
            stock.region = item.get("region", stock.region)
            account.available_phone_numbers.append(stock)
    return account
