"""Bounded before any work: a request body larger than the limit, or slower than the read timeout,
is refused before the application spends memory or time on it.

Content-Length decides at once, before a byte of the body is read; a chunked body is counted while
it arrives. A refused body is left unread and the connection closed, so the server never drains it.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware, on_response_start, request_header, with_headers
from app.errors import PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT, error_response

CLOSE = (b"connection", b"close")


class _BodyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


class RequestLimits(HTTPMiddleware):
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, read_timeout: float) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout

    def _too_large(self) -> _BodyRefused:
        return _BodyRefused(413, PAYLOAD_TOO_LARGE, f"The request body is larger than {self.max_body_bytes} bytes.")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = request_header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, receive, send, self._too_large())
            return

        has_body = declared not in (None, "0") or request_header(scope, b"transfer-encoding") is not None
        deadline = asyncio.get_running_loop().time() + self.read_timeout
        received = 0
        body_complete = not has_body
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, body_complete
            if body_complete:
                return await receive()
            try:
                message = await _before(deadline, receive)
            except TimeoutError:
                raise _BodyRefused(
                    408, REQUEST_TIMEOUT, f"The request body did not arrive within {self.read_timeout:g} seconds."
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large()
                body_complete = not message.get("more_body", False)
            return message

        def close_if_unread(start: Message) -> Message:
            nonlocal response_started
            response_started = True
            # Answered before the body was read: do not read the rest afterwards.
            return start if body_complete else with_headers(start, CLOSE)

        try:
            await self.app(scope, limited_receive, on_response_start(send, close_if_unread))
        except _BodyRefused as refused:
            if response_started:
                raise
            await self._refuse(scope, receive, send, refused)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, refused: _BodyRefused) -> None:
        response = error_response(refused.status, refused.code, refused.message, {"Connection": "close"})
        await response(scope, receive, send)


async def _before(deadline: float, receive: Receive) -> Message:
    """`await receive()`, given up with TimeoutError at `deadline` (the loop's time), as asyncio.timeout would,
    whose state machine costs about twice a timer of our own (every POST waits for its body here). A
    cancellation from elsewhere, even at the same moment, stays a cancellation."""
    task = asyncio.current_task()
    cancelling = task.cancelling()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_at(deadline, expire)
    try:
        return await receive()
    except asyncio.CancelledError:
        if expired and task.uncancel() <= cancelling:
            raise TimeoutError from None
        raise
    finally:
        timer.cancel()
