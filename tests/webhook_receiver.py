"""A webhook receiver for tests: a real aiohttp server on loopback that keeps every request it gets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.server_processes import wait_until

HANG = "hang"  # an answer that never comes


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """Answers its requests with `answers` in turn (a status, or HANG), then 200 to every later one."""

    def __init__(self, answers: Sequence[int | str] = (), host: str = "127.0.0.1") -> None:
        self.answers = list(answers)
        self.host = host
        self.received: list[Received] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        # A hanging answer is cut at shutdown, not awaited for aiohttp's default minute.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc) -> None:
        await self._runner.cleanup()

    def url(self, path: str = "/hooks/trunkline", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read(), time.monotonic()))
        answer = self.answers.pop(0) if self.answers else 200
        if answer == HANG:
            await asyncio.Event().wait()
        return web.Response(status=int(answer), text="ok")

    async def wait_for(self, count: int, seconds: float = 20.0) -> list[Received]:
        async def enough() -> bool:
            return len(self.received) >= count

        await wait_until(enough, seconds=seconds, what=f"{count} webhook requests", pause=0.02)
        return self.received
