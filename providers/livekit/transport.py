"""LiveKit transport: the SDK client and session, our own Twirp requests, and the request path of every call.

LiveKit's PhoneNumberService has no Python client, so it is called over its Twirp JSON endpoints with a
`sip.admin` token; SIP calls the SDK does not wrap are sent as protobuf, like the SDK sends its own. Every
call has a timeout, is retried where safe, and fails only with the exceptions of `providers.errors`. A 429's
Retry-After is honoured on the requests sent here directly; the SDK's errors carry no headers, so its calls
back off on the retry policy alone.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

import aiohttp
from google.protobuf.message import DecodeError, Message
from livekit import api
from livekit.api import ServerError
from livekit.api.sip_service import SipService

from providers.calls import carrier_call, gone_is_done
from providers.errors import (
    CredentialsRejected,
    NotFound,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Rejected,
    Unavailable,
)
from providers.redact import MASK, scrub
from providers.retry import RetryPolicy, retry_after_seconds

PROVIDER = "livekit"
USER_AGENT = "trunkline-livekit"
# Sent with every attempt of one logical call, so LiveKit can recognise a repeat.
REQUEST_ID_HEADER = "X-Livekit-Request-Id"
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")

T = TypeVar("T")
M = TypeVar("M", bound=Message)


class _TwirpAnswer(ServerError):
    """A Twirp error from our own request path, which also sees the Retry-After header."""

    def __init__(self, code: str, msg: str, *, status: int, retry_after: float | None) -> None:
        super().__init__(code, msg, status=status)
        self.retry_after = retry_after


class _BadAnswer(Exception):
    """A 200 answer whose body could not be read as the expected message."""


class AdminToken:
    """The `sip.admin` token every Twirp request carries (ours and the SDK's): signed once and reused for
    half its life, where signing one per request cost about a third of a millisecond of CPU per carrier call."""

    LIFETIME = 600.0  # seconds
    RENEW_AFTER = LIFETIME / 2  # a reused token has at least five minutes left

    def __init__(self, api_key: str, api_secret: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._key, self._secret, self._clock = api_key, api_secret, clock
        self._token: str | None = None
        self._signed_at = 0.0

    def get(self) -> str:
        now = self._clock()
        if self._token is None or now - self._signed_at >= self.RENEW_AFTER:
            self._token = (
                api.AccessToken(self._key, self._secret)
                .with_ttl(datetime.timedelta(seconds=self.LIFETIME))
                .with_grants(api.VideoGrants())
                .with_sip_grants(api.SIPGrants(admin=True))
                .to_jwt()
            )
            self._signed_at = now
        return self._token


def http_base(url: str) -> str:
    """The Twirp base for a project URL: ws→http, wss→https, path prefix kept."""
    parsed = urlparse(url)
    scheme = {"ws": "http", "wss": "https"}.get(parsed.scheme, parsed.scheme)
    return f"{scheme}://{parsed.netloc}{parsed.path}".rstrip("/")


class TwirpTransport:
    """Requests to one LiveKit project (URL, API key and secret), through the SDK or sent here."""

    def __init__(
        self,
        *,
        url: str,
        api_key: str,
        api_secret: str,
        session: aiohttp.ClientSession | None,
        timeout: float,
        retry: RetryPolicy | None,
    ) -> None:
        if urlparse(url).scheme not in ("ws", "wss", "http", "https") or not urlparse(url).netloc:
            raise ValueError(f"LiveKit url must look like wss://host or http://host:port, got {url!r}")
        if not api_key or not api_secret:
            raise ValueError("LiveKit api_key and api_secret must both be set")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout!r}")
        self.url = url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.base = http_base(url)
        self.key = api_key
        self._secret = api_secret
        self._token = AdminToken(api_key, api_secret)
        self.session = session
        self._owns_session = session is None
        self._api: api.LiveKitAPI | None = None

    async def start(self) -> None:
        """Create the SDK client (and a session if none was given) inside the running loop."""
        if self._api is not None:
            return
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        # The SDK ignores `timeout` once it has a session; `call` bounds every attempt itself.
        self._api = api.LiveKitAPI(
            self.url, self.key, self._secret, session=self.session,
            timeout=aiohttp.ClientTimeout(total=self.timeout), failover=False,
        )

    async def close(self) -> None:
        """Close what `start` made; a session handed in stays open."""
        if self._api is not None:
            await self._api.aclose()
            self._api = None
        if self._owns_session and self.session is not None:
            await self.session.close()
            self.session = None

    @property
    def sip(self) -> SipService:
        """The SDK's SIP service, for the calls it wraps, carrying our admin token: the SDK signs a new one
        for every call unless it holds a signed one (what LiveKitAPI(token=…) sets), so it is handed ours,
        renewed as it ages."""
        if self._api is None:
            raise RuntimeError("LiveKitGateway.start() must be awaited before making calls")
        self._api.sip._token = self._token.get()
        return self._api.sip

    async def call(
        self, describe: str, request: Callable[[], Awaitable[T]], *, idempotent: bool, secret: str | None = None
    ) -> T:
        """Timeout, error mapping and retries for every operation; `describe` starts with the Twirp method."""
        operation, describe = describe.split(" ", 1)[0], f"LiveKit {describe}"  # the label without ids
        return await carrier_call(
            PROVIDER,
            operation,
            describe,
            request,
            timeout=self.timeout,
            policy=self.retry,
            idempotent=idempotent,
            carrier_errors=(ServerError, DecodeError, _BadAnswer),
            carrier_failure=lambda exc: self._failure(describe, exc, secret),
            # A server message that echoed a secret must not survive as the cause either.
            hide_cause=lambda exc: self._mentions_secret(str(exc), secret),
        )

    async def delete(self, describe: str, request: Callable[[], Awaitable[object]]) -> None:
        """A delete through the SDK; one of something already gone succeeds."""
        await gone_is_done(self.call(describe, request, idempotent=True))

    async def sip_proto(
        self, method: str, subject: str, request: Message, answer_type: type[M], *, secret: str | None = None
    ) -> M:
        """A SIP call sent as protobuf like the SDK sends it, for the calls the SDK does not wrap or wraps
        short of a field. All are repeatable. `secret`, one the request carries, stays out of every failure."""
        request_id = _request_id()

        async def send() -> M:
            raw = await self._post("SIP", method, request.SerializeToString(), "application/protobuf", request_id)
            return answer_type.FromString(raw)

        return await self.call(f"{method} {subject}", send, idempotent=True, secret=secret)

    async def phone_numbers(
        self, method: str, subject: str, body: dict[str, Any], *, idempotent: bool
    ) -> dict[str, Any]:
        """A PhoneNumberService call, sent as JSON."""
        request_id = _request_id()
        return await self.call(
            f"{method} {subject}".strip(),
            lambda: self._post_json("PhoneNumberService", method, body, request_id),
            idempotent=idempotent,
        )

    async def _post_json(self, service: str, method: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        raw = await self._post(service, method, json.dumps(body).encode(), "application/json", request_id)
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            raise _BadAnswer("the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise _BadAnswer("the answer is not a JSON object")
        return answer

    async def _post(self, service: str, method: str, payload: bytes, content_type: str, request_id: str) -> bytes:
        if self.session is None or self._api is None:
            raise RuntimeError("LiveKitGateway.start() must be awaited before making calls")
        headers = {
            "Authorization": f"Bearer {self._token.get()}",
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            REQUEST_ID_HEADER: request_id,
        }
        url = f"{self.base}/twirp/livekit.{service}/{method}"
        async with self.session.post(url, data=payload, headers=headers) as response:
            raw = await response.read()
            if response.status == 200:
                return raw
            code, msg = _twirp_error(raw, response.status)
            raise _TwirpAnswer(
                code, msg, status=response.status, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
            )

    def _mentions_secret(self, text: str, secret: str | None) -> bool:
        return self._secret in text or bool(secret and secret in text) or bool(_JWT.search(text))

    def _failure(self, describe: str, exc: Exception, secret: str | None) -> ProviderFailure:
        if not isinstance(exc, ServerError):
            return Unavailable(PROVIDER, f"{describe}: unreadable answer", code="bad_response")
        message = _JWT.sub(MASK, scrub(f"{describe}: {exc.message or exc.code}", self._secret, secret))
        retry_after = exc.retry_after if isinstance(exc, _TwirpAnswer) else None
        kind = failure_kind(exc.code, exc.status)
        return kind(PROVIDER, message, code=exc.code, status=exc.status, retry_after=retry_after)


def failure_kind(code: str, status: int) -> type[ProviderFailure]:
    """The exception a Twirp error code (or, failing that, its HTTP status) stands for."""
    if code in ("unauthenticated", "permission_denied") or status in (401, 403):
        return CredentialsRejected
    if code == "not_found":
        return NotFound
    if code == "resource_exhausted" or status == 429:
        return RateLimited
    if code == "deadline_exceeded":
        # LiveKit gave up waiting on something it had started: like our own timeout, it may have acted.
        return ProviderTimeout
    if code == "unavailable" or status >= 500:
        return Unavailable
    return Rejected


def _twirp_error(raw: bytes, status: int) -> tuple[str, str]:
    """(code, msg) from a Twirp error body; a body that is not one still gets a code."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return "unknown", f"HTTP {status}"
    return str(body.get("code") or "unknown"), str(body.get("msg") or f"HTTP {status}")


def _request_id() -> str:
    return str(uuid.uuid4())
