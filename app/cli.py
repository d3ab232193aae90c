"""The `trunkline` command: serve, migrate, and the operators' workspace and API-key tools."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version

from app import db
from app.cli_admin import add_commands as add_admin_commands
from app.cli_admin import run_reported, run_with_database
from app.logs import configure_logging
from app.metrics_directory import prepare_worker_metrics
from app.settings import DEFAULT_DATABASE_URL, Settings, SettingsError
from app.startup import report

MAX_HEADER_BYTES = 16 * 1024  # request line and headers together
KEEP_ALIVE_SECONDS = 5


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"trunkline: {exc}", file=sys.stderr)
        return 2
    return args.handler(args, settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trunkline", description="Phone numbers for voice-agent workspaces.")
    parser.add_argument("--version", action="version", version=f"trunkline {version('trunkline')}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the GraphQL API server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--migrate", action="store_true", help="apply pending migrations first (SQLite always is)")
    serve.set_defaults(handler=_serve)

    sandbox = commands.add_parser("sandbox", help="run the Twilio and LiveKit emulators alone")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8790, help="port to listen on (default 8790)")
    sandbox.add_argument("--fault-seed", type=int, metavar="N",
                         help="seed the dice of fault rules with a probability, to replay a chaos run")
    sandbox.set_defaults(handler=_sandbox)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=_migrate)

    add_admin_commands(commands)
    return parser


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> int:
        await db.migrate(settings.database_url)
        print("migrations applied")
        return 0

    return run_reported(go)


def _sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from providers.sandbox.server import run_sandbox

    configure_logging()
    print(f"sandbox carriers on http://{args.host}:{args.port} (state: GET /__sandbox/state)", flush=True)
    run_sandbox(args.host, args.port, settings.sandbox_state, args.fault_seed)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Check what the app would refuse at start, bind the port, ready the database, and only then make the demo key."""
    from app.demo import ensure_demo_workspace
    from app.secret_key import load_secret_box

    configure_logging()
    prepare_worker_metrics(args.workers)
    try:
        load_secret_box(settings)
    except SettingsError as exc:
        report(exc)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"trunkline: cannot listen on {args.host}:{args.port} ({exc.strerror}); "
              "stop what uses it or choose another --port", file=sys.stderr)
        return 1
    with sock:
        status = _ready_database(settings, migrate=args.migrate or settings.is_sqlite)
        if status:
            return status
        if settings.database_url == DEFAULT_DATABASE_URL and not settings.is_live:
            url = f"http://{browser_host(args.host)}:{args.port}/graphql"
            run_with_database(settings, lambda: ensure_demo_workspace(url, settings.phone_number_limit))
        if args.workers > 1 and not settings.is_live and not settings.sandbox_url:
            with shared_sandbox(settings):
                return _uvicorn(args, settings, sock)
        return _uvicorn(args, settings, sock)


def _ready_database(settings: Settings, *, migrate: bool) -> int:
    """Apply migrations, or refuse (2) when some are missing; 1 when the database cannot be reached."""

    async def go() -> int:
        if migrate:
            await db.migrate(settings.database_url)
        elif pending := await db.pending_migrations_at(settings.database_url):
            raise db.MigrationsPending(pending)
        return 0

    return run_reported(go)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is made for a server that might not start (as uvicorn binds)."""
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # whose proto says TCP, and accepted sockets inherit it; with Nagle on, an answer written as headers
    # then body waits out the client's delayed ACK, about 40 ms per request.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # uvicorn's worker processes serve this same socket
    return sock


def browser_host(host: str) -> str:
    """An address a browser on this machine can open: the loopback for a wildcard, IPv6 in brackets."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _uvicorn(args: argparse.Namespace, settings: Settings, sock: socket.socket) -> int:
    """uvicorn on our socket; 3 (uvicorn's start-up failure) when the application did not start."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "app.startup:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **uvicorn_limits(settings),
    )
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    running = f"Uvicorn running on http://{shown_host}:{args.port} (Press CTRL+C to quit)"
    if args.workers > 1:
        logging.getLogger("uvicorn.error").info(running)  # where uvicorn logs it for workers: once, at bind
        fork_workers_from_loaded_app()
        supervisor = Multiprocess(config, sockets=[sock])
        supervisor.run()
        return 3 if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes) else 0

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:  # uvicorn says it only for sockets it bound itself
                logging.getLogger("uvicorn.error").info(running)

    server = Server(config)
    server.run(sockets=[sock])
    return 0 if server.started else STARTUP_FAILURE


def fork_workers_from_loaded_app() -> None:
    """Workers forked from a supervisor that imported the application once, where uvicorn spawns fresh
    interpreters that each import it again (about 0.7 s of CPU per worker start and restart, and the
    spawn re-runs this module too). The supervisor is single-threaded and holds no connection when it
    forks: the database was readied and closed, the sandbox is another process."""
    import multiprocessing
    import signal

    from uvicorn import _subprocess

    if "fork" not in multiprocessing.get_all_start_methods() or not hasattr(_subprocess, "spawn"):
        return  # no fork here, or a uvicorn that starts workers differently: spawned, as uvicorn does
    from uvicorn.supervisors.multiprocess import SIGNALS

    import app.main  # noqa: F401  (the preload)

    def default_signals() -> None:
        # The supervisor queues these signals for itself; a worker starts with their defaults, as a spawned one would.
        for number in SIGNALS:
            signal.signal(number, signal.default_int_handler if number == signal.SIGINT else signal.SIG_DFL)

    os.register_at_fork(after_in_child=default_signals)
    _subprocess.spawn = multiprocessing.get_context("fork")


def uvicorn_limits(settings: Settings) -> dict:
    """What uvicorn itself bounds before a request reaches the application (README, "Limits and errors")."""
    return dict(
        http="app.http_protocol:HeaderDeadlineProtocol",  # h11, with a deadline for headers
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=settings.max_connections,
        ws="websockets-sansio",  # GraphQL subscriptions (app/subscriptions.py)
        ws_max_size=settings.ws_max_message_bytes,
        proxy_headers=False,  # X-Forwarded-For is trusted only from TRUNKLINE_TRUSTED_PROXIES (app.client_address)
        server_header=False,
        log_config=None,  # uvicorn logs through ours (app.logs): one format, request ids
        access_log=False,  # replaced by trunkline.access, which knows the operation
    )


@contextlib.contextmanager
def shared_sandbox(settings: Settings):
    """Several workers must see the same carriers: one sandbox process, its address in the workers' environment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "sandbox", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/__sandbox/state", process)
        os.environ["TRUNKLINE_SANDBOX_URL"] = url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"trunkline: the sandbox did not start on {url}")


if __name__ == "__main__":
    sys.exit(main())
