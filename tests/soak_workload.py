"""The chaos soak's workload: concurrent clients calling every mutation and read of the API at random.

Each client loops until its deadline: it picks a workspace and an operation (with its own seeded RNG)
and calls the server over HTTP. Every mutation carries an Idempotency-Key; when the request itself
fails (a worker was killed under it, or it timed out), the same request is sent again with the same
key. Every answer is recorded, and checked against the contract (schema/schema.graphql): HTTP 200, no
GraphQL `errors`, and a union member the field may return. What the workload learns (agents, trunks,
numbers) is kept per workspace to pick the targets of later operations; it may be stale, which only
makes some answers NotFoundError.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from graphql import GraphQLObjectType, GraphQLUnionType, build_schema, get_named_type

from tests.graphql_documents import (
    CHECK_PHONE_NUMBER,
    CREATE_AGENT,
    CREATE_SIP_TRUNK,
    DELETE_PHONE_NUMBER,
    DELETE_SIP_TRUNK,
    IMPORT_PHONE_NUMBER,
    PLAN_PHONE_NUMBER_IMPORT,
    PURCHASE_PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    UPDATE_SIP_TRUNK,
)
from tests.soak_audit import CAP_BREACHES, UNEXPECTED, Problem

SCHEMA_FILE = pathlib.Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"

# A request may legitimately take long: a lease is waited for up to 30 s, then carrier calls retry
# within a 10 s budget each. Past this the client gives up and sends the request again.
REQUEST_TIMEOUT = 90.0
# Attempts of one request when the transport fails (or a duplicate is still in progress), and the
# pause before each retry: enough to ride out a killed worker whose idempotency key is taken over
# once the recovery grace has passed.
ATTEMPTS = 6
RETRY_PAUSE = 1.5

AVAILABLE = """
query Available($source: PhoneNumberSource!) { availablePhoneNumbers(source: $source, limit: 10) { e164 } }"""
PHONE_NUMBERS_PAGE = """
query Page($first: Int!, $after: String) {
  phoneNumbers(first: $first, after: $after) {
    totalCount
    edges { node { id e164 source status capabilities agentId trunkId } }
    pageInfo { hasNextPage endCursor }
  }
}"""
WORKSPACE = """
query Workspace {
  workspace { id phoneNumberCount phoneNumberLimit }
  agents { id }
  sipTrunks { id provider direction }
}"""

SUCCESS = ("CreateAgentSuccess", "CreateSipTrunkSuccess", "DeleteSipTrunkSuccess", "ImportPhoneNumberSuccess",
           "PurchasePhoneNumberSuccess", "UpdatePhoneNumberSuccess", "DeletePhoneNumberSuccess", "UpdateSipTrunkSuccess")
SIP_ADDRESSES = ("sip.carrier-a.example.com", "sip.carrier-b.example.net:5061", "203.0.113.10", "198.51.100.7:5080")
ALLOWED_ADDRESSES = (["203.0.113.0/24"], ["198.51.100.7", "192.0.2.0/28"], [])


def contract() -> dict[str, frozenset[str]]:
    """Mutation field -> the union members it may return, read from the exported SDL."""
    schema = build_schema(SCHEMA_FILE.read_text())
    members = {}
    for name, definition in schema.mutation_type.fields.items():
        returned = get_named_type(definition.type)
        if isinstance(returned, GraphQLUnionType):
            members[name] = frozenset(member.name for member in returned.types)
        elif isinstance(returned, GraphQLObjectType):
            members[name] = frozenset({returned.name})
    return members


@dataclass
class TwilioCustomer:
    """A seeded Twilio customer account: its credentials, DIDs and verified caller IDs."""

    sid: str
    auth_token: str
    dids: list[str]
    caller_ids: list[str]

    @property
    def credentials(self) -> dict[str, str]:
        return {"accountSid": self.sid, "authToken": self.auth_token}


@dataclass
class KnownNumber:
    id: str
    e164: str
    source: str
    status: str
    inbound: bool
    agent_id: str | None


@dataclass
class Tenant:
    """A workspace, its API key, and what the workload knows it holds."""

    name: str
    workspace_id: str
    api_key: str
    limit: int
    agents: list[str] = field(default_factory=list)
    trunks: dict[str, str] = field(default_factory=dict)  # BYOC trunk id -> direction
    numbers: dict[str, KnownNumber] = field(default_factory=dict)

    def learn(self, node: dict[str, Any]) -> None:
        self.numbers[node["id"]] = KnownNumber(
            node["id"], node["e164"], node["source"], node["status"], "INBOUND" in (node.get("capabilities") or []),
            node.get("agentId"),
        )

    def pick_number(self, rng: random.Random) -> KnownNumber:
        """Mostly an ACTIVE number: one still PROVISIONING or RELEASING is refused (which is tried too)."""
        active = [number for _, number in sorted(self.numbers.items()) if number.status == "ACTIVE"]
        if active and rng.random() < 0.9:
            return rng.choice(active)
        return self.numbers[rng.choice(sorted(self.numbers))]


@dataclass
class Answer:
    """One operation's final answer, as recorded."""

    operation: str
    workspace: str
    outcome: str
    status: int | None
    attempts: int
    replayed: bool
    seconds: float


