"""createSipTrunk: register a customer's SIP trunk (BYOC). Nothing is made at LiveKit until a number arrives,
because LiveKit refuses a trunk with no numbers."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from models import SipTrunk
from models.enums import SipTransport, SipTrunkDirection, SipTrunkProvider
from resolvers.outcomes import ErrorCode, FieldCode, FieldProblem, Invalid, LimitReached
from resolvers.services import Services
from resolvers.validation import check_name, check_text
from resolvers.workspaces import locked_workspace

SIP_TRUNK_LIMIT = 20
ALLOWED_ADDRESSES_LIMIT = 100
SIP_ADDRESS_MAX_LENGTH = 255  # the column's width
# A bare host name or IP (at most 253 characters, as DNS allows), then an optional port: what LiveKit
# accepts as an outbound address. Explicit ASCII classes, since \d and int() also take other scripts' digits.
_HOST = re.compile(r"(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_PORT = re.compile(r"[0-9]{1,5}")
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
        workspace = await locked_workspace(workspace_id, connection)
        current = await SipTrunk.filter(workspace_id=workspace.id, provider=SipTrunkProvider.BYOC).using_db(connection).count()
        if current >= SIP_TRUNK_LIMIT:
            return LimitReached(
                code=ErrorCode.SIP_TRUNK_LIMIT_REACHED,
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
            allowed_addresses=[allowed_network(address) for address in request.allowed_addresses],
            using_db=connection,
        )


def validate(request: SipTrunkRequest) -> tuple[FieldProblem, ...]:
    return (
        *check_name(request.name),
        *sip_address_problems(request.sip_address, request.direction),
        *auth_problems(request.auth_username, request.auth_password),
        *allowed_addresses_problems(request.allowed_addresses),
    )


def sip_address_problems(address: str | None, direction: SipTrunkDirection) -> tuple[FieldProblem, ...]:
    if not address:
        if direction in (SipTrunkDirection.OUTBOUND, SipTrunkDirection.BOTH):
            return (FieldProblem("sipAddress", FieldCode.REQUIRED, "sipAddress is required for OUTBOUND and BOTH trunks"),)
        return ()
    if problems := check_text(address, "sipAddress"):
        return problems
    if len(address) > SIP_ADDRESS_MAX_LENGTH:
        return (FieldProblem("sipAddress", FieldCode.TOO_LONG, f"sipAddress must be at most {SIP_ADDRESS_MAX_LENGTH} characters"),)
    if not is_sip_host(address):
        message = (
            "sipAddress must be a bare host name or IP with an optional port (1-65535), e.g. sip.example-carrier.com "
            "(no sip: prefix, user, parameters or transport; transport is its own field)"
        )
        return (FieldProblem("sipAddress", FieldCode.INVALID_FORMAT, message),)
    return ()


def auth_problems(username: str | None, password: str | None, *, password_kept: bool = False) -> tuple[FieldProblem, ...]:
    """Digest auth: both or neither; `password_kept` when a stored password stays (an update)."""
    problems = []
    if bool(username) != (bool(password) or password_kept):
        missing = "authPassword" if username else "authUsername"
        problems.append(FieldProblem(missing, FieldCode.REQUIRED, "authUsername and authPassword go together"))
    if username:
        if text_problems := check_text(username, "authUsername"):
            problems += text_problems
        elif not _USERNAME.fullmatch(username):
            problems.append(FieldProblem("authUsername", FieldCode.INVALID_FORMAT, "authUsername must be 1 to 128 letters, digits or ._~+-"))
    if password:
        if text_problems := check_text(password, "authPassword"):
            problems += text_problems
        elif not 8 <= len(password) <= 128:
            problems.append(FieldProblem("authPassword", FieldCode.INVALID_FORMAT, "authPassword must be 8 to 128 characters"))
    return tuple(problems)


def allowed_addresses_problems(addresses: tuple[str, ...]) -> tuple[FieldProblem, ...]:
    if len(addresses) > ALLOWED_ADDRESSES_LIMIT:
        # One problem, not one per entry of a list that may be huge.
        message = f"allowedAddresses takes at most {ALLOWED_ADDRESSES_LIMIT} entries, not {len(addresses)}; use CIDR blocks"
        return (FieldProblem("allowedAddresses", FieldCode.TOO_MANY, message),)
    problems = []
    for index, address in enumerate(addresses):
        field_name = f"allowedAddresses.{index}"
        if text_problems := check_text(address, field_name):
            problems += text_problems
        elif allowed_network(address) is None:
            message = f"{address!r} is not an IP address or CIDR block, e.g. 203.0.113.7 or 203.0.113.0/24"
            problems.append(FieldProblem(field_name, FieldCode.INVALID_FORMAT, message))
    return tuple(problems)


def allowed_network(address: str) -> str | None:
    """The network an allowedAddresses entry names, normalised (203.0.113.5/24 is 203.0.113.0/24), or None."""
    # An IPv6 scope (%eth0) means nothing to a remote carrier and would carry any text; refuse it.
    if "%" in address:
        return None
    try:
        return str(ipaddress.ip_network(address.strip(), strict=False))
    except ValueError:
        return None


def is_sip_host(address: str) -> bool:
    """A bare host name or IP, with an optional port from 1 to 65535 in ASCII digits."""
    host, colon, port = address.partition(":")
    if not _HOST.fullmatch(host):
        return False
    return not colon or (_PORT.fullmatch(port) is not None and 1 <= int(port) <= 65535)
