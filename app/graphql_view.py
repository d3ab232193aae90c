"""The /graphql endpoint: Strawberry's ASGI view, reading requests through app.graphql_request,
refusing operations that have no workspace, and answering every refusal in the error envelope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from cross_web import HTTPException
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.http import GraphQLRequestData
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app import request_context
from app.auth import WorkspaceUser, unauthenticated
from app.errors import INTERNAL_SERVER_ERROR, METHOD_NOT_ALLOWED, EnvelopeResponse, code_for_status, envelope, error_response
from app.graphiql_page import GRAPHIQL_PAGE, content_security_policy
from app.graphql_request import RequestRefused, decode_body, decode_query_params
from app.idempotency import idempotently
from app.media_types import asks_for_graphql_response, is_request_error, media_type
from app.subscriptions import (
    CONNECTION_INIT_TIMEOUT, SUBSCRIPTIONS_OVER_WEBSOCKET, SUBSCRIPTIONS_PER_CONNECTION, TRY_AGAIN_LATER, Connections,
    TransportWSHandler, WebSocketConnection, is_subscription,
)
from schema.context import Context
from schema.documents import parse_document


GRAPHIQL_OFF = "GraphiQL is not served here; send a query (GET ?query=… or POST as JSON)."


class MissingApiKey(Exception):
    def __str__(self) -> str:
        return "An API key is required: send 'Authorization: Bearer sk_…'."


class MutationOverGet(Exception):
    pass


def is_introspection_only(query: str) -> bool:
    """True when every operation selects only __schema, __type or __typename at its top level."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for operation in operations
        for selection in operation.selection_set.selections
    )


