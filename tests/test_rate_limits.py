"""Rate limits: requests per API key and failed authentications per client address, answered with
429, Retry-After and RATE_LIMITED; counted across worker processes when they share Redis."""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import secrets
import socket
import time

import httpx
import pytest
import redis

from app.main import create_app
from app.settings import Settings, SettingsError
from resolvers.api_keys import issue_api_key
from resolvers.clock import SYSTEM_CLOCK, Clock
from resolvers.workspaces import create_workspace
from tests.clock import SetClock
from tests.serve_sqlite import serving
from tests.server_processes import run_trunkline, sync_http_client, worker_pids

REDIS_URL = "redis://127.0.0.1:6379/0"
QUERY = {"query": "{ workspace { name } }"}
WRONG_KEY = {"Authorization": "Bearer sk_" + "A" * 43}


@pytest.fixture
async def make_client(settings):
    """A client of an app on the test's database, with some settings changed, on the system's or a set clock."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(clock: Clock = SYSTEM_CLOCK, **changes) -> httpx.AsyncClient:
            app = create_app(dataclasses.replace(settings, **changes), clock)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            return await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://trunkline.test"))

        yield make


async def new_key(name: str = "Acme") -> dict[str, str]:
    key = await issue_api_key(await create_workspace(name, 100))
    return {"Authorization": f"Bearer {key.secret}"}


def assert_rate_limited(response: httpx.Response, window: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED"}
    assert 1 <= int(response.headers["retry-after"]) <= window


async def test_a_key_over_its_limit_gets_429_with_retry_after_and_other_keys_do_not(make_client):
    client = await make_client(rate_limit="3/minute")
    mine, theirs = await new_key("Acme"), await new_key("Globex")

    allowed = [(await client.post("/graphql", json=QUERY, headers=mine)).status_code for _ in range(3)]
    refused = await client.post("/graphql", json=QUERY, headers=mine)
    other = await client.post("/graphql", json=QUERY, headers=theirs)

    assert allowed == [200, 200, 200]
    assert_rate_limited(refused)
    assert other.status_code == 200


async def on_a_set_clock(make_client, rate_limit: str):
    """An app on a clock the test moves, with this limit; its clock and a post as one new key."""
    clock = SetClock()
    client = await make_client(clock, rate_limit=rate_limit)
    key = await new_key()

    async def post() -> httpx.Response:
        return await client.post("/graphql", json=QUERY, headers=key)

    return clock, post


async def test_retry_after_is_when_the_window_lets_the_next_request_through(make_client):
    clock, post = await on_a_set_clock(make_client, "2/2 seconds")

    async def status() -> int:
        return (await post()).status_code

    assert [await status(), await status()] == [200, 200]
    clock.advance(0.5)
    refused = await post()
    assert_rate_limited(refused, window=2)
    assert refused.headers["retry-after"] == "2"  # the oldest request leaves the window 1.5 s from now

    clock.advance(1.25)
    assert await status() == 429  # 1.75 s after the oldest request, still in the window
    clock.advance(0.75)
    assert await status() == 200  # Retry-After seconds after the refusal


async def test_a_request_exactly_retry_after_seconds_later_goes_through(make_client):
    clock, post = await on_a_set_clock(make_client, "1/2 seconds")

    assert (await post()).status_code == 200
    refused = await post()

    assert refused.headers["retry-after"] == "2"
    clock.advance(1.999999)
    assert (await post()).status_code == 429
    clock.advance(0.000001)
    assert (await post()).status_code == 200


async def test_failed_authentications_from_an_address_stop_even_a_valid_key_from_it(make_client):
    client = await make_client(auth_failure_limit="2/minute")
    valid = await new_key()

    failures = [(await client.post("/graphql", json=QUERY, headers=WRONG_KEY)).status_code for _ in range(2)]
    guessing_on = await client.post("/graphql", json=QUERY, headers=WRONG_KEY)
    valid_from_there = await client.post("/graphql", json=QUERY, headers=valid)
    anonymous_introspection = await client.post("/graphql", json={"query": "{ __typename }"})

    assert failures == [401, 401]
    assert_rate_limited(guessing_on)
    assert_rate_limited(valid_from_there)
    assert anonymous_introspection.status_code == 200  # no key presented, nothing guessed


async def test_without_trusted_proxies_x_forwarded_for_does_not_change_who_is_guessing(make_client):
    client = await make_client(auth_failure_limit="2/minute")
    for n in range(2):
        await client.post("/graphql", json=QUERY, headers={**WRONG_KEY, "X-Forwarded-For": f"203.0.113.{n}"})

    disguised = await client.post("/graphql", json=QUERY, headers={**WRONG_KEY, "X-Forwarded-For": "203.0.113.99"})

    assert_rate_limited(disguised)


async def test_behind_a_trusted_proxy_the_right_most_untrusted_forwarded_address_is_the_client(make_client):
    # The test client connects from 127.0.0.1: it plays the proxy; 10.0.0.0/8 is a second proxy tier.
    client = await make_client(auth_failure_limit="2/minute", trusted_proxies=("127.0.0.1/32", "10.0.0.0/8"))

    def via(forwarded: str) -> dict[str, str]:
        return {**WRONG_KEY, "X-Forwarded-For": forwarded}

    for _ in range(2):
        assert (await client.post("/graphql", json=QUERY, headers=via("203.0.113.7"))).status_code == 401

    spoofed_left = await client.post("/graphql", json=QUERY, headers=via("198.51.100.1, 203.0.113.7"))
    through_two_proxies = await client.post("/graphql", json=QUERY, headers=via("203.0.113.7, 10.1.2.3"))
    someone_else = await client.post("/graphql", json=QUERY, headers=via("203.0.113.8"))

    assert_rate_limited(spoofed_left)
    assert_rate_limited(through_two_proxies)
    assert someone_else.status_code == 401


async def test_when_redis_does_not_answer_requests_go_through_and_it_is_logged_once(make_client, caplog):
    from starlette.datastructures import Secret

    client = await make_client(rate_limit="1/minute", redis_url=Secret("redis://127.0.0.1:1/0"))
    key = await new_key()

    statuses = [(await client.post("/graphql", json=QUERY, headers=key)).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    warnings = [r.getMessage() for r in caplog.records if r.name == "app.rate_limits"]
    assert warnings == ["rate limits not counted, Redis failed: ConnectionError"]


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"TRUNKLINE_RATE_LIMIT": "lots"}, "TRUNKLINE_RATE_LIMIT must be a rate such as 600/minute"),
        ({"TRUNKLINE_RATE_LIMIT": "0/minute"}, "TRUNKLINE_RATE_LIMIT must be a rate such as 600/minute"),
        ({"TRUNKLINE_AUTH_FAILURE_LIMIT": "30 per fortnight"}, "TRUNKLINE_AUTH_FAILURE_LIMIT must be a rate"),
        ({"TRUNKLINE_TRUSTED_PROXIES": "10.0.0.1, proxy.internal"}, "TRUNKLINE_TRUSTED_PROXIES must be comma-separated"),
        ({"TRUNKLINE_REDIS_URL": "http://user:hunter2@cache:6379"}, "TRUNKLINE_REDIS_URL must be a redis://"),
    ],
    ids=["rate-text", "rate-zero", "auth-rate", "proxies", "redis-scheme"],
)
def test_bad_limit_settings_are_refused_naming_the_variable(environ, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value).startswith(message)
    assert "hunter2" not in str(refused.value)


def test_limit_settings_take_the_libraries_notation_and_sane_defaults():
    assert (Settings.from_env({}).rate_limit, Settings.from_env({}).auth_failure_limit) == ("600/minute", "30/minute")
    settings = Settings.from_env(
        {"TRUNKLINE_RATE_LIMIT": "10/second;600/hour", "TRUNKLINE_TRUSTED_PROXIES": "10.0.0.7, 172.16.0.0/12"}
    )
    assert settings.rate_limit == "10/second;600/hour"
    assert settings.trusted_proxies == ("10.0.0.7/32", "172.16.0.0/12")


# Across processes: `trunkline serve --workers 2`, each request sent on a connection whose serving
# worker is known, so that the budget is spent on both workers.


def server_socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's side of the connection from `client_port`, from /proc/net/tcp."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    for line in pathlib.Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    return None


def serving_worker(workers: list[int], server_port: int, client_port: int) -> int | None:
    inode = server_socket_inode(server_port, client_port)
    for pid in workers:
        for fd in pathlib.Path(f"/proc/{pid}/fd").iterdir():
            try:
                if fd.readlink().name == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def connections_on_each_worker(port: int, workers: list[int]) -> dict[int, socket.socket]:
    """Open connections until every worker has accepted one; the others are closed again."""
    held: dict[int, socket.socket] = {}
    deadline = time.monotonic() + 20
    while len(held) < len(workers) and time.monotonic() < deadline:
        connection = socket.create_connection(("127.0.0.1", port))
        client_port = connection.getsockname()[1]
        worker = None
        for _ in range(50):
            worker = serving_worker(workers, port, client_port)
            if worker:
                break
            time.sleep(0.02)
        if worker and worker not in held:
            held[worker] = connection
        else:
            connection.close()
    assert len(held) == len(workers), f"only workers {list(held)} of {workers} accepted a connection"
    return held


def post(connection: socket.socket, key: str) -> int:
    body = b'{"query": "{ workspace { name } }"}'
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: trunkline.test\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    connection.sendall(head.encode() + body)
    reader = connection.makefile("rb")
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        length = int(value) if name.lower() == "content-length" else length
    reader.read(length)
    return status


@pytest.fixture
def redis_prefix():
    prefix = f"trunkline-test-{secrets.token_hex(4)}"
    yield prefix
    store = redis.Redis.from_url(REDIS_URL)
    for key in store.scan_iter(f"{prefix}:*"):
        store.delete(key)
    store.close()


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory"])
def test_the_limit_is_counted_across_workers_when_they_share_redis(tmp_path, redis_prefix, shared):
    limit = 4
    settings = {"TRUNKLINE_RATE_LIMIT": f"{limit}/minute"}
    if shared:
        settings |= {"TRUNKLINE_REDIS_URL": REDIS_URL, "TRUNKLINE_REDIS_PREFIX": redis_prefix}
    with serving(tmp_path, workers=2, **settings) as server:
        created = run_trunkline("workspace", "create", "--name", "Acme", "--json", database_url=server.database_url)
        assert created.returncode == 0, created.stderr
        key = created.stdout.split('"api_key": "')[1].split('"')[0]
        workers = worker_pids(server.pid)
        assert len(workers) == 2, server.process.log()
        held = connections_on_each_worker(server.port, workers)

        # Half the budget on each worker, then one more request on the first.
        statuses = {pid: [post(held[pid], key) for _ in range(limit // 2)] for pid in workers}
        one_more = post(held[workers[0]], key)
        for connection in held.values():
            connection.close()

    assert statuses == {pid: [200] * (limit // 2) for pid in workers}
    # Shared, the workers together have spent the budget; alone, each has spent only half of its own.
    assert one_more == (429 if shared else 200)
    if shared:
        assert any(True for _ in redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}:*"))


def test_workers_log_no_secret_when_redis_fails(tmp_path, redis_prefix):
    settings = {"TRUNKLINE_REDIS_URL": "redis://:not-the-password@127.0.0.1:1/0", "TRUNKLINE_REDIS_PREFIX": redis_prefix}
    with serving(tmp_path, **settings) as server:
        created = run_trunkline("workspace", "create", "--name", "Acme", "--json", database_url=server.database_url)
        key = created.stdout.split('"api_key": "')[1].split('"')[0]
        with sync_http_client() as http:
            response = http.post(f"{server.url}/graphql", json=QUERY, headers={"Authorization": f"Bearer {key}"})
        log = server.process.log()

    assert response.status_code == 200
    assert "rate limits not counted, Redis failed" in log
    assert "not-the-password" not in log
