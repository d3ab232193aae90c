"""Fault injection for the sandbox: make chosen carrier calls fail, stall or lose their connection.

A rule matches a request by method (or `*`) and by an fnmatch glob on the URL path (query string
excluded; `*` also crosses `/`). It then waits `delay` seconds, and answers `status` with `body`,
or drops the connection, or, with only a delay, lets the request through. It applies to the next
`times` matching requests, or to all of them when `times` is None. The first matching rule wins.
"""

from __future__ import annotations

import asyncio
import fnmatch
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

CONTROL_PREFIX = "/__sandbox/"


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

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and fnmatch.fnmatchcase(path, self.path)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The active fault rules, in the order they were added."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

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
    ) -> FaultRule:
        """Add a rule; see the module docstring for what each argument does."""
        rule = FaultRule(method, path, status, body, dict(headers or {}), delay, drop, times)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching this request, counting it as used once."""
        for rule in self.rules:
            if rule.matches(method, path):
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


def fault_middleware(faults: Faults) -> Middleware:
    """An aiohttp middleware applying `faults` to every request outside the control paths."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rule = None if request.path.startswith(CONTROL_PREFIX) else faults.take(request.method, request.path)
        if rule is None:
            return await handler(request)
        if rule.delay:
            # Like a slow carrier, the request is received in full first; it is then carried out
            # even if the client gave up waiting, which is what makes a timed-out create ambiguous.
            await request.read()
            await asyncio.sleep(rule.delay)
        if rule.drop:
            if request.transport is not None:
                request.transport.close()
            # Nothing reaches the client: aiohttp finds the transport closed and drops this reply.
            return web.Response(status=500)
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
    """`GET`/`POST`/`DELETE /__sandbox/faults`: list, add (an object or a list of them), clear."""

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

    app.router.add_get(CONTROL_PREFIX + "faults", listing)
    app.router.add_post(CONTROL_PREFIX + "faults", add)
    app.router.add_delete(CONTROL_PREFIX + "faults", clear)
