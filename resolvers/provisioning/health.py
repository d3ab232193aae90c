"""What an ACTIVE number needs at its carriers, compared with what they hold, and put back on request.

What a number needs follows from its rows, as its import made it (steps.py, trunks.py, *_number.py):
- LIVEKIT: the LiveKit number held, routed through its dispatch rule when an agent is bound.
- TWILIO / TWILIO_PURCHASED: the DID still on the account and attached to the trunk row's Twilio trunk,
  which sends calls to LiveKit's SIP endpoint and takes LiveKit's calls with the row's credential list;
  the number on the trunk row's LiveKit inbound and outbound trunks; the dispatch rule when bound.
- VERIFIED_CALLER_ID: the caller ID still verified; the number on the LiveKit outbound trunk, which calls
  the Twilio trunk with its credential list.
- BYOC: the number on the LiveKit trunks of its trunk row, in its capabilities; the dispatch rule when bound.

Repairs go through the journalled steps of an import (Journal.take), under the number's and then the
trunk's lease, inside journal.all_or_nothing, so a repair that fails part-way is settled like a failed
import. What they make is recorded on the rows. A released LiveKit number, a number the Twilio account no
longer holds, and rejected Twilio credentials are reported, never repaired: only the customer can fix them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from models import PhoneNumber, PhoneNumberEventType, SipTrunk
from models.enums import (
    PhoneNumberCapability,
    PhoneNumberSource,
    PhoneNumberStatus,
    SipTrunkProvider,
)
from providers.errors import Carrier, CredentialsRejected, NotFound
from providers.metrics import CARRIER_PROBLEMS, HEALTH_CHECKS
from resolvers.events import update_recorded
from resolvers.provisioning import steps
from resolvers.provisioning.journal import Journal
from resolvers.provisioning.leases import LeaseBusy
from resolvers.provisioning.trunks import (
    ATTACHED_AT_TWILIO,
    add_inbound_number,
    add_outbound_number,
    create_dispatch_rule,
)
from resolvers.services import Services


class ProblemCode(StrEnum):
    """What a check found wrong (CarrierProblem.code); the schema's description lists these."""

    DISPATCH_RULE_MISSING = "DISPATCH_RULE_MISSING"  # also: a rule that no longer covers the number or its trunk
    DISPATCH_RULE_WRONG_AGENT = "DISPATCH_RULE_WRONG_AGENT"
    LIVEKIT_TRUNK_MISSING = "LIVEKIT_TRUNK_MISSING"
    NUMBER_NOT_ON_LIVEKIT_TRUNK = "NUMBER_NOT_ON_LIVEKIT_TRUNK"
    TWILIO_TRUNK_MISSING = "TWILIO_TRUNK_MISSING"
    NUMBER_NOT_ON_TWILIO_TRUNK = "NUMBER_NOT_ON_TWILIO_TRUNK"
    ORIGINATION_URL_WRONG = "ORIGINATION_URL_WRONG"
    CREDENTIAL_LIST_MISSING = "CREDENTIAL_LIST_MISSING"
    LIVEKIT_NUMBER_NOT_ACTIVE = "LIVEKIT_NUMBER_NOT_ACTIVE"  # not repairable
    CREDENTIALS_REJECTED = "CREDENTIALS_REJECTED"  # not repairable
    NUMBER_NOT_OWNED = "NUMBER_NOT_OWNED"  # not repairable


@dataclass
class Problem:
    provider: Carrier
    resource: str  # the carrier's id (or our name) of what is wrong; never a secret
    code: ProblemCode
    message: str
    repaired: bool = False


@dataclass(frozen=True)
class HealthCheck:
    number: PhoneNumber  # as it is after the repairs
    problems: tuple[Problem, ...]
    checked_at: datetime

    @property
    def healthy(self) -> bool:
        return all(problem.repaired for problem in self.problems)


class NotActive(Exception):
    """The number is being provisioned or released (`status`), or gone (None): nothing settled to compare."""

    def __init__(self, status: PhoneNumberStatus | None) -> None:
        super().__init__(status)
        self.status = status


