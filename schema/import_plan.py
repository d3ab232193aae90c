"""planPhoneNumberImport: what importPhoneNumber would change at the carriers, with nothing done."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.plan_phone_number_import import plan_phone_number_import as plan_use_case
from resolvers.provisioning.planned import Plan
from schema.context import Context, current_workspace
from schema.enums import PhoneNumberCapability, PhoneNumberSource, Provider
from schema.errors import PaymentRequiredError, ProviderError, ValidationError
from schema.mutations.import_phone_number import ImportPhoneNumberInput
from schema.results import CARRIERS, to_error


@strawberry.type(description="One change the import would make at a carrier.")
class PlannedCarrierChange:
    provider: Provider = strawberry.field(description="The carrier it is made at.")
    action: str = strawberry.field(
        description="CREATE, UPDATE (a number joins it), ATTACH, PURCHASE, or REUSE (there already, unchanged)."
    )
    resource: str = strawberry.field(description='What is changed, e.g. "Elastic SIP Trunk", "LiveKit inbound trunk", "dispatch rule".')
    detail: str | None = strawberry.field(description="Which one, when it exists or is named: e.g. the trunk reused, the agent.")


@strawberry.type(description="What importPhoneNumber would do with the same input now.")
class ImportPlan:
    source: PhoneNumberSource = strawberry.field(
        description="As the import would store it: VERIFIED_CALLER_ID when Twilio holds the number as a caller ID."
    )
    capabilities: list[PhoneNumberCapability] = strawberry.field(description="What the imported number could do.")
    steps: list[PlannedCarrierChange] = strawberry.field(
        description="In an order the import could take them (it takes independent ones at once)."
    )

    @classmethod
    def from_plan(cls, plan: Plan) -> "ImportPlan":
        return cls(
            source=PhoneNumberSource(plan.source.value),
            capabilities=[PhoneNumberCapability(c.value) for c in plan.capabilities],
            steps=[
                PlannedCarrierChange(
                    provider=CARRIERS[s.provider], action=s.action.value, resource=s.resource, detail=s.detail
                )
                for s in plan.steps
            ],
        )


PlanPhoneNumberImportResult = Annotated[
    ImportPlan | ValidationError | PaymentRequiredError | ProviderError,
    strawberry.union(
        "PlanPhoneNumberImportResult", description="The plan, or the error importPhoneNumber would answer now."
    ),
]


async def plan_phone_number_import(info: Info[Context, None], input: ImportPhoneNumberInput) -> PlanPhoneNumberImportResult:
    outcome = await plan_use_case(current_workspace(info).id, input.request(), info.context.services)
    if isinstance(outcome, Plan):
        return ImportPlan.from_plan(outcome)
    return to_error(outcome)