class Recorder:
    """Every answer, the outcome table, and what the contract check found."""

    def __init__(self, log_path: pathlib.Path) -> None:
        self.answers: list[Answer] = []
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        self.problems: list[Problem] = []
        self.transport_errors: Counter[str] = Counter()
        self.in_progress_retries = 0
        self._log = log_path.open("a")

    def record(self, answer: Answer, body: Any = None) -> None:
        self.answers.append(answer)
        self.outcomes[answer.operation][answer.outcome] += 1
        entry = {**answer.__dict__, "at": time.time(), "body": body}
        self._log.write(json.dumps(entry, default=str) + "\n")

    def unexpected(self, operation: str, tenant: Tenant, what: str, body: Any) -> None:
        excerpt = json.dumps(body, default=str)[:400] if not isinstance(body, str) else body[:400]
        key = f"{operation} in {tenant.workspace_id}: {what} #{len(self.problems) + 1}"  # each answer counts
        self.problems.append(Problem(UNEXPECTED, key, excerpt))

    def cap_breach(self, tenant: Tenant, what: str) -> None:
        key = f"observed during the run in {tenant.workspace_id}: {what} #{len(self.problems) + 1}"
        self.problems.append(Problem(CAP_BREACHES, key))

    def close(self) -> None:
        self._log.close()


