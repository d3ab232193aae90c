"""Twilio client: numbers, caller IDs and Elastic SIP trunks on a customer's account.

One `TwilioGateway` owns the shared HTTP client; `gateway.account(sid, token)` gives a
`TwilioAccountClient` for one set of credentials. Every call has a timeout, is retried where
safe, and fails only with the exceptions of `providers.errors`.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from twilio.base import values
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from providers.errors import (
    CredentialsRejected,
    NotFound,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Rejected,
    Unavailable,
)
from providers.redact import mask_sid, scrub
from providers.observed import observed
from providers.retry import RetryPolicy, call_with_retry, retry_after_seconds

__all__ = [
    "AvailableNumber",
    "CallerId",
    "IncomingNumber",
    "Trunk",
    "TwilioAccountClient",
    "TwilioGateway",
    "mask_sid",
]

PROVIDER = "twilio"
DOMAIN_TAKEN = "21248"
DOMAIN_ATTEMPTS = 5

T = TypeVar("T")

# The SDK's exceptions drop response headers; the last response of the running task is kept
# here so a 429's Retry-After can still be honoured.
_last_headers: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "twilio_last_headers", default=None
)


@dataclass(frozen=True)
class IncomingNumber:
    """A number the account holds; `trunk_sid` is set when it is already on a trunk."""

    sid: str
    phone_number: str
    trunk_sid: str | None


@dataclass(frozen=True)
class CallerId:
    """A verified outgoing caller ID of the account."""

    sid: str
    phone_number: str


@dataclass(frozen=True)
class Trunk:
    """An Elastic SIP trunk; `domain_name` is its termination host."""

    sid: str
    domain_name: str


@dataclass(frozen=True)
class AvailableNumber:
    """A number on offer to buy."""

    phone_number: str
    locality: str | None
    region: str | None


class _HeaderKeepingHttpClient(AsyncTwilioHttpClient):
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


class TwilioGateway:
    """Owns the one HTTP client shared by every Twilio account client."""

    def __init__(
        self,
        *,
        api_base_url: str = "https://api.twilio.com",
        trunking_base_url: str = "https://trunking.twilio.com",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout!r}")
        self.api_base_url = api_base_url.rstrip("/")
        self.trunking_base_url = trunking_base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._http: AsyncTwilioHttpClient | None = None

    async def start(self) -> None:
        """Create the HTTP client; it must be made inside the running event loop."""
        if self._http is None:
            self._http = _HeaderKeepingHttpClient()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> TwilioGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def account(self, account_sid: str, auth_token: str) -> TwilioAccountClient:
        """A client acting as `account_sid`; cheap, make one per request."""
        if self._http is None:
            raise RuntimeError("TwilioGateway.start() must be awaited before account()")
        client = Client(account_sid, auth_token, http_client=self._http)
        # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the configured hosts.
        client.edge = None
        client.region = None
        client.api.base_url = self.api_base_url
        client.trunking.base_url = self.trunking_base_url
        return TwilioAccountClient(client, account_sid, auth_token, timeout=self.timeout, retry=self.retry)


class TwilioAccountClient:
    """Twilio operations on one account. Deletes of something already gone succeed."""

    __slots__ = ("_client", "_sid", "_token", "_timeout", "_retry")

    def __init__(self, client: Client, account_sid: str, auth_token: str, *, timeout: float, retry: RetryPolicy):
        self._client = client
        self._sid = account_sid
        self._token = auth_token
        self._timeout = timeout
        self._retry = retry

    def __repr__(self) -> str:
        return f"<TwilioAccountClient {mask_sid(self._sid)}>"

    @property
    def masked_sid(self) -> str:
        return mask_sid(self._sid)

    async def find_incoming_number(self, e164: str) -> IncomingNumber | None:
        """The account's IncomingPhoneNumber equal to `e164`, or None."""
        # Twilio's PhoneNumber filter matches partially, so the exact number is picked here.
        records = await self._call(
            "look up IncomingPhoneNumbers",
            lambda: self._client.incoming_phone_numbers.list_async(phone_number=e164),
            idempotent=True,
        )
        for record in records:
            if record.phone_number == e164:
                return IncomingNumber(record.sid, record.phone_number, record.trunk_sid)
        return None

    async def find_caller_id(self, e164: str) -> CallerId | None:
        """The account's verified OutgoingCallerId equal to `e164`, or None."""
        records = await self._call(
            "look up OutgoingCallerIds",
            lambda: self._client.outgoing_caller_ids.list_async(phone_number=e164),
            idempotent=True,
        )
        for record in records:
            if record.phone_number == e164:
                return CallerId(record.sid, record.phone_number)
        return None

    async def create_trunk(self, friendly_name: str) -> Trunk:
        """Create an Elastic SIP trunk under a fresh random `*.pstn.twilio.com` domain.

        Domains are global at Twilio, so a taken one (21248) is retried with another.
        """
        attempts_left = DOMAIN_ATTEMPTS
        while True:
            attempts_left -= 1
            domain_name = f"trunkline-{secrets.token_hex(6)}.pstn.twilio.com"
            try:
                record = await self._call(
                    "create Trunk",
                    lambda: self._client.trunking.v1.trunks.create_async(
                        friendly_name=friendly_name, domain_name=domain_name
                    ),
                    idempotent=False,
                )
            except Rejected as failure:
                if failure.code != DOMAIN_TAKEN or attempts_left == 0:
                    raise
                continue
            return Trunk(record.sid, record.domain_name)

    async def add_origination_url(self, trunk_sid: str, sip_url: str, friendly_name: str) -> str:
        """Point the trunk's inbound calls at `sip_url`; returns the OriginationUrl SID."""
        record = await self._call(
            "create OriginationUrl",
            lambda: self._client.trunking.v1.trunks(trunk_sid).origination_urls.create_async(
                weight=1, priority=1, enabled=True, friendly_name=friendly_name, sip_url=sip_url
            ),
            idempotent=False,
        )
        return record.sid

    async def create_credential_list(self, friendly_name: str, username: str, password: str) -> str:
        """Create a CredentialList holding one credential; returns the CredentialList SID.

        If the credential is refused, the new list is deleted again before the failure is raised.
        """
        credential_lists = self._client.sip.credential_lists
        record = await self._call(
            "create CredentialList",
            lambda: credential_lists.create_async(friendly_name=friendly_name),
            idempotent=False,
        )
        try:
            await self._call(
                "create Credential",
                lambda: credential_lists(record.sid).credentials.create_async(username=username, password=password),
                idempotent=False,
                secret=password,
            )
        except ProviderFailure:
            await self.delete_credential_list(record.sid)
            raise
        return record.sid

    async def attach_credential_list(self, trunk_sid: str, cl_sid: str) -> None:
        """Require the credential list's credentials for calls out through the trunk."""
        await self._call(
            "attach CredentialList to Trunk",
            lambda: self._client.trunking.v1.trunks(trunk_sid).credentials_lists.create_async(
                credential_list_sid=cl_sid
            ),
            idempotent=False,
        )

    async def delete_credential_list(self, cl_sid: str) -> None:
        await self._delete(
            "delete CredentialList", lambda: self._client.sip.credential_lists(cl_sid).delete_async()
        )

    async def attach_number(self, trunk_sid: str, number_sid: str) -> None:
        """Route the IncomingPhoneNumber `number_sid` through the trunk."""
        await self._call(
            "attach PhoneNumber to Trunk",
            lambda: self._client.trunking.v1.trunks(trunk_sid).phone_numbers.create_async(
                phone_number_sid=number_sid
            ),
            idempotent=False,
        )

    async def detach_number(self, trunk_sid: str, number_sid: str) -> None:
        await self._delete(
            "detach PhoneNumber from Trunk",
            lambda: self._client.trunking.v1.trunks(trunk_sid).phone_numbers(number_sid).delete_async(),
        )

    async def delete_trunk(self, trunk_sid: str) -> None:
        await self._delete("delete Trunk", lambda: self._client.trunking.v1.trunks(trunk_sid).delete_async())

    async def find_trunk_sids(self, friendly_name: str) -> list[str]:
        """SIDs of the account's trunks called `friendly_name` (to recover a create whose answer never came)."""
        records = await self._call(
            "list Trunks", lambda: self._client.trunking.v1.trunks.list_async(), idempotent=True
        )
        return [r.sid for r in records if r.friendly_name == friendly_name]

    async def find_credential_list_sids(self, friendly_name: str) -> list[str]:
        """SIDs of the account's credential lists called `friendly_name`."""
        records = await self._call(
            "list CredentialLists", lambda: self._client.sip.credential_lists.list_async(), idempotent=True
        )
        return [r.sid for r in records if r.friendly_name == friendly_name]

    async def search_available_numbers(self, area_code: str | None, limit: int) -> list[AvailableNumber]:
        """US local numbers the account could buy, optionally in one area code."""
        records = await self._call(
            "search AvailablePhoneNumbers",
            lambda: self._client.available_phone_numbers("US").local.list_async(
                area_code=area_code if area_code else values.unset, limit=limit
            ),
            idempotent=True,
        )
        return [AvailableNumber(r.phone_number, r.locality, r.region) for r in records]

    async def buy_number(self, e164: str) -> IncomingNumber:
        """Buy `e164` onto the account."""
        record = await self._call(
            "buy IncomingPhoneNumber",
            lambda: self._client.incoming_phone_numbers.create_async(phone_number=e164),
            idempotent=False,
        )
        return IncomingNumber(record.sid, record.phone_number, record.trunk_sid)

    async def release_number(self, number_sid: str) -> None:
        await self._delete(
            "release IncomingPhoneNumber", lambda: self._client.incoming_phone_numbers(number_sid).delete_async()
        )

    async def _delete(self, describe: str, request: Callable[[], Awaitable[Any]]) -> None:
        # Deletes undo earlier steps; a resource already gone is the state they aim for.
        try:
            await self._call(describe, request, idempotent=True)
        except NotFound:
            pass

    async def _call(
        self,
        describe: str,
        request: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        secret: str | None = None,
    ) -> T:
        """The one request path: timeout, error mapping and retries for every operation."""
        operation, describe = describe, f"Twilio {describe} on {mask_sid(self._sid)}"

        async def attempt() -> T:
            _last_headers.set(None)
            try:
                async with asyncio.timeout(self._timeout):
                    return await request()
            except TwilioException as exc:
                # The SDK's exception repeats the carrier's unscrubbed text; ours carries all it held.
                raise self._failure(describe, exc, secret) from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._failure(describe, exc, secret) from exc

        return await observed(PROVIDER, operation, call_with_retry(attempt, policy=self._retry, idempotent=idempotent, describe=describe))

    def _failure(self, describe: str, exc: BaseException, secret: str | None) -> ProviderFailure:
        if isinstance(exc, TimeoutError):
            return ProviderTimeout(
                PROVIDER, f"{describe}: no answer within {self._timeout:g}s", code="timeout"
            )
        if isinstance(exc, aiohttp.ClientError):
            return Unavailable(
                PROVIDER, f"{describe}: connection failed ({type(exc).__name__})", code="connection_error"
            )
        status, code, message = _parse_twilio_error(exc)
        message = scrub(f"{describe}: {message}", self._token, secret)
        retry_after = retry_after_seconds((_last_headers.get() or {}).get("Retry-After"))
        return _failure_for_status(status, message, code=code, retry_after=retry_after)


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
