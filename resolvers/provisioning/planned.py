"""What an import would change at the carriers, told before it runs (planPhoneNumberImport).

Each source module plans next to the code it plans (`plan` beside `provision`), from the rows as they are
now and the same conditions the import decides by; a planned change names the step class the import
takes, so a plan reads in the import's own terms. tests/test_plan_phone_number_import.py holds each plan
against the carrier calls the import then makes.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import PhoneNumberCapability, PhoneNumberSource
from providers.errors import Carrier
from resolvers.provisioning import steps
from resolvers.provisioning.steps import Action


@dataclass(frozen=True)
class PlannedChange:
    provider: Carrier
    action: Action
    resource: str
    detail: str | None = None


@dataclass(frozen=True)
class Plan:
    """The number as the import would store it, and the changes it would make, in an order it could take
    them (it takes independent ones at once)."""

    source: PhoneNumberSource
    capabilities: list[PhoneNumberCapability]
    steps: list[PlannedChange]


def planned(step: type[steps.Step], detail: str | None = None) -> PlannedChange:
    """The change `journal.take(step, …)` would make, as the step names it (steps.Step.planned_as)."""
    assert step.planned_as is not None, f"{step.name} is not a step of an import"
    provider, action, resource = step.planned_as
    return PlannedChange(provider, action, resource, detail)


def agent_detail(agent_id: str) -> str:
    return f"to agent {agent_id}"
