"""planPhoneNumberImport: what importPhoneNumber would do with this input now, and nothing done.

The import's checks in the import's order (validation, references, the number already held, the Twilio
look-up, the cap, each source's own refusals), then each source's plan beside its provisioning. Carrier
calls are reads only; no row is written and no slot is reserved, so a plan is a forecast: a concurrent
import may take the last slot or the number first.
"""

from __future__ import annotations

from models import Workspace
from models.enums import PhoneNumberSource
from resolvers.import_phone_number import Checked, ImportRequest, check
from resolvers.outcomes import CarrierFailed, Invalid, LimitReached
from resolvers.provisioning import (
    byoc_number,
    livekit_number,
    twilio_number,
)
from resolvers.provisioning.planned import Plan
from resolvers.provisioning.reservation import already_held, limit_reached
from resolvers.services import Services


async def plan_phone_number_import(
    workspace_id: str, request: ImportRequest, services: Services
) -> Plan | Invalid | LimitReached | CarrierFailed:
    checked = await check(workspace_id, request, services)
    if not isinstance(checked, Checked):
        return checked
    references, holding = checked
    # What reserve_number decides, read without reserving.
    if held := await already_held(workspace_id, request.e164):
        return held
    if reached := await limit_reached(await Workspace.get(id=workspace_id)):
        return reached
    match request.source:
        case PhoneNumberSource.LIVEKIT:
            return await livekit_number.plan(request.e164, references.agent, services)
        case PhoneNumberSource.TWILIO:
            return await twilio_number.plan(workspace_id, request.e164, request.twilio, holding, references.agent)
        case PhoneNumberSource.BYOC:
            return byoc_number.plan(references.trunk, references.agent)
    raise ValueError(f"no plan for source {request.source}")
