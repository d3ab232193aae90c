"""Headers on every response that tell browsers not to sniff, frame or leak the referrer.

The API answers JSON to programs; these only matter when a browser is pointed at it, and cost nothing.
"""

from starlette.types import Receive, Scope, Send

from app.asgi import HTTPMiddleware, on_response_start, with_headers

HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders(HTTPMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, on_response_start(send, lambda start: with_headers(start, *HEADERS)))
