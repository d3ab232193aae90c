"""Bounded before any work: bodies past TRUNKLINE_MAX_BODY_BYTES, bodies and headers slower than
TRUNKLINE_REQUEST_READ_TIMEOUT, documents past 2,000 tokens, and what they cost the server.

The wire-level tests run `trunkline serve` as a real process and talk to it over bare sockets."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import pathlib
import threading
import time

import httpx
import pytest
from graphql.language.lexer import Lexer

from app.main import create_app
from resolvers.api_keys import issue_api_key
from resolvers.workspaces import create_workspace
from schema.schema import MAX_TOKENS
from tests.conftest import app_settings
from tests.raw_http import chunked, exchange, request_head
from tests.serve_sqlite import serving

MIB = 1024 * 1024
READ_TIMEOUT = 1.5
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the wire-level tests, with a short read timeout and the default body limit."""
    with serving(tmp_path_factory.mktemp("served"), TRUNKLINE_REQUEST_READ_TIMEOUT=str(READ_TIMEOUT)) as served:
        yield served


def assert_no_traceback(server) -> None:
    assert "Traceback" not in server.process.log() and "Exception in ASGI" not in server.process.log()


async def test_a_body_declared_too_large_is_refused_before_any_of_it_is_sent(server):
    head = request_head("POST", "/graphql", {**JSON, "Content-Length": str(MIB + 1)})

    answer = await exchange(server.port, head)  # not one byte of the body follows

    assert answer.status == 413, answer
    assert answer.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    assert answer.closed
    assert_no_traceback(server)


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(server):
    head = request_head("POST", "/graphql", {**JSON, "Transfer-Encoding": "chunked"})
    pieces = chunked([b" " * 64 * 1024] * 200)  # 12.5 MiB if it were all read

    answer = await exchange(server.port, head, pieces)

    assert answer.status == 413, answer
    assert answer.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    assert answer.closed
    assert_no_traceback(server)


async def test_a_body_slower_than_the_read_timeout_gets_408_and_the_connection_closed(server):
    body = json.dumps({"query": "{ __typename }"}).encode()
    head = request_head("POST", "/graphql", {**JSON, "Content-Length": str(len(body))})

    answer = await exchange(server.port, head, [body[:5], body[5:]], pause=READ_TIMEOUT + 1)

    assert answer.status == 408, answer
    assert answer.json()["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT"}
    assert answer.closed
    assert READ_TIMEOUT <= answer.seconds < READ_TIMEOUT + 1
    assert_no_traceback(server)


async def test_headers_that_never_finish_get_408_and_the_connection_closed(server):
    answer = await exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: trunkline.test\r\n")

    assert answer.status == 408, answer
    assert answer.json()["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT"}
    assert answer.closed
    assert READ_TIMEOUT <= answer.seconds < READ_TIMEOUT + 1


async def test_a_connection_that_sends_nothing_is_closed_after_the_read_timeout(server):
    answer = await exchange(server.port, b"")

    assert (answer.status, answer.closed) == (None, True)
    assert READ_TIMEOUT <= answer.seconds < READ_TIMEOUT + 1


async def test_a_body_in_time_and_within_the_limit_is_served_and_the_connection_kept(server):
    body = json.dumps({"query": "{ __typename }"}).encode()
    head = request_head("POST", "/graphql", {**JSON, "Content-Length": str(len(body))})

    answer = await exchange(server.port, head, [body])

    assert (answer.status, answer.json()) == (200, {"data": {"__typename": "Query"}})
    assert not answer.closed
    assert "server" not in answer.headers


