"""The livekit.SIP Twirp methods: each takes the project and its request message, answers a message."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from google.protobuf.message import Message
from livekit.protocol import sip

from providers.sandbox.livekit import sip_rules, wire
from providers.sandbox.livekit.errors import invalid, not_found
from providers.sandbox.livekit.state import LiveKitState, new_id


@dataclass(frozen=True)
class _TrunkKind:
    """What differs between inbound and outbound trunks; the methods on them are otherwise the same."""

    what: str
    info: type[Message]
    get_response: type[Message]
    list_response: type[Message]
    check: Callable[[LiveKitState, Any, str], None]
    attribute: str

    def trunks(self, state: LiveKitState) -> dict[str, Any]:
        return getattr(state, self.attribute)


INBOUND = _TrunkKind("SIP inbound trunk", sip.SIPInboundTrunkInfo, sip.GetSIPInboundTrunkResponse,
                     sip.ListSIPInboundTrunkResponse, sip_rules.check_inbound, "inbound_trunks")
OUTBOUND = _TrunkKind("SIP outbound trunk", sip.SIPOutboundTrunkInfo, sip.GetSIPOutboundTrunkResponse,
                      sip.ListSIPOutboundTrunkResponse, sip_rules.check_outbound, "outbound_trunks")


def _stamp(message: Message, *, created: bool) -> None:
    if created:
        message.created_at.GetCurrentTime()
    message.updated_at.GetCurrentTime()


def _existing(items: dict[str, Any], item_id: str, what: str) -> Any:
    if not item_id:
        raise invalid(f"{what} id must be set")
    if item_id not in items:
        raise not_found(f"{what} {item_id}")
    return items[item_id]


def _create_trunk(kind: _TrunkKind, state: LiveKitState, req: Any) -> Message:
    if not req.HasField("trunk"):
        raise invalid("missing trunk")
    if req.trunk.sip_trunk_id:
        raise invalid("trunk id must not be set")
    trunk = kind.info()
    trunk.CopyFrom(req.trunk)
    kind.check(state, trunk, "")
    trunk.sip_trunk_id = new_id("ST_")
    _stamp(trunk, created=True)
    kind.trunks(state)[trunk.sip_trunk_id] = trunk
    return trunk


def _update_trunk(kind: _TrunkKind, state: LiveKitState, req: Any) -> Message:
    current = _existing(kind.trunks(state), req.sip_trunk_id, kind.what)
    trunk = sip_rules.updated(req, current, sip_rules.apply_trunk_update, id_field="sip_trunk_id", noun="trunk")
    kind.check(state, trunk, trunk.sip_trunk_id)
    _stamp(trunk, created=False)
    kind.trunks(state)[trunk.sip_trunk_id] = trunk
    return trunk


def _get_trunk(kind: _TrunkKind, state: LiveKitState, req: Any) -> Message:
    return kind.get_response(trunk=_existing(kind.trunks(state), req.sip_trunk_id, kind.what))


def _list_trunks(kind: _TrunkKind, state: LiveKitState, req: Any) -> Message:
    def keep(t: Any) -> bool:
        return (not req.trunk_ids or t.sip_trunk_id in req.trunk_ids) and sip_rules.matches_numbers(
            req.numbers, t.numbers
        )

    return kind.list_response(items=wire.page_after_id(kind.trunks(state), req.page, keep))


def _delete_trunk(state: LiveKitState, req: sip.DeleteSIPTrunkRequest) -> Message:
    """Delete an inbound or outbound trunk; the answer is the legacy SIPTrunkInfo shape."""
    for kind in (INBOUND, OUTBOUND):
        if req.sip_trunk_id in kind.trunks(state):
            return wire.legacy_trunk_info(kind.trunks(state).pop(req.sip_trunk_id))
    raise not_found(f"SIP trunk {req.sip_trunk_id}")


def _create_dispatch_rule(state: LiveKitState, req: sip.CreateSIPDispatchRuleRequest) -> Message:
    rule = sip.SIPDispatchRuleInfo()
    if req.HasField("dispatch_rule"):
        if req.dispatch_rule.sip_dispatch_rule_id:
            raise invalid("rule id must not be set")
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
    sip_rules.check_dispatch_rule(state, rule)
    rule.sip_dispatch_rule_id = new_id("SDR_")
    _stamp(rule, created=True)
    state.dispatch_rules[rule.sip_dispatch_rule_id] = rule
    return rule


def _update_dispatch_rule(state: LiveKitState, req: sip.UpdateSIPDispatchRuleRequest) -> Message:
    current = _existing(state.dispatch_rules, req.sip_dispatch_rule_id, "SIP dispatch rule")
    rule = sip_rules.updated(req, current, sip_rules.apply_rule_update, id_field="sip_dispatch_rule_id", noun="rule")
    sip_rules.check_dispatch_rule(state, rule)
    _stamp(rule, created=False)
    state.dispatch_rules[rule.sip_dispatch_rule_id] = rule
    return rule


def _list_dispatch_rules(state: LiveKitState, req: sip.ListSIPDispatchRuleRequest) -> Message:
    def keep(r: Any) -> bool:
        wanted = set(req.trunk_ids)
        return (not req.dispatch_rule_ids or r.sip_dispatch_rule_id in req.dispatch_rule_ids) and (
            not wanted or not r.trunk_ids or bool(wanted.intersection(r.trunk_ids))
        )

    return sip.ListSIPDispatchRuleResponse(items=wire.page_after_id(state.dispatch_rules, req.page, keep))


def _delete_dispatch_rule(state: LiveKitState, req: sip.DeleteSIPDispatchRuleRequest) -> Message:
    rule = _existing(state.dispatch_rules, req.sip_dispatch_rule_id, "SIP dispatch rule")
    state.delete_dispatch_rule(rule.sip_dispatch_rule_id)
    return rule


SIP_METHODS: dict[str, tuple[type[Message], Callable[[LiveKitState, Any], Message]]] = {
    "CreateSIPInboundTrunk": (sip.CreateSIPInboundTrunkRequest, partial(_create_trunk, INBOUND)),
    "CreateSIPOutboundTrunk": (sip.CreateSIPOutboundTrunkRequest, partial(_create_trunk, OUTBOUND)),
    "UpdateSIPInboundTrunk": (sip.UpdateSIPInboundTrunkRequest, partial(_update_trunk, INBOUND)),
    "UpdateSIPOutboundTrunk": (sip.UpdateSIPOutboundTrunkRequest, partial(_update_trunk, OUTBOUND)),
    "GetSIPInboundTrunk": (sip.GetSIPInboundTrunkRequest, partial(_get_trunk, INBOUND)),
    "GetSIPOutboundTrunk": (sip.GetSIPOutboundTrunkRequest, partial(_get_trunk, OUTBOUND)),
    "ListSIPInboundTrunk": (sip.ListSIPInboundTrunkRequest, partial(_list_trunks, INBOUND)),
    "ListSIPOutboundTrunk": (sip.ListSIPOutboundTrunkRequest, partial(_list_trunks, OUTBOUND)),
    "DeleteSIPTrunk": (sip.DeleteSIPTrunkRequest, _delete_trunk),
    "CreateSIPDispatchRule": (sip.CreateSIPDispatchRuleRequest, _create_dispatch_rule),
    "UpdateSIPDispatchRule": (sip.UpdateSIPDispatchRuleRequest, _update_dispatch_rule),
    "ListSIPDispatchRule": (sip.ListSIPDispatchRuleRequest, _list_dispatch_rules),
    "DeleteSIPDispatchRule": (sip.DeleteSIPDispatchRuleRequest, _delete_dispatch_rule),
}