class TrunklineGraphQL(GraphQL):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self, schema, *, introspection: bool, graphiql: bool, idempotency_abandoned_after: timedelta,
        connections: Connections, open_connection: Callable[[WebSocket], WebSocketConnection],
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        super().__init__(
            schema, graphql_ide="graphiql" if graphiql else None, allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=SUBSCRIPTIONS_PER_CONNECTION,
            allowed_origins=allowed_origins,  # a page elsewhere may open a socket where CORS lets it send requests
        )
        self.connections = connections
        self.open_connection = open_connection
        self.introspection = introspection
        self.idempotency_abandoned_after = idempotency_abandoned_after
        self.graphiql_html = GRAPHIQL_PAGE if graphiql else ""  # ours: its files are served here, not by a CDN
        self.graphiql_csp = content_security_policy(self.graphiql_html)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        """The resolvers' context; no resolver here sets a header or status of its own, so it has no response."""
        if isinstance(request, WebSocket):  # the workspace comes with connection_init (on_ws_connect)
            return Context(
                request=request, workspace=None, services=request.app.state.services,
                connection=self.open_connection(request),
            )
        user = request.scope.get("user")
        workspace = user.workspace if isinstance(user, WorkspaceUser) else None
        return Context(request=request, workspace=workspace, services=request.app.state.services)

    async def on_ws_connect(self, context: Context):
        context.workspace = await context.connection.admit()
        return await super().on_ws_connect(context)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphiql_html, headers={"Content-Security-Policy": self.graphiql_csp})

    async def answer(self, request: Request) -> Response:
        """A POST, the request every client program sends, answered here in straight-line code: Strawberry's
        view walks its IDE, batch, streaming and multipart branches first, none of which a POST here takes
        (subscriptions go over WebSocket, batches and uploads are refused), and that walk cost more than
        running `{ workspace { id } }`. GET (GraphiQL, queries in the URL) and other methods go through
        the view, with the same hooks."""
        if request.method != "POST":
            return await self.run(request)
        request_adapter = self.request_adapter_class(request)
        context = await self.get_context(request, None)
        request_data = await self.parse_http_body(request_adapter)
        result = await self.execute_single(request, request_adapter, None, context, None, request_data)
        return self.create_response(await self.process_result(request, result), None)

    async def parse_http_body(self, request_adapter) -> GraphQLRequestData:
        """The request, from GET parameters or a JSON body; RequestRefused says what was expected."""
        if request_adapter.method == "GET":
            data = decode_query_params(request_adapter.query_params)
        else:
            content_type = media_type(request_adapter.content_type)
            if content_type != "application/json":
                sent = content_type or "no content type"
                raise RequestRefused(f"Send the request as JSON with Content-Type: application/json, not {sent}.")
            data = decode_body(await request_adapter.get_body())
        return GraphQLRequestData(
            query=data.get("query"),
            variables=data.get("variables"),
            operation_name=data.get("operationName"),
            extensions=data.get("extensions"),
        )

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        note_operation(self.schema, request_data.query, request_data.operation_name)
        if context.workspace is None and not (self.introspection and is_introspection_only(request_data.query or "")):
            raise MissingApiKey
        if is_subscription(request_data.query, request_data.operation_name):
            raise RequestRefused(SUBSCRIPTIONS_OVER_WEBSOCKET)
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise MutationOverGet from None
            raise

    async def process_result(self, request: Request, result):
        """Every GraphQL error carries a code; one made without any is a server fault by definition."""
        response = await super().process_result(request, result)
        for error in response.get("errors") or []:
            error.setdefault("extensions", {}).setdefault("code", INTERNAL_SERVER_ERROR)
        if is_request_error(response) and asks_for_graphql_response(request.scope):
            del response["data"]  # application/graphql-response+json: a request error has no data entry
        return response

    def create_response(self, response_data, sub_response: Response | None) -> Response:
        """`sub_response`: the one Strawberry's view makes for its own path (GET); a POST has none."""
        if sub_response is None:
            response = Response(self.encode_json(response_data), media_type="application/json")
        else:
            response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict) and "data" not in response_data:  # process_result left it out
            response.status_code = 400
        return response

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":
            await self.serve_websocket(WebSocket(scope, receive, send))
            return
        request = Request(scope, receive)
        user = scope.get("user")
        workspace_id = user.workspace.id if isinstance(user, WorkspaceUser) else None
        try:
            response = await idempotently(
                request,
                workspace_id,
                lambda: self.answer(request),
                abandoned_after=self.idempotency_abandoned_after,
                fingerprint_keys=request.app.state.fingerprint_keys,
            )
        except MissingApiKey as exc:
            response = unauthenticated(str(exc))
        except MutationOverGet:
            response = error_response(
                405, METHOD_NOT_ALLOWED, "Mutations are not allowed over GET: send them with POST.", {"Allow": "POST"}
            )
        except RequestRefused as refused:
            response = refusal(refused, graphql_response=asks_for_graphql_response(request.scope))
        except HTTPException as exc:
            message = GRAPHIQL_OFF if exc.status_code == 404 else exc.reason
            headers = {"Allow": "GET, POST"} if exc.status_code == 405 else None
            response = error_response(exc.status_code, code_for_status(exc.status_code), message, headers)
        await response(scope, receive, send)

    async def serve_websocket(self, websocket: WebSocket) -> None:
        if not self.connections.enter():
            await websocket.accept(subprotocol=await self.pick_websocket_subprotocol(websocket))
            await websocket.close(TRY_AGAIN_LATER, "Too many connections to this server; retry shortly.")
            return
        try:
            await self.run(websocket)
        finally:
            self.connections.leave()


def refusal(refused: RequestRefused, *, graphql_response: bool) -> JSONResponse:
    """A refused request in the envelope; refused variables are a GraphQL error in a 200, like others,
    except for application/graphql-response+json, where a request error is a 400."""
    if refused.status != 200:
        return error_response(refused.status, refused.code, refused.message)
    if graphql_response:
        return error_response(400, refused.code, refused.message)
    return EnvelopeResponse({"data": None, **envelope(refused.code, refused.message)})


OPERATION_NAME_CHARS = 64  # the client names it: enough to read, too little to flood a log


def note_operation(schema, query: str | None, operation_name: str | None) -> None:
    """Remember which operation the request runs; `schema` bounds the metrics label to its fields."""
    info = request_context.current.get()
    if info is None:
        return
    name, info.operation = _operation(schema, query or "", operation_name)
    info.operation_name = (name or "")[:OPERATION_NAME_CHARS] or None


def _operation(schema, query: str, operation_name: str | None) -> tuple[str | None, str]:
    """(the operation's name, its first top-level field if the schema has it at the root, else "other")."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return operation_name, request_context.OTHER
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return operation_name, request_context.OTHER
    operation = operations[0]
    name = operation.name.value if operation.name else None
    root = schema._schema.get_root_type(operation.operation)
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and not selection.name.value.startswith("__"):
            field = selection.name.value
            return name, field if root is not None and field in root.fields else request_context.OTHER
    return name, request_context.OTHER
