"""What a request is while it runs: its id, its workspace and its GraphQL operation, in a contextvar
that every log line reads (app.logs) and that tasks started for the request inherit. The operation is
noted by the GraphQL view (app.graphql_view.note_operation); this module imports no GraphQL, so the
admin commands that log through app.logs start without it."""

from __future__ import annotations

import contextvars
import random
import re
from dataclasses import dataclass

HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
OTHER = "other"


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
    # An id for logs and support, not a secret: the process's own generator, which every forked worker
    # reseeds (the random module's at-fork hook), costs no system call where secrets.token_hex makes one.
    return f"{random.getrandbits(128):032x}"


def begin(sent_id: str | None) -> RequestInfo:
    """Called once per request, in the request's own task (uvicorn runs each in one), so the value
    is never seen by another request and stays visible to the error handlers that run after it."""
    info = RequestInfo(request_id_from(sent_id))
    current.set(info)
    return info


def set_workspace(workspace_id: str) -> None:
    if (info := current.get()) is not None:
        info.workspace_id = workspace_id