class Api:
    """GraphQL over HTTP as one workspace, with retries of failed requests and the contract check."""

    def __init__(self, http: httpx.AsyncClient, server_url: Callable[[], str], recorder: Recorder) -> None:
        self.http = http
        self.server_url = server_url  # read per request: a restarted server may listen elsewhere
        self.recorder = recorder
        self.contract = contract()

    async def call(
        self, tenant: Tenant, operation: str, document: str, variables: dict[str, Any], *, mutation: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any] | None:
        """The `data` of the answer (for a mutation, its payload), or None when there was nothing usable."""
        headers = {"Authorization": f"Bearer {tenant.api_key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        started = time.monotonic()
        response: httpx.Response | None = None
        attempts = 0
        for attempts in range(1, ATTEMPTS + 1):
            try:
                response = await self.http.post(
                    self.server_url() + "/graphql", json={"query": document, "variables": variables}, headers=headers,
                    timeout=REQUEST_TIMEOUT,
                )
            except httpx.TransportError as error:
                # A killed worker resets its connections; a stuck one times out. Same request, same key.
                self.recorder.transport_errors[type(error).__name__] += 1
                response = None
                await asyncio.sleep(RETRY_PAUSE * attempts)
                continue
            if response.status_code == 409 and _error_code(response) == "IDEMPOTENCY_KEY_IN_PROGRESS":
                # The first attempt is still running (or died and waits for its key to be abandoned).
                self.recorder.in_progress_retries += 1
                await asyncio.sleep(RETRY_PAUSE * attempts)
                continue
            break
        seconds = time.monotonic() - started

        def done(outcome: str, body: Any = None) -> None:
            replayed = response is not None and response.headers.get("Idempotent-Replayed") == "true"
            status = response.status_code if response is not None else None
            self.recorder.record(Answer(operation, tenant.workspace_id, outcome, status, attempts, replayed, seconds), body)

        if response is None:
            done("unexpected: no answer")
            self.recorder.unexpected(operation, tenant, f"no answer after {attempts} attempts", "transport errors only")
            return None
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code != 200:
            done(f"unexpected: HTTP {response.status_code}", body)
            self.recorder.unexpected(operation, tenant, f"HTTP {response.status_code}", body)
            return None
        if not isinstance(body, dict) or body.get("errors") or not isinstance(body.get("data"), dict):
            done("unexpected: GraphQL errors", body)
            self.recorder.unexpected(operation, tenant, "GraphQL errors", body)
            return None
        data = body["data"]
        if mutation is None:
            done("ok", data)
            return data
        payload = data.get(mutation) or {}
        typename = payload.get("__typename")
        if typename not in self.contract[mutation]:
            done(f"unexpected: {typename}", body)
            self.recorder.unexpected(operation, tenant, f"{typename!r} is not a member of {mutation}'s union", body)
            return None
        done(_outcome(payload), payload)
        return payload


def _error_code(response: httpx.Response) -> str | None:
    try:
        return response.json()["errors"][0]["extensions"]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _outcome(payload: dict[str, Any]) -> str:
    """`success`, or the error member with what tells its cases apart."""
    typename = payload["__typename"]
    if typename in SUCCESS:
        return "success"
    if typename == "ValidationError":
        codes = sorted({error["code"] for error in payload.get("fieldErrors") or []})
        return f"ValidationError {'+'.join(codes) or payload.get('code')}"
    if typename == "ProviderError":
        return f"ProviderError {payload.get('provider')} {payload.get('code')}"
    if typename == "PhoneNumberCheck":
        found = sorted({problem["code"] for problem in payload.get("problems") or []})
        return "healthy" if payload["healthy"] else f"unhealthy {'+'.join(found)}"
    if typename == "ImportPlan":
        return f"ImportPlan {payload['source']}"
    return f"{typename} {payload.get('code', '')}".strip()


class Workload:
    """The clients and the operations they choose from."""

    def __init__(
        self, api: Api, tenants: list[Tenant], customers: list[TwilioCustomer], byoc_numbers: list[str], seed: int
    ) -> None:
        self.api = api
        self.tenants = tenants
        self.customers = customers
        self.byoc_numbers = byoc_numbers
        self.seed = seed
        self.stop = asyncio.Event()

    async def client(self, index: int, deadline: float) -> None:
        rng = random.Random(f"{self.seed}/client/{index}")
        counter = 0
        while time.monotonic() < deadline and not self.stop.is_set():
            tenant = rng.choice(self.tenants)
            operations = self._operations(tenant)
            names = list(operations)
            chosen = rng.choices(names, weights=[operations[name][0] for name in names])[0]
            counter += 1
            await operations[chosen][1](_Call(self, tenant, rng, f"soak-{self.seed}-{index}-{counter}"))

    def _operations(self, tenant: Tenant) -> dict[str, tuple[float, Callable[[_Call], Awaitable[None]]]]:
        """Operation name -> (weight, how). Weights lean to deletes once the workspace is near its cap,
        so numbers keep coming and going; imports at the cap still happen, to exercise the cap."""
        full = len(tenant.numbers) >= tenant.limit - 1
        has_numbers, has_trunks = bool(tenant.numbers), bool(tenant.trunks)
        return {
            "createAgent": (3 if len(tenant.agents) < 4 else 0.3, _create_agent),
            "createSipTrunk": (3 if len(tenant.trunks) < 3 else 0.5, _create_sip_trunk),
            "deleteSipTrunk": (1.5 if has_trunks else 0, _delete_sip_trunk),
            "updateSipTrunk": (2 if has_trunks else 0, _update_sip_trunk),
            "import LIVEKIT": (6, _import_livekit),
            "import TWILIO DID": (6, _import_twilio_did),
            "import TWILIO caller ID": (3, _import_twilio_caller_id),
            "import BYOC": (6 if has_trunks else 0, _import_byoc),
            "purchase": (5, _purchase),
            "update": (10 if has_numbers else 0, _update),
            "delete": ((20 if full else 6) if has_numbers else 0, _delete),
            "checkPhoneNumber": (3 if has_numbers else 0, _check),
            "planPhoneNumberImport": (2, _plan),
            "read pages": (4, _read_pages),
            "read workspace": (3, _read_workspace),
        }


@dataclass
class _Call:
    """One operation about to run: who, with which RNG, and its idempotency key."""

    workload: Workload
    tenant: Tenant
    rng: random.Random
    key: str

    async def mutate(self, operation: str, document: str, field_name: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        return await self.workload.api.call(
            self.tenant, operation, document, variables, mutation=field_name, idempotency_key=self.key
        )

    async def read(self, operation: str, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
        return await self.workload.api.call(self.tenant, operation, document, variables or {})

    def maybe_agent(self, probability: float = 0.5) -> str | None:
        agents = self.tenant.agents
        return self.rng.choice(agents) if agents and self.rng.random() < probability else None

    def check_cap(self, payload: dict[str, Any]) -> None:
        if payload.get("__typename") == "PaymentRequiredError" and payload["code"] == "PHONE_NUMBER_LIMIT_REACHED":
            if payload["current"] > payload["limit"]:
                self.workload.api.recorder.cap_breach(
                    self.tenant, f"PaymentRequiredError says current {payload['current']} > limit {payload['limit']}"
                )


async def _create_agent(call: _Call) -> None:
    payload = await call.mutate("createAgent", CREATE_AGENT, "createAgent", {"input": {"name": f"Agent {call.key}"}})
    if payload and payload["__typename"] == "CreateAgentSuccess":
        call.tenant.agents.append(payload["agent"]["id"])


async def _create_sip_trunk(call: _Call) -> None:
    rng = call.rng
    direction = rng.choice(("INBOUND", "OUTBOUND", "BOTH"))
    trunk_input: dict[str, Any] = {"name": f"Carrier {call.key}", "direction": direction}
    if direction != "INBOUND":
        trunk_input["sipAddress"] = rng.choice(SIP_ADDRESSES)
        trunk_input["transport"] = rng.choice(("AUTO", "UDP", "TCP", "TLS"))
    if direction != "OUTBOUND":
        trunk_input["allowedAddresses"] = rng.choice(ALLOWED_ADDRESSES)
    if rng.random() < 0.4:
        trunk_input["authUsername"], trunk_input["authPassword"] = "soak", f"soak-password-{rng.randrange(10**6)}"
    payload = await call.mutate(f"createSipTrunk {direction}", CREATE_SIP_TRUNK, "createSipTrunk", {"input": trunk_input})
    if payload and payload["__typename"] == "CreateSipTrunkSuccess":
        call.tenant.trunks[payload["sipTrunk"]["id"]] = direction


async def _delete_sip_trunk(call: _Call) -> None:
    trunk_id = call.rng.choice(sorted(call.tenant.trunks))
    payload = await call.mutate("deleteSipTrunk", DELETE_SIP_TRUNK, "deleteSipTrunk", {"id": trunk_id})
    if payload and payload["__typename"] in ("DeleteSipTrunkSuccess", "NotFoundError"):
        call.tenant.trunks.pop(trunk_id, None)


async def _update_sip_trunk(call: _Call) -> None:
    """Rotate the password, move the address or change who may call: journalled at LiveKit, so a fault in
    the middle leaves the old settings at both ends (the audit compares them with the rows)."""
    rng = call.rng
    trunk_id = rng.choice(sorted(call.tenant.trunks))
    direction = call.tenant.trunks[trunk_id]
    changes: dict[str, Any] = {"name": f"Carrier {call.key}"}
    if rng.random() < 0.5:
        changes["authUsername"], changes["authPassword"] = "soak", f"soak-password-{rng.randrange(10**6)}"
    if direction != "INBOUND" and rng.random() < 0.5:
        changes["sipAddress"], changes["transport"] = rng.choice(SIP_ADDRESSES), rng.choice(("AUTO", "UDP", "TCP", "TLS"))
    if direction != "OUTBOUND" and rng.random() < 0.5:
        changes["allowedAddresses"] = rng.choice(ALLOWED_ADDRESSES)
    payload = await call.mutate(
        f"updateSipTrunk {direction}", UPDATE_SIP_TRUNK, "updateSipTrunk", {"input": {"id": trunk_id, **changes}}
    )
    if payload and payload["__typename"] == "NotFoundError":
        call.tenant.trunks.pop(trunk_id, None)


async def _check(call: _Call) -> None:
    """A read-only health check: what it finds is reported, never repaired, so the audit still sees any drift."""
    number = call.tenant.pick_number(call.rng)
    payload = await call.mutate("checkPhoneNumber", CHECK_PHONE_NUMBER, "checkPhoneNumber", {"id": number.id, "repair": False})
    if payload and payload["__typename"] == "NotFoundError":
        call.tenant.numbers.pop(number.id, None)


async def _plan(call: _Call) -> None:
    customer = call.rng.choice(call.workload.customers)
    number_input = {"e164": call.rng.choice(customer.dids), "source": "TWILIO", "twilio": customer.credentials}
    await call.read("planPhoneNumberImport TWILIO", PLAN_PHONE_NUMBER_IMPORT, {"input": number_input})


async def _import(call: _Call, operation: str, number_input: dict[str, Any]) -> None:
    payload = await call.mutate(operation, IMPORT_PHONE_NUMBER, "importPhoneNumber", {"input": number_input})
    if payload is None:
        return
    if payload["__typename"] == "ImportPhoneNumberSuccess":
        call.tenant.learn(payload["phoneNumber"])
    call.check_cap(payload)


async def _import_livekit(call: _Call) -> None:
    data = await call.read("availablePhoneNumbers LIVEKIT", AVAILABLE, {"source": "LIVEKIT"})
    offered = [number["e164"] for number in (data or {}).get("availablePhoneNumbers", [])]
    if not offered:
        return
    number_input = {"e164": call.rng.choice(offered), "source": "LIVEKIT", "agentId": call.maybe_agent()}
    await _import(call, "importPhoneNumber LIVEKIT", number_input)


async def _import_twilio_did(call: _Call) -> None:
    # Any workspace may try any account's numbers: one account is used from several workspaces.
    customer = call.rng.choice(call.workload.customers)
    number_input = {
        "e164": call.rng.choice(customer.dids), "source": "TWILIO", "twilio": customer.credentials,
        "agentId": call.maybe_agent(), "label": call.rng.choice((None, f"DID {call.key}")),
    }
    await _import(call, "importPhoneNumber TWILIO DID", number_input)


async def _import_twilio_caller_id(call: _Call) -> None:
    # A caller ID rides the trunk of a DID of its account in the same workspace; mostly pick such an
    # account, so that imports get that far, and sometimes any (DID_IMPORT_REQUIRED).
    held = {number.e164 for number in call.tenant.numbers.values() if number.source == "TWILIO"}
    riding = [customer for customer in call.workload.customers if held.intersection(customer.dids)]
    customer = call.rng.choice(riding if riding and call.rng.random() < 0.8 else call.workload.customers)
    number_input = {"e164": call.rng.choice(customer.caller_ids), "source": "TWILIO", "twilio": customer.credentials}
    await _import(call, "importPhoneNumber TWILIO caller ID", number_input)


async def _import_byoc(call: _Call) -> None:
    trunk_id = call.rng.choice(sorted(call.tenant.trunks))
    inbound = call.tenant.trunks[trunk_id] != "OUTBOUND"
    number_input = {
        "e164": call.rng.choice(call.workload.byoc_numbers), "source": "BYOC", "trunkId": trunk_id,
        "agentId": call.maybe_agent() if inbound else None,
    }
    await _import(call, f"importPhoneNumber BYOC {call.tenant.trunks[trunk_id]}", number_input)


async def _purchase(call: _Call) -> None:
    data = await call.read("availablePhoneNumbers TWILIO_PURCHASED", AVAILABLE, {"source": "TWILIO_PURCHASED"})
    offered = [number["e164"] for number in (data or {}).get("availablePhoneNumbers", [])]
    if not offered:
        return
    purchase_input = {"e164": call.rng.choice(offered), "agentId": call.maybe_agent(), "label": f"Bought {call.key}"}
    payload = await call.mutate("purchasePhoneNumber", PURCHASE_PHONE_NUMBER, "purchasePhoneNumber", {"input": purchase_input})
    if payload is None:
        return
    if payload["__typename"] == "PurchasePhoneNumberSuccess":
        call.tenant.learn(payload["phoneNumber"])
    call.check_cap(payload)


async def _update(call: _Call) -> None:
    rng, tenant = call.rng, call.tenant
    number = tenant.pick_number(rng)
    # What the number allows: only a number taking inbound calls can have an agent.
    choices = ["label"]
    if number.inbound and tenant.agents:
        choices += ["rebind" if number.agent_id else "bind"] * 2
    if number.inbound and number.agent_id:
        choices += ["unbind"]
    change = rng.choice(choices)
    update_input: dict[str, Any] = {"id": number.id}
    if change == "label":
        update_input["label"] = rng.choice((f"Line {call.key}", None, ""))
    elif change == "unbind":
        update_input["agentId"] = None
    else:
        others = [agent for agent in tenant.agents if agent != number.agent_id] or tenant.agents
        update_input["agentId"] = rng.choice(others)
        if rng.random() < 0.3:
            update_input["label"] = f"Agent line {call.key}"
    payload = await call.mutate(f"updatePhoneNumber {change}", UPDATE_PHONE_NUMBER, "updatePhoneNumber", {"input": update_input})
    if payload is None:
        return
    if payload["__typename"] == "UpdatePhoneNumberSuccess":
        tenant.learn(payload["phoneNumber"])
    elif payload["__typename"] == "NotFoundError":
        tenant.numbers.pop(number.id, None)


async def _delete(call: _Call) -> None:
    number = call.tenant.pick_number(call.rng)
    number_id, source = number.id, number.source
    payload = await call.mutate(f"deletePhoneNumber {source}", DELETE_PHONE_NUMBER, "deletePhoneNumber", {"id": number_id})
    if payload and payload["__typename"] in ("DeletePhoneNumberSuccess", "NotFoundError"):
        call.tenant.numbers.pop(number_id, None)
    elif payload and payload["__typename"] == "ProviderError" and number_id in call.tenant.numbers:
        call.tenant.numbers[number_id].status = "RELEASING"  # until a read says otherwise; deleting again finishes it


async def _read_pages(call: _Call) -> None:
    """Walk the workspace's numbers page by page; a complete walk replaces what the workload knows."""
    first, after, seen = call.rng.choice((2, 5, 100)), None, {}
    for _ in range(30):
        data = await call.read(f"phoneNumbers first={first}", PHONE_NUMBERS_PAGE, {"first": first, "after": after})
        if data is None:
            return
        page = data["phoneNumbers"]
        if page["totalCount"] > call.tenant.limit:
            call.workload.api.recorder.cap_breach(
                call.tenant, f"phoneNumbers totalCount {page['totalCount']} > limit {call.tenant.limit}"
            )
        for edge in page["edges"]:
            seen[edge["node"]["id"]] = edge["node"]
        if not page["pageInfo"]["hasNextPage"]:
            call.tenant.numbers.clear()
            for node in seen.values():
                call.tenant.learn(node)
            return
        after = page["pageInfo"]["endCursor"]


async def _read_workspace(call: _Call) -> None:
    data = await call.read("workspace", WORKSPACE)
    if data is None:
        return
    workspace = data["workspace"]
    if workspace["phoneNumberCount"] > workspace["phoneNumberLimit"]:
        call.workload.api.recorder.cap_breach(
            call.tenant, f"phoneNumberCount {workspace['phoneNumberCount']} > phoneNumberLimit {workspace['phoneNumberLimit']}"
        )
    call.tenant.agents = [agent["id"] for agent in data["agents"]]
    call.tenant.trunks = {trunk["id"]: trunk["direction"] for trunk in data["sipTrunks"] if trunk["provider"] == "BYOC"}
