"""The Query root: reads scoped to the API key's workspace."""

from collections.abc import Sequence

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

import models
from models.enums import PhoneNumberSource as StoredSource
from models.ids import prefix_of
from providers.errors import ProviderFailure
from resolvers import agents, available_numbers, phone_numbers, sip_trunks, webhook_endpoints
from resolvers.outcomes import InvalidArgument
from schema.context import Context, current_workspace
from schema.enums import PhoneNumberSource
from schema.import_plan import plan_phone_number_import
from schema.results import argument_error, carrier_error
from schema.types import (
    Agent,
    AvailablePhoneNumber,
    Node,
    PageInfo,
    PhoneNumber,
    PhoneNumberConnection,
    PhoneNumberEdge,
    SipTrunk,
    WebhookEndpoint,
    Workspace,
)


@strawberry.type(description="Reads. Every field sees only the API key's workspace.")
class Query:
    @strawberry.field(description="Any object by its prefixed id; null when it is not in this workspace.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        workspace_id = current_workspace(info).id
        match prefix_of(id):
            case "phone":
                row = await phone_numbers.get_phone_number(workspace_id, id)
                return PhoneNumber.from_row(row, info.context.loaders) if row else None
            case "agent":
                row = await agents.get_agent(workspace_id, id)
                return Agent.from_row(row) if row else None
            case "trunk":
                row = await sip_trunks.get_sip_trunk(workspace_id, id)
                return SipTrunk.from_row(row) if row else None
            case "whk":
                row = await webhook_endpoints.get_webhook_endpoint(workspace_id, id)
                return WebhookEndpoint.from_row(row) if row else None
        return None

    @strawberry.field(description="The workspace the API key acts for.")
    def workspace(self, info: Info[Context, None]) -> Workspace:
        return Workspace.from_row(current_workspace(info))

    @strawberry.field(description="A number by id; null for an unknown id, a legacy UUID, or another workspace's number.")
    async def phone_number(self, info: Info[Context, None], id: strawberry.ID) -> PhoneNumber | None:
        row = await phone_numbers.get_phone_number(current_workspace(info).id, id)
        return PhoneNumber.from_row(row, info.context.loaders) if row else None

    @strawberry.field(description="The workspace's numbers, oldest first, in pages of at most 100.")
    async def phone_numbers(
        self,
        info: Info[Context, None],
        first: int | None = 50,
        after: str | None = None,
        source: PhoneNumberSource | None = None,
        agent_id: strawberry.ID | None = None,
    ) -> PhoneNumberConnection:
        try:
            page = await phone_numbers.list_phone_numbers(
                current_workspace(info).id,
                first=50 if first is None else first,
                after=after,
                source=StoredSource(source.value) if source else None,
                agent_id=agent_id,
            )
        except InvalidArgument as error:
            raise argument_error(error) from None
        await _read_ahead(info, page.rows)
        edges = [PhoneNumberEdge(cursor=phone_numbers.encode_cursor(r.id), node=PhoneNumber.from_row(r, info.context.loaders)) for r in page.rows]
        return PhoneNumberConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total_count,
        )

    @strawberry.field(description="An agent by id; null when it is not in this workspace.")
    async def agent(self, info: Info[Context, None], id: strawberry.ID) -> Agent | None:
        row = await agents.get_agent(current_workspace(info).id, id)
        return Agent.from_row(row) if row else None

    @strawberry.field(description="The workspace's agents, oldest first.")
    async def agents(self, info: Info[Context, None]) -> list[Agent]:
        return [Agent.from_row(row) for row in await agents.list_agents(current_workspace(info).id)]

    @strawberry.field(description="A SIP trunk by id; null when it is not in this workspace.")
    async def sip_trunk(self, info: Info[Context, None], id: strawberry.ID) -> SipTrunk | None:
        row = await sip_trunks.get_sip_trunk(current_workspace(info).id, id)
        return SipTrunk.from_row(row) if row else None

    @strawberry.field(description="The workspace's SIP trunks, oldest first.")
    async def sip_trunks(self, info: Info[Context, None]) -> list[SipTrunk]:
        return [SipTrunk.from_row(row) for row in await sip_trunks.list_sip_trunks(current_workspace(info).id)]

    @strawberry.field(description="The workspace's webhook endpoints, oldest first (their signing secrets are never shown again).")
    async def webhook_endpoints(self, info: Info[Context, None]) -> list[WebhookEndpoint]:
        rows = await webhook_endpoints.list_webhook_endpoints(current_workspace(info).id)
        return [WebhookEndpoint.from_row(row) for row in rows]

    plan_phone_number_import = strawberry.field(
        resolver=plan_phone_number_import,
        description="What importPhoneNumber would do with this input now: the same checks, and the carrier changes "
        "it would make, found with reads only; nothing is reserved, created or stored.",
    )

    @strawberry.field(
        description="US numbers on offer: source TWILIO_PURCHASED searches the platform's Twilio account (for "
        "purchasePhoneNumber), source LIVEKIT searches LiveKit's inventory (for importPhoneNumber with source LIVEKIT)."
    )
    async def available_phone_numbers(
        self,
        info: Info[Context, None],
        source: PhoneNumberSource | None = PhoneNumberSource.TWILIO_PURCHASED,
        area_code: str | None = None,
        limit: int | None = 20,
    ) -> list[AvailablePhoneNumber]:
        current_workspace(info)  # offers are shown to a workspace's key only
        try:
            offered = await available_numbers.available_phone_numbers(
                StoredSource((source or PhoneNumberSource.TWILIO_PURCHASED).value),
                area_code,
                20 if limit is None else limit,
                info.context.services,
            )
        except InvalidArgument as error:
            raise argument_error(error) from None
        except (available_numbers.PurchasingNotConfigured, ProviderFailure) as error:
            raise carrier_error(error) from None
        return [AvailablePhoneNumber(e164=n.e164, locality=n.locality, region=n.region) for n in offered]


async def _read_ahead(info: Info[Context, None], rows: list[models.PhoneNumber]) -> None:
    """The agents and trunks a page shows, read in one statement each before their fields ask."""
    shown = _names_at(info.selected_fields[0].selections, ("edges", "node"))
    if "agent" in shown:
        await info.context.loaders.agent.read_many(row.agent_id for row in rows)
    if "trunk" in shown:
        await info.context.loaders.trunk.read_many(row.trunk_id for row in rows)


def _names_at(selections: Sequence[Selection], path: tuple[str, ...]) -> set[str]:
    """The names of the fields selected at `path` below `selections`, fragments included."""
    names: set[str] = set()
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: its fields are at this level
            names |= _names_at(selection.selections, path)
        elif not path:
            names.add(selection.name)
        elif selection.name == path[0]:
            names |= _names_at(selection.selections, path[1:])
    return names
