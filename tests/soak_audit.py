"""The chaos soak's audit: every database row against what the sandbox carriers hold.

`audit(rows, carriers)` is a pure function of two snapshots taken after the load stopped and recovery
finished: `rows`, every row of the tables that record carrier work (see `DatabaseRows`), and
`carriers`, the sandbox's `GET /__sandbox/state` (`twilio` and `livekit`). It returns the problems
found, by category:

- orphans: carrier resources that bear our names, or numbers we took, that no row accounts for;
- missing: ACTIVE numbers lacking something they need at a carrier, and rows naming carrier ids
  that do not exist;
- stuck: numbers still PROVISIONING or RELEASING, and carrier_step rows left over;
- cap breaches: workspaces holding more numbers than their limit;
- duplicates: one number held twice, in two rows, on two of our trunks, or for two workspaces.

Each problem has a key naming the fact it reports, so one fact found by two checks counts once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Categories, in the order the report prints them; the workload adds "unexpected answers".
ORPHANS = "orphans"
MISSING = "missing"
STUCK = "stuck"
CAP_BREACHES = "cap breaches"
DUPLICATES = "duplicates"
UNEXPECTED = "unexpected answers"
CATEGORIES = (ORPHANS, MISSING, STUCK, CAP_BREACHES, DUPLICATES, UNEXPECTED)

# The names the server gives carrier resources (resolvers/carrier_names.py): "trunkline <our id>" at
# LiveKit and "Trunkline <our id>" at Twilio.
LIVEKIT_NAME_PREFIX = "trunkline"
TWILIO_NAME_PREFIX = "Trunkline"
RELEASED = "PHONE_NUMBER_STATUS_RELEASED"
IN_FLIGHT = ("PROVISIONING", "RELEASING")
TWILIO_SOURCES = ("TWILIO", "TWILIO_PURCHASED")
DATABASE_TABLES = ("workspace", "agent", "twilio_account", "sip_trunk", "phone_number", "carrier_step")

Row = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    category: str
    key: str  # what is wrong, with the ids involved; also what makes two findings the same one
    detail: str = ""  # more context for a person: names, numbers, states

    def __str__(self) -> str:
        return f"{self.key}: {self.detail}" if self.detail else self.key


@dataclass
class Findings:
    """Problems by category, each counted once."""

    problems: dict[str, dict[str, Problem]] = field(default_factory=lambda: {c: {} for c in CATEGORIES})

    def add(self, category: str, key: str, detail: str = "") -> None:
        self.problems[category].setdefault(key, Problem(category, key, detail))

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem.category, problem.key, problem.detail)

    def count(self, category: str) -> int:
        return len(self.problems[category])

    def examples(self, category: str, limit: int = 10) -> list[Problem]:
        return list(self.problems[category].values())[:limit]

    @property
    def total(self) -> int:
        return sum(len(found) for found in self.problems.values())


@dataclass
class DatabaseRows:
    """Every row of the audited tables, as column -> value dicts (JSON columns decoded)."""

    workspace: list[Row]
    agent: list[Row]
    twilio_account: list[Row]
    sip_trunk: list[Row]
    phone_number: list[Row]
    carrier_step: list[Row]

    @classmethod
    async def read(cls, connection: Any) -> DatabaseRows:
        """Read them through an asyncpg connection."""
        tables = {}
        for table in DATABASE_TABLES:
            records = await connection.fetch(f"SELECT * FROM {table} ORDER BY 1")
            tables[table] = [_decoded(dict(record)) for record in records]
        return cls(**tables)

    def as_json(self) -> dict[str, list[Row]]:
        return dataclasses.asdict(self)


def _decoded(row: Row) -> Row:
    # asyncpg hands json/jsonb columns over as text.
    for column in ("capabilities", "allowed_addresses", "params"):
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    return row


def _referenced(rows: Iterable[Row], *columns: str) -> set[str]:
    return {row[column] for row in rows for column in columns if row.get(column)}


class _Carriers:
    """The sandbox state, indexed for look-ups."""

    def __init__(self, carriers: dict[str, Any]) -> None:
        self.accounts: dict[str, dict[str, Any]] = {a["sid"]: a for a in carriers["twilio"]["accounts"]}
        livekit = carriers["livekit"]
        self.inbound: dict[str, dict[str, Any]] = livekit["inbound_trunks"]
        self.outbound: dict[str, dict[str, Any]] = livekit["outbound_trunks"]
        self.rules: dict[str, dict[str, Any]] = livekit["dispatch_rules"]
        self.livekit_numbers: dict[str, dict[str, Any]] = livekit["phone_numbers"]
        self.held_livekit_numbers = {k: v for k, v in self.livekit_numbers.items() if v["status"] != RELEASED}
        # Twilio sids are unique across accounts; remember which account holds each resource.
        self.twilio_trunks: dict[str, tuple[str, dict[str, Any]]] = {}
        self.credential_lists: dict[str, tuple[str, dict[str, Any]]] = {}
        self.incoming: dict[str, tuple[str, dict[str, Any]]] = {}
        self.caller_ids: dict[str, tuple[str, dict[str, Any]]] = {}
        for sid, account in self.accounts.items():
            self.twilio_trunks.update({t["sid"]: (sid, t) for t in account["trunks"]})
            self.credential_lists.update({c["sid"]: (sid, c) for c in account["credential_lists"]})
            self.incoming.update({n["sid"]: (sid, n) for n in account["incoming_phone_numbers"]})
            self.caller_ids.update({c["sid"]: (sid, c) for c in account["outgoing_caller_ids"]})


def audit(rows: DatabaseRows, carriers: dict[str, Any], *, platform_account_sid: str) -> Findings:
    """Every problem found in the two snapshots; `platform_account_sid` is the account purchases use."""
    found = Findings()
    state = _Carriers(carriers)
    found.extend(_orphans(rows, state, platform_account_sid))
    found.extend(_missing(rows, state))
    found.extend(_stuck(rows))
    found.extend(_cap_breaches(rows))
    found.extend(_duplicates(rows, state))
    return found


# --- orphans ---------------------------------------------------------------------------------------


def _orphans(rows: DatabaseRows, state: _Carriers, platform_account_sid: str) -> Iterable[Problem]:
    trunks, numbers = rows.sip_trunk, rows.phone_number

    def orphan(key: str, detail: str = "") -> Problem:
        return Problem(ORPHANS, key, detail)

    # Resources bearing our names that no row references by id.
    for side, livekit_trunks, column in (
        ("inbound", state.inbound, "livekit_inbound_trunk_id"),
        ("outbound", state.outbound, "livekit_outbound_trunk_id"),
    ):
        known = _referenced(trunks, column)
        for trunk_id, trunk in livekit_trunks.items():
            if trunk.get("name", "").startswith(LIVEKIT_NAME_PREFIX) and trunk_id not in known:
                yield orphan(f"LiveKit {side} trunk {trunk_id} ({trunk['name']!r}) is referenced by no sip_trunk row",
                             f"numbers {trunk.get('numbers', [])}")
    known_rules = _referenced(numbers, "livekit_dispatch_rule_id")
    for rule_id, rule in state.rules.items():
        if rule.get("name", "").startswith(LIVEKIT_NAME_PREFIX) and rule_id not in known_rules:
            yield orphan(f"LiveKit dispatch rule {rule_id} ({rule['name']!r}) is referenced by no phone_number row",
                         f"numbers {rule.get('numbers', [])}, agents {_agent_names(rule)}")
    known_twilio_trunks = _referenced(trunks, "twilio_trunk_sid")
    for sid, (account_sid, trunk) in state.twilio_trunks.items():
        if (trunk.get("friendly_name") or "").startswith(TWILIO_NAME_PREFIX) and sid not in known_twilio_trunks:
            yield orphan(f"Twilio trunk {sid} ({trunk['friendly_name']!r}, account {account_sid}) "
                         "is referenced by no sip_trunk row", f"{len(trunk['phone_number_sids'])} number(s) attached")
    known_lists = _referenced(trunks, "twilio_credential_list_sid")
    for sid, (account_sid, credential_list) in state.credential_lists.items():
        if (credential_list.get("friendly_name") or "").startswith(TWILIO_NAME_PREFIX) and sid not in known_lists:
            yield orphan(f"Twilio credential list {sid} ({credential_list['friendly_name']!r}, account {account_sid}) "
                         "is referenced by no sip_trunk row")

    # Numbers taken at a carrier that no row holds.
    known_livekit_numbers = _referenced(numbers, "livekit_phone_number_id")
    for number_id, number in state.held_livekit_numbers.items():
        if number_id not in known_livekit_numbers:
            yield orphan(f"LiveKit number {number_id} {number['e164_format']} is held ({number['status']}) "
                         "but no phone_number row holds it")
    purchased = {row["e164"] for row in numbers if row["source"] == "TWILIO_PURCHASED"}
    platform = state.accounts.get(platform_account_sid)
    for incoming in platform["incoming_phone_numbers"] if platform else []:
        if incoming["phone_number"] not in purchased:
            yield orphan(f"platform Twilio number {incoming['sid']} {incoming['phone_number']} is held "
                         "but no TWILIO_PURCHASED row holds it", f"trunk_sid {incoming['trunk_sid']}")

    # Numbers wired into a trunk that no ACTIVE row on that trunk accounts for.
    trunk_by_id = {trunk["id"]: trunk for trunk in trunks}
    active = [row for row in numbers if row["status"] == "ACTIVE"]

    def trunk_of(row: Row) -> Row:
        return trunk_by_id.get(row["trunk_id"]) or {}

    attached = {
        (row["e164"], trunk_of(row).get("twilio_trunk_sid"))
        for row in active if row["source"] in TWILIO_SOURCES
    }
    for sid, (account_sid, incoming) in state.incoming.items():
        if incoming["trunk_sid"] and (incoming["phone_number"], incoming["trunk_sid"]) not in attached:
            yield orphan(f"Twilio number {sid} {incoming['phone_number']} (account {account_sid}) is attached to trunk "
                         f"{incoming['trunk_sid']} but no ACTIVE TWILIO/TWILIO_PURCHASED row on that trunk accounts for it")
    for side, livekit_trunks, column in (
        ("inbound", state.inbound, "livekit_inbound_trunk_id"),
        ("outbound", state.outbound, "livekit_outbound_trunk_id"),
    ):
        on_trunk = {(row["e164"], trunk_of(row).get(column)) for row in active}
        referenced = _referenced(trunks, column)  # a trunk no row references is reported whole, above
        for trunk_id, trunk in livekit_trunks.items():
            if trunk_id not in referenced:
                continue
            owner = next(t["id"] for t in trunks if t.get(column) == trunk_id)
            for e164 in trunk.get("numbers", []):
                if (e164, trunk_id) not in on_trunk:
                    yield orphan(f"{e164} is on LiveKit {side} trunk {trunk_id} (of {owner}) "
                                 "but no ACTIVE row on that trunk accounts for it")

    # A trunk's carrier side goes with its last number (and a shared Twilio trunk's row with it), so a
    # trunk row that no number rides yet holds carrier resources keeps them for nothing.
    riders = {row["trunk_id"] for row in numbers if row["trunk_id"]}
    for trunk in trunks:
        held = [f"{what} {trunk[column]}" for what, column in (
            ("Twilio trunk", "twilio_trunk_sid"), ("credential list", "twilio_credential_list_sid"),
            ("LiveKit inbound trunk", "livekit_inbound_trunk_id"), ("LiveKit outbound trunk", "livekit_outbound_trunk_id"),
        ) if trunk[column]]
        if held and trunk["id"] not in riders:
            yield orphan(f"sip_trunk {trunk['id']} ({trunk['provider']}) has no numbers but keeps {', '.join(held)}")

    # A dispatch rule kept for a number that no longer has an agent still routes its calls.
    for row in numbers:
        if row["livekit_dispatch_rule_id"] and not row["agent_id"] and row["livekit_dispatch_rule_id"] in state.rules:
            rule = state.rules[row["livekit_dispatch_rule_id"]]
            yield orphan(f"{row['id']} {row['e164']} has no agent but keeps dispatch rule {row['livekit_dispatch_rule_id']}",
                         f"which dispatches {_agent_names(rule)}")


# --- missing ---------------------------------------------------------------------------------------


def _missing(rows: DatabaseRows, state: _Carriers) -> Iterable[Problem]:
    trunk_by_id = {trunk["id"]: trunk for trunk in rows.sip_trunk}
    account_sid_of = {account["id"]: account["account_sid"] for account in rows.twilio_account}

    def missing(key: str, detail: str = "") -> Problem:
        return Problem(MISSING, key, detail)

    # Rows naming carrier ids that do not exist, whatever their state.
    for trunk in rows.sip_trunk:
        name = f"sip_trunk {trunk['id']} ({trunk['provider']} {trunk['direction']})"
        if trunk["livekit_inbound_trunk_id"] and trunk["livekit_inbound_trunk_id"] not in state.inbound:
            yield missing(f"{name} names LiveKit inbound trunk {trunk['livekit_inbound_trunk_id']}, which does not exist")
        if trunk["livekit_outbound_trunk_id"] and trunk["livekit_outbound_trunk_id"] not in state.outbound:
            yield missing(f"{name} names LiveKit outbound trunk {trunk['livekit_outbound_trunk_id']}, which does not exist")
        if trunk["twilio_trunk_sid"]:
            if trunk["twilio_trunk_sid"] not in state.twilio_trunks:
                yield missing(f"{name} names Twilio trunk {trunk['twilio_trunk_sid']}, which does not exist")
            elif trunk["twilio_origination_url_sid"] and trunk["twilio_origination_url_sid"] not in {
                url["sid"] for url in state.twilio_trunks[trunk["twilio_trunk_sid"]][1]["origination_urls"]
            }:
                yield missing(f"{name} names origination URL {trunk['twilio_origination_url_sid']}, "
                              f"which Twilio trunk {trunk['twilio_trunk_sid']} does not have")
        if trunk["twilio_credential_list_sid"] and trunk["twilio_credential_list_sid"] not in state.credential_lists:
            yield missing(f"{name} names Twilio credential list {trunk['twilio_credential_list_sid']}, which does not exist")
    for row in rows.phone_number:
        name = f"{row['id']} {row['e164']} ({row['source']} {row['status']})"
        if row["livekit_phone_number_id"] and row["livekit_phone_number_id"] not in state.held_livekit_numbers:
            yield missing(f"{name}: LiveKit number {row['livekit_phone_number_id']} is not held",
                          _livekit_number_state(state, row["livekit_phone_number_id"]))
        if row["livekit_dispatch_rule_id"] and row["livekit_dispatch_rule_id"] not in state.rules:
            yield missing(f"{name}: dispatch rule {row['livekit_dispatch_rule_id']} does not exist")
        sid = row["twilio_phone_number_sid"]
        if sid and sid not in state.incoming and sid not in state.caller_ids:
            yield missing(f"{name}: Twilio number or caller ID {sid} does not exist")

    for trunk in rows.sip_trunk:
        if trunk["provider"] == "BYOC":
            yield from _byoc_settings_differ(trunk, state)

    # What each ACTIVE number needs.
    for row in rows.phone_number:
        if row["status"] != "ACTIVE":
            continue
        name = f"{row['id']} {row['e164']} ({row['source']})"
        trunk = trunk_by_id.get(row["trunk_id"]) if row["trunk_id"] else None
        source = row["source"]
        if source == "LIVEKIT":
            number = state.held_livekit_numbers.get(row["livekit_phone_number_id"] or "")
            if number is None:
                yield missing(f"{name}: LiveKit number {row['livekit_phone_number_id']} is not held",
                              _livekit_number_state(state, row["livekit_phone_number_id"]))
            elif number["e164_format"] != row["e164"]:
                yield missing(f"{name}: LiveKit number {row['livekit_phone_number_id']} is {number['e164_format']}")
        elif trunk is None:
            yield missing(f"{name}: no sip_trunk row (trunk_id {row['trunk_id']})")
        elif source in TWILIO_SOURCES:
            yield from _twilio_side_missing(name, row, trunk, state, account_sid_of.get(row["twilio_account_id"]))
            yield from _on_livekit_trunk(name, row, trunk, state, inbound=True, outbound=True)
        elif source == "VERIFIED_CALLER_ID":
            yield from _on_livekit_trunk(name, row, trunk, state, inbound=False, outbound=True)
        elif source == "BYOC":
            direction = trunk["direction"]
            yield from _on_livekit_trunk(
                name, row, trunk, state, inbound=direction in ("INBOUND", "BOTH"), outbound=direction in ("OUTBOUND", "BOTH")
            )
        if row["agent_id"]:
            yield from _dispatch_missing(name, row, trunk, state)


def _byoc_settings_differ(trunk: Row, state: _Carriers) -> Iterable[Problem]:
    """A BYOC trunk's LiveKit trunks carry the settings its row records (updateSipTrunk changes both, and a
    failure in the middle must leave the old ones at both ends)."""
    name = f"sip_trunk {trunk['id']} (BYOC {trunk['direction']})"
    username = trunk["auth_username"] if trunk["auth_password_encrypted"] else ""
    wanted = {
        "inbound": (state.inbound.get(trunk["livekit_inbound_trunk_id"] or ""), {
            "allowed_addresses": sorted(trunk["allowed_addresses"] or []), "auth_username": username,
        }),
        "outbound": (state.outbound.get(trunk["livekit_outbound_trunk_id"] or ""), {
            "address": trunk["sip_address"], "transport": f"SIP_TRANSPORT_{trunk['transport']}", "auth_username": username,
        }),
    }
    for side, (livekit_trunk, settings) in wanted.items():
        if livekit_trunk is None:
            continue  # none, or reported as a dangling reference
        held = {key: sorted(livekit_trunk.get(key) or []) if key == "allowed_addresses" else livekit_trunk.get(key) or ""
                for key in settings}
        expected = {key: value or ([] if key == "allowed_addresses" else "") for key, value in settings.items()}
        if held != expected:
            yield Problem(MISSING, f"{name}: LiveKit {side} trunk {livekit_trunk.get('sip_trunk_id')} holds other settings",
                          f"LiveKit {held}, row {expected}")


def _livekit_number_state(state: _Carriers, number_id: str | None) -> str:
    number = state.livekit_numbers.get(number_id or "")
    return f"LiveKit has it as {number['status']}" if number else "LiveKit has no such number"


def _twilio_side_missing(name: str, row: Row, trunk: Row, state: _Carriers, account_sid: str | None) -> Iterable[Problem]:
    trunk_sid = trunk["twilio_trunk_sid"]
    if account_sid is None:
        yield Problem(MISSING, f"{name}: no twilio_account row (twilio_account_id {row['twilio_account_id']})")
        return
    account = state.accounts.get(account_sid)
    incoming = next((n for n in account["incoming_phone_numbers"] if n["phone_number"] == row["e164"]), None) if account else None
    if incoming is None:
        yield Problem(MISSING, f"{name}: Twilio account {account_sid} does not hold the number")
    elif incoming["trunk_sid"] != trunk_sid:
        where = f"trunk {incoming['trunk_sid']}" if incoming["trunk_sid"] else "no trunk"
        yield Problem(MISSING, f"{name}: Twilio number {incoming['sid']} is attached to {where}, "
                               f"not to the trunk row's Twilio trunk {trunk_sid} ({trunk['id']})")
    if not trunk_sid:
        yield Problem(MISSING, f"{name}: sip_trunk {trunk['id']} has no Twilio trunk")
        return
    if trunk_sid not in state.twilio_trunks:
        return  # reported as a dangling reference of the trunk row
    holder, twilio_trunk = state.twilio_trunks[trunk_sid]
    if holder != account_sid:
        yield Problem(MISSING, f"sip_trunk {trunk['id']}: Twilio trunk {trunk_sid} is on account {holder}, not {account_sid}")
    if not twilio_trunk["origination_urls"]:
        yield Problem(MISSING, f"sip_trunk {trunk['id']}: Twilio trunk {trunk_sid} has no origination URL")
    credential_list = trunk["twilio_credential_list_sid"]
    if not credential_list:
        yield Problem(MISSING, f"sip_trunk {trunk['id']}: no credential list recorded for Twilio trunk {trunk_sid}")
    elif credential_list not in twilio_trunk["credential_list_sids"]:
        yield Problem(MISSING, f"sip_trunk {trunk['id']}: credential list {credential_list} is not attached to "
                               f"Twilio trunk {trunk_sid}", f"attached: {twilio_trunk['credential_list_sids']}")


def _on_livekit_trunk(name: str, row: Row, trunk: Row, state: _Carriers, *, inbound: bool, outbound: bool) -> Iterable[Problem]:
    for wanted, side, livekit_trunks, column in (
        (inbound, "inbound", state.inbound, "livekit_inbound_trunk_id"),
        (outbound, "outbound", state.outbound, "livekit_outbound_trunk_id"),
    ):
        if not wanted:
            continue
        trunk_id = trunk[column]
        if not trunk_id:
            yield Problem(MISSING, f"{name}: sip_trunk {trunk['id']} has no LiveKit {side} trunk")
        elif trunk_id in livekit_trunks and row["e164"] not in livekit_trunks[trunk_id].get("numbers", []):
            yield Problem(MISSING, f"{name}: not on LiveKit {side} trunk {trunk_id} of {trunk['id']}",
                          f"which lists {livekit_trunks[trunk_id].get('numbers', [])}")


def _agent_names(rule: dict[str, Any]) -> list[str]:
    return [agent.get("agent_name", "") for agent in rule.get("room_config", {}).get("agents", [])]


def _dispatch_missing(name: str, row: Row, trunk: Row | None, state: _Carriers) -> Iterable[Problem]:
    rule_id = row["livekit_dispatch_rule_id"]
    if not rule_id:
        yield Problem(MISSING, f"{name}: bound to {row['agent_id']} but has no dispatch rule")
        return
    rule = state.rules.get(rule_id)
    if rule is None:
        return  # reported as a dangling reference
    if _agent_names(rule) != [row["agent_id"]]:
        yield Problem(MISSING, f"{name}: dispatch rule {rule_id} dispatches {_agent_names(rule)}, not [{row['agent_id']}]")
    called = rule.get("numbers", [])
    if called and row["e164"] not in called:
        yield Problem(MISSING, f"{name}: dispatch rule {rule_id} does not cover the number", f"it covers {called}")
    rule_trunks = rule.get("trunk_ids", [])
    inbound = trunk.get("livekit_inbound_trunk_id") if trunk else None
    if rule_trunks and inbound not in rule_trunks:
        yield Problem(MISSING, f"{name}: dispatch rule {rule_id} is limited to trunks {rule_trunks}, "
                               f"not the number's inbound trunk {inbound}")
    if row["source"] == "LIVEKIT":
        number = state.held_livekit_numbers.get(row["livekit_phone_number_id"] or "")
        if number is not None and number.get("sip_dispatch_rule_id") != rule_id:
            yield Problem(MISSING, f"{name}: LiveKit number {number['id']} routes to "
                                   f"{number.get('sip_dispatch_rule_id') or 'no rule'}, not to {rule_id}")


# --- stuck, cap, duplicates ----------------------------------------------------------------------------


def _stuck(rows: DatabaseRows) -> Iterable[Problem]:
    for row in rows.phone_number:
        if row["status"] in IN_FLIGHT:
            yield Problem(STUCK, f"{row['id']} {row['e164']} ({row['source']}) is still {row['status']}",
                          f"last changed {row['updated_at']}, workspace {row['workspace_id']}")
    for step in rows.carrier_step:
        yield Problem(STUCK, f"carrier_step {step['id']} of {step['owner_id']} (#{step['seq']} {step['action']}, "
                             f"{step['state']}) is left over", f"params {step['params']}")


def _cap_breaches(rows: DatabaseRows) -> Iterable[Problem]:
    held: dict[str, int] = defaultdict(int)
    for row in rows.phone_number:
        held[row["workspace_id"]] += 1
    for workspace in rows.workspace:
        if held[workspace["id"]] > workspace["phone_number_limit"]:
            yield Problem(CAP_BREACHES, f"workspace {workspace['id']} holds {held[workspace['id']]} numbers, "
                                        f"over its limit of {workspace['phone_number_limit']}")


def _duplicates(rows: DatabaseRows, state: _Carriers) -> Iterable[Problem]:
    by_e164: dict[str, list[Row]] = defaultdict(list)
    for row in rows.phone_number:
        by_e164[row["e164"]].append(row)
    for e164, holders in by_e164.items():
        if len(holders) > 1:
            yield Problem(DUPLICATES, f"{e164} is in {len(holders)} rows",
                          ", ".join(f"{r['id']} in {r['workspace_id']}" for r in holders))

    # Who the carriers say holds each number: the owners of our trunks that carry it, and the rows
    # holding the LiveKit number bought for it.
    trunk_by_livekit_id = {
        trunk[column]: trunk
        for trunk in rows.sip_trunk
        for column in ("livekit_inbound_trunk_id", "livekit_outbound_trunk_id")
        if trunk[column]
    }
    trunk_by_twilio_sid = {trunk["twilio_trunk_sid"]: trunk for trunk in rows.sip_trunk if trunk["twilio_trunk_sid"]}
    row_by_livekit_number = {row["livekit_phone_number_id"]: row for row in rows.phone_number if row["livekit_phone_number_id"]}
    holders_of: dict[str, set[tuple[str, str]]] = defaultdict(set)  # e164 -> {(workspace, holder)}
    for side, livekit_trunks in (("inbound", state.inbound), ("outbound", state.outbound)):
        on_trunks: dict[str, list[str]] = defaultdict(list)
        for trunk_id, trunk in livekit_trunks.items():
            for e164 in trunk.get("numbers", []):
                on_trunks[e164].append(trunk_id)
                owner = trunk_by_livekit_id.get(trunk_id)
                if owner is not None:
                    holders_of[e164].add((owner["workspace_id"], owner["id"]))
        for e164, trunk_ids in on_trunks.items():
            if len(trunk_ids) > 1:
                yield Problem(DUPLICATES, f"{e164} is on {len(trunk_ids)} LiveKit {side} trunks {sorted(trunk_ids)}")
    for sid, (account_sid, incoming) in state.incoming.items():
        owner = trunk_by_twilio_sid.get(incoming["trunk_sid"] or "")
        if owner is not None:
            holders_of[incoming["phone_number"]].add((owner["workspace_id"], owner["id"]))
    held_at_livekit: dict[str, list[str]] = defaultdict(list)
    for number_id, number in state.held_livekit_numbers.items():
        held_at_livekit[number["e164_format"]].append(number_id)
        row = row_by_livekit_number.get(number_id)
        if row is not None:
            holders_of[number["e164_format"]].add((row["workspace_id"], row["id"]))
    for e164, number_ids in held_at_livekit.items():
        if len(number_ids) > 1:
            yield Problem(DUPLICATES, f"{e164} is held {len(number_ids)} times at LiveKit {sorted(number_ids)}")
    for e164, holders in holders_of.items():
        workspaces = {workspace for workspace, _ in holders}
        if len(workspaces) > 1:
            yield Problem(DUPLICATES, f"{e164} is held at the carriers for {len(workspaces)} workspaces",
                          ", ".join(f"{holder} in {workspace}" for workspace, holder in sorted(holders)))


# --- reading the findings, and auditing a saved snapshot ------------------------------------------------


def print_findings(found: Findings, examples: int = 10) -> None:
    for category in CATEGORIES:
        print(f"  {category}: {found.count(category)}")
    for category in CATEGORIES:
        if found.count(category):
            print(f"-- {category} (first {min(examples, found.count(category))} of {found.count(category)})")
            for problem in found.examples(category, examples):
                print(f"  - {problem}")


def save_snapshot(path: pathlib.Path, rows: DatabaseRows, carriers: dict[str, Any], platform_account_sid: str) -> None:
    """What the audit looked at, so that it can be audited again (`python -m tests.soak_audit PATH`)."""
    snapshot = {"rows": rows.as_json(), "carriers": carriers, "platform_account_sid": platform_account_sid}
    path.write_text(json.dumps(snapshot, indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak_audit", description="Audit a snapshot a soak run saved.")
    parser.add_argument("snapshot", type=pathlib.Path, help="audit_input.json from a soak's log folder")
    snapshot = json.loads(parser.parse_args(argv).snapshot.read_text())
    found = audit(DatabaseRows(**snapshot["rows"]), snapshot["carriers"], platform_account_sid=snapshot["platform_account_sid"])
    print_findings(found)
    return 1 if found.total else 0


if __name__ == "__main__":
    sys.exit(main())
