"""What a request is while it runs: its id, its workspace and its GraphQL operation, in a contextvar
that every log line reads (app.logs) and that tasks started for the request inherit."""

from __future__ import annotations

import contextvars
import re
import uuid
from dataclasses import dataclass

from graphql import FieldNode, GraphQLError, OperationDefinitionNode

from schema.documents import parse_document

HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
OTHER = "other"
_OPERATION_NAME_CHARS = 64  # the client names it: enough to read, too little to flood a log


@dataclass
class RequestInfo:
    request_id: str
    workspace_id: str | None = None
    operation_name: str | None = None  # as the client named it, for the log
    operation: str = OTHER  # the top-level field, a metrics label bounded by the schema


current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("trunkline_request", default=None)


def request_id_from(sent: str | None) -> str:
    """The client's id when it is safe to repeat in headers and logs; a new one otherwise."""
    if sent is not None and _VALID_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def begin(sent_id: str | None) -> RequestInfo:
    """Called once per request, in the request's own task (uvicorn runs each in one), so the value
    is never seen by another request and stays visible to the error handlers that run after it."""
    info = RequestInfo(request_id_from(sent_id))
    current.set(info)
    return info


def set_workspace(workspace_id: str) -> None:
    if (info := current.get()) is not None:
        info.workspace_id = workspace_id


def note_graphql(schema, query: str | None, operation_name: str | None) -> None:
    """Remember which operation the request runs; `schema` bounds the metrics label to its fields."""
    info = current.get()
    if info is None:
        return
    name, info.operation = _operation(schema, query or "", operation_name)
    info.operation_name = (name or "")[:_OPERATION_NAME_CHARS] or None


def _operation(schema, query: str, operation_name: str | None) -> tuple[str | None, str]:
    """(the operation's name, its first top-level field if the schema has it at the root, else "other")."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return operation_name, OTHER
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return operation_name, OTHER
    operation = operations[0]
    name = operation.name.value if operation.name else None
    root = schema._schema.get_root_type(operation.operation)
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and not selection.name.value.startswith("__"):
            field = selection.name.value
            return name, field if root is not None and field in root.fields else OTHER
    return name, OTHER
