"""rotateTwilioCredentials: give the current credentials of a Twilio account the workspace's numbers use."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.rotate_twilio_credentials import Rotated
from resolvers.rotate_twilio_credentials import rotate_twilio_credentials as rotate_use_case
from schema.context import Context, current_workspace
from schema.errors import NotFoundError, ProviderError, ValidationError
from schema.mutations.import_phone_number import TwilioCredentialsInput
from schema.results import to_error

__all__ = [
    "RotateTwilioCredentialsInput",
    "RotateTwilioCredentialsResult",
    "RotateTwilioCredentialsSuccess",
    "rotate_twilio_credentials",
]


@strawberry.input(description="The account's current credentials, after they were changed or revoked at Twilio.")
class RotateTwilioCredentialsInput:
    credentials: TwilioCredentialsInput = strawberry.field(
        description="The account SID names the account; authToken, or apiKeySid with apiKeySecret, its current secret."
    )


@strawberry.type(description="Twilio accepted the credentials; they are stored and used from now on.")
class RotateTwilioCredentialsSuccess:
    account_sid: str = strawberry.field(description="The Twilio account whose credentials were replaced.")
    phone_number_count: int = strawberry.field(description="Numbers of this workspace that now use the new credentials.")


RotateTwilioCredentialsResult = Annotated[
    RotateTwilioCredentialsSuccess | ValidationError | NotFoundError | ProviderError,
    strawberry.union(
        "RotateTwilioCredentialsResult",
        description="The rotation, or why not: NotFoundError when no number of the workspace uses the account; "
        "ValidationError for malformed credentials, or credentials.authToken / credentials.apiKeySecret "
        "CREDENTIALS_REJECTED when Twilio refused them (nothing was changed).",
    ),
]


async def rotate_twilio_credentials(
    info: Info[Context, None], input: RotateTwilioCredentialsInput
) -> RotateTwilioCredentialsResult:
    outcome = await rotate_use_case(current_workspace(info).id, input.credentials.credentials(), info.context.services)
    if isinstance(outcome, Rotated):
        return RotateTwilioCredentialsSuccess(account_sid=outcome.account_sid, phone_number_count=outcome.phone_number_count)
    return to_error(outcome)