async def check_number(number_id: str, services: Services, *, repair: bool, wait: float | None = None) -> HealthCheck:
    """Check the number (and repair it when asked) under its lease and its trunk's. Raises NotActive, LeaseBusy
    (`wait` seconds passed), or the ProviderFailure of a carrier that failed other than by refusing Twilio
    credentials; a failed repair is settled first."""
    async with services.leases.number(number_id, wait=wait) as number:
        if number is None or number.status != PhoneNumberStatus.ACTIVE:
            raise NotActive(number.status if number else None)
        journal = await Journal.resume(number.id, number.workspace_id, services)
        if not journal.empty and not await journal.settle(leaving=False):
            raise LeaseBusy(number.id)  # an earlier change to the number is still being settled
        # The trunk's lease is given up before a failure settles the journal, which takes it again.
        async with journal.all_or_nothing(leaving=False):
            if number.trunk_id:
                async with services.leases.trunk(number.trunk_id, wait=wait) as trunk:
                    await _still_active(number.id)
                    problems = await Examination(number, trunk, journal, repair).run()
            else:
                problems = await Examination(number, None, journal, repair).run()
        check = HealthCheck(await _record_health(number, problems), tuple(problems), datetime.now(UTC))
    HEALTH_CHECKS.labels("healthy" if check.healthy else "unhealthy").inc()
    for problem in problems:
        CARRIER_PROBLEMS.labels(problem.code.value, str(problem.repaired).lower()).inc()
    return check


async def _still_active(number_id: str) -> None:
    """A delete marks the number RELEASING before it waits for the number's lease, and then no longer counts it
    on its trunk: the delete of the trunk's last other number may have taken the trunk's sides down while
    this check waited for the trunk's lease. Such a number is being deleted, not broken (nor to be rebuilt)."""
    status = await PhoneNumber.filter(id=number_id).first().values_list("status", flat=True)
    if status != PhoneNumberStatus.ACTIVE:
        raise NotActive(PhoneNumberStatus(status) if status else None)


async def _record_health(number: PhoneNumber, problems: list[Problem]) -> PhoneNumber:
    """Store the result on the row; a change of health is recorded as HEALTH_CHANGED with it (a first check
    that finds nothing wrong is no news)."""
    healthy = all(problem.repaired for problem in problems)
    fields = {"healthy": healthy, "health_checked_at": datetime.now(UTC)}
    if healthy != number.healthy and not (number.healthy is None and healthy):
        changed = await update_recorded(number.id, PhoneNumberEventType.HEALTH_CHANGED, **fields)
        if changed is not None:
            return changed
    await PhoneNumber.filter(id=number.id).update(**fields)
    return await PhoneNumber.get(id=number.id)


