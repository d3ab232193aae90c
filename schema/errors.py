"""Errors as data: the UserError interface and the error types that result unions share."""

import strawberry

from resolvers.outcomes import ErrorCode, FieldCode
from schema.enums import Provider


def listing(codes: type[ErrorCode] | type[FieldCode]) -> str:
    return ", ".join(code.value for code in codes)


@strawberry.interface(description="A problem the client is expected to handle, told apart by code.")
class UserError:
    message: str = strawberry.field(description="For a person to read; never contains a secret.")
    code: str = strawberry.field(
        description=f"Stable, SCREAMING_SNAKE_CASE; clients branch on it. One of {listing(ErrorCode)}."
    )


@strawberry.type(description="One problem with one input field.")
class FieldError:
    field: str = strawberry.field(description="Input path of the field, e.g. e164 or twilio.authToken.")
    message: str = strawberry.field(description="What was wrong and what was expected.")
    code: str = strawberry.field(
        description=f"One of {listing(FieldCode)}. INVALID_CHARACTERS: a control character or unpaired surrogate."
    )


@strawberry.type(description="The input was refused; every problem found is listed.")
class ValidationError(UserError):
    field_errors: list[FieldError] = strawberry.field(description="At least one problem, each tied to a field.")


@strawberry.type(description="The workspace is at a limit of its plan.")
class PaymentRequiredError(UserError):
    limit: int = strawberry.field(description="The limit.")
    current: int = strawberry.field(description="How many the workspace holds now.")


@strawberry.type(description="A carrier failed or refused; nothing was left half-made.")
class ProviderError(UserError):
    provider: Provider = strawberry.field(description="The carrier that failed.")
    retryable: bool = strawberry.field(description="True when the same request may succeed later.")


@strawberry.type(description="No such object in this workspace.")
class NotFoundError(UserError):
    id: strawberry.ID = strawberry.field(description="The id that was asked for.")
