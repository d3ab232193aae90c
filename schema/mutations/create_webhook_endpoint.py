"""createWebhookEndpoint: a receiver of the workspace's lifecycle events, and its signing secret (shown once)."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from models import PhoneNumberEventType as StoredEventType
from resolvers.webhook_endpoints import NewEndpoint
from resolvers.webhook_endpoints import create_webhook_endpoint as create_use_case
from schema.context import Context, current_workspace
from schema.enums import PhoneNumberEventType
from schema.errors import ValidationError
from schema.results import to_error
from schema.types import WebhookEndpoint

__all__ = ["CreateWebhookEndpointInput", "CreateWebhookEndpointResult", "CreateWebhookEndpointSuccess", "create_webhook_endpoint"]


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where events are POSTed: https:// to a public address, at most 2048 characters (http:// and "
        "private addresses only where the operator allows them); refused with UNSAFE_URL otherwise."
    )
    events: list[PhoneNumberEventType] | None = strawberry.field(
        default=None, description="The event types to send; null for every type."
    )


@strawberry.type(description="The endpoint was created.")
class CreateWebhookEndpointSuccess:
    endpoint: WebhookEndpoint = strawberry.field(description="The new endpoint.")
    signing_secret: str = strawberry.field(
        description="whsec_…: the key of each delivery's Trunkline-Signature HMAC. Shown only here; keep it secret."
    )


CreateWebhookEndpointResult = Annotated[
    CreateWebhookEndpointSuccess | ValidationError,
    strawberry.union(
        "CreateWebhookEndpointResult",
        description="The new endpoint and its secret, or why it was refused (url UNSAFE_URL, TOO_MANY past 10 per workspace).",
    ),
]


async def create_webhook_endpoint(info: Info[Context, None], input: CreateWebhookEndpointInput) -> CreateWebhookEndpointResult:
    events = None if input.events is None else [StoredEventType(kind.value) for kind in input.events]
    outcome = await create_use_case(
        current_workspace(info).id, input.url, events, info.context.request.app.state.webhook_targets,
        info.context.services.secrets,
    )
    if isinstance(outcome, NewEndpoint):
        return CreateWebhookEndpointSuccess(
            endpoint=WebhookEndpoint.from_row(outcome.endpoint), signing_secret=outcome.signing_secret
        )
    return to_error(outcome)
