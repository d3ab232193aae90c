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
    """A Twilio account and the secret that opens it: a customer's (imports) or the platform's (purchases)."""

    account_sid: str
    auth_token: str = field(repr=False)

    def __repr__(self) -> str:
        return f"TwilioCredentials(account_sid={mask_sid(self.account_sid)}, auth_token=**********)"


@dataclass(frozen=True)
class Services:
    twilio: TwilioGateway
    livekit: LiveKitGateway
    secrets: SecretBox
    livekit_sip_uri: str  # where Twilio sends inbound calls: sip:<project>.sip.livekit.cloud
    platform_twilio: TwilioCredentials | None = None  # the platform's own account; never shown to workspaces
    leases: Leases = field(default_factory=Leases)

    def twilio_account(self, credentials: TwilioCredentials) -> TwilioAccountClient:
        return self.twilio.account(credentials.account_sid, credentials.auth_token)
