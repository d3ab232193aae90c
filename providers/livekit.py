"""LiveKit client: SIP trunks and dispatch rules (through livekit-api) and phone numbers (Twirp JSON).

LiveKit's PhoneNumberService has no Python client, so it is called over its Twirp JSON endpoints
with a `sip.admin` token. Every call has a timeout, is retried where safe, and fails only with the
exceptions of `providers.errors`. Deleting or releasing something already gone succeeds, so undo
steps can be repeated. A 429's Retry-After is honoured on the requests sent here directly; the SDK's
errors carry no headers, so its calls back off on the retry policy alone.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import aiohttp
from google.protobuf.message import DecodeError, Message
from livekit import api
from livekit.api import ServerError
from livekit.api.sip_service import SipService
from livekit.protocol import sip
from livekit.protocol.models import ListUpdate

from providers.errors import (
    CredentialsRejected,
    NotFound,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Rejected,
    Unavailable,
)
from providers.redact import MASK, scrub
from providers.observed import observed
from providers.retry import RetryPolicy, call_with_retry, retry_after_seconds

__all__ = ["AvailableNumber", "InboundTrunk", "LiveKitGateway", "LiveKitNumber", "OutboundTrunk"]

PROVIDER = "livekit"
USER_AGENT = "trunkline-livekit"
# Sent with every attempt of one logical call, so LiveKit can recognise a repeat.
REQUEST_ID_HEADER = "X-Livekit-Request-Id"
TRANSPORTS = {
    "auto": sip.SIP_TRANSPORT_AUTO,
    "udp": sip.SIP_TRANSPORT_UDP,
    "tcp": sip.SIP_TRANSPORT_TCP,
    "tls": sip.SIP_TRANSPORT_TLS,
}
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")

T = TypeVar("T")
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class InboundTrunk:
    id: str
    name: str
    numbers: tuple[str, ...]
    allowed_addresses: tuple[str, ...]
    auth_username: str


@dataclass(frozen=True)
class OutboundTrunk:
    id: str
    name: str
    address: str
    numbers: tuple[str, ...]
    transport: str
    auth_username: str


@dataclass(frozen=True)
class AvailableNumber:
    e164: str
    locality: str
    region: str


@dataclass(frozen=True)
class LiveKitNumber:
    """A number the project bought; `status` is LiveKit's without its prefix (ACTIVE, OFFLINE...)."""

    id: str
    e164: str
    status: str
    dispatch_rule_id: str | None


class _TwirpAnswer(ServerError):
    """A Twirp error from our own request path, which also sees the Retry-After header."""

    def __init__(self, code: str, msg: str, *, status: int, retry_after: float | None) -> None:
        super().__init__(code, msg, status=status)
        self.retry_after = retry_after


class _BadAnswer(Exception):
    """A 200 answer whose body could not be read as the expected message."""


def http_base(url: str) -> str:
    """The Twirp base for a project URL: ws→http, wss→https, path prefix kept."""
    parsed = urlparse(url)
    scheme = {"ws": "http", "wss": "https"}.get(parsed.scheme, parsed.scheme)
    return f"{scheme}://{parsed.netloc}{parsed.path}".rstrip("/")


