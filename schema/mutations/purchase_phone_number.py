"""purchasePhoneNumber: buy a US number on the platform's Twilio account."""

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers.purchase_phone_number import PurchaseRequest
from resolvers.purchase_phone_number import purchase_phone_number as purchase_use_case
from schema.context import Context, current_workspace
from schema.errors import PaymentRequiredError, ProviderError, ValidationError
from schema.results import to_error
from schema.types import PhoneNumber

__all__ = ["PurchasePhoneNumberInput", "PurchasePhoneNumberResult", "PurchasePhoneNumberSuccess", "purchase_phone_number"]


@strawberry.input(description="A number to buy.")
class PurchasePhoneNumberInput:
    e164: str = strawberry.field(description="One of availablePhoneNumbers(source: TWILIO_PURCHASED).")
    label: str | None = strawberry.field(default=None, description="A label of up to 255 characters.")
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="An agent to answer calls to the number.")


@strawberry.type(description="The number was bought and is ready.")
class PurchasePhoneNumberSuccess:
    phone_number: PhoneNumber = strawberry.field(description="The number, source TWILIO_PURCHASED.")


PurchasePhoneNumberResult = Annotated[
    PurchasePhoneNumberSuccess | ValidationError | PaymentRequiredError | ProviderError,
    strawberry.union("PurchasePhoneNumberResult", description="The bought number, or why it was not bought."),
]


async def purchase_phone_number(info: Info[Context, None], input: PurchasePhoneNumberInput) -> PurchasePhoneNumberResult:
    request = PurchaseRequest(e164=input.e164, label=input.label, agent_id=input.agent_id)
    outcome = await purchase_use_case(current_workspace(info).id, request, info.context.services)
    if isinstance(outcome, models.PhoneNumber):
        return PurchasePhoneNumberSuccess(phone_number=PhoneNumber.from_row(outcome, info.context.loaders))
    return to_error(outcome)
