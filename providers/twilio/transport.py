"""Twilio transport: the shared HTTP client, one account's SDK client, and the request path of its calls.

Every call has a timeout, is retried where safe, and fails only with the exceptions of `providers.errors`.
The SDK's exceptions drop response headers, so the HTTP client here keeps the last response's headers of
the running task; a 429's Retry-After is read from them.
"""

from __future__ import annotations

import base64
import contextvars
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from providers.calls import carrier_call, gone_is_done
from providers.errors import (
    CredentialsRejected,
    NotFound,
    ProviderFailure,
    RateLimited,
    Rejected,
    Unavailable,
)
from providers.redact import mask_sid, scrub
from providers.retry import RetryPolicy, retry_after_seconds

PROVIDER = "twilio"

T = TypeVar("T")

# The last response of the running task, so a 429's Retry-After can still be honoured.
_last_headers: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "twilio_last_headers", default=None
)


class HeaderKeepingHttpClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client, also noting each response's headers for the error mapping."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            # aiohttp 3.14 deprecates the BasicAuth/auth= path the SDK takes; send the same header.
            headers = {**(headers or {}), "Authorization": _basic_auth(*auth)}
        response = await super().request(
            method, url, params=params, data=data, headers=headers, timeout=timeout, allow_redirects=allow_redirects
        )
        _last_headers.set(response.headers)
        return response


def _basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def account_sdk_client(
    http: AsyncTwilioHttpClient,
    account_sid: str,
    secret: str,
    *,
    api_key_sid: str | None = None,
    api_base_url: str,
    trunking_base_url: str,
) -> Client:
    """The SDK client acting as `account_sid` over the shared `http`, sending to the configured hosts.

    `secret` is the auth token, or with `api_key_sid` the API key's secret: the SDK then sends the key's
    SID as the Basic username and keeps `account_sid` for the paths.
    """
    client = Client(username=api_key_sid or account_sid, password=secret, account_sid=account_sid, http_client=http)
    # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the configured hosts.
    client.edge = None
    client.region = None
    client.api.base_url = api_base_url
    client.trunking.base_url = trunking_base_url
    return client


class AccountTransport:
    """The one request path of one account's calls: timeout, error mapping and retries."""

    __slots__ = ("_sid", "_token", "_timeout", "_retry")

    def __init__(self, account_sid: str, secret: str, *, timeout: float, retry: RetryPolicy) -> None:
        self._sid = account_sid
        self._token = secret
        self._timeout = timeout
        self._retry = retry

    @property
    def masked_sid(self) -> str:
        return mask_sid(self._sid)

    async def call(
        self,
        describe: str,
        request: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        secret: str | None = None,
    ) -> T:
        """Send the SDK call `request`; `describe` names the operation, `secret` is scrubbed like the token
        (or API key secret) the account's calls are made with."""
        full = f"Twilio {describe} on {self.masked_sid}"

        async def send() -> T:
            _last_headers.set(None)
            return await request()

        return await carrier_call(
            PROVIDER,
            describe,
            full,
            send,
            timeout=self._timeout,
            policy=self._retry,
            idempotent=idempotent,
            carrier_errors=(TwilioException,),
            carrier_failure=lambda exc: self._failure(full, exc, secret),
            # The SDK's exception repeats the carrier's unscrubbed text; ours carries all it held.
            hide_cause=lambda exc: isinstance(exc, TwilioException),
        )

    async def delete(self, describe: str, request: Callable[[], Awaitable[object]]) -> None:
        """A delete; one of something already gone succeeds."""
        await gone_is_done(self.call(describe, request, idempotent=True))

    def _failure(self, describe: str, exc: Exception, secret: str | None) -> ProviderFailure:
        status, code, message = _parse_twilio_error(exc)
        message = scrub(f"{describe}: {message}", self._token, secret)
        retry_after = retry_after_seconds((_last_headers.get() or {}).get("Retry-After"))
        failure = _failure_for_status(status, message, code=code, retry_after=retry_after)
        if isinstance(failure, CredentialsRejected):
            failure.account_sid = self._sid
        return failure


def _failure_for_status(
    status: int | None, message: str, *, code: str, retry_after: float | None = None
) -> ProviderFailure:
    """The exception class that an HTTP status from Twilio stands for."""
    if status in (401, 403):
        kind: type[ProviderFailure] = CredentialsRejected
    elif status == 404:
        kind = NotFound
    elif status == 429:
        kind = RateLimited
    elif status is None or status >= 500:
        kind = Unavailable
    else:
        kind = Rejected
    return kind(PROVIDER, message, code=code, status=status, retry_after=retry_after)


def _parse_twilio_error(exc: BaseException) -> tuple[int | None, str, str]:
    """(status, code, message) from any of the SDK's exception shapes."""
    if isinstance(exc, TwilioRestException):
        return exc.status, str(exc.code or exc.status), _strip_sdk_prefix(exc.msg)
    if isinstance(exc, TwilioServiceException):
        return exc.status, str(exc.code), exc.detail or exc.title
    # List calls raise a bare TwilioException("Unable to fetch page", response) on any non-200.
    response = exc.args[1] if len(exc.args) > 1 else None
    if response is None or not hasattr(response, "status_code"):
        return None, "sdk_error", "unexpected answer"
    try:
        body = json.loads(response.text)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code") or response.status_code)
    message = str(body.get("message") or body.get("detail") or f"HTTP {response.status_code}")
    return response.status_code, code, message


def _strip_sdk_prefix(message: str) -> str:
    # The SDK prepends its own "Unable to create record: " to Twilio's message.
    prefix, separator, rest = message.partition(": ")
    return rest if separator and prefix.startswith("Unable to") else message
