"""`TwilioGateway`: the HTTP client shared by all accounts, and a client per account made over it."""

from __future__ import annotations

from twilio.http.async_http_client import AsyncTwilioHttpClient

from providers.retry import RetryPolicy
from providers.twilio.operations import TwilioAccountClient
from providers.twilio.transport import HeaderKeepingHttpClient, account_sdk_client


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
            self._http = HeaderKeepingHttpClient()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> TwilioGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def account(self, account_sid: str, secret: str, *, api_key_sid: str | None = None) -> TwilioAccountClient:
        """A client acting as `account_sid` with its auth token, or with an API key (`api_key_sid` and its
        secret); cheap, make one per request."""
        if self._http is None:
            raise RuntimeError("TwilioGateway.start() must be awaited before account()")
        client = account_sdk_client(
            self._http,
            account_sid,
            secret,
            api_key_sid=api_key_sid,
            api_base_url=self.api_base_url,
            trunking_base_url=self.trunking_base_url,
        )
        return TwilioAccountClient(client, account_sid, secret, timeout=self.timeout, retry=self.retry)
