"""The carrier clients one operation uses, with each Twilio account's client made once."""

from __future__ import annotations

from models import TwilioAccount
from providers.twilio import TwilioAccountClient
from resolvers.provisioning.twilio_account import stored_credentials
from resolvers.services import Services


class CarrierClients:
    """LiveKit, and a Twilio client per stored account (credentials read from its row when not given)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.livekit = services.livekit
        self._twilio: dict[str, TwilioAccountClient] = {}

    def use_twilio(self, twilio_account_id: str, client: TwilioAccountClient) -> None:
        """The client an operation already holds for the account, so its steps need not read the row."""
        self._twilio[twilio_account_id] = client

    async def twilio(self, twilio_account_id: str) -> TwilioAccountClient:
        """The account's client with the credentials its row holds now (rotateTwilioCredentials changes them)."""
        if twilio_account_id not in self._twilio:
            account = await TwilioAccount.get(id=twilio_account_id)
            self._twilio[twilio_account_id] = self.services.twilio_account(stored_credentials(account, self.services))
        return self._twilio[twilio_account_id]
