"""Object types of the read side: Node, PhoneNumber, Agent, SipTrunk, Workspace and the connection."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

import models
from resolvers.workspaces import count_slot_holders
from schema import enums
from schema.context import Context, current_workspace
from schema.loaders import Loaders


@strawberry.interface(description="An object with a prefixed wire id: phone_…, agent_…, trunk_… or whk_….")
class Node:
    id: strawberry.ID = strawberry.field(description="Prefixed ULID, e.g. phone_01J9Z3Q5V8K2M4N6P8R0S2T4W6.")


@strawberry.type(description="An agent that answers calls to the numbers bound to it.")
class Agent(Node):
    name: str = strawberry.field(description="Display name.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

    @classmethod
    def from_row(cls, row: models.Agent) -> Agent:
        return cls(id=strawberry.ID(row.id), name=row.name, created_at=row.created_at, updated_at=row.updated_at)


@strawberry.type(description="A SIP trunk that carries calls for some of the workspace's numbers.")
class SipTrunk(Node):
    name: str = strawberry.field(description="Display name.")
    provider: enums.SipTrunkProvider = strawberry.field(description="Who runs the trunk.")
    direction: enums.SipTrunkDirection = strawberry.field(description="Which way calls flow.")
    sip_address: str | None = strawberry.field(description="Where outbound calls go, e.g. sip.example-carrier.com.")
    transport: enums.SipTransport = strawberry.field(description="SIP transport for outbound calls.")
    auth_username: str | None = strawberry.field(description="Digest auth user name, if any.")
    auth_password_set: bool = strawberry.field(description="Whether a password is stored; it is never returned.")
    allowed_addresses: list[str] = strawberry.field(description="Inbound source IPs or CIDRs; empty means any.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

    @classmethod
    def from_row(cls, row: models.SipTrunk) -> SipTrunk:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            provider=enums.SipTrunkProvider(row.provider),
            direction=enums.SipTrunkDirection(row.direction),
            sip_address=row.sip_address,
            transport=enums.SipTransport(row.transport),
            auth_username=row.auth_username,
            auth_password_set=row.auth_password_encrypted is not None,
            allowed_addresses=list(row.allowed_addresses or []),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A phone number held by the workspace.")
class PhoneNumber(Node):
    e164: str = strawberry.field(description="The number in E.164 form, e.g. +12025551234.")
    source: enums.PhoneNumberSource = strawberry.field(description="Where the number came from.")
    status: enums.PhoneNumberStatus = strawberry.field(description="Where the number is in its life.")
    capabilities: list[enums.PhoneNumberCapability] = strawberry.field(description="What the number can do.")
    created_at: datetime = strawberry.field(description="When it was imported (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    label: str | None = strawberry.field(description="A label the customer chose.")
    trunk_id: strawberry.ID | None = strawberry.field(description="The trunk carrying the number (trunk_…), if any.")
    agent_id: strawberry.ID | None = strawberry.field(description="The agent answering calls (agent_…); null when unbound.")
    livekit_phone_number_id: str | None = strawberry.field(description="LiveKit's PN_… id; source LIVEKIT only.")
    # Plain fields, set by from_row: the object at once when the page read its row ahead, else an awaitable
    # whose read is batched with the other numbers' (schema/loaders.py). No resolver to call per number.
    trunk: SipTrunk | None = strawberry.field(description="The trunk carrying the number, if any.")
    agent: Agent | None = strawberry.field(description="The agent answering calls, if bound.")

    @classmethod
    def from_row(cls, row: models.PhoneNumber, loaders: Loaders) -> PhoneNumber:
        return cls(
            id=strawberry.ID(row.id),
            e164=row.e164,
            source=enums.PhoneNumberSource(row.source),
            status=enums.PhoneNumberStatus(row.status),
            capabilities=[enums.PhoneNumberCapability(c) for c in row.capabilities],
            created_at=row.created_at,
            updated_at=row.updated_at,
            label=row.label,
            trunk_id=strawberry.ID(row.trunk_id) if row.trunk_id else None,
            agent_id=strawberry.ID(row.agent_id) if row.agent_id else None,
            livekit_phone_number_id=row.livekit_phone_number_id,
            trunk=loaders.trunk.shown(row.trunk_id, SipTrunk.from_row) if row.trunk_id else None,
            agent=loaders.agent.shown(row.agent_id, Agent.from_row) if row.agent_id else None,
        )


@strawberry.type(description="A receiver of the workspace's lifecycle events, POSTed to it signed (see createWebhookEndpoint).")
class WebhookEndpoint(Node):
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[enums.PhoneNumberEventType] = strawberry.field(description="The event types sent to it.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @classmethod
    def from_row(cls, row: models.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(row.id),
            url=row.url,
            events=[enums.PhoneNumberEventType(kind) for kind in row.events],
            created_at=row.created_at,
        )


@strawberry.type(description="Where a page ends and whether more follow.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")


@strawberry.type(description="A phone number and its cursor.")
class PhoneNumberEdge:
    cursor: str = strawberry.field(description="Opaque position of this number in the list.")
    node: PhoneNumber = strawberry.field(description="The number.")


@strawberry.type(description="A page of phone numbers.")
class PhoneNumberConnection:
    edges: list[PhoneNumberEdge] = strawberry.field(description="The numbers on this page, oldest first.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    total_count: int = strawberry.field(description="How many numbers match, over all pages.")


@strawberry.type(description="The workspace the API key acts for.")
class Workspace:
    id: strawberry.ID = strawberry.field(description="ws_ followed by a ULID.")
    name: str = strawberry.field(description="Display name.")
    phone_number_limit: int = strawberry.field(description="How many numbers it may hold; 100 unless set otherwise.")

    @strawberry.field(description="Numbers that count against the limit: provisioning, active and releasing.")
    async def phone_number_count(self, info: Info[Context, None]) -> int:
        return await count_slot_holders(current_workspace(info).id)

    @classmethod
    def from_row(cls, row: models.Workspace) -> Workspace:
        return cls(id=strawberry.ID(row.id), name=row.name, phone_number_limit=row.phone_number_limit)


@strawberry.type(description="A number on offer.")
class AvailablePhoneNumber:
    e164: str = strawberry.field(description="The number in E.164 form.")
    locality: str | None = strawberry.field(description="City or area, when the carrier says.")
    region: str | None = strawberry.field(description="State or region, when the carrier says.")
