"""uvicorn's h11 protocol with a deadline for a request's line and headers, and a lingering close.

uvicorn bounds the size of headers (h11's maximum incomplete event) and the idle time between requests
(keep-alive), but not how long headers may take to trickle in: a client sending a byte now and then
would hold its connection for ever. Here headers must be complete within TRUNKLINE_REQUEST_READ_TIMEOUT
seconds of the connection opening (or of the previous response); otherwise the connection is closed,
with a 408 if some of the request had come.

When the server answers before reading the whole request (a 413 for a body past the limit, a 408),
closing at once would make the kernel reset the connection over the unread bytes, and the client could
lose the answer with it. So a close first ends our side of the stream, then discards what the client
still sends for up to LINGER seconds, then closes.
"""

from __future__ import annotations

import asyncio
import json
from functools import cache

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.errors import REQUEST_TIMEOUT, envelope
from app.security_headers import HEADERS
from app.settings import Settings


@cache
def header_timeout() -> float:
    """Read once per worker process, from the environment `trunkline serve` validated."""
    return Settings.from_env().request_read_timeout


def _timeout_response(seconds: float) -> bytes:
    """Written straight to the socket: h11 has no request to answer yet."""
    message = f"The request headers did not arrive within {seconds:g} seconds."
    body = json.dumps(envelope(REQUEST_TIMEOUT, message), separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close"), *HEADERS]  # fmt: skip
    return b"HTTP/1.1 408 Request Timeout\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body


LINGER = 2.0


class _LingeringTransport:
    """The connection's transport, whose close() lets the client finish sending before it closes."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self.lingering = False

    def close(self) -> None:
        if self.lingering or self._transport.is_closing():
            return
        if not self._transport.can_write_eof():
            self._transport.close()
            return
        try:
            self._transport.write_eof()  # the answer is on its way; no more from us
        except OSError:  # the client is gone already
            self._transport.close()
            return
        self.lingering = True
        self._transport.resume_reading()  # read and drop what the client still sends
        self._loop.call_later(LINGER, self._transport.close)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class HeaderDeadlineProtocol(H11Protocol):
    _deadline: asyncio.TimerHandle | None = None
    _partial: bool = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _LingeringTransport(transport, self.loop)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.transport.lingering:
            return  # the rest of a request already answered
        self._partial = True
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on this connection gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._partial = False
        self._deadline = self.loop.call_later(header_timeout(), self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._partial:
            self.transport.write(_timeout_response(header_timeout()))
        self.transport.close()
