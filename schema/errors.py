"""Errors as data: the UserError interface and the error types that result unions share."""

import strawberry

from schema.enums import Provider


@strawberry.interface(description="A problem the client is expected to handle, told apart by code.")
class UserError:
    message: str = strawberry.field(description="For a person to read; never contains a secret.")
    code: str = strawberry.field(description="Stable, SCREAMING_SNAKE_CASE; clients branch on it.")


@strawberry.type(description="One problem with one input field.")
class FieldError:
    field: str = strawberry.field(description="Input path of the field, e.g. e164 or twilio.authToken.")
    message: str = strawberry.field(description="What was wrong and what was expected.")
    code: str = strawberry.field(
        description="REQUIRED, INVALID_FORMAT, INVALID_NUMBER, UNSUPPORTED_COUNTRY, NOT_ALLOWED, NOT_FOUND, "
        "ALREADY_EXISTS, NOT_OWNED, CREDENTIALS_REJECTED, DID_IMPORT_REQUIRED, NOT_AGENT_BINDABLE, TOO_LONG, TOO_MANY, "
        "INVALID_CHARACTERS (a control character or unpaired surrogate), SERVER_DETERMINED, or another documented code."
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


def validation_error(field_errors: list[FieldError], message: str = "The input is not valid.") -> ValidationError:
    return ValidationError(message=message, code="VALIDATION_FAILED", field_errors=field_errors)
