"""The outermost middleware: gives each request its id (X-Request-Id, on every answer), then writes
its one access line and counts it once it is answered. Replaces uvicorn's access log, which knows
neither the request id nor the GraphQL operation."""

from __future__ import annotations

import functools
import logging
import time

from starlette.types import Message, Receive, Scope, Send

from app import request_context
from app.asgi import HTTPMiddleware, on_response_start, request_header
from app.metrics import HTTP_DURATION, HTTP_REQUESTS

log = logging.getLogger("trunkline.access")
HEADER = request_context.HEADER.lower().encode()


@functools.cache
def _series(operation: str, status: int):
    """The counter and histogram of one operation and status, looked up once: prometheus_client's labels()
    takes a lock and checks the values on every call. Bounded: operations are the schema's root fields."""
    return HTTP_REQUESTS.labels(operation, str(status)), HTTP_DURATION.labels(operation)


class RequestObserver(HTTPMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        info = request_context.begin(request_header(scope, HEADER))
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception becomes Starlette's 500 outside this middleware

        def stamp(start: Message) -> Message:
            nonlocal status
            status = start["status"]
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != HEADER]
            return {**start, "headers": [*headers, (HEADER, info.request_id.encode())]}

        try:
            await self.app(scope, receive, on_response_start(send, stamp))
        finally:
            duration = time.perf_counter() - started
            requests, durations = _series(info.operation, status)
            requests.inc()
            durations.observe(duration)
            log.info(
                '%s %s %s %d in %.3fs',
                scope["method"],
                scope["path"],
                info.operation_name or info.operation,
                status,
                duration,
                extra={"method": scope["method"], "path": scope["path"], "operation": info.operation_name,
                       "field": info.operation, "status": status, "duration": round(duration, 4)},
            )
