"""The /graphql endpoint: Strawberry's ASGI view, refusing operations that have no workspace."""

from datetime import timedelta

from cross_web import HTTPException
from graphql import FieldNode, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL

from app.auth import WorkspaceUser, unauthenticated
from app.graphql_view_parsing import parsed
from app.idempotency import idempotently
from schema.context import Context


class MissingApiKey(Exception):
    def __str__(self) -> str:
        return "An API key is required: send 'Authorization: Bearer sk_…'."


def is_introspection_only(query: str) -> bool:
    """True when every operation selects only __schema, __type or __typename at its top level."""
    document = parsed(query)
    if document is None:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for operation in operations
        for selection in operation.selection_set.selections
    )


class TrunklineGraphQL(GraphQL):
    def __init__(self, schema, *, introspection: bool, idempotency_abandoned_after: timedelta) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.introspection = introspection
        self.idempotency_abandoned_after = idempotency_abandoned_after

    async def get_context(self, request: Request, response: Response) -> Context:
        user = request.scope.get("user")
        workspace = user.workspace if isinstance(user, WorkspaceUser) else None
        return Context(request=request, response=response, workspace=workspace, services=request.app.state.services)

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        if context.workspace is None and not (self.introspection and is_introspection_only(request_data.query or "")):
            raise MissingApiKey
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        user = scope.get("user")
        workspace_id = user.workspace.id if isinstance(user, WorkspaceUser) else None
        try:
            response = await idempotently(
                request, workspace_id, lambda: self.run(request), abandoned_after=self.idempotency_abandoned_after
            )
        except MissingApiKey as exc:
            response = unauthenticated(None, exc)
        except HTTPException as exc:
            response = Response(exc.reason, status_code=exc.status_code, media_type="text/plain")
        await response(scope, receive, send)
