"""importPhoneNumber: bring a number into the workspace from LiveKit, the customer's Twilio, or a BYOC trunk."""

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from models.enums import PhoneNumberSource as StoredSource
from resolvers.import_phone_number import ImportRequest
from resolvers.import_phone_number import import_phone_number as import_use_case
from resolvers.services import TwilioCredentials
from schema.context import Context, current_workspace
from schema.enums import PhoneNumberSource
from schema.errors import PaymentRequiredError, ProviderError, ValidationError
from schema.results import to_error
from schema.types import PhoneNumber

__all__ = ["ImportPhoneNumberInput", "ImportPhoneNumberResult", "ImportPhoneNumberSuccess", "TwilioCredentialsInput", "import_phone_number"]


@strawberry.input(
    description="Credentials of the customer's Twilio account: the account SID, and exactly one of authToken, "
    "or apiKeySid with apiKeySecret (a Standard API key is enough)."
)
class TwilioCredentialsInput:
    account_sid: str = strawberry.field(description="AC followed by 32 hexadecimal characters.")
    auth_token: str | None = strawberry.field(
        default=None, description="32 hexadecimal characters; write-only, stored encrypted, never returned."
    )
    api_key_sid: str | None = strawberry.field(default=None, description="SK followed by 32 hexadecimal characters.")
    api_key_secret: str | None = strawberry.field(
        default=None, description="The API key's secret, 32 characters; write-only, stored encrypted, never returned."
    )

    def credentials(self) -> TwilioCredentials:
        return TwilioCredentials(self.account_sid, self.auth_token, self.api_key_sid, self.api_key_secret)


@strawberry.input(description="A number to import.")
class ImportPhoneNumberInput:
    e164: str = strawberry.field(description="The number in E.164 form, e.g. +12025551234.")
    source: PhoneNumberSource = strawberry.field(
        description="LIVEKIT, TWILIO or BYOC; TWILIO_PURCHASED is refused (use purchasePhoneNumber) and "
        "VERIFIED_CALLER_ID is set by the server."
    )
    label: str | None = strawberry.field(default=None, description="A label of up to 255 characters.")
    trunk_id: strawberry.ID | None = strawberry.field(default=None, description="Required for BYOC, refused for the others.")
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="An agent to answer calls to the number.")
    twilio: TwilioCredentialsInput | None = strawberry.field(
        default=None, description="Required for TWILIO, refused for the others."
    )

    def request(self) -> ImportRequest:
        return ImportRequest(
            e164=self.e164,
            source=StoredSource(self.source.value),
            label=self.label,
            trunk_id=self.trunk_id,
            agent_id=self.agent_id,
            twilio=self.twilio.credentials() if self.twilio else None,
        )


@strawberry.type(description="The number was imported.")
class ImportPhoneNumberSuccess:
    phone_number: PhoneNumber = strawberry.field(description="The imported number, ACTIVE.")


ImportPhoneNumberResult = Annotated[
    ImportPhoneNumberSuccess | ValidationError | PaymentRequiredError | ProviderError,
    strawberry.union("ImportPhoneNumberResult", description="The imported number, or why it was not imported."),
]


async def import_phone_number(info: Info[Context, None], input: ImportPhoneNumberInput) -> ImportPhoneNumberResult:
    outcome = await import_use_case(current_workspace(info).id, input.request(), info.context.services)
    if isinstance(outcome, models.PhoneNumber):
        return ImportPhoneNumberSuccess(phone_number=PhoneNumber.from_row(outcome, info.context.loaders))
    return to_error(outcome)
