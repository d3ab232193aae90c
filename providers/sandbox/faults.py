"""Fault injection for the sandbox: make chosen carrier calls fail, stall or lose their connection.

A rule matches a request by method (or `*`) and by an fnmatch glob on the URL path (query string
excluded; `*` also crosses `/`). It applies to the next `times` matching requests, or to all of them
when `times` is None. The first matching rule that takes the request wins.

`when` says on which side of the carrier's work the fault strikes:

- "before" (the default): wait `delay` seconds, then answer `status` with `body`, or drop the
  connection, or, with only a delay, let the request through. The carrier never acted.
- "after": the real handler runs first and its effect on the emulator state stays; then, once
  `delay` seconds have passed since the request arrived (the emulator's own work counts towards
  them, as a real carrier's does towards its round trip), answer `status` with `body` (acted,
  but answered an error), or drop the connection (acted, then the connection broke), or, with
  only a delay, send the real answer late (acted; a client whose timeout is shorter gives up
  without knowing).

`probability` (in (0, 1], default 1) is the chance that a matching request takes the rule. A
request that does not is not counted against `times` and goes on to the next matching rule. The
draws come from `Faults.random`, seeded by `Faults(seed=...)` or `POST /__sandbox/faults/seed`,
so a chaos run can be replayed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

CONTROL_PREFIX = "/__sandbox/"
WHEN = ("before", "after")


@dataclass
class FaultRule:
    method: str = "*"
    path: str = "*"
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    times: int | None = None
    when: str = "before"
    probability: float = 1.0

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        if self.status is None and not self.drop and not self.delay:
            raise ValueError("a fault needs a status, a delay or drop=True")
        if self.status is not None and self.drop:
            raise ValueError("a fault either answers a status or drops the connection, not both")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status, got {self.status!r}")
        if self.delay < 0:
            raise ValueError(f"delay must be zero or more seconds, got {self.delay!r}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be at least 1 or None (always), got {self.times!r}")
        if self.when not in WHEN:
            raise ValueError(f"when must be 'before' or 'after', got {self.when!r}")
        # bool is an int in Python, but `true` is no probability.
        if isinstance(self.probability, bool) or not isinstance(self.probability, (int, float)) \
                or not 0 < self.probability <= 1:
            raise ValueError(f"probability must be a number in (0, 1], got {self.probability!r}")

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and fnmatch.fnmatchcase(path, self.path)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The active fault rules, in the order they were added, and the dice for `probability`."""

    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = []
        self.random = random.Random(seed)
        self._initial_seed = seed

    def add(
        self,
        method: str = "*",
        path: str = "*",
        *,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        when: str = "before",
        probability: float = 1.0,
    ) -> FaultRule:
        """Add a rule; see the module docstring for what each argument does."""
        rule = FaultRule(method, path, status, body, dict(headers or {}), delay, drop, times, when, probability)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def seed(self, seed: int | None) -> None:
        self.random.seed(seed)

    def reset(self) -> None:
        """No rules, and the dice as they were at the start."""
        self.rules.clear()
        self.random.seed(self._initial_seed)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule that this request takes, counting it as used once."""
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            # Certain rules draw nothing, so adding one does not shift a seeded run's sequence.
            if rule.probability < 1 and self.random.random() >= rule.probability:
                continue
            if rule.times is not None:
                rule.times -= 1
                if rule.times == 0:
                    self.rules.remove(rule)
            return rule
        return None

    def snapshot(self) -> list[dict[str, Any]]:
        return [rule.as_dict() for rule in self.rules]


def _fault_response(rule: FaultRule) -> web.Response:
    body = rule.body if rule.body is not None else {"status": rule.status, "message": "Injected sandbox fault"}
    return web.json_response(body, status=rule.status, headers=rule.headers)


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.close()
    # Nothing reaches the client: aiohttp finds the transport closed and drops this reply.
    return web.Response(status=500)


async def _after(rule: FaultRule, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let the carrier act, then spoil or delay its answer: it leaves `delay` seconds after the request came."""
    loop = asyncio.get_running_loop()
    answer_at = loop.time() + rule.delay
    try:
        answer: web.StreamResponse | web.HTTPException = await handler(request)
    except web.HTTPException as error:
        answer = error
    # The handler is not cancelled if the client gives up meanwhile (aiohttp's default), so the
    # state change above stands either way.
    await _until(loop, answer_at)
    if rule.drop:
        return _drop(request)
    if rule.status is not None:
        return _fault_response(rule)
    if isinstance(answer, web.HTTPException):
        raise answer
    return answer


async def _until(loop: asyncio.AbstractEventLoop, moment: float) -> None:
    """Wait until `moment` on the loop's clock. A timer wakes up to a millisecond late (epoll waits in
    whole milliseconds, rounded up), which would add to every delayed answer; the last millisecond
    is waited by yielding to the loop instead."""
    if (left := moment - loop.time()) > 0.001:
        await asyncio.sleep(left - 0.001)
    while loop.time() < moment:
        await asyncio.sleep(0)


def fault_middleware(faults: Faults) -> Middleware:
    """An aiohttp middleware applying `faults` to every request outside the control paths."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rule = None if request.path.startswith(CONTROL_PREFIX) else faults.take(request.method, request.path)
        if rule is None:
            return await handler(request)
        if rule.when == "after":
            return await _after(rule, request, handler)
        if rule.delay:
            # Like a slow carrier, the request is received in full first; it is then carried out
            # even if the client gave up waiting, which is what makes a timed-out create ambiguous.
            await request.read()
            await asyncio.sleep(rule.delay)
        if rule.drop:
            return _drop(request)
        if rule.status is not None:
            return _fault_response(rule)
        return await handler(request)

    return middleware


def _rule_from_json(data: Any) -> FaultRule:
    if not isinstance(data, dict):
        raise ValueError("each fault must be a JSON object")
    unknown = set(data) - set(FaultRule.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    return FaultRule(**data)


def setup_fault_routes(app: web.Application, faults: Faults) -> None:
    """`GET`/`POST`/`DELETE /__sandbox/faults`: list, add (an object or a list of them), clear;
    `POST /__sandbox/faults/seed` with `{"seed": <int>}`: reseed the dice for `probability`."""

    async def add(request: web.Request) -> web.Response:
        try:
            data = await request.json()
            rules = [_rule_from_json(item) for item in (data if isinstance(data, list) else [data])]
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        except TypeError as error:
            return web.json_response({"error": f"bad fault field: {error}"}, status=400)
        faults.rules.extend(rules)
        return web.json_response([rule.as_dict() for rule in rules], status=201)

    async def listing(request: web.Request) -> web.Response:
        return web.json_response(faults.snapshot())

    async def clear(request: web.Request) -> web.Response:
        faults.clear()
        return web.Response(status=204)

    async def reseed(request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except ValueError:
            data = None
        seed = data.get("seed") if isinstance(data, dict) else None
        if isinstance(seed, bool) or not isinstance(seed, int):
            return web.json_response({"error": 'expected a JSON object {"seed": <integer>}'}, status=400)
        faults.seed(seed)
        return web.Response(status=204)

    app.router.add_get(CONTROL_PREFIX + "faults", listing)
    app.router.add_post(CONTROL_PREFIX + "faults", add)
    app.router.add_delete(CONTROL_PREFIX + "faults", clear)
    app.router.add_post(CONTROL_PREFIX + "faults/seed", reseed)
