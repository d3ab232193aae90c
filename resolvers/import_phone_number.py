"""importPhoneNumber: validate, check references, reserve a slot, provision at the carriers, activate."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import NamedTuple

from models import Agent, PhoneNumber, SipTrunk, statements
from models.enums import PhoneNumberSource, SipTrunkProvider
from providers.errors import Carrier
from providers.metrics import IMPORTS
from resolvers.outcomes import (
    CarrierFailed,
    Failure,
    FieldCode,
    FieldProblem,
    Invalid,
    LimitReached,
    Missing,
)
from resolvers.provisioning import (
    byoc_number,
    livekit_number,
    twilio_lookup,
    twilio_number,
)
from resolvers.provisioning.reservation import Reservation, already_held, reserve_number
from resolvers.provisioning.reserved import provision_reserved
from resolvers.services import Services, TwilioCredentials
from resolvers.validation import (
    check_e164,
    check_id_shape,
    check_label,
    check_twilio_credentials,
    not_found,
    region_of,
)


@dataclass(frozen=True)
class ImportRequest:
    e164: str
    source: PhoneNumberSource
    label: str | None = None
    trunk_id: str | None = None
    agent_id: str | None = None
    twilio: TwilioCredentials | None = None


@dataclass(frozen=True)
class References:
    agent: Agent | None
    trunk: SipTrunk | None


_OUTCOMES = {Invalid: "invalid", Missing: "invalid", LimitReached: "payment_required", CarrierFailed: "provider_error"}


def _counted(import_phone_number):
    """Counts each importPhoneNumber by its source and how it ended (trunkline_imports_total)."""

    @wraps(import_phone_number)
    async def counted(workspace_id: str, request: ImportRequest, services: Services):
        result = await import_phone_number(workspace_id, request, services)
        IMPORTS.labels(request.source.value, _OUTCOMES.get(type(result), "success")).inc()
        return result

    return counted


@_counted
async def import_phone_number(workspace_id: str, request: ImportRequest, services: Services) -> PhoneNumber | Failure:
    checked = await check(workspace_id, request, services)
    if not isinstance(checked, Checked):
        return checked
    references, holding = checked
    # 4. A slot, and the number, reserved in one short transaction; the row is born leased to this import.
    reserved = await reserve_number(
        workspace_id,
        request.e164,
        request.source,
        label=request.label or None,
        agent=references.agent,
        trunk=references.trunk,
        # A BYOC number goes on its trunk first thing: the trunk's lease is taken with the slot when free.
        lease_trunk=services.leases if request.source == PhoneNumberSource.BYOC else None,
        **services.leases.taken_now(),
    )
    if not isinstance(reserved, Reservation):
        return reserved
    # 5. Carrier work, journalled; undone on any failure.
    return await provision(reserved, request, references, holding, services)


class Checked(NamedTuple):
    references: References
    holding: twilio_lookup.TwilioHolding | None  # for TWILIO


async def check(workspace_id: str, request: ImportRequest, services: Services) -> Checked | Failure:
    """The checks before a slot is reserved, shared with planPhoneNumberImport."""
    # 1. Input, without I/O: every problem at once.
    problems = validate(request)
    if problems:
        return Invalid(problems)
    # 2. References exist in this workspace.
    references = await load_references(workspace_id, request)
    if isinstance(references, Invalid):
        return references
    # 3. For TWILIO, the credentials and the number proved first: until then, the caller learns only
    # whether its own workspace holds the number, never whether another does.
    if request.source != PhoneNumberSource.TWILIO:
        return Checked(references, None)
    if held := await already_held(workspace_id, request.e164, anywhere=False):
        return held
    holding = await twilio_lookup.look_up(request.e164, request.twilio, services)
    if not isinstance(holding, twilio_lookup.TwilioHolding):
        return holding
    return Checked(references, holding)


async def provision(
    reserved: Reservation,
    request: ImportRequest,
    references: References,
    holding: twilio_lookup.TwilioHolding | None,
    services: Services,
):
    number = reserved.number
    match request.source:
        case PhoneNumberSource.LIVEKIT:
            return await provision_reserved(
                number, services, Carrier.LIVEKIT,
                lambda journal: livekit_number.provision(number, references.agent, journal),
            )
        case PhoneNumberSource.TWILIO:
            return await provision_reserved(
                number, services, Carrier.TWILIO,
                lambda journal: twilio_number.provision(number, request.twilio, holding, references.agent, journal),
            )
        case PhoneNumberSource.BYOC:
            return await provision_reserved(
                number, services, Carrier.LIVEKIT,
                lambda journal: byoc_number.provision(number, references.trunk, references.agent, journal, reserved.trunk),
            )
    raise ValueError(f"no provisioning for source {request.source}")


def validate(request: ImportRequest) -> tuple[FieldProblem, ...]:
    problems = [
        *check_e164(request.e164),
        *check_label(request.label),
        *check_id_shape(request.agent_id, "agent", "agentId"),
        *check_id_shape(request.trunk_id, "trunk", "trunkId"),
    ]
    source = request.source
    if source == PhoneNumberSource.TWILIO_PURCHASED:
        problems.append(
            FieldProblem("source", FieldCode.NOT_ALLOWED, "numbers on the platform's Twilio account are bought with purchasePhoneNumber")
        )
    elif source == PhoneNumberSource.VERIFIED_CALLER_ID:
        problems.append(
            FieldProblem(
                "source",
                FieldCode.SERVER_DETERMINED,
                "VERIFIED_CALLER_ID is set by the server; import the caller ID with source TWILIO",
            )
        )
    elif source == PhoneNumberSource.LIVEKIT and not problems_on(problems, "e164") and region_of(request.e164) != "US":
        problems.append(FieldProblem("e164", FieldCode.UNSUPPORTED_COUNTRY, "LiveKit sells US numbers only (+1, region US)"))

    if source == PhoneNumberSource.TWILIO:
        if request.twilio is None:
            message = "twilio { accountSid authToken } or twilio { accountSid apiKeySid apiKeySecret } is required for source TWILIO"
            problems.append(FieldProblem("twilio", FieldCode.REQUIRED, message))
        else:
            credentials = request.twilio
            problems += check_twilio_credentials(
                credentials.account_sid,
                credentials.auth_token,
                api_key_sid=credentials.api_key_sid,
                api_key_secret=credentials.api_key_secret,
            )
    elif request.twilio is not None:
        problems.append(FieldProblem("twilio", FieldCode.NOT_ALLOWED, "twilio is only for source TWILIO"))

    if source == PhoneNumberSource.BYOC:
        if request.trunk_id is None:
            problems.append(FieldProblem("trunkId", FieldCode.REQUIRED, "trunkId is required for source BYOC"))
    elif request.trunk_id is not None:
        problems.append(FieldProblem("trunkId", FieldCode.NOT_ALLOWED, "trunkId is only for source BYOC"))
    return tuple(problems)


def problems_on(problems: list[FieldProblem], field_name: str) -> bool:
    return any(problem.field == field_name for problem in problems)


async def load_references(workspace_id: str, request: ImportRequest) -> References | Invalid:
    """The agent and trunk named by the input; another workspace's id looks exactly like a missing one."""
    problems = []
    agent = trunk = None
    if request.agent_id:
        agent = await statements.by_id(Agent, request.agent_id, workspace_id=workspace_id)
        if agent is None:
            problems.append(not_found("agentId", "agent", request.agent_id))
    if request.trunk_id:
        trunk = await statements.by_id(SipTrunk, request.trunk_id, workspace_id=workspace_id)
        if trunk is None:
            problems.append(not_found("trunkId", "SIP trunk", request.trunk_id))
        elif trunk.provider != SipTrunkProvider.BYOC:
            problems.append(
                FieldProblem("trunkId", FieldCode.NOT_ALLOWED, "this trunk is managed by the server; BYOC takes a trunk you created")
            )
    return Invalid(tuple(problems)) if problems else References(agent=agent, trunk=trunk)