def rss_bytes(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class Probe(threading.Thread):
    """Samples the server's memory and /healthz's latency until told to stop, on its own thread so
    that the load the test makes does not delay the measuring."""

    def __init__(self, port: int, pid: int) -> None:
        super().__init__(daemon=True)
        self.port, self.pid = port, pid
        self.rss: list[int] = []
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self.done.is_set():
            self.rss.append(rss_bytes(self.pid))
            started = time.perf_counter()
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    self.failures.append(f"status {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(repr(exc))
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.latencies.append(time.perf_counter() - started)
            self.done.wait(0.02)


async def test_three_concurrent_10_mb_anonymous_bodies_cost_little_memory_and_never_slow_healthz(server):
    ten_mb = 10 * MIB
    piece = b"x" * (256 * 1024)
    declared = request_head("POST", "/graphql", {**JSON, "Content-Length": str(ten_mb)})
    streamed = request_head("POST", "/graphql", {**JSON, "Transfer-Encoding": "chunked"})
    outcomes: list[int | None] = []

    async def keep_sending(head: bytes, body) -> None:
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            outcomes.append((await exchange(server.port, head, body())).status)

    probe = Probe(server.port, server.pid)
    probe.start()
    await asyncio.sleep(0.5)  # the baseline
    baseline = max(probe.rss)
    quiet = len(probe.latencies)
    await asyncio.gather(
        keep_sending(declared, lambda: [piece] * (ten_mb // len(piece))),
        keep_sending(streamed, lambda: chunked([piece] * (ten_mb // len(piece)))),
        keep_sending(streamed, lambda: chunked([piece] * (ten_mb // len(piece)))),
    )
    await asyncio.sleep(0.3)
    probe.done.set()
    probe.join()

    growth = max(probe.rss) - baseline
    slowest = max(probe.latencies[quiet:])
    # On a busy machine (other tests alongside) every answer is slower: the bound grows with the baseline.
    bound = max(0.5, 10 * max(probe.latencies[:quiet]))
    print(
        f"\n10 MB bodies begun: {len(outcomes)} ({outcomes.count(413)} answered 413, the rest cut off);"
        f" server RSS {baseline / MIB:.1f} MiB, grew by at most {growth / MIB:.1f} MiB;"
        f" /healthz answered {len(probe.latencies)} times, slowest {slowest * 1000:.1f} ms"
    )
    assert set(outcomes) <= {413, None} and outcomes.count(413) >= 3
    assert not probe.failures
    assert_no_traceback(server)
    assert growth < 50 * MIB
    assert slowest < bound


# In-process tests: the same app, through ASGI.


@pytest.fixture
async def http_layer(tmp_path):
    """An app on its own SQLite file with a 2 KiB body limit, and a key for it."""
    from app.db import migrate

    url = f"sqlite://{tmp_path}/trunkline.sqlite3"
    await migrate(url)
    app = create_app(app_settings(url, max_body_bytes=2048))
    async with app.router.lifespan_context(app):
        key = (await issue_api_key(await create_workspace("Acme", 100))).secret
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://trunkline.test") as http:
            http.headers["Authorization"] = f"Bearer {key}"
            yield http


def padded_body(size: int) -> bytes:
    body = json.dumps({"query": "{ workspace { name } }"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


@pytest.mark.parametrize("size, status", [(2048, 200), (2049, 413)], ids=["at-the-limit", "one-byte-over"])
async def test_the_body_limit_is_exact(http_layer, size, status):
    response = await http_layer.post("/graphql", content=padded_body(size), headers=JSON)
    assert response.status_code == status, response.text


async def test_a_too_large_chunked_body_is_refused_through_asgi_too(http_layer):
    async def pieces():
        for _ in range(10):
            yield b" " * 1024

    response = await http_layer.post("/graphql", content=pieces(), headers=JSON)

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}


async def test_an_anonymous_document_past_the_token_limit_is_not_parsed_to_its_end(client, monkeypatch):
    """The introspection-only check parses with the limit too: of a ~1 MB document of 90,000 tokens, each
    parse the request makes (the log's operation name, the introspection-only check) lexes the limit's
    2,000 and stops. Counted by graphql-core's own Lexer.read_next_token, wrapped to count its calls, so
    the test holds on a machine of any speed."""
    query = "{ " + "__typename " * 90_000 + "}"
    lexed = 0
    read_next_token = Lexer.read_next_token

    def counted(lexer: Lexer, start: int):
        nonlocal lexed
        lexed += 1
        return read_next_token(lexer, start)

    monkeypatch.setattr(Lexer, "read_next_token", counted)
    response = await client.post("/graphql", json={"query": query})

    assert response.status_code == 401
    assert MAX_TOKENS < lexed <= 2 * (MAX_TOKENS + 1), lexed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
async def test_many_distinct_large_documents_are_not_kept(tenant):
    """Each 2,000-token document costs about 750 KB parsed: keeping these 80 would hold ~50 MB."""
    documents = [
        "{ " + " ".join(f"a{i}_{n}: __typename" for i in range(MAX_TOKENS // 3 - 1)) + " }" for n in range(80)
    ]
    before = rss_bytes(os.getpid())

    for document in documents:
        body = await tenant.graphql(document)
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # too many aliases

    growth = rss_bytes(os.getpid()) - before
    assert growth < 20 * MIB, f"grew by {growth / MIB:.0f} MiB"
