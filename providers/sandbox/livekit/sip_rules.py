"""LiveKit's checks on SIP trunks and dispatch rules (livekit/protocol livekit/sip.go, sip/sip.go).

Field checks, list updates, and the conflicts a new or changed trunk or rule may not create with
those the project already has.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from google.protobuf.message import Message
from livekit.protocol import sip
from livekit.protocol.models import ListUpdate

from providers.sandbox.livekit.errors import invalid
from providers.sandbox.livekit.state import LiveKitState, RuleKey, normalize_number, rule_claims


def _check_host(value: str, what: str) -> None:
    if "transport=" in value:
        raise invalid(f"{what} should not contain transport parameter")
    if any(c in value for c in "@;") or value.startswith(("sip:", "sips:")):
        raise invalid(f"{what} should be a hostname or IP, not SIP URI")


def check_inbound(state: LiveKitState, trunk: sip.SIPInboundTrunkInfo, own_id: str = "") -> None:
    """An inbound trunk's fields, then its conflicts with the others (`own_id` is its id, "" if new)."""
    if not (trunk.auth_username or trunk.auth_password or trunk.allowed_addresses or trunk.numbers):
        raise invalid(
            "for security, one of the fields must be set: AuthUsername+AuthPassword, AllowedAddresses or Numbers"
        )
    _check_inbound_conflicts(state, trunk, own_id)


def check_outbound(state: LiveKitState, trunk: sip.SIPOutboundTrunkInfo, own_id: str = "") -> None:
    if not trunk.numbers:
        raise invalid("no trunk numbers specified")
    if not trunk.address:
        raise invalid("no outbound address specified")
    _check_host(trunk.address, "trunk address")
    _check_host(trunk.from_host, "from_host")


def _check_inbound_conflicts(state: LiveKitState, trunk: sip.SIPInboundTrunkInfo, own_id: str) -> None:
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
            raise invalid(
                f'Conflicting inbound SIP Trunks: "{own_id or "<new>"}" and "{other.sip_trunk_id}", '
                f"using the same number(s) {json.dumps(shared)} without AllowedNumbers set"
            )


def matches_numbers(wanted: Iterable[str], numbers: Iterable[str]) -> bool:
    """A trunk's `numbers` pass a list filter on `wanted` (either empty passes everything)."""
    wanted, numbers = {normalize_number(n) for n in wanted}, [normalize_number(n) for n in numbers]
    return not wanted or not numbers or any(n in wanted for n in numbers)


# Updates


def _check_list_update(update: ListUpdate) -> None:
    changes = bool(update.add or update.remove)
    if update.clear and (changes or update.set):
        raise invalid("cannot clear and change the list at the same time")
    if update.set and changes:
        raise invalid("cannot set and change the list at the same time")
    if any(not v for v in [*update.set, *update.add, *update.remove]):
        raise invalid("empty element in the list")


def _apply_list_update(current: Any, update: ListUpdate) -> list[str]:
    """LiveKit's applyListUpdate: clear, else set when non-empty, else remove then add."""
    if update.clear:
        return []
    if update.set:
        return list(update.set)
    result = [v for v in current if v not in update.remove]
    result.extend(v for v in dict.fromkeys(update.add) if v not in result)
    return result


def apply_trunk_update(trunk: Any, update: Any) -> None:
    """A SIPInboundTrunkUpdate or SIPOutboundTrunkUpdate: list fields by ListUpdate, others when set."""
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


def apply_rule_update(rule: sip.SIPDispatchRuleInfo, update: sip.SIPDispatchRuleUpdate) -> None:
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


def updated(
    req: Any, current: Message, apply_update: Callable[[Any, Any], None], *, id_field: str, noun: str
) -> Message:
    """What an Update* request asks `current` to become (`replace` or `update`), not yet validated.

    A replacement keeps the id (`id_field`) and `created_at` of the `noun` it replaces.
    """
    action = req.WhichOneof("action")
    if action is None:
        raise invalid("missing or unsupported update action")
    result = type(current)()
    if action == "replace":
        if getattr(req.replace, id_field) not in ("", getattr(req, id_field)):
            raise invalid(f"{noun} id in the info must be empty or match the id in the update")
        result.CopyFrom(req.replace)
        setattr(result, id_field, getattr(current, id_field))
        result.created_at.CopyFrom(current.created_at)
    else:
        result.CopyFrom(current)
        apply_update(result, req.update)
    return result


# Dispatch rules


def _go_quote(text: str) -> str:
    """Go's %q for the plain strings in LiveKit's messages."""
    return json.dumps(text, ensure_ascii=False)


def check_dispatch_rule(state: LiveKitState, rule: sip.SIPDispatchRuleInfo) -> None:
    """A rule must have a rule, and must not conflict with the others.

    LiveKit's DispatchRuleValidator (livekit/protocol sip/sip.go) runs over every rule with `rule`
    in place: in id order, as LiveKit lists them, with a new rule (no id yet) last and an updated
    one in its own place, so it never conflicts with its former self; the first combination met twice
    names the rule that claimed it first. A key repeated within one rule (a trunk id listed twice,
    "+1 415…" and "+1415…") conflicts too, as at LiveKit. The rules already held never conflict with
    one another (each passed this check), so only `rule`'s own combinations need looking at: one held
    by a rule before it in that order is met on `rule`'s turn and names that rule; a repeat within
    `rule` likewise names `rule`; one held by a rule after it is met on that rule's turn and names `rule`.
    """
    if not rule.HasField("rule"):
        raise invalid("missing rule")
    own_id = rule.sip_dispatch_rule_id
    mine: set[RuleKey] = set()
    met_later = False
    for key in rule_claims(rule):
        holder = state.dispatch_rules.claimant(key)
        if holder is not None and holder != own_id:
            if not own_id or holder < own_id:
                _conflict(holder, state.dispatch_rules[holder].name)
            met_later = True
        if key in mine:
            _conflict(own_id, rule.name)
        mine.add(key)
    if met_later:
        _conflict(own_id, rule.name)


def _conflict(rule_id: str, name: str) -> None:
    raise invalid(
        "Dispatch rule for the same trunk, inbound number, number, and PIN combination already exists "
        f"in dispatch rule {_go_quote(rule_id or '<new>')} {_go_quote(name or '<blank name>')}"
    )
