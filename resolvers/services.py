"""What the use cases need from outside: carrier clients, the secret box and carrier settings."""

from __future__ import annotations

from dataclasses import dataclass

from providers.livekit import LiveKitGateway
from providers.twilio import TwilioAccountClient, TwilioGateway
from models.secret_box import SecretBox


@dataclass(frozen=True)
class PlatformTwilio:
    """The platform's own Twilio account, for purchases; never shown to workspaces."""

    account_sid: str
    auth_token: str

    def __repr__(self) -> str:
        return f"PlatformTwilio(account_sid=AC…{self.account_sid[-4:]}, auth_token=**********)"


@dataclass(frozen=True)
class Services:
    twilio: TwilioGateway
    livekit: LiveKitGateway
    secrets: SecretBox
    livekit_sip_uri: str  # where Twilio sends inbound calls: sip:<project>.sip.livekit.cloud
    platform_twilio: PlatformTwilio | None = None

    def twilio_account(self, account_sid: str, auth_token: str) -> TwilioAccountClient:
        return self.twilio.account(account_sid, auth_token)
