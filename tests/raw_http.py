"""HTTP/1.1 over a bare socket, for what client libraries hide: a body sent slowly or past a limit,
headers that never finish, and whether the server closed the connection afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int | None  # None: the connection ended before a status line
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    closed: bool = False  # the server closed the connection after answering
    seconds: float = 0.0

    def json(self):
        return json.loads(self.body)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: trunkline.test", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """Chunked transfer encoding of `chunks`, ending with the last chunk."""
    for chunk in chunks:
        yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    yield b"0\r\n\r\n"


async def exchange(
    port: int, head: bytes, body: Iterable[bytes] = (), *, pause: float = 0.0, timeout: float = 30.0
) -> Answer:
    """Send `head`, then the pieces of `body` (waiting `pause` before each) while reading the answer."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        with contextlib.suppress(ConnectionError):
            writer.write(head)
            await writer.drain()
            for piece in body:
                if pause:
                    await asyncio.sleep(pause)
                writer.write(piece)
                await writer.drain()

    sending = asyncio.create_task(send())
    try:
        async with asyncio.timeout(timeout):
            answer = await _read_answer(reader)
        answer.seconds = time.monotonic() - started
        if answer.status is not None and not answer.closed:
            answer.closed = await _closed_soon(reader)
        return answer
    finally:
        sending.cancel()
        with contextlib.suppress(BaseException):
            await sending
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _read_answer(reader: asyncio.StreamReader) -> Answer:
    try:
        status_line = await reader.readline()
        if not status_line:
            return Answer(status=None, closed=True)
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    except (ConnectionError, asyncio.IncompleteReadError):
        return Answer(status=None, closed=True)
    return Answer(status=int(status_line.split()[1]), headers=headers, body=body)


async def _closed_soon(reader: asyncio.StreamReader, seconds: float = 1.0) -> bool:
    try:
        async with asyncio.timeout(seconds):
            return await reader.read(1) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True
