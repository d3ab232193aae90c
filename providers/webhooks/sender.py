"""POSTs deliveries to receivers: one attempt each, bounded in time and in what is read back.

Redirects are not followed (a 3xx is a failed attempt: following one would let a receiver send us
elsewhere), proxies from the environment are not used, and a host name is resolved through
CheckedResolver, so the connection goes only to an address TargetRules allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

from providers.webhooks.targets import TargetRules

MAX_ANSWER_BYTES = 64 * 1024  # read and dropped, so the connection can be reused; never more
USER_AGENT = "Trunkline-Webhooks/1"


class UnsafeAddress(OSError):
    """The host resolved to an address the rules refuse; nothing was connected to."""


class CheckedResolver(ThreadedResolver):
    """The loop's getaddrinfo, refusing the whole answer if any address in it is not allowed."""

    def __init__(self, rules: TargetRules) -> None:
        super().__init__()
        self.rules = rules

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await super().resolve(host, port, family)
        for answer in answers:
            if not self.rules.address_allowed(ipaddress.ip_address(answer["host"].partition("%")[0])):
                raise UnsafeAddress(f"{host} resolves to a non-public address")
        return answers


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status, or why there was none (never the url, which may hold a token)."""

    status: int | None = None
    error: str | None = None
    refused: bool = False  # the target is not allowed: nothing was sent

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender:
    def __init__(self, rules: TargetRules, *, timeout: float = 10.0) -> None:
        self.rules = rules
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookSender:
        connector = aiohttp.TCPConnector(resolver=CheckedResolver(self.rules), use_dns_cache=False, limit=50)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout), trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        return self

    async def __aexit__(self, *_exc) -> None:
        if self._session:
            await self._session.close()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        if problem := self.rules.format_problem(url) or self.rules.safety_problem(url):
            return Answer(error=f"refused: the url {problem}", refused=True)
        assert self._session is not None, "use the sender as an async context manager"
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.post(
                    url, data=body, headers={"Content-Type": "application/json", **headers}, allow_redirects=False
                ) as response:
                    await response.content.read(MAX_ANSWER_BYTES)
                    return Answer(status=response.status)
        except TimeoutError:
            return Answer(error=f"no answer within {self.timeout:g} s")
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, UnsafeAddress):
                return Answer(error=f"refused: {exc.os_error}", refused=True)
            return Answer(error=f"cannot connect: {exc.os_error.strerror or type(exc.os_error).__name__}")
        except aiohttp.ClientError as exc:
            return Answer(error=f"failed: {type(exc).__name__}")
