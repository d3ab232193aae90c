"""Lifecycle events of phone numbers, and the phoneNumberEvents subscription that streams them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

import models
from schema import enums
from schema.context import Context, current_workspace
from schema.loaders import Loaders
from schema.types import PhoneNumber

TOO_SLOW = "Too slow: the connection fell too far behind its events; reconnect."


@strawberry.type(description="Something that happened to one of the workspace's numbers.")
class PhoneNumberEvent:
    id: strawberry.ID = strawberry.field(description="evt_…; the same event has the same id wherever it is seen.")
    type: enums.PhoneNumberEventType = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")
    phone_number_id: strawberry.ID = strawberry.field(description="The number it happened to (phone_…).")

    @strawberry.field(description="The number as it is now; null once it is gone (deleted, or its import failed).")
    async def phone_number(self, info: Info[Context, None]) -> PhoneNumber | None:
        row = await models.PhoneNumber.get_or_none(id=self.phone_number_id, workspace_id=current_workspace(info).id)
        return PhoneNumber.from_row(row, info.context.loaders) if row else None

    @classmethod
    def from_row(cls, row: models.PhoneNumberEvent) -> PhoneNumberEvent:
        return cls(
            id=strawberry.ID(row.id),
            type=enums.PhoneNumberEventType(row.type.value),
            occurred_at=row.created_at,
            phone_number_id=strawberry.ID(row.phone_number_id),
        )


@strawberry.type(description="Live streams, over graphql-transport-ws at /graphql.")
class Subscription:
    @strawberry.subscription(
        description="The workspace's phone number events from now on, in the order they happened. A client that "
        "falls too far behind is disconnected (close code 1013) and may reconnect."
    )
    async def phone_number_events(self, info: Info[Context, None]) -> AsyncGenerator[PhoneNumberEvent, None]:
        workspace = current_workspace(info)
        connection = info.context.connection
        if connection is None:
            raise GraphQLError(
                "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql.",
                extensions={"code": "BAD_REQUEST"},
            )
        with connection.events.subscribe(workspace.id, on_overflow=lambda: connection.drop(TOO_SLOW)) as events:
            async for event in events:
                # One context serves the connection's whole life: each event reads its rows afresh.
                info.context.loaders = Loaders(workspace.id)
                yield PhoneNumberEvent.from_row(event)
        # Dropped as too slow: the connection's close ends this operation.
        await asyncio.Event().wait()
