"""GraphQL over WebSocket at /graphql, in the graphql-transport-ws protocol: subscriptions only.

The API key comes in connection_init's payload as {"Authorization": "Bearer sk_…"} (browsers cannot set
headers on a WebSocket); it is checked as on HTTP, spending the same budgets, and decides the workspace.
Queries and mutations are refused over the socket: HTTP has their limits, idempotency and access log.

Bounds, each answered with its close code:
- no connection_init within CONNECTION_INIT_TIMEOUT: 4408; no key or a bad one: 4403;
- a message over TRUNKLINE_WS_MAX_MESSAGE_BYTES: 1009 (uvicorn's ws_max_size, before it is read whole);
- more than SUBSCRIPTIONS_PER_CONNECTION operations at once: that subscribe is answered with an error;
- over TRUNKLINE_WS_MAX_CONNECTIONS in the process, or TRUNKLINE_WS_MAX_CONNECTIONS_PER_WORKSPACE for one
  workspace in the process, or over a rate limit: 1013 (try again later);
- a subscriber whose queue of unsent events is full (resolvers/event_feed.py): 1013.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import timedelta
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, specified_rules, validate
from starlette.websockets import WebSocket, WebSocketState
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.execution import PreExecutionError

from app.auth import AuthenticationFailed, RateLimited, admit
from app.client_address import ClientAddress
from app.errors import BAD_REQUEST
from app.rate_limits import RateLimits
from models import Workspace
from resolvers.event_feed import EventFeed
from schema.documents import parse_document
from schema.error_codes import (
    BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, INTERNAL_SERVER_ERROR, is_unexpected, with_code,
)
from schema.schema import LIMIT_RULES

log = logging.getLogger("trunkline.access")

CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
SUBSCRIPTIONS_PER_CONNECTION = 10
FORBIDDEN = 4403
TRY_AGAIN_LATER = 1013
NO_KEY = "An API key is required: send {\"Authorization\": \"Bearer sk_…\"} as connection_init's payload."
MASKED = "Unexpected error."
ONLY_SUBSCRIPTIONS = "Only subscriptions are served over WebSocket; send queries and mutations with HTTP POST /graphql."
SUBSCRIPTIONS_OVER_WEBSOCKET = (
    "Subscriptions are served over WebSocket at /graphql (graphql-transport-ws), with the API key in connection_init."
)


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Connections:
    """The process's WebSocket connections, counted overall and per workspace."""

    def __init__(self, limit: int, per_workspace: int) -> None:
        self.limit = limit
        self.per_workspace = per_workspace
        self.open = 0
        self.by_workspace: Counter[str] = Counter()

    def enter(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1

    def join(self, workspace_id: str) -> bool:
        if self.by_workspace[workspace_id] >= self.per_workspace:
            return False
        self.by_workspace[workspace_id] += 1
        return True

    def part(self, workspace_id: str) -> None:
        self.by_workspace[workspace_id] -= 1
        if self.by_workspace[workspace_id] <= 0:
            del self.by_workspace[workspace_id]


class WebSocketConnection:
    """One WebSocket connection: who it is (from connection_init) and its way to the feed."""

    def __init__(
        self, websocket: WebSocket, events: EventFeed, connections: Connections, rate_limits: RateLimits,
        client_address: ClientAddress,
    ) -> None:
        self.websocket = websocket
        self.events = events
        self.connections = connections
        self.rate_limits = rate_limits
        self.address = client_address.of(websocket.scope)
        self.payload: dict[str, Any] = {}  # connection_init's
        self.workspace: Workspace | None = None
        self.opened = time.perf_counter()
        self._closing: asyncio.Task | None = None

    async def admit(self) -> Workspace:
        """The workspace of the key in connection_init's payload; Refused says why not."""
        header = next((value for name, value in self.payload.items() if name.lower() == "authorization"), None)
        if not isinstance(header, str):
            raise Refused(FORBIDDEN, NO_KEY)
        try:
            workspace = await admit(header, self.address, self.rate_limits)
        except AuthenticationFailed as exc:
            raise Refused(FORBIDDEN, str(exc)) from None
        except RateLimited as limited:
            raise Refused(TRY_AGAIN_LATER, f"{limited} Retry in {limited.exceeded.retry_after} s.") from None
        if not self.connections.join(workspace.id):
            raise Refused(TRY_AGAIN_LATER, "Too many connections for this workspace; close one or retry later.")
        self.workspace = workspace
        self._log("connected")
        return workspace

    def drop(self, reason: str) -> None:
        if self._closing is None and self.websocket.application_state == WebSocketState.CONNECTED:
            self._closing = asyncio.create_task(self.websocket.close(TRY_AGAIN_LATER, reason))

    def release(self) -> None:
        if self.workspace is not None:
            self._log("closed")
            self.connections.part(self.workspace.id)
            self.workspace = None

    def _log(self, what: str) -> None:
        """An access line (the process id is on every line: which worker holds the connection)."""
        path, duration = self.websocket.url.path, round(time.perf_counter() - self.opened, 4)
        log.info(
            "WS %s %s %s after %.3fs", path, what, self.workspace.id, duration,
            extra={"method": "WS", "path": path, "operation": what, "duration": duration},
        )


class SubscriptionsOnly:
    """The schema as the socket's operations see it: checked within HTTP's limits (tokens, depth, aliases)
    and without suggestions where HTTP has none, a query or mutation refused, every error coded, and a
    crash in an event masked (logged with its traceback by the schema)."""

    def __init__(self, schema) -> None:
        self.schema = schema

    async def stream(self, query: str | None, *, operation_name: str | None = None, **kwargs) -> AsyncGenerator:
        try:
            document = parse_document(query or "")
        except GraphQLError as error:
            return _refusal(error)
        if operation_type(document, operation_name) in (OperationType.QUERY, OperationType.MUTATION):
            return _refusal(GraphQLError(ONLY_SUBSCRIPTIONS, extensions={"code": BAD_REQUEST}))
        rules = (*specified_rules, *LIMIT_RULES)
        if errors := validate(self.schema._schema, document, rules, hide_suggestions=self.schema.hide_suggestions):
            return _refusal(*(with_code(error, GRAPHQL_VALIDATION_FAILED) for error in errors))
        return _coded(await self.schema.stream(query, operation_name=operation_name, **kwargs))


def operation_type(document: DocumentNode, operation_name: str | None) -> OperationType | None:
    """The type of the operation a request runs; None when it names none of the document's."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    return chosen[0].operation if len(chosen) == 1 else None


def is_subscription(query: str | None, operation_name: str | None) -> bool:
    try:
        return operation_type(parse_document(query or ""), operation_name) == OperationType.SUBSCRIPTION
    except GraphQLError:
        return False


async def _refusal(*errors: GraphQLError) -> AsyncGenerator[PreExecutionError, None]:
    yield PreExecutionError(data=None, errors=list(errors))


async def _coded(results: AsyncGenerator) -> AsyncGenerator:
    async with aclosing(results):
        async for result in results:
            if getattr(result, "errors", None):
                result.errors = [
                    GraphQLError(MASKED, path=e.path, extensions={"code": INTERNAL_SERVER_ERROR})
                    if is_unexpected(e) else with_code(e, BAD_USER_INPUT)
                    for e in result.errors
                ]
            yield result


class TransportWSHandler(BaseGraphQLTransportWSHandler):
    """Strawberry's graphql-transport-ws handler, with our admission and bounds."""

    def __init__(self, *args, schema, **kwargs) -> None:
        super().__init__(*args, schema=SubscriptionsOnly(schema), **kwargs)

    async def handle_connection_init(self, message) -> None:
        payload = message.get("payload")
        self.context.connection.payload = payload if isinstance(payload, dict) else {}
        try:
            await super().handle_connection_init(message)
        except Refused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)

    async def send_message(self, message) -> None:
        if message["type"] == "error":  # the protocol's own refusals (the subscription limit) carry a code too
            for error in message["payload"]:
                error.setdefault("extensions", {}).setdefault("code", BAD_REQUEST)
        await super().send_message(message)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            self.context.connection.release()
