"""Trunkline measured from outside, as the "Fast" issue's table: one command, every row a ratio from one run.

Starts a standalone sandbox (`trunkline sandbox`), `trunkline serve --workers 1` in live mode against
it, and the raw Starlette baseline (bench/baseline_app.py, same uvicorn settings, same key lookup on
the same database). With two or more cores the server and the baseline are pinned to one core and
the sandbox and this load generator to another. Carrier round trips come from sandbox delay faults.
SQLite by default; `--database-url postgres://…` makes (and drops) a fresh database on that server.

    .venv/bin/python bench/server_bench.py [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--quick]

`--quick` runs every row briefly (the CI smoke): it fails only if some row produced no number.
bench/README.md explains each row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from providers.sandbox.livekit import AREA_CODES  # noqa: E402
from tests.graphql_documents import (  # noqa: E402
    CREATE_SIP_TRUNK,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
)
from tests.server_processes import (  # noqa: E402
    TRUNKLINE,
    Process,
    Sandbox,
    clean_environment,
    create_workspace,
    free_port,
    live_environment,
    migrate,
    new_secret_key,
    start_process,
    wait_for_http,
    wait_until,
)
from tests.soak import byoc_numbers  # noqa: E402
from tests.soak_workload import CREATE_AGENT, DELETE_PHONE_NUMBER  # noqa: E402

import random  # noqa: E402

P1_QUERY = "{ workspace { id } }"
PAGE_QUERY = """
query Page($first: Int!) {
  phoneNumbers(first: $first) {
    totalCount
    edges { node { id e164 source status label agent { id name } trunk { id name provider } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
CLK_TCK = os.sysconf("SC_CLK_TCK")
LIVEKIT_SETTINGS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")  # the floor's carrier (baseline_app.py)


# --- processes ------------------------------------------------------------------------------------


def cores() -> tuple[list[str], int | None]:
    """The taskset prefix for the server side and the core for the load side (none with one core)."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return [], None
    return ["taskset", "-c", str(available[0])], available[1]


def cpu_seconds(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def peak_rss_mb(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


# What the worker imports besides its own code: the stack the project is built on and the carrier SDKs. Not
# redis: the worker imports it only when TRUNKLINE_REDIS_URL is set (app/rate_limits.py), and it is not here.
LIBRARIES = (
    "uvloop", "starlette.applications", "uvicorn", "strawberry", "tortoise", "aiosqlite", "asyncpg", "aiohttp",
    "phonenumbers", "cryptography.fernet", "cryptography.hazmat.primitives.ciphers.aead", "twilio.rest",
    "livekit.api", "prometheus_client", "limits", "websockets",
)


def libraries_rss_mb() -> float:
    """Peak RSS of a fresh interpreter that imports LIBRARIES and nothing else: the floor under the RSS row."""
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]: importlib.import_module(name)\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1])"
    )
    found = subprocess.run([sys.executable, "-c", script, *LIBRARIES], capture_output=True, text=True, check=True)
    return int(found.stdout) / 1024


async def start(args: list[str], env: dict[str, str], log: pathlib.Path, health: str) -> Process:
    process = start_process(args, env, log, fresh=True)
    try:
        await wait_for_http(process, health, seconds=60)
    except BaseException:
        process.stop()
        raise
    return process


# --- load: a minimal keep-alive HTTP/1.1 client, so one core of load outruns one core of server -----


class _Connection(asyncio.Protocol):
    def __init__(self, request: bytes, deadline: float, counts: dict, done: asyncio.Future) -> None:
        self.request, self.deadline, self.counts, self.done = request, deadline, counts, done
        self.buffer = bytearray()
        self.need: int | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        if time.perf_counter() >= self.deadline:
            self.transport.close()
            return
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.need is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                raise RuntimeError(f"answer without Content-Length: {head[:200]!r}")
            line_end = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : line_end if line_end > 0 else None])
            self.need = end + 4 + length
            self.status = int(head[9:12])
        if len(self.buffer) < self.need:
            return
        del self.buffer[: self.need]
        self.need = None
        key = "ok" if self.status == 200 else f"http_{self.status}"
        self.counts[key] = self.counts.get(key, 0) + 1
        self._send()

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def load(url: str, body: bytes, key: str, seconds: float, connections: int) -> tuple[float, dict]:
    """Requests per second answered 200 over `seconds`, with `connections` keep-alive connections."""
    parts = urlsplit(url)
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    loop = asyncio.get_running_loop()
    counts: dict = {}
    started = time.perf_counter()
    deadline = started + seconds
    dones = []
    for _ in range(connections):
        done = loop.create_future()
        await loop.create_connection(
            lambda d=done: _Connection(request, deadline, counts, d), parts.hostname, parts.port
        )
        dones.append(done)
    await asyncio.wait_for(asyncio.gather(*dones), seconds + 30)
    elapsed = time.perf_counter() - started
    return counts.get("ok", 0) / elapsed, counts


# --- the API --------------------------------------------------------------------------------------


class Client:
    """Keep-alive HTTP/1.1 connections to one server, a request at a time on each, opened as needed: a minimal
    client, so that the rows time the server and loopback, not an HTTP library (httpx spends about 0.65 ms of
    its own on a request here, against 0.05 ms for this one; bench/README.md). A connection idle for a
    second is not reused: the server may be closing it (its keep-alive timeout)."""

    REUSE_WITHIN = 1.0

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.netloc = parts.hostname, parts.port, parts.netloc
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.perf_counter() - since < self.REUSE_WITHIN:
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        reader, writer = await self._connection()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.netloc}\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        answer = await reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer, time.perf_counter()))
        return int(lines[0].split()[1]), answer

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


@dataclass
class Api:
    client: Client
    path: str = "/graphql"

    async def post(self, key: str, query: str, variables: dict | None = None) -> tuple[dict, float]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        started = time.perf_counter()
        status, answer = await self.client.post(self.path, body, headers)
        elapsed = time.perf_counter() - started
        assert status == 200, (status, answer[:500])
        data = json.loads(answer)
        assert "errors" not in data, data
        return data["data"], elapsed

    async def mutate(self, key: str, query: str, field: str, variables: dict, success: str) -> tuple[dict, float]:
        data, elapsed = await self.post(key, query, variables)
        payload = data[field]
        assert payload["__typename"] == success, payload
        return payload, elapsed

    async def import_number(self, key: str, number_input: dict) -> tuple[dict, float]:
        payload, elapsed = await self.mutate(
            key, IMPORT_PHONE_NUMBER, "importPhoneNumber", {"input": number_input}, "ImportPhoneNumberSuccess"
        )
        return payload["phoneNumber"], elapsed

    async def delete_number(self, key: str, number_id: str) -> None:
        await self.mutate(key, DELETE_PHONE_NUMBER, "deletePhoneNumber", {"id": number_id}, "DeletePhoneNumberSuccess")


async def bounded(limit: int, coroutines) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


class SqlCounter:
    """Reads bench/sql_counter/sitecustomize.py's statement count out of the server process."""

    def __init__(self, path: pathlib.Path, pid: int) -> None:
        self.path, self.pid = path, pid

    async def read(self) -> int:
        dump = pathlib.Path(f"{self.path}.{self.pid}")
        dump.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR2)

        async def written() -> str:
            return dump.read_text().strip() if dump.exists() else ""

        return int(await wait_until(written, seconds=10, what="the SQL statement count", pause=0.02))

    async def around(self, request) -> int:
        before = await self.read()
        await request
        return await self.read() - before

    async def fewest(self, request, times: int = 5) -> int:
        """The fewest statements counted around `times` runs of `request()`: the count is the process's, and
        its background loops (the event outbox's poll, deliveries, recovery) add to some windows."""
        return min([await self.around(request()) for _ in range(times)])


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    value: float | None
    unit: str
    target: str
    passed: bool | None
    context: str


def livekit_numbers():
    for code in AREA_CODES:
        for line in range(99, 19, -1):  # from 0199 down, clear of the Twilio demo numbers (555-01XX upwards)
            yield f"+1{code}55501{line:02d}"


async def run(options: argparse.Namespace, work: pathlib.Path, database_url: str) -> list[Row]:
    quick = options.quick
    rtt = options.rtt
    server_prefix, load_core = cores()
    if load_core is not None:
        os.sched_setaffinity(0, {load_core})
    sandbox_prefix = ["taskset", "-c", str(load_core)] if load_core is not None else []
    rows: list[Row] = []

    migrate(database_url)
    limit = 100000
    reader = create_workspace(database_url, "Bench P1", limit)
    importer = create_workspace(database_url, "Bench imports", limit)
    pager = create_workspace(database_url, "Bench pages", limit)

    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    processes: list[Process] = []
    try:
        processes.append(await start(
            [*sandbox_prefix, TRUNKLINE, "sandbox", "--port", str(sandbox_port)], clean_environment(),
            work / "sandbox.log", sandbox_url + "/__sandbox/state",
        ))
        sandbox = Sandbox(processes[-1], sandbox_url)

        server_port, sql_path = free_port(), work / "sql-count"
        env = live_environment(
            database_url, sandbox_url, new_secret_key(),
            TRUNKLINE_RATE_LIMIT="1000000000/minute",
            PYTHONPATH=os.pathsep.join([str(ROOT / "bench" / "sql_counter"), str(ROOT)]),
            TRUNKLINE_BENCH_SQL_COUNT=str(sql_path),
        )
        server = await start(
            [*server_prefix, TRUNKLINE, "serve", "--workers", "1", "--port", str(server_port)], env,
            work / "server.log", f"http://127.0.0.1:{server_port}/healthz",
        )
        processes.append(server)
        server_url, server_pid = f"http://127.0.0.1:{server_port}", server.popen.pid
        sql = SqlCounter(sql_path, server_pid)

        baseline_port = free_port()
        processes.append(await start(
            [*server_prefix, sys.executable, str(ROOT / "bench" / "baseline_app.py"), "--port", str(baseline_port),
             "--database-url", database_url],
            clean_environment(PYTHONPATH=str(ROOT), **{name: env[name] for name in LIVEKIT_SETTINGS}),
            work / "baseline.log", f"http://127.0.0.1:{baseline_port}/healthz",
        ))
        baseline_url, baseline_pid = f"http://127.0.0.1:{baseline_port}", processes[-1].popen.pid

        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as http:
            api = Api(Client(server_url))
            floor = Api(Client(baseline_url), path="/import")
            baseline_answer = (await http.post(
                baseline_url + "/graphql", json={"query": P1_QUERY},
                headers={"Authorization": f"Bearer {reader['api_key']}"})).json()
            server_answer, _ = await api.post(reader["api_key"], P1_QUERY)
            assert baseline_answer["data"] == server_answer, (baseline_answer, server_answer)

            # P1: alternate rounds, so that the machine's noise hits both alike.
            body = f'{{"query": "{P1_QUERY}"}}'.encode()
            rounds, seconds = (2, 1.0) if quick else (5, 3.0)
            await load(server_url + "/graphql", body, reader["api_key"], 0.5, options.connections)  # warm up
            await load(baseline_url + "/graphql", body, reader["api_key"], 0.5, options.connections)
            ours, theirs, failures = [], [], {}
            for _ in range(rounds):
                for target, out in ((server_url, ours), (baseline_url, theirs)):
                    rate, counts = await load(target + "/graphql", body, reader["api_key"], seconds, options.connections)
                    out.append(rate)
                    failures.update({k: failures.get(k, 0) + v for k, v in counts.items() if k != "ok"})
            p1_statements = await sql.fewest(lambda: api.post(reader["api_key"], P1_QUERY))
            ratio = statistics.mean(ours) / statistics.mean(theirs)
            rows.append(Row(
                "P1 { workspace { id } } req/s vs raw Starlette", ratio, "x", ">= 0.45", ratio >= 0.45,
                f"{statistics.mean(ours):.0f} vs {statistics.mean(theirs):.0f} req/s, {options.connections} conns, "
                f"{p1_statements} SQL/request" + (f", non-200: {failures}" if failures else ""),
            ))

            numbers = livekit_numbers()
            agent, _ = await api.mutate(importer["api_key"], CREATE_AGENT, "createAgent",
                                        {"input": {"name": "Bench agent"}}, "CreateAgentSuccess")
            agent_id = agent["agent"]["id"]

            def livekit(through: Api = api, agent: bool = True):
                routed = {"agentId": agent_id} if agent else {}
                return through.import_number(importer["api_key"], {"e164": next(numbers), "source": "LIVEKIT", **routed})

            # Server CPU per LIVEKIT import, carriers answering at once.
            await livekit()  # warm up the path
            count = 10 if quick else 100
            before = cpu_seconds(server_pid)
            started = time.perf_counter()
            await bounded(4, [livekit() for _ in range(count)])
            wall = time.perf_counter() - started
            per_import_ms = (cpu_seconds(server_pid) - before) / count * 1000
            # The same imports through the floor (bench/baseline_app.py /import): what the stack alone costs.
            await livekit(floor)
            before = cpu_seconds(baseline_pid)
            await bounded(4, [livekit(floor) for _ in range(count)])
            floor_ms = (cpu_seconds(baseline_pid) - before) / count * 1000
            rows.append(Row(
                "server CPU per LIVEKIT import (no carrier delay)", per_import_ms, "ms", "<= 1.5", per_import_ms <= 1.5,
                f"{count} imports, 4 at a time, {count / wall:.0f} imports/s; floor {floor_ms:.2f} ms, "
                f"{per_import_ms / floor_ms:.1f}x it",
            ))

            # With a carrier round trip: every sandbox answer leaves `rtt` after its request came, the
            # emulator's own work included (an "after" delay), so the round trip is the injected one.
            await sandbox.add_fault(method="*", path="*", delay=rtt, when="after")
            samples = 2 if quick else 15  # a p50 of 15: this machine's noise moves one of 7 by a millisecond
            single = [(await livekit())[1] for _ in range(samples)]
            one = statistics.median(single)
            # The LIVEKIT row is one purchase (no agent): with an agent the rule must exist first.
            bare = [(await livekit(agent=False))[1] for _ in range(samples)]
            bare_floor = statistics.median([(await livekit(floor, agent=False))[1] for _ in range(samples)])
            started = time.perf_counter()
            await asyncio.gather(*(livekit() for _ in range(25)))
            concurrent = time.perf_counter() - started
            floor_one = statistics.median([(await livekit(floor))[1] for _ in range(samples)])
            started = time.perf_counter()
            await asyncio.gather(*(livekit(floor) for _ in range(25)))
            floor_concurrent = time.perf_counter() - started
            rows.append(Row(
                "P3 25 concurrent LIVEKIT imports, wall / one import's", concurrent / one, "x", "<= 1.8",
                concurrent / one <= 1.8, f"{concurrent * 1000:.0f} ms vs {one * 1000:.0f} ms, RTT {rtt * 1000:.0f} ms; "
                f"floor {floor_concurrent / floor_one:.2f} x",
            ))

            # TWILIO: first DID makes the shared trunk, the second rides it; deleting both removes it again.
            first, second = [], []
            for _ in range(samples):
                made = []
                for e164, out in ((DEMO_DIDS[0], first), (DEMO_DIDS[1], second)):
                    number, elapsed = await api.import_number(
                        importer["api_key"], {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS})
                    out.append(elapsed)
                    made.append(number["id"])
                for number_id in reversed(made):
                    await api.delete_number(importer["api_key"], number_id)

            trunk, _ = await api.mutate(importer["api_key"], CREATE_SIP_TRUNK, "createSipTrunk", {"input": {
                "name": "Bench BYOC", "direction": "INBOUND", "allowedAddresses": ["203.0.113.0/24"]}},
                "CreateSipTrunkSuccess")
            trunk_id = trunk["sipTrunk"]["id"]
            byoc_pool = iter(byoc_numbers(random.Random(7), count=samples + 120))
            byoc = [(await api.import_number(importer["api_key"], {
                "e164": next(byoc_pool), "source": "BYOC", "trunkId": trunk_id, "agentId": agent_id}))[1]
                for _ in range(samples)]
            for name, values, target, floor_p50 in (
                ("TWILIO first DID (new shared trunk) p50 / RTT", first, 4.6, None),
                ("TWILIO second DID p50 / RTT", second, 2.3, None),
                ("LIVEKIT import (no agent) p50 / RTT", bare, 1.15, bare_floor),
                ("LIVEKIT import with an agent p50 / RTT", single, None, None),
                ("BYOC import p50 / RTT", byoc, 1.15, None),
            ):
                p50 = statistics.median(values)
                beside = f"; floor {floor_p50 / rtt:.2f} RTT" if floor_p50 else ""
                rows.append(Row(name, p50 / rtt, "RTT", "-" if target is None else f"<= {target}",
                                None if target is None else p50 / rtt <= target,
                                f"p50 {p50 * 1000:.0f} ms of {len(values)}, RTT {rtt * 1000:.0f} ms{beside}"))
            await sandbox.clear_faults()

            # P4: a page of 100 numbers, each with an agent and a trunk, against a page of 10.
            page_agent, _ = await api.mutate(pager["api_key"], CREATE_AGENT, "createAgent",
                                             {"input": {"name": "Page agent"}}, "CreateAgentSuccess")
            page_trunk, _ = await api.mutate(pager["api_key"], CREATE_SIP_TRUNK, "createSipTrunk", {"input": {
                "name": "Page BYOC", "direction": "INBOUND", "allowedAddresses": ["198.51.100.7"]}},
                "CreateSipTrunkSuccess")
            await bounded(4, [api.import_number(pager["api_key"], {
                "e164": next(byoc_pool), "source": "BYOC", "trunkId": page_trunk["sipTrunk"]["id"],
                "agentId": page_agent["agent"]["id"]}) for _ in range(100)])

            def page(first: int):
                return api.post(pager["api_key"], PAGE_QUERY, {"first": first})

            for first_ in (10, 100):  # warm up, and check the page is what we think
                data, _ = await page(first_)
                edges = data["phoneNumbers"]["edges"]
                assert len(edges) == first_ and all(e["node"]["agent"] and e["node"]["trunk"] for e in edges), data
            small, large = [], []
            for _ in range(5 if quick else 40):
                small.append((await page(10))[1])
                large.append((await page(100))[1])
            statements_10 = await sql.fewest(lambda: page(10))
            statements_100 = await sql.fewest(lambda: page(100))
            ratio = statistics.median(large) / statistics.median(small)
            rows.append(Row(
                "P4 phoneNumbers(first: 100) / (first: 10) time", ratio, "x", "<= 3", ratio <= 3,
                f"p50 {statistics.median(large) * 1000:.1f} ms vs {statistics.median(small) * 1000:.1f} ms",
            ))
            rows.append(Row(
                "P4 SQL statements, first: 100 minus first: 10", statements_100 - statements_10, "stmts", "== 0",
                statements_100 == statements_10, f"{statements_100} vs {statements_10} statements per request",
            ))
            api.client.close()

        rss = peak_rss_mb(server_pid)
        rows.append(Row("peak RSS of the worker after all of the above", rss, "MB", "<= 80", rss <= 80,
                        f"VmHWM of pid {server_pid}; importing its libraries alone: {libraries_rss_mb():.1f} MB"))
    finally:
        for process in reversed(processes):
            process.stop()
    return rows


def print_table(rows: list[Row], database_url: str, options: argparse.Namespace) -> None:
    kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    pinned = "server and baseline on one core, load and sandbox on another" if options.pinned \
        else "one core: not pinned"
    print(f"\nTrunkline server benchmark ({kind}; {pinned}; {'quick' if options.quick else 'full'} run)\n")
    header = ("row", "measured", "target", "result", "context")
    table = [header] + [
        (r.name, "n/a" if r.value is None else f"{r.value:.2f} {r.unit}", r.target,
         "-" if r.passed is None else ("pass" if r.passed else "FAIL"), r.context)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    for index, line in enumerate(table):
        print(" | ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(line)))
        if index == 0:
            print("-+-".join("-" * w for w in widths) + "-+-" + "-" * 20)


async def postgres_database(url: str) -> tuple[str, str]:
    """A fresh database on the server at `url`: (its URL, its name)."""
    import asyncpg

    name = f"trunkline_bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(urlsplit(url)._replace(scheme="postgresql").geturl())
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlsplit(url)._replace(path="/" + name).geturl(), name


async def drop_postgres_database(url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(urlsplit(url)._replace(scheme="postgresql").geturl())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgres://… (a fresh database is made there and dropped); "
                        "SQLite in a temporary folder without it")
    parser.add_argument("--quick", action="store_true", help="every row briefly: the CI smoke")
    parser.add_argument("--rtt", type=float, default=0.040, help="injected carrier round trip, seconds (0.040)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections for P1 (32)")
    options = parser.parse_args(argv)
    options.pinned = cores()[1] is not None

    with tempfile.TemporaryDirectory(prefix="trunkline-bench-") as folder:
        work = pathlib.Path(folder)
        dropped = None
        if options.database_url:
            database_url, name = asyncio.run(postgres_database(options.database_url))
            dropped = name
        else:
            database_url = f"sqlite://{work}/bench.sqlite3"
        try:
            rows = asyncio.run(run(options, work, database_url))
        except BaseException:
            for log in sorted(work.glob("*.log")):
                print(f"--- {log.name} (last lines)", file=sys.stderr)
                print("\n".join(log.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
            raise
        finally:
            if dropped:
                asyncio.run(drop_postgres_database(options.database_url, dropped))
    print_table(rows, database_url, options)
    missing = [row.name for row in rows if row.value is None]
    if missing:
        print(f"no number for: {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
