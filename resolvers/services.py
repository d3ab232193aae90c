"""What the use cases need from outside: carrier clients, the secret box and carrier settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.secret_box import SecretBox
from providers.livekit import LiveKitGateway
from providers.redact import mask_sid
from providers.twilio import TwilioAccountClient, TwilioGateway
from resolvers.provisioning.leases import Leases


@dataclass(frozen=True)
class TwilioCredentials:
    """A Twilio account and what opens it: a customer's (imports) or the platform's (purchases).

    One of two forms: the account's auth token, or an API key's SID and secret. Twilio takes either as
    HTTP Basic credentials, the account SID staying in the request path. Which form a value holds is
    checked by resolvers/validation.check_twilio_credentials before it is used.
    """

    account_sid: str
    auth_token: str | None = field(default=None, repr=False)
    api_key_sid: str | None = None
    api_key_secret: str | None = field(default=None, repr=False)

    @classmethod
    def stored(cls, account_sid: str, secret: str, api_key_sid: str | None) -> TwilioCredentials:
        """Credentials as a TwilioAccount row keeps them: the secret, with the key's SID for an API key."""
        if api_key_sid:
            return cls(account_sid, api_key_sid=api_key_sid, api_key_secret=secret)
        return cls(account_sid, auth_token=secret)

    @property
    def secret(self) -> str:
        """The auth token, or the API key's secret."""
        return (self.api_key_secret if self.api_key_sid else self.auth_token) or ""

    @property
    def secret_field(self) -> str:
        """The input field that carried the secret, for errors about it."""
        return "apiKeySecret" if self.api_key_sid else "authToken"

    def basic_auth(self) -> tuple[str, str]:
        """HTTP Basic username and password: the key's SID with an API key, else the account SID."""
        return (self.api_key_sid or self.account_sid, self.secret)

    def __repr__(self) -> str:
        key = f", api_key_sid={mask_sid(self.api_key_sid)}" if self.api_key_sid else ""
        return f"TwilioCredentials(account_sid={mask_sid(self.account_sid)}{key}, secret=**********)"


@dataclass(frozen=True)
class Services:
    twilio: TwilioGateway
    livekit: LiveKitGateway
    secrets: SecretBox
    livekit_sip_uri: str  # where Twilio sends inbound calls: sip:<project>.sip.livekit.cloud
    platform_twilio: TwilioCredentials | None = None  # the platform's own account; never shown to workspaces
    leases: Leases = field(default_factory=Leases)

    def twilio_account(self, credentials: TwilioCredentials) -> TwilioAccountClient:
        return self.twilio.account(credentials.account_sid, credentials.secret, api_key_sid=credentials.api_key_sid)