@dataclass
class Examination:
    """One number's check: each part reads, reports, and (when `repair`) puts back what it can, in the
    order an import builds: the Twilio side, then LiveKit's trunks, then the dispatch rule naming them."""

    number: PhoneNumber
    trunk: SipTrunk | None
    journal: Journal
    repair: bool
    problems: list[Problem] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)  # LiveKit trunks found gone, which no rule should name

    @property
    def livekit(self):
        return self.journal.clients.livekit

    def has(self, capability: PhoneNumberCapability) -> bool:
        return capability.value in self.number.capabilities

    def found(self, provider: Carrier, resource: str, code: ProblemCode, message: str) -> Problem:
        problem = Problem(provider, resource, code, message)
        self.problems.append(problem)
        return problem

    async def fix(self, problem: Problem, repair: Callable[[], Awaitable[object]]) -> None:
        if self.repair:
            await repair()
            problem.repaired = True

    async def run(self) -> list[Problem]:
        routable = True
        if self.number.source == PhoneNumberSource.LIVEKIT:
            routable = await self.livekit_number()
        if self.trunk is not None and self.trunk.provider == SipTrunkProvider.TWILIO:
            await TwilioSide(self).run()
        if self.trunk is not None:
            for side in SIDES:
                if self.has(side.capability):
                    await self.livekit_side(side)
        if self.number.agent_id and self.has(PhoneNumberCapability.INBOUND) and routable:
            await self.dispatch_rule()
        return self.problems

    # --- LiveKit ---------------------------------------------------------------------------------

    async def livekit_number(self) -> bool:
        """Whether LiveKit still holds the number; a released one cannot be bought back."""
        number_id = self.number.livekit_phone_number_id or ""
        try:
            held = await self.livekit.get_number(number_id) if number_id else None
        except NotFound:
            held = None
        if held is not None and held.status in ("ACTIVE", "OFFLINE"):  # OFFLINE: no dispatch rule routes it
            return True
        status = held.status if held else "gone"
        message = f"LiveKit no longer holds {self.number.e164} ({status}); delete the number and import another"
        self.found(Carrier.LIVEKIT, number_id or self.number.e164, ProblemCode.LIVEKIT_NUMBER_NOT_ACTIVE, message)
        return False

    async def livekit_side(self, side: Side) -> None:
        trunk = self.trunk
        livekit_trunk_id = getattr(trunk, side.column)
        try:
            held = await getattr(self.livekit, side.get)(livekit_trunk_id) if livekit_trunk_id else None
        except NotFound:
            held = None
        if held is None:
            self.gone.add(livekit_trunk_id or "")
            name = livekit_trunk_id or steps.LIVEKIT_TRUNK_NAME.format(trunk_id=trunk.id)
            problem = self.found(
                Carrier.LIVEKIT, name, ProblemCode.LIVEKIT_TRUNK_MISSING,
                f"LiveKit has no {side.direction} trunk for trunk {trunk.id}",
            )
            await self.fix(problem, lambda: self.remake_livekit_side(side, livekit_trunk_id))
        elif self.number.e164 not in held.numbers:
            problem = self.found(
                Carrier.LIVEKIT, livekit_trunk_id, ProblemCode.NUMBER_NOT_ON_LIVEKIT_TRUNK,
                f"{self.number.e164} is not on LiveKit {side.direction} trunk {livekit_trunk_id}",
            )
            params = {"trunk_id": trunk.id, "livekit_trunk_id": livekit_trunk_id, "e164": self.number.e164}
            await self.fix(problem, lambda: self.journal.take(side.add_step, params))

    async def remake_livekit_side(self, side: Side, gone_id: str | None) -> None:
        """The row forgets the LiveKit trunk that is gone; this number makes the side again, as the first
        number of a trunk does (its other riders join it when they are repaired)."""
        if gone_id:
            await SipTrunk.filter(id=self.trunk.id, **{side.column: gone_id}).update(**{side.column: None})
        setattr(self.trunk, side.column, None)
        await side.add(self.journal, self.trunk, self.number.e164)

    async def dispatch_rule(self) -> None:
        number, trunk = self.number, self.trunk
        rule_id = number.livekit_dispatch_rule_id
        trunk_ids = (trunk.livekit_inbound_trunk_id,) if trunk is not None and trunk.livekit_inbound_trunk_id else ()
        rule = await self.livekit.get_dispatch_rule(rule_id) if rule_id else None
        covers = rule is not None and number.e164 in rule.numbers and not self.gone.intersection(rule.trunk_ids)
        if not covers or sorted(rule.trunk_ids) != sorted(trunk_ids):
            why = "does not exist" if rule is None else "no longer covers the number over its trunk"
            problem = self.found(
                Carrier.LIVEKIT, rule_id or steps.DISPATCH_RULE_NAME.format(phone_number_id=number.id),
                ProblemCode.DISPATCH_RULE_MISSING, f"the dispatch rule sending {number.e164} to agent {number.agent_id} {why}",
            )
            await self.fix(problem, lambda: self.remake_dispatch_rule(rule_id))
        elif list(rule.agent_names) != [number.agent_id]:
            problem = self.found(
                Carrier.LIVEKIT, rule_id, ProblemCode.DISPATCH_RULE_WRONG_AGENT,
                f"dispatch rule {rule_id} sends calls to {', '.join(rule.agent_names) or 'no agent'}, not {number.agent_id}",
            )
            params = {"rule_id": rule_id, "agent_id": number.agent_id}
            await self.fix(problem, lambda: self.journal.take(steps.UpdateDispatchRule, params))
        elif number.source == PhoneNumberSource.LIVEKIT:
            held = await self.livekit.get_number(number.livekit_phone_number_id)
            if held.dispatch_rule_id != rule_id:
                problem = self.found(
                    Carrier.LIVEKIT, number.livekit_phone_number_id, ProblemCode.DISPATCH_RULE_MISSING,
                    f"LiveKit number {number.livekit_phone_number_id} is not routed through dispatch rule {rule_id}",
                )
                await self.fix(problem, lambda: self.route(rule_id))

    async def remake_dispatch_rule(self, old_rule_id: str | None) -> None:
        """An unbind's roll-forward removes what is left of the old rule (the row forgets it first), then a
        bind's steps make the new one; the row records it."""
        number = self.number
        if old_rule_id:
            await self.journal.take(steps.DeleteDispatchRule, {"rule_id": old_rule_id}, changes={})
        rule_id = await create_dispatch_rule(self.journal, number, number.agent_id, self.trunk)
        if number.source == PhoneNumberSource.LIVEKIT:
            await self.route(rule_id)
        await PhoneNumber.filter(id=number.id).update(livekit_dispatch_rule_id=rule_id, updated_at=datetime.now(UTC))
        number.livekit_dispatch_rule_id = rule_id

    async def route(self, rule_id: str) -> None:
        await self.journal.take(steps.RouteNumber, {"number_id": self.number.livekit_phone_number_id, "rule_id": rule_id})


