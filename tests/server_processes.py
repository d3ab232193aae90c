"""Real processes for production-shaped tests: `trunkline migrate`, a standalone sandbox, and
`trunkline serve --workers N` in live mode pointed at that sandbox, each in its own process group."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import httpx
from cryptography.fernet import Fernet

from providers.sandbox.server import DEMO_STATE
from tests import launcher
from tests.launcher import TRUNKLINE
from tests.sandbox_snapshot import comparable_carriers

_DEMO = json.loads(DEMO_STATE.read_text())
PLATFORM_ACCOUNT = next(a for a in _DEMO["twilio"]["accounts"] if a.get("platform"))
CARRIER_VARIABLES = ("TRUNKLINE_", "LIVEKIT_", "TWILIO_")


# Tests talk plain HTTP to loopback, yet httpx loads the CA bundle into a new TLS context for every client it
# makes (about 20 ms of CPU each, hundreds of clients a run): they all share this one instead.
_TLS = ssl.create_default_context()


def http_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=_TLS, **options)


def sync_http_client(**options: Any) -> httpx.Client:
    return httpx.Client(verify=_TLS, **options)


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any Trunkline or carrier setting, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CARRIER_VARIABLES)}
    env.update(variables)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_trunkline(*args: str, database_url: str) -> subprocess.CompletedProcess:
    return launcher.run([TRUNKLINE, *args], env=clean_environment(TRUNKLINE_DATABASE_URL=database_url))


def migrate(database_url: str) -> subprocess.CompletedProcess:
    result = run_trunkline("migrate", database_url=database_url)
    assert result.returncode == 0, result.stderr
    return result


def create_workspace(database_url: str, name: str, phone_number_limit: int) -> dict[str, str]:
    result = run_trunkline(
        "workspace", "create", "--name", name, "--phone-number-limit", str(phone_number_limit), "--json",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def wait_until(condition: Callable[[], Awaitable[Any]], *, seconds: float, what: str, pause: float = 0.1) -> Any:
    """Poll until `condition` returns something truthy, for at most `seconds`; returns that value."""
    deadline = time.monotonic() + seconds
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        await asyncio.sleep(pause)


@dataclass
class Process:
    """A process started in its own session, so that one signal reaches it and every child it forks."""

    popen: subprocess.Popen | launcher.Launched
    log_path: pathlib.Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs anywhere in it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM the group, and SIGKILL it if it is still there after a few seconds."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=8)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


def start_process(args: list[str], env: dict[str, str], log_path: pathlib.Path, *, fresh: bool = False) -> Process:
    """A trunkline command forked by tests/launcher.py; `fresh`: a new interpreter, for any program (the
    benchmark measures what a deployed process loads and sends)."""
    with log_path.open("ab") as log:
        start = subprocess.Popen if fresh else launcher.popen
        popen = start(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return Process(popen, log_path)


async def wait_for_http(process: Process, url: str, *, seconds: float = 30.0) -> None:
    async with http_client(timeout=1.0) as http:

        async def answers() -> bool:
            if process.popen.poll() is not None:
                raise AssertionError(f"the process exited with {process.popen.returncode}:\n{process.log()}")
            try:
                return (await http.get(url)).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(answers, seconds=seconds, what=f"{url} to answer")


@dataclass
class Sandbox:
    """A standalone `trunkline sandbox` seeded with the demo state, driven over its control API."""

    process: Process
    url: str
    http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = http_client(base_url=self.url, timeout=10.0)

    async def state(self) -> dict[str, Any]:
        response = await self.http.get("/__sandbox/state")
        response.raise_for_status()
        return response.json()

    async def carriers(self) -> dict[str, Any]:
        """What exists at Twilio and LiveKit, without timestamps; released LiveKit numbers do not count."""
        state = await self.state()
        return comparable_carriers(state["twilio"], state["livekit"])

    async def add_fault(self, **rule: Any) -> None:
        response = await self.http.post("/__sandbox/faults", json=rule)
        assert response.status_code == 201, response.text

    async def clear_faults(self) -> None:
        response = await self.http.delete("/__sandbox/faults")
        assert response.status_code == 204, response.text

    async def reset(self) -> None:
        """Back to the seed: no fault rules, an empty request log."""
        response = await self.http.post("/__sandbox/reset")
        assert response.status_code == 204, response.text

    async def requests_to(self, method: str, path_glob: str) -> list[dict[str, Any]]:
        return [
            entry
            for entry in (await self.state())["requests"]
            if entry["method"] == method and fnmatchcase(entry["path"], path_glob)
        ]

    async def close(self) -> None:
        try:
            await self.http.aclose()
        finally:
            self.process.stop()


async def start_sandbox(log_dir: pathlib.Path, *, state_path: pathlib.Path | None = None) -> Sandbox:
    """A standalone sandbox, seeded with the demo state or with the JSON file at `state_path`."""
    port = free_port()
    env = clean_environment(TRUNKLINE_SANDBOX_STATE=str(state_path)) if state_path else clean_environment()
    process = start_process([TRUNKLINE, "sandbox", "--port", str(port)], env, log_dir / f"sandbox-{port}.log")
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_for_http(process, url + "/__sandbox/state")
    except BaseException:
        process.stop()
        raise
    return Sandbox(process, url)


@dataclass
class Server:
    """`trunkline serve --workers N` on live carriers that are the sandbox."""

    process: Process
    url: str

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()


def live_environment(database_url: str, sandbox_url: str, secret_key: str, **extra: str) -> dict[str, str]:
    return clean_environment(
        TRUNKLINE_DATABASE_URL=database_url,
        TRUNKLINE_PROVIDERS="live",
        TRUNKLINE_SECRET_KEY=secret_key,
        TWILIO_API_BASE_URL=sandbox_url,
        TWILIO_TRUNKING_BASE_URL=sandbox_url,
        TWILIO_ACCOUNT_SID=PLATFORM_ACCOUNT["sid"],
        TWILIO_AUTH_TOKEN=PLATFORM_ACCOUNT["auth_token"],
        LIVEKIT_URL=sandbox_url,
        LIVEKIT_API_KEY=_DEMO["livekit"]["api_key"],
        LIVEKIT_API_SECRET=_DEMO["livekit"]["api_secret"],
        LIVEKIT_SIP_URI="sip:test.sip.livekit.cloud",
        # These servers are driven by load tests (the soak's clients send over 600 requests a minute
        # with one key): a limit far above that, so that no answer comes from the rate limit.
        **{"TRUNKLINE_RATE_LIMIT": "1000000/minute", **extra},
    )


async def start_server(env: dict[str, str], log_dir: pathlib.Path, *, workers: int = 3) -> Server:
    port = free_port()
    process = start_process(
        [TRUNKLINE, "serve", "--workers", str(workers), "--port", str(port)], env, log_dir / f"server-{port}.log"
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_for_http(process, url + "/healthz")

        async def every_worker_started() -> bool:
            return process.log().count("Application startup complete.") >= workers

        await wait_until(every_worker_started, seconds=30, what=f"{workers} workers to start")
    except BaseException:
        process.stop()
        raise
    return Server(process, url)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid`, read from /proc (Linux)."""
    children = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name in parentheses may hold spaces; the parent pid is the second field after it.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def worker_pids(serve_pid: int) -> list[int]:
    """The worker processes of `trunkline serve --workers N`: its children forked from it, so running its own
    command line (not, say, the sandbox it started)."""
    serving = command_line(serve_pid)
    return [pid for pid in child_pids(serve_pid) if command_line(pid) == serving]


def command_line(pid: int) -> str:
    """The process's arguments joined by spaces; empty once it has gone."""
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def new_secret_key() -> str:
    return Fernet.generate_key().decode()