class LiveKitGateway:
    """LiveKit operations for one project (URL, API key and secret)."""

    def __init__(
        self,
        *,
        url: str,
        api_key: str,
        api_secret: str,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if urlparse(url).scheme not in ("ws", "wss", "http", "https") or not urlparse(url).netloc:
            raise ValueError(f"LiveKit url must look like wss://host or http://host:port, got {url!r}")
        if not api_key or not api_secret:
            raise ValueError("LiveKit api_key and api_secret must both be set")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout!r}")
        self.url = url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._base = http_base(url)
        self._key = api_key
        self._secret = api_secret
        self._session = session
        self._owns_session = session is None
        self._api: api.LiveKitAPI | None = None

    def __repr__(self) -> str:
        return f"<LiveKitGateway {self._base} key={self._key}>"

    async def start(self) -> None:
        """Create the SDK client (and a session if none was given) inside the running loop."""
        if self._api is not None:
            return
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        # The SDK ignores `timeout` once it has a session; `_call` bounds every attempt itself.
        self._api = api.LiveKitAPI(
            self.url, self._key, self._secret, session=self._session,
            timeout=aiohttp.ClientTimeout(total=self.timeout), failover=False,
        )

    async def close(self) -> None:
        """Close what `start` made; a session handed in stays open."""
        if self._api is not None:
            await self._api.aclose()
            self._api = None
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> LiveKitGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def _sip(self) -> SipService:
        if self._api is None:
            raise RuntimeError("LiveKitGateway.start() must be awaited before making calls")
        return self._api.sip

    # --- SIP trunks ---------------------------------------------------------------------------

    async def create_inbound_trunk(
        self,
        name: str,
        numbers: Iterable[str],
        *,
        allowed_addresses: Iterable[str] = (),
        auth_username: str | None = None,
        auth_password: str | None = None,
    ) -> str:
        """Create an inbound trunk accepting calls to `numbers`; returns its `ST_` id."""
        trunk = sip.SIPInboundTrunkInfo(
            name=name, numbers=list(numbers), allowed_addresses=list(allowed_addresses),
            auth_username=auth_username or "", auth_password=auth_password or "",
        )
        request = sip.CreateSIPInboundTrunkRequest(trunk=trunk)
        info = await self._call(
            "CreateSIPInboundTrunk", lambda: self._sip.create_inbound_trunk(request),
            idempotent=False, secret=auth_password,
        )
        return info.sip_trunk_id

    async def create_outbound_trunk(
        self,
        name: str,
        address: str,
        numbers: Iterable[str],
        *,
        transport: str = "auto",
        auth_username: str | None = None,
        auth_password: str | None = None,
    ) -> str:
        """Create an outbound trunk to the bare host `address`, calling from `numbers`; returns its id."""
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {sorted(TRANSPORTS)}, got {transport!r}")
        trunk = sip.SIPOutboundTrunkInfo(
            name=name, address=address, numbers=list(numbers), transport=TRANSPORTS[transport],
            auth_username=auth_username or "", auth_password=auth_password or "",
        )
        request = sip.CreateSIPOutboundTrunkRequest(trunk=trunk)
        info = await self._call(
            "CreateSIPOutboundTrunk", lambda: self._sip.create_outbound_trunk(request),
            idempotent=False, secret=auth_password,
        )
        return info.sip_trunk_id

    async def set_inbound_trunk_numbers(self, trunk_id: str, numbers: Iterable[str]) -> InboundTrunk:
        """Make `numbers` the inbound trunk's whole list of numbers."""
        numbers = list(numbers)
        if numbers:
            info = await self._call(
                f"UpdateSIPInboundTrunk {trunk_id}",
                lambda: self._sip.update_inbound_trunk_fields(trunk_id, numbers=numbers), idempotent=True,
            )
        else:
            # The SDK turns [] into an empty `set`, which LiveKit reads as "no change"; `clear` empties.
            request = sip.UpdateSIPInboundTrunkRequest(
                sip_trunk_id=trunk_id, update=sip.SIPInboundTrunkUpdate(numbers=ListUpdate(clear=True))
            )
            info = await self._proto("UpdateSIPInboundTrunk", trunk_id, request, sip.SIPInboundTrunkInfo)
        return _inbound(info)

    async def set_outbound_trunk_numbers(self, trunk_id: str, numbers: Iterable[str]) -> OutboundTrunk:
        """Make `numbers` the outbound trunk's whole list; LiveKit refuses an empty one."""
        numbers = list(numbers)
        if numbers:
            info = await self._call(
                f"UpdateSIPOutboundTrunk {trunk_id}",
                lambda: self._sip.update_outbound_trunk_fields(trunk_id, numbers=numbers), idempotent=True,
            )
        else:
            request = sip.UpdateSIPOutboundTrunkRequest(
                sip_trunk_id=trunk_id, update=sip.SIPOutboundTrunkUpdate(numbers=ListUpdate(clear=True))
            )
            info = await self._proto("UpdateSIPOutboundTrunk", trunk_id, request, sip.SIPOutboundTrunkInfo)
        return _outbound(info)

    async def change_inbound_trunk_numbers(
        self, trunk_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> InboundTrunk:
        """Add and remove numbers in one step at LiveKit, so concurrent changes do not overwrite each other."""
        change = ListUpdate(add=list(add), remove=list(remove))
        info = await self._call(
            f"UpdateSIPInboundTrunk {trunk_id}",
            lambda: self._sip.update_inbound_trunk_fields(trunk_id, numbers=change), idempotent=True,
        )
        return _inbound(info)

    async def change_outbound_trunk_numbers(
        self, trunk_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> OutboundTrunk:
        """Add and remove numbers in one step; LiveKit refuses to remove the last one."""
        change = ListUpdate(add=list(add), remove=list(remove))
        info = await self._call(
            f"UpdateSIPOutboundTrunk {trunk_id}",
            lambda: self._sip.update_outbound_trunk_fields(trunk_id, numbers=change), idempotent=True,
        )
        return _outbound(info)

    async def get_inbound_trunk(self, trunk_id: str) -> InboundTrunk:
        request = sip.GetSIPInboundTrunkRequest(sip_trunk_id=trunk_id)
        answer = await self._proto("GetSIPInboundTrunk", trunk_id, request, sip.GetSIPInboundTrunkResponse)
        return _inbound(answer.trunk)

    async def get_outbound_trunk(self, trunk_id: str) -> OutboundTrunk:
        request = sip.GetSIPOutboundTrunkRequest(sip_trunk_id=trunk_id)
        answer = await self._proto("GetSIPOutboundTrunk", trunk_id, request, sip.GetSIPOutboundTrunkResponse)
        return _outbound(answer.trunk)

    async def delete_trunk(self, trunk_id: str) -> None:
        """Delete an inbound or outbound trunk; one already gone counts as deleted."""
        request = sip.DeleteSIPTrunkRequest(sip_trunk_id=trunk_id)
        await self._delete(f"DeleteSIPTrunk {trunk_id}", lambda: self._sip.delete_trunk(request))

    # --- dispatch rules -----------------------------------------------------------------------

    async def create_dispatch_rule(
        self,
        name: str,
        *,
        agent_name: str,
        numbers: Iterable[str] = (),
        trunk_ids: Iterable[str] = (),
        room_prefix: str = "call-",
    ) -> str:
        """Create a rule putting each caller in their own room with `agent_name`; returns its `SDR_` id."""
        rule = sip.SIPDispatchRuleInfo(
            name=name, numbers=list(numbers), trunk_ids=list(trunk_ids),
            rule=sip.SIPDispatchRule(dispatch_rule_individual=sip.SIPDispatchRuleIndividual(room_prefix=room_prefix)),
            room_config=api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent_name)]),
        )
        request = sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule)
        info = await self._call(
            "CreateSIPDispatchRule", lambda: self._sip.create_dispatch_rule(request), idempotent=False
        )
        return info.sip_dispatch_rule_id

    async def update_dispatch_rule(self, rule_id: str, *, agent_name: str) -> None:
        """Dispatch `agent_name` (alone) into the rule's rooms."""
        # The field update has no room_config, so the whole rule is read and replaced.
        request = sip.ListSIPDispatchRuleRequest(dispatch_rule_ids=[rule_id])
        found = await self._call(
            f"ListSIPDispatchRule {rule_id}", lambda: self._sip.list_dispatch_rule(request), idempotent=True
        )
        rule = next((r for r in found.items if r.sip_dispatch_rule_id == rule_id), None)
        if rule is None:
            raise NotFound(PROVIDER, f"LiveKit dispatch rule {rule_id} not found", code="not_found", status=404)
        del rule.room_config.agents[:]
        rule.room_config.agents.add(agent_name=agent_name)
        await self._call(
            f"UpdateSIPDispatchRule {rule_id}",
            lambda: self._sip.update_dispatch_rule(rule_id, rule), idempotent=True,
        )

    async def delete_dispatch_rule(self, rule_id: str) -> None:
        """Delete a dispatch rule; one already gone counts as deleted."""
        request = sip.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id)
        await self._delete(f"DeleteSIPDispatchRule {rule_id}", lambda: self._sip.delete_dispatch_rule(request))

    # --- lookups by name, for recovering steps whose answer never came -------------------------

    async def find_inbound_trunk_ids(self, name: str) -> list[str]:
        """Ids of the inbound trunks called `name`."""
        found = await self._call(
            "ListSIPInboundTrunk", lambda: self._sip.list_inbound_trunk(sip.ListSIPInboundTrunkRequest()), idempotent=True
        )
        return [t.sip_trunk_id for t in found.items if t.name == name]

    async def find_outbound_trunk_ids(self, name: str) -> list[str]:
        """Ids of the outbound trunks called `name`."""
        found = await self._call(
            "ListSIPOutboundTrunk", lambda: self._sip.list_outbound_trunk(sip.ListSIPOutboundTrunkRequest()), idempotent=True
        )
        return [t.sip_trunk_id for t in found.items if t.name == name]

    async def find_dispatch_rule_ids(self, name: str) -> list[str]:
        """Ids of the dispatch rules called `name`."""
        found = await self._call(
            "ListSIPDispatchRule", lambda: self._sip.list_dispatch_rule(sip.ListSIPDispatchRuleRequest()), idempotent=True
        )
        return [r.sip_dispatch_rule_id for r in found.items if r.name == name]

    async def find_number(self, e164: str) -> LiveKitNumber | None:
        """The project's number `e164` unless released, or None."""
        try:
            answer = await self._json("GetPhoneNumber", e164, {"phone_number": e164}, idempotent=True)
        except NotFound:
            return None
        number = _number(answer.get("phone_number") or {})
        return None if number.status == "RELEASED" else number

    # --- phone numbers (PhoneNumberService, JSON) -----------------------------------------------

    async def search_numbers(self, area_code: str | None = None, limit: int = 20) -> list[AvailableNumber]:
        """US numbers the project could buy, optionally in one area code."""
        body: dict[str, Any] = {"country_code": "US", "limit": limit}
        if area_code:
            body["area_code"] = area_code
        answer = await self._json("SearchPhoneNumbers", "", body, idempotent=True)
        return [
            AvailableNumber(n.get("e164_format", ""), n.get("locality", ""), n.get("region", ""))
            for n in answer.get("items") or []
        ]

    async def purchase_number(self, e164: str, dispatch_rule_id: str | None = None) -> LiveKitNumber:
        """Buy `e164`, routed through `dispatch_rule_id` when given."""
        body: dict[str, Any] = {"phone_numbers": [e164]}
        if dispatch_rule_id:
            body["sip_dispatch_rule_id"] = dispatch_rule_id
        answer = await self._json("PurchasePhoneNumber", e164, body, idempotent=False)
        bought = answer.get("phone_numbers") or []
        if not bought:
            message = f"LiveKit PurchasePhoneNumber {e164}: no number in the answer"
            raise Unavailable(PROVIDER, message, code="bad_response")
        return _number(bought[0])

    async def get_number(self, number_id: str) -> LiveKitNumber:
        answer = await self._json("GetPhoneNumber", number_id, {"id": number_id}, idempotent=True)
        return _number(answer.get("phone_number") or {})

    async def update_number_dispatch_rule(self, number_id: str, rule_id: str | None) -> LiveKitNumber:
        """Route the number through `rule_id`, or through none (LiveKit then shows it OFFLINE)."""
        body = {"id": number_id, "sip_dispatch_rule_id": rule_id or ""}
        answer = await self._json("UpdatePhoneNumber", number_id, body, idempotent=True)
        return _number(answer.get("phone_number") or {})

    async def release_number(self, number_id: str) -> None:
        """Give the number back to LiveKit; one already gone counts as released."""
        try:
            await self._json("ReleasePhoneNumbers", number_id, {"ids": [number_id]}, idempotent=True)
        except NotFound:
            pass

    # --- the request path ---------------------------------------------------------------------

    async def _delete(self, describe: str, request: Callable[[], Awaitable[Any]]) -> None:
        # Deletes undo earlier steps; a resource already gone is the state they aim for.
        try:
            await self._call(describe, request, idempotent=True)
        except NotFound:
            pass

    async def _proto(self, method: str, subject: str, request: Message, answer_type: type[M]) -> M:
        """A SIP call the SDK does not wrap, sent as protobuf like the SDK does. All are repeatable."""
        request_id = _request_id()

        async def send() -> M:
            raw = await self._post("SIP", method, request.SerializeToString(), "application/protobuf", request_id)
            return answer_type.FromString(raw)

        return await self._call(f"{method} {subject}", send, idempotent=True)

    async def _json(self, method: str, subject: str, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        request_id = _request_id()
        return await self._call(
            f"{method} {subject}".strip(),
            lambda: self._post_json("PhoneNumberService", method, body, request_id),
            idempotent=idempotent,
        )

    async def _post_json(self, service: str, method: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        raw = await self._post(service, method, json.dumps(body).encode(), "application/json", request_id)
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            raise _BadAnswer("the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise _BadAnswer("the answer is not a JSON object")
        return answer

    async def _post(self, service: str, method: str, payload: bytes, content_type: str, request_id: str) -> bytes:
        if self._session is None or self._api is None:
            raise RuntimeError("LiveKitGateway.start() must be awaited before making calls")
        token = (
            api.AccessToken(self._key, self._secret)
            .with_grants(api.VideoGrants())
            .with_sip_grants(api.SIPGrants(admin=True))
            .to_jwt()
        )
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            REQUEST_ID_HEADER: request_id,
        }
        url = f"{self._base}/twirp/livekit.{service}/{method}"
        async with self._session.post(url, data=payload, headers=headers) as response:
            raw = await response.read()
            if response.status == 200:
                return raw
            code, msg = _twirp_error(raw, response.status)
            raise _TwirpAnswer(
                code, msg, status=response.status, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
            )

    async def _call(
        self, describe: str, request: Callable[[], Awaitable[T]], *, idempotent: bool, secret: str | None = None
    ) -> T:
        """Timeout, error mapping and retries for every operation."""
        operation, describe = describe.split(" ", 1)[0], f"LiveKit {describe}"  # the label without ids

        async def attempt() -> T:
            try:
                async with asyncio.timeout(self.timeout):
                    return await request()
            except (ServerError, aiohttp.ClientError, TimeoutError, DecodeError, _BadAnswer) as exc:
                failure = self._failure(describe, exc, secret)
                # A server message that echoed a secret must not survive as the cause either.
                raise failure from (None if self._mentions_secret(str(exc), secret) else exc)

        return await observed(PROVIDER, operation, call_with_retry(attempt, policy=self.retry, idempotent=idempotent, describe=describe))

    def _mentions_secret(self, text: str, secret: str | None) -> bool:
        return self._secret in text or bool(secret and secret in text) or bool(_JWT.search(text))

    def _failure(self, describe: str, exc: BaseException, secret: str | None) -> ProviderFailure:
        if isinstance(exc, TimeoutError):
            return ProviderTimeout(PROVIDER, f"{describe}: no answer within {self.timeout:g}s", code="timeout")
        if isinstance(exc, aiohttp.ClientError):
            return Unavailable(
                PROVIDER, f"{describe}: connection failed ({type(exc).__name__})", code="connection_error"
            )
        if not isinstance(exc, ServerError):
            return Unavailable(PROVIDER, f"{describe}: unreadable answer", code="bad_response")
        message = _JWT.sub(MASK, scrub(f"{describe}: {exc.message or exc.code}", self._secret, secret))
        retry_after = exc.retry_after if isinstance(exc, _TwirpAnswer) else None
        kind = failure_kind(exc.code, exc.status)
        return kind(PROVIDER, message, code=exc.code, status=exc.status, retry_after=retry_after)


def failure_kind(code: str, status: int) -> type[ProviderFailure]:
    """The exception a Twirp error code (or, failing that, its HTTP status) stands for."""
    if code in ("unauthenticated", "permission_denied") or status in (401, 403):
        return CredentialsRejected
    if code == "not_found":
        return NotFound
    if code == "resource_exhausted" or status == 429:
        return RateLimited
    if code == "deadline_exceeded":
        # LiveKit gave up waiting on something it had started: like our own timeout, it may have acted.
        return ProviderTimeout
    if code == "unavailable" or status >= 500:
        return Unavailable
    return Rejected


def _twirp_error(raw: bytes, status: int) -> tuple[str, str]:
    """(code, msg) from a Twirp error body; a body that is not one still gets a code."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return "unknown", f"HTTP {status}"
    return str(body.get("code") or "unknown"), str(body.get("msg") or f"HTTP {status}")


def _request_id() -> str:
    return str(uuid.uuid4())


def _inbound(info: sip.SIPInboundTrunkInfo) -> InboundTrunk:
    return InboundTrunk(
        id=info.sip_trunk_id, name=info.name, numbers=tuple(info.numbers),
        allowed_addresses=tuple(info.allowed_addresses), auth_username=info.auth_username,
    )


def _outbound(info: sip.SIPOutboundTrunkInfo) -> OutboundTrunk:
    transport = sip.SIPTransport.Name(info.transport).removeprefix("SIP_TRANSPORT_").lower()
    return OutboundTrunk(
        id=info.sip_trunk_id, name=info.name, address=info.address, numbers=tuple(info.numbers),
        transport=transport, auth_username=info.auth_username,
    )


def _number(body: dict[str, Any]) -> LiveKitNumber:
    rule_ids = body.get("sip_dispatch_rule_ids") or []
    rule_id = body.get("sip_dispatch_rule_id") or (rule_ids[0] if rule_ids else None)
    return LiveKitNumber(
        id=body.get("id", ""), e164=body.get("e164_format", ""),
        status=str(body.get("status", "")).removeprefix("PHONE_NUMBER_STATUS_"), dispatch_rule_id=rule_id,
    )