@dataclass(frozen=True)
class Side:
    """One direction of a trunk at LiveKit, as the check reads and repairs it."""

    direction: str
    column: str
    capability: PhoneNumberCapability
    get: str  # the LiveKitGateway read
    add_step: type[steps.Step]
    add: Callable[[Journal, SipTrunk, str], Awaitable[None]]


SIDES = (
    Side("inbound", "livekit_inbound_trunk_id", PhoneNumberCapability.INBOUND, "get_inbound_trunk",
         steps.AddInboundNumber, add_inbound_number),
    Side("outbound", "livekit_outbound_trunk_id", PhoneNumberCapability.OUTBOUND, "get_outbound_trunk",
         steps.AddOutboundNumber, add_outbound_number),
)


class TwilioSide:
    """The Twilio half of a number on a TWILIO trunk. Rejected credentials end it as a problem of the check."""

    def __init__(self, examination: Examination) -> None:
        self.x = examination
        self.trunk = examination.trunk
        self.number = examination.number
        self.ids = {"twilio_account_id": self.trunk.twilio_account_id, "trunk_id": self.trunk.id}
        self.repairing = False

    def found(self, resource: str, code: ProblemCode, message: str) -> Problem:
        return self.x.found(Carrier.TWILIO, resource, code, message)

    async def fix(self, problem: Problem, repair: Callable[[], Awaitable[object]]) -> None:
        self.repairing = self.x.repair
        await self.x.fix(problem, repair)
        self.repairing = False

    async def run(self) -> None:
        if not self.trunk.twilio_account_id:
            return
        self.client = await self.x.journal.clients.twilio(self.trunk.twilio_account_id)
        try:
            await self.examine()
        except CredentialsRejected:
            if self.repairing:  # steps were taken: the journal settles them
                raise
            self.found(
                self.client.masked_sid, ProblemCode.CREDENTIALS_REJECTED,
                f"Twilio refused the stored credentials of account {self.client.masked_sid}; "
                "import a number of the account again with its current credentials",
            )

    async def examine(self) -> None:
        did = await self.owned()
        trunk_sid = self.trunk.twilio_trunk_sid
        try:
            present = bool(trunk_sid) and bool(await self.client.get_trunk(trunk_sid))
        except NotFound:
            present = False
        if not present:
            problem = self.found(
                trunk_sid or steps.TWILIO_TRUNK_NAME.format(trunk_id=self.trunk.id), ProblemCode.TWILIO_TRUNK_MISSING,
                f"the Elastic SIP trunk of trunk {self.trunk.id} is gone from the Twilio account",
            )
            await self.fix(problem, lambda: self.rebuild(did))
            return
        if did is not None and did.trunk_sid != trunk_sid:
            await self.attachment(did)
        if self.x.has(PhoneNumberCapability.INBOUND):
            await self.origination()
        if self.x.has(PhoneNumberCapability.OUTBOUND):
            await self.credential_list()

    async def owned(self):
        """The DID as Twilio holds it (None for a caller ID, or a number no longer held)."""
        sid = self.number.twilio_phone_number_sid or ""
        try:
            if self.number.source in ATTACHED_AT_TWILIO:
                return await self.client.get_incoming_number(sid)
            if await self.client.find_caller_id(self.number.e164) is not None:
                return None
        except NotFound:
            pass
        kind = "phone number" if self.number.source in ATTACHED_AT_TWILIO else "verified caller ID"
        self.found(sid or self.number.e164, ProblemCode.NUMBER_NOT_OWNED,
                   f"Twilio account {self.client.masked_sid} no longer holds the {kind} {self.number.e164}")
        return None

    async def attachment(self, did) -> None:
        trunk_sid = self.trunk.twilio_trunk_sid
        if did.trunk_sid:
            self.found(did.sid, ProblemCode.NUMBER_NOT_ON_TWILIO_TRUNK,
                       f"{did.phone_number} is on another Elastic SIP trunk ({did.trunk_sid}); detach it there first")
            return
        problem = self.found(did.sid, ProblemCode.NUMBER_NOT_ON_TWILIO_TRUNK,
                             f"{did.phone_number} is not attached to Elastic SIP trunk {trunk_sid}")
        await self.fix(problem, lambda: self.attach(did))

    async def attach(self, did) -> None:
        params = {**self.ids, "trunk_sid": self.trunk.twilio_trunk_sid, "number_sid": did.sid}
        await self.x.journal.take(steps.AttachNumber, params)

    async def origination(self) -> None:
        trunk, sip_uri = self.trunk, self.x.journal.services.livekit_sip_uri
        urls = await self.client.origination_urls(trunk.twilio_trunk_sid)
        if any(url.sip_url == sip_uri and url.enabled for url in urls):
            return
        recorded = next((url for url in urls if url.sid == trunk.twilio_origination_url_sid), None)
        problem = self.found(
            recorded.sid if recorded else trunk.twilio_trunk_sid, ProblemCode.ORIGINATION_URL_WRONG,
            f"Elastic SIP trunk {trunk.twilio_trunk_sid} does not send its calls to LiveKit ({sip_uri})",
        )
        if recorded is not None:
            params = {**self.ids, "trunk_sid": trunk.twilio_trunk_sid, "origination_url_sid": recorded.sid}
            await self.fix(problem, lambda: self.x.journal.take(steps.PointOriginationUrl, params))
        else:
            await self.fix(problem, self.add_origination_url)

    async def add_origination_url(self) -> None:
        sid = await self.x.journal.take(steps.AddOriginationUrl, {**self.ids, "trunk_sid": self.trunk.twilio_trunk_sid})
        await self.record(twilio_origination_url_sid=sid)

    async def credential_list(self) -> None:
        trunk = self.trunk
        cl_sid = trunk.twilio_credential_list_sid
        exists = await self.credential_list_exists()
        if exists and cl_sid in await self.client.trunk_credential_list_sids(trunk.twilio_trunk_sid):
            return
        problem = self.found(
            cl_sid or steps.TWILIO_TRUNK_NAME.format(trunk_id=trunk.id), ProblemCode.CREDENTIAL_LIST_MISSING,
            f"Elastic SIP trunk {trunk.twilio_trunk_sid} lacks the credential list LiveKit calls it with",
        )
        await self.fix(problem, lambda: self.restore_credential_list(exists))

    async def credential_list_exists(self) -> bool:
        cl_sid = self.trunk.twilio_credential_list_sid
        try:
            return bool(cl_sid) and bool(await self.client.get_credential_list(cl_sid))
        except NotFound:
            return False

    async def restore_credential_list(self, exists: bool) -> None:
        """Attached again, and made again first if it is gone, with the credentials the row keeps, which
        LiveKit's outbound trunk already sends."""
        cl_sid = self.trunk.twilio_credential_list_sid if exists else await self.new_credential_list()
        params = {**self.ids, "trunk_sid": self.trunk.twilio_trunk_sid, "credential_list_sid": cl_sid}
        await self.x.journal.take(steps.AttachCredentialList, params)

    async def new_credential_list(self) -> str:
        trunk = self.trunk
        password = self.x.journal.services.secrets.decrypt(trunk.auth_password_encrypted)
        cl_sid = await self.x.journal.take(steps.CreateCredentialList, self.ids)
        await self.record(twilio_credential_list_sid=cl_sid)
        params = {**self.ids, "credential_list_sid": cl_sid}
        await self.x.journal.take(steps.AddCredential, params, username=trunk.auth_username, password=password)
        return cl_sid

    async def rebuild(self, did) -> None:
        """The trunk again under the domain LiveKit's outbound trunk calls, with its origination URL, the
        credentials the row keeps, and this number (the trunk's other numbers join when they are repaired).
        Should another account have taken the domain, LiveKit's outbound side is made again to call the new one."""
        trunk = self.trunk
        old_domain = trunk.twilio_domain_name
        made = await self.x.journal.take(steps.CreateTwilioTrunk, {**self.ids, "domain_name": old_domain})
        await self.record(twilio_trunk_sid=made.sid, twilio_domain_name=made.domain_name, twilio_origination_url_sid=None)
        await self.add_origination_url()
        await self.restore_credential_list(await self.credential_list_exists())
        if did is not None:
            await self.attach(did)
        if made.domain_name != old_domain and trunk.livekit_outbound_trunk_id:
            await self.x.journal.clients.livekit.delete_trunk(trunk.livekit_outbound_trunk_id)
            await self.x.remake_livekit_side(SIDES[1], trunk.livekit_outbound_trunk_id)

    async def record(self, **columns: object) -> None:
        for column, value in columns.items():
            setattr(self.trunk, column, value)
        await SipTrunk.filter(id=self.trunk.id).update(**columns, updated_at=datetime.now(UTC))
