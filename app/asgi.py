"""What our ASGI middleware share: they act on HTTP only, and most edit no more than the response's start."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HTTPMiddleware(ABC):
    """Passes every other scope (lifespan, websocket) straight to the app; `handle` sees HTTP requests only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the middleware does with an HTTP request."""


def request_header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header, `name` in lower case as ASGI gives names. Starlette's Headers copies
    the whole list before it looks, and every layer here looks for a header or two on every request."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def request_header_list(scope: Scope, name: bytes) -> str | None:
    """Every value of a list-valued request header (Accept, say), joined as one, as HTTP reads them."""
    values = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    return ", ".join(values) if values else None


def on_response_start(send: Send, edit: Callable[[Message], Message]) -> Send:
    """`send`, with the http.response.start message (status and headers) passed through `edit` first.

    Body messages go on as they come, so a streamed response stays streamed.
    """

    async def edited(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = edit(message)
        await send(message)

    return edited


def with_headers(start: Message, *headers: tuple[bytes, bytes]) -> Message:
    """A copy of a response start with `headers` after its own; the app's message is left as it was."""
    return {**start, "headers": [*start.get("headers", []), *headers]}
