"""createSipTrunk: register a customer's SIP trunk (BYOC). Nothing is made at LiveKit until a number arrives,
because LiveKit refuses a trunk with no numbers."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from models import SipTrunk, Workspace
from models.enums import SipTransport, SipTrunkDirection, SipTrunkProvider
from resolvers.outcomes import FieldProblem, Invalid, LimitReached
from resolvers.services import Services

SIP_TRUNK_LIMIT = 20
NAME_MAX_LENGTH = 255
# A bare host name or IP, with an optional port: what LiveKit accepts as an outbound address.
_HOST = re.compile(r"(?=.{1,253}(:\d{1,5})?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:\d{1,5})?")
_USERNAME = re.compile(r"[A-Za-z0-9._~+-]{1,128}")


@dataclass(frozen=True)
class SipTrunkRequest:
    name: str
    direction: SipTrunkDirection
    sip_address: str | None = None
    transport: SipTransport = SipTransport.AUTO
    auth_username: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    allowed_addresses: tuple[str, ...] = ()


async def create_sip_trunk(workspace_id: str, request: SipTrunkRequest, services: Services) -> SipTrunk | Invalid | LimitReached:
    problems = validate(request)
    if problems:
        return Invalid(problems)
    async with in_transaction() as connection:
        workspace = await Workspace.filter(id=workspace_id).select_for_update().using_db(connection).get()
        current = await SipTrunk.filter(workspace_id=workspace.id, provider=SipTrunkProvider.BYOC).using_db(connection).count()
        if current >= SIP_TRUNK_LIMIT:
            return LimitReached(
                code="SIP_TRUNK_LIMIT_REACHED",
                limit=SIP_TRUNK_LIMIT,
                current=current,
                message=f"The workspace has {current} of its {SIP_TRUNK_LIMIT} SIP trunks; delete one first.",
            )
        password = request.auth_password or None
        return await SipTrunk.create(
            workspace_id=workspace_id,
            name=request.name.strip(),
            provider=SipTrunkProvider.BYOC,
            direction=request.direction,
            sip_address=request.sip_address or None,
            transport=request.transport,
            auth_username=request.auth_username or None,
            auth_password_encrypted=services.secrets.encrypt(password) if password else None,
            allowed_addresses=[str(ipaddress.ip_network(a.strip(), strict=False)) for a in request.allowed_addresses],
            using_db=connection,
        )


def validate(request: SipTrunkRequest) -> tuple[FieldProblem, ...]:
    problems = []
    name = request.name.strip()
    if not name:
        problems.append(FieldProblem("name", "REQUIRED", "name must not be empty"))
    elif len(name) > NAME_MAX_LENGTH:
        problems.append(FieldProblem("name", "TOO_LONG", f"name must be at most {NAME_MAX_LENGTH} characters"))

    if request.direction in (SipTrunkDirection.OUTBOUND, SipTrunkDirection.BOTH) and not request.sip_address:
        problems.append(FieldProblem("sipAddress", "REQUIRED", "sipAddress is required for OUTBOUND and BOTH trunks"))
    elif request.sip_address and not is_sip_host(request.sip_address):
        problems.append(
            FieldProblem(
                "sipAddress",
                "INVALID_FORMAT",
                "sipAddress must be a bare host name or IP with an optional port (1-65535), e.g. sip.example-carrier.com "
                "(no sip: prefix, user, parameters or transport; transport is its own field)",
            )
        )

    if bool(request.auth_username) != bool(request.auth_password):
        missing = "authPassword" if request.auth_username else "authUsername"
        problems.append(FieldProblem(missing, "REQUIRED", "authUsername and authPassword go together"))
    elif request.auth_username and not _USERNAME.fullmatch(request.auth_username):
        problems.append(
            FieldProblem("authUsername", "INVALID_FORMAT", "authUsername must be 1 to 128 letters, digits or ._~+-")
        )
    if request.auth_password and not 8 <= len(request.auth_password) <= 128:
        problems.append(FieldProblem("authPassword", "INVALID_FORMAT", "authPassword must be 8 to 128 characters"))

    for index, address in enumerate(request.allowed_addresses):
        try:
            ipaddress.ip_network(address.strip(), strict=False)
        except ValueError:
            problems.append(
                FieldProblem(
                    f"allowedAddresses.{index}",
                    "INVALID_FORMAT",
                    f"{address!r} is not an IP address or CIDR block, e.g. 203.0.113.7 or 203.0.113.0/24",
                )
            )
    return tuple(problems)


def is_sip_host(address: str) -> bool:
    """A bare host name or IP, with an optional port from 1 to 65535."""
    if not _HOST.fullmatch(address):
        return False
    _, colon, port = address.rpartition(":")
    return not colon or 1 <= int(port) <= 65535
