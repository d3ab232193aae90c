"""LiveKit operations for one project: SIP trunks, dispatch rules and phone numbers.

What each call sends and how its answer is read is here; how it travels and fails is in `transport`.
Deleting or releasing something already gone succeeds, so undo steps can be repeated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp
from google.protobuf.message import Message
from livekit import api
from livekit.api.sip_service import SipService
from livekit.protocol import sip
from livekit.protocol.models import ListUpdate

from providers.calls import gone_is_done
from providers.errors import NotFound, Unavailable
from providers.livekit.transport import PROVIDER, TwirpTransport
from providers.retry import RetryPolicy

TRANSPORTS = {
    "auto": sip.SIP_TRANSPORT_AUTO,
    "udp": sip.SIP_TRANSPORT_UDP,
    "tcp": sip.SIP_TRANSPORT_TCP,
    "tls": sip.SIP_TRANSPORT_TLS,
}
OFFER_PAGES = 20  # how far offers_number looks through an area code's offers: 1,000 numbers


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


@dataclass(frozen=True)
class DispatchRule:
    """A dispatch rule as the health check compares it: what it covers and whom it dispatches."""

    id: str
    name: str
    numbers: tuple[str, ...]
    trunk_ids: tuple[str, ...]
    agent_names: tuple[str, ...]


def _rule(info: sip.SIPDispatchRuleInfo) -> DispatchRule:
    return DispatchRule(
        id=info.sip_dispatch_rule_id, name=info.name, numbers=tuple(info.numbers), trunk_ids=tuple(info.trunk_ids),
        agent_names=tuple(agent.agent_name for agent in info.room_config.agents),
    )


R = TypeVar("R", InboundTrunk, OutboundTrunk)


@dataclass(frozen=True)
class _Direction(Generic[R]):
    """What differs between the same call on inbound and on outbound trunks."""

    name: str  # as in the Twirp methods: GetSIP<name>Trunk, UpdateSIP<name>Trunk, ListSIP<name>Trunk
    update_fields: Callable[..., Awaitable[Any]]  # the SDK's SipService.update_<x>_trunk_fields
    list_trunks: Callable[..., Awaitable[Any]]  # the SDK's SipService.list_<x>_trunk
    update_request: type[Message]
    update: type[Message]
    info: type[Message]
    get_request: type[Message]
    get_response: type[Message]
    list_request: type[Message]
    record: Callable[[Any], R]


def _whole_list(values: Iterable[str]) -> ListUpdate:
    """A ListUpdate making a list exactly `values`: LiveKit reads an empty `set` as "no change"."""
    values = list(values)
    return ListUpdate(set=values) if values else ListUpdate(clear=True)


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


_INBOUND = _Direction(
    name="Inbound",
    update_fields=SipService.update_inbound_trunk_fields,
    list_trunks=SipService.list_inbound_trunk,
    update_request=sip.UpdateSIPInboundTrunkRequest,
    update=sip.SIPInboundTrunkUpdate,
    info=sip.SIPInboundTrunkInfo,
    get_request=sip.GetSIPInboundTrunkRequest,
    get_response=sip.GetSIPInboundTrunkResponse,
    list_request=sip.ListSIPInboundTrunkRequest,
    record=_inbound,
)
_OUTBOUND = _Direction(
    name="Outbound",
    update_fields=SipService.update_outbound_trunk_fields,
    list_trunks=SipService.list_outbound_trunk,
    update_request=sip.UpdateSIPOutboundTrunkRequest,
    update=sip.SIPOutboundTrunkUpdate,
    info=sip.SIPOutboundTrunkInfo,
    get_request=sip.GetSIPOutboundTrunkRequest,
    get_response=sip.GetSIPOutboundTrunkResponse,
    list_request=sip.ListSIPOutboundTrunkRequest,
    record=_outbound,
)


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
        self._transport = TwirpTransport(
            url=url, api_key=api_key, api_secret=api_secret, session=session, timeout=timeout, retry=retry
        )

    def __repr__(self) -> str:
        return f"<LiveKitGateway {self._transport.base} key={self._transport.key}>"

    @property
    def url(self) -> str:
        return self._transport.url

    @property
    def timeout(self) -> float:
        return self._transport.timeout

    @property
    def retry(self) -> RetryPolicy:
        return self._transport.retry

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        """The session in use: the one handed in, or the one `start` made."""
        return self._transport.session

    async def start(self) -> None:
        """Create the SDK client (and a session if none was given) inside the running loop."""
        await self._transport.start()

    async def close(self) -> None:
        """Close what `start` made; a session handed in stays open."""
        await self._transport.close()

    async def __aenter__(self) -> LiveKitGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def _sip(self) -> SipService:
        return self._transport.sip

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
        info = await self._transport.call(
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
        info = await self._transport.call(
            "CreateSIPOutboundTrunk", lambda: self._sip.create_outbound_trunk(request),
            idempotent=False, secret=auth_password,
        )
        return info.sip_trunk_id

    async def set_inbound_trunk_numbers(self, trunk_id: str, numbers: Iterable[str]) -> InboundTrunk:
        """Make `numbers` the inbound trunk's whole list of numbers."""
        return await self._set_numbers(_INBOUND, trunk_id, numbers)

    async def set_outbound_trunk_numbers(self, trunk_id: str, numbers: Iterable[str]) -> OutboundTrunk:
        """Make `numbers` the outbound trunk's whole list; LiveKit refuses an empty one."""
        return await self._set_numbers(_OUTBOUND, trunk_id, numbers)

    async def change_inbound_trunk_numbers(
        self, trunk_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> InboundTrunk:
        """Add and remove numbers in one step at LiveKit, so concurrent changes do not overwrite each other."""
        return await self._update_numbers(_INBOUND, trunk_id, ListUpdate(add=list(add), remove=list(remove)))

    async def change_outbound_trunk_numbers(
        self, trunk_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> OutboundTrunk:
        """Add and remove numbers in one step; LiveKit refuses to remove the last one."""
        return await self._update_numbers(_OUTBOUND, trunk_id, ListUpdate(add=list(add), remove=list(remove)))

    async def get_inbound_trunk(self, trunk_id: str) -> InboundTrunk:
        return await self._get_trunk(_INBOUND, trunk_id)

    async def get_outbound_trunk(self, trunk_id: str) -> OutboundTrunk:
        return await self._get_trunk(_OUTBOUND, trunk_id)

    async def update_inbound_trunk_fields(
        self,
        trunk_id: str,
        *,
        allowed_addresses: Iterable[str],
        auth_username: str | None,
        auth_password: str | None,
    ) -> InboundTrunk:
        """Set the inbound trunk's allowed addresses and digest auth to these (an empty list or None
        clears them); its numbers stay."""
        update = sip.SIPInboundTrunkUpdate(
            allowed_addresses=_whole_list(allowed_addresses),
            auth_username=auth_username or "", auth_password=auth_password or "",
        )
        return await self._update_fields(_INBOUND, trunk_id, update, secret=auth_password)

    async def update_outbound_trunk_fields(
        self,
        trunk_id: str,
        *,
        address: str,
        transport: str,
        auth_username: str | None,
        auth_password: str | None,
    ) -> OutboundTrunk:
        """Set the outbound trunk's address, transport and digest auth (None clears it); its numbers stay."""
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {sorted(TRANSPORTS)}, got {transport!r}")
        update = sip.SIPOutboundTrunkUpdate(
            address=address, transport=TRANSPORTS[transport],
            auth_username=auth_username or "", auth_password=auth_password or "",
        )
        return await self._update_fields(_OUTBOUND, trunk_id, update, secret=auth_password)

    async def delete_trunk(self, trunk_id: str) -> None:
        """Delete an inbound or outbound trunk; one already gone counts as deleted."""
        request = sip.DeleteSIPTrunkRequest(sip_trunk_id=trunk_id)
        await self._transport.delete(f"DeleteSIPTrunk {trunk_id}", lambda: self._sip.delete_trunk(request))

    async def _set_numbers(self, side: _Direction[R], trunk_id: str, numbers: Iterable[str]) -> R:
        numbers = list(numbers)
        if numbers:
            return await self._update_numbers(side, trunk_id, numbers)
        # The SDK turns [] into an empty `set`, which LiveKit reads as "no change"; `clear` empties.
        return await self._update_fields(side, trunk_id, side.update(numbers=ListUpdate(clear=True)))

    async def _update_fields(
        self, side: _Direction[R], trunk_id: str, update: Message, *, secret: str | None = None
    ) -> R:
        """An UpdateSIP*Trunk of the fields set in `update`, sent as protobuf ourselves: the SDK's
        update_*_trunk_fields drop ListUpdate.clear, so through them a list could never be emptied."""
        request = side.update_request(sip_trunk_id=trunk_id, update=update)
        method = f"UpdateSIP{side.name}Trunk"
        info = await self._transport.sip_proto(method, trunk_id, request, side.info, secret=secret)
        return side.record(info)

    async def _update_numbers(self, side: _Direction[R], trunk_id: str, numbers: list[str] | ListUpdate) -> R:
        info = await self._transport.call(
            f"UpdateSIP{side.name}Trunk {trunk_id}",
            lambda: side.update_fields(self._sip, trunk_id, numbers=numbers), idempotent=True,
        )
        return side.record(info)

    async def _get_trunk(self, side: _Direction[R], trunk_id: str) -> R:
        request = side.get_request(sip_trunk_id=trunk_id)
        answer = await self._transport.sip_proto(f"GetSIP{side.name}Trunk", trunk_id, request, side.get_response)
        return side.record(answer.trunk)

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
        info = await self._transport.call(
            "CreateSIPDispatchRule", lambda: self._sip.create_dispatch_rule(request), idempotent=False
        )
        return info.sip_dispatch_rule_id

    async def update_dispatch_rule(self, rule_id: str, *, agent_name: str) -> None:
        """Dispatch `agent_name` (alone) into the rule's rooms."""
        # The field update has no room_config, so the whole rule is read and replaced.
        rule = await self._rule_info(rule_id)
        if rule is None:
            raise NotFound(PROVIDER, f"LiveKit dispatch rule {rule_id} not found", code="not_found", status=404)
        del rule.room_config.agents[:]
        rule.room_config.agents.add(agent_name=agent_name)
        await self._transport.call(
            f"UpdateSIPDispatchRule {rule_id}",
            lambda: self._sip.update_dispatch_rule(rule_id, rule), idempotent=True,
        )

    async def delete_dispatch_rule(self, rule_id: str) -> None:
        """Delete a dispatch rule; one already gone counts as deleted."""
        request = sip.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id)
        await self._transport.delete(
            f"DeleteSIPDispatchRule {rule_id}", lambda: self._sip.delete_dispatch_rule(request)
        )

    # --- lookups by name, for recovering steps whose answer never came -------------------------

    async def find_inbound_trunk_ids(self, name: str) -> list[str]:
        """Ids of the inbound trunks called `name`."""
        return await self._find_trunk_ids(_INBOUND, name)

    async def find_outbound_trunk_ids(self, name: str) -> list[str]:
        """Ids of the outbound trunks called `name`."""
        return await self._find_trunk_ids(_OUTBOUND, name)

    async def find_dispatch_rule_ids(self, name: str) -> list[str]:
        """Ids of the dispatch rules called `name`."""
        return [rule.id for rule in await self.list_dispatch_rules() if rule.name == name]

    async def find_number(self, e164: str) -> LiveKitNumber | None:
        """The project's number `e164` unless released, or None."""
        try:
            answer = await self._transport.phone_numbers(
                "GetPhoneNumber", e164, {"phone_number": e164}, idempotent=True
            )
        except NotFound:
            return None
        number = _number_in(answer)
        return None if number.status == "RELEASED" else number

    async def _find_trunk_ids(self, side: _Direction[Any], name: str) -> list[str]:
        return [trunk.id for trunk in await self._list_trunks(side) if trunk.name == name]

    # --- reads, for the health check and `trunkline doctor` --------------------------------------

    async def list_inbound_trunks(self) -> list[InboundTrunk]:
        return await self._list_trunks(_INBOUND)

    async def list_outbound_trunks(self) -> list[OutboundTrunk]:
        return await self._list_trunks(_OUTBOUND)

    async def list_dispatch_rules(self) -> list[DispatchRule]:
        found = await self._transport.call(
            "ListSIPDispatchRule",
            lambda: self._sip.list_dispatch_rule(sip.ListSIPDispatchRuleRequest()),
            idempotent=True,
        )
        return [_rule(info) for info in found.items]

    async def get_dispatch_rule(self, rule_id: str) -> DispatchRule | None:
        """The rule, or None when LiveKit no longer has it."""
        info = await self._rule_info(rule_id)
        return None if info is None else _rule(info)

    async def _rule_info(self, rule_id: str) -> sip.SIPDispatchRuleInfo | None:
        # LiveKit has no GetSIPDispatchRule: a listing filtered by id leaves out an unknown one.
        request = sip.ListSIPDispatchRuleRequest(dispatch_rule_ids=[rule_id])
        found = await self._transport.call(
            f"ListSIPDispatchRule {rule_id}", lambda: self._sip.list_dispatch_rule(request), idempotent=True
        )
        return next((r for r in found.items if r.sip_dispatch_rule_id == rule_id), None)

    async def _list_trunks(self, side: _Direction[R]) -> list[R]:
        found = await self._transport.call(
            f"ListSIP{side.name}Trunk",
            lambda: side.list_trunks(self._sip, side.list_request()),
            idempotent=True,
        )
        return [side.record(info) for info in found.items]

    # --- phone numbers (PhoneNumberService, JSON) -----------------------------------------------

    async def search_numbers(self, area_code: str | None = None, limit: int = 20) -> list[AvailableNumber]:
        """US numbers the project could buy, optionally in one area code."""
        body: dict[str, Any] = {"country_code": "US", "limit": limit}
        if area_code:
            body["area_code"] = area_code
        answer = await self._transport.phone_numbers("SearchPhoneNumbers", "", body, idempotent=True)
        return [
            AvailableNumber(n.get("e164_format", ""), n.get("locality", ""), n.get("region", ""))
            for n in answer.get("items") or []
        ]

    async def offers_number(self, e164: str, *, pages: int = OFFER_PAGES) -> bool:
        """Whether the project could buy the US number `e164` now: its area code's offers, page by page
        until it shows or the offers end (or `pages` pages of 50 have not shown it)."""
        body: dict[str, Any] = {"country_code": "US", "area_code": e164[2:5], "limit": 50}
        for _ in range(pages):
            answer = await self._transport.phone_numbers("SearchPhoneNumbers", "", body, idempotent=True)
            if any(n.get("e164_format") == e164 for n in answer.get("items") or []):
                return True
            if not (token := answer.get("next_page_token")):
                return False
            body["page_token"] = token
        return False

    async def purchase_number(self, e164: str, dispatch_rule_id: str | None = None) -> LiveKitNumber:
        """Buy `e164`, routed through `dispatch_rule_id` when given."""
        body: dict[str, Any] = {"phone_numbers": [e164]}
        if dispatch_rule_id:
            body["sip_dispatch_rule_id"] = dispatch_rule_id
        answer = await self._transport.phone_numbers("PurchasePhoneNumber", e164, body, idempotent=False)
        bought = answer.get("phone_numbers") or []
        if not bought:
            message = f"LiveKit PurchasePhoneNumber {e164}: no number in the answer"
            raise Unavailable(PROVIDER, message, code="bad_response")
        return _number(bought[0])

    async def get_number(self, number_id: str) -> LiveKitNumber:
        answer = await self._transport.phone_numbers("GetPhoneNumber", number_id, {"id": number_id}, idempotent=True)
        return _number_in(answer)

    async def update_number_dispatch_rule(self, number_id: str, rule_id: str | None) -> LiveKitNumber:
        """Route the number through `rule_id`, or through none (LiveKit then shows it OFFLINE)."""
        body = {"id": number_id, "sip_dispatch_rule_id": rule_id or ""}
        answer = await self._transport.phone_numbers("UpdatePhoneNumber", number_id, body, idempotent=True)
        return _number_in(answer)

    async def release_number(self, number_id: str) -> None:
        """Give the number back to LiveKit; one already gone counts as released."""
        await gone_is_done(
            self._transport.phone_numbers("ReleasePhoneNumbers", number_id, {"ids": [number_id]}, idempotent=True)
        )


def _number_in(answer: dict[str, Any]) -> LiveKitNumber:
    """The number of a Get/UpdatePhoneNumber answer."""
    return _number(answer.get("phone_number") or {})


def _number(body: dict[str, Any]) -> LiveKitNumber:
    rule_ids = body.get("sip_dispatch_rule_ids") or []
    rule_id = body.get("sip_dispatch_rule_id") or (rule_ids[0] if rule_ids else None)
    return LiveKitNumber(
        id=body.get("id", ""), e164=body.get("e164_format", ""),
        status=str(body.get("status", "")).removeprefix("PHONE_NUMBER_STATUS_"), dispatch_rule_id=rule_id,
    )
