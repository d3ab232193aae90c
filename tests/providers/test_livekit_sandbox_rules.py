"""The emulator's dispatch-rule check against LiveKit's validator run in full, over random histories.

The emulator checks a new or changed rule against an index of what the others claim (LiveKitState's
claims), on the ground that the rules it holds never conflict with one another. LiveKit's
DispatchRuleValidator instead runs over every rule in id order, the changed one in its place and a new
one last, and names the rule that first claimed the combination met twice. Here both judge the same
random creates, updates and deletes (some straight from the dict, as tests do), drawn from few trunks, numbers and PINs so that conflicts are
common: every answer, and every message, must be the same.
"""

from __future__ import annotations

import random

import pytest
from livekit.protocol import sip

from providers.sandbox.livekit import LiveKitState
from providers.sandbox.livekit.errors import TwirpError
from providers.sandbox.livekit.sip_methods import SIP_METHODS
from providers.sandbox.livekit.state import normalize_number

TRUNKS = ["ST_a", "ST_b", "ST_c"]
NUMBERS = ["+14155550100", "+1 (415) 555-0100", "+14155550101", "+14155550102"]
PINS = ["", "", "1234"]


def full_validator(rules: dict[str, sip.SIPDispatchRuleInfo], rule: sip.SIPDispatchRuleInfo) -> str | None:
    """LiveKit's way: every rule in id order, `rule` in its place (or last when new); the refusal or None."""
    own_id = rule.sip_dispatch_rule_id
    ordered = [rule if rule_id == own_id else held for rule_id, held in sorted(rules.items())]
    if not own_id:
        ordered.append(rule)
    claimed: dict[tuple, sip.SIPDispatchRuleInfo] = {}
    for current in ordered:
        kind = current.rule.WhichOneof("rule")
        if kind is None:
            return "missing rule"
        pin = getattr(current.rule, kind).pin
        for trunk in current.trunk_ids or [""]:
            for caller in current.inbound_numbers or [""]:
                for called in current.numbers or [""]:
                    key = (pin, trunk, normalize_number(caller), normalize_number(called))
                    if (other := claimed.get(key)) is not None:
                        return (
                            "Dispatch rule for the same trunk, inbound number, number, and PIN combination already "
                            f'exists in dispatch rule "{other.sip_dispatch_rule_id or "<new>"}" '
                            f'"{other.name or "<blank name>"}"'
                        )
                    claimed[key] = current
    return None


def random_rule(dice: random.Random, name: str) -> sip.SIPDispatchRuleInfo:
    return sip.SIPDispatchRuleInfo(
        name=name,
        trunk_ids=dice.sample(TRUNKS, dice.choice([0, 1, 1, 2])),
        numbers=dice.sample(NUMBERS, dice.choice([0, 1, 1, 2])),
        inbound_numbers=dice.sample(NUMBERS, dice.choice([0, 0, 0, 1])),
        rule=sip.SIPDispatchRule(
            dispatch_rule_individual=sip.SIPDispatchRuleIndividual(room_prefix="call-", pin=dice.choice(PINS))
        ),
    )


def call(state: LiveKitState, method: str, request) -> str | None:
    """The refusal's message, or None when the emulator accepted."""
    try:
        SIP_METHODS[method][1](state, request)
    except TwirpError as refused:
        return refused.msg
    return None


@pytest.mark.parametrize("seed", range(12))
def test_the_emulator_judges_every_rule_as_livekits_full_validator(seed):
    dice = random.Random(seed)
    state = LiveKitState.from_seed({"api_key": "k", "api_secret": "s"})
    refused = accepted = 0
    for step in range(150):
        before = dict(state.dispatch_rules)
        roll = dice.random()
        if roll < 0.15 and before:
            rule_id = dice.choice(sorted(before))
            if roll < 0.05:  # as a test does when someone deletes the rule in LiveKit's console
                state.dispatch_rules.pop(rule_id)
            else:
                assert call(state, "DeleteSIPDispatchRule", sip.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id)) is None
            continue
        candidate = random_rule(dice, f"rule {step}")
        if roll < 0.5 and before:
            rule_id = dice.choice(sorted(before))
            candidate.sip_dispatch_rule_id = rule_id
            expected = full_validator(before, candidate)
            answer = call(state, "UpdateSIPDispatchRule", sip.UpdateSIPDispatchRuleRequest(
                sip_dispatch_rule_id=rule_id, replace=candidate))
        else:
            expected = full_validator(before, candidate)
            answer = call(state, "CreateSIPDispatchRule", sip.CreateSIPDispatchRuleRequest(dispatch_rule=candidate))
        assert answer == expected, (seed, step)
        if answer is None:
            accepted += 1
        else:
            refused += 1
            assert state.dispatch_rules == before  # a refused change leaves every rule as it was
    assert refused > 10 and accepted > 10  # the histories exercise both answers
