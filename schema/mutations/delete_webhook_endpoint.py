"""deleteWebhookEndpoint: stop sending events to a receiver; deliveries not yet made are dropped."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.webhook_endpoints import delete_webhook_endpoint as delete_use_case
from schema.context import Context, current_workspace
from schema.errors import NotFoundError
from schema.results import to_error

__all__ = ["DeleteWebhookEndpointResult", "DeleteWebhookEndpointSuccess", "delete_webhook_endpoint"]


@strawberry.type(description="The endpoint was removed.")
class DeleteWebhookEndpointSuccess:
    deleted_webhook_endpoint_id: strawberry.ID = strawberry.field(description="The id the endpoint had.")


DeleteWebhookEndpointResult = Annotated[
    DeleteWebhookEndpointSuccess | NotFoundError,
    strawberry.union("DeleteWebhookEndpointResult", description="The removed id, or NotFoundError."),
]


async def delete_webhook_endpoint(info: Info[Context, None], id: strawberry.ID) -> DeleteWebhookEndpointResult:
    outcome = await delete_use_case(current_workspace(info).id, id)
    if isinstance(outcome, str):
        return DeleteWebhookEndpointSuccess(deleted_webhook_endpoint_id=strawberry.ID(outcome))
    return to_error(outcome)
