"""The outermost middleware: gives each request its id (X-Request-Id, on every answer), then writes
its one access line and counts it once it is answered. Replaces uvicorn's access log, which knows
neither the request id nor the GraphQL operation."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import request_context
from app.metrics import HTTP_DURATION, HTTP_REQUESTS

log = logging.getLogger("trunkline.access")
HEADER = request_context.HEADER.lower().encode()


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = request_context.begin(Headers(scope=scope).get(request_context.HEADER))
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception becomes Starlette's 500 outside this middleware

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, info.request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            HTTP_REQUESTS.labels(info.operation, str(status)).inc()
            HTTP_DURATION.labels(info.operation).observe(duration)
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
