"""The `trunkline` command: serve, migrate, and the operators' workspace and API-key tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable

from app import db
from app.logs import configure_logging
from app.metrics import prepare_worker_metrics
from app.settings import DEFAULT_DATABASE_URL, Settings, SettingsError
from models.ids import is_valid_id

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
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the GraphQL API server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(handler=_serve)

    sandbox = commands.add_parser("sandbox", help="run the Twilio and LiveKit emulators alone")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8790, help="port to listen on (default 8790)")
    sandbox.add_argument("--fault-seed", type=int, metavar="N",
                         help="seed the dice of fault rules with a probability, to replay a chaos run")
    sandbox.set_defaults(handler=_sandbox)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=_migrate)

    workspace = commands.add_parser("workspace", help="manage workspaces").add_subparsers(required=True, metavar="ACTION")
    create_ws = workspace.add_parser("create", help="create a workspace and its first API key")
    create_ws.add_argument("--name", required=True)
    create_ws.add_argument("--phone-number-limit", type=int, help="cap on numbers (default TRUNKLINE_PHONE_NUMBER_LIMIT)")
    create_ws.add_argument("--json", action="store_true", help='print {"workspace_id": …, "api_key": …} only')
    create_ws.set_defaults(handler=_workspace_create)

    apikey = commands.add_parser("apikey", help="manage API keys").add_subparsers(required=True, metavar="ACTION")
    create_key = apikey.add_parser("create", help="issue a new API key for a workspace")
    create_key.add_argument("--workspace", required=True, metavar="WORKSPACE_ID")
    create_key.add_argument("--json", action="store_true")
    create_key.set_defaults(handler=_apikey_create)
    revoke_key = apikey.add_parser("revoke", help="revoke an API key at once")
    revoke_key.add_argument("key_id", metavar="KEY_ID", help="the key's id (key_…) or the key itself (sk_…)")
    revoke_key.set_defaults(handler=_apikey_revoke)
    return parser


def _run(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    """Run one database task; SQLite databases are migrated first so a fresh file just works."""

    async def go() -> int:
        from tortoise import Tortoise

        if settings.is_sqlite:
            await db.migrate(settings.database_url)
        await Tortoise.init(config=db.tortoise_config(settings.database_url))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(go())


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(db.migrate(settings.database_url))
    print("migrations applied")
    return 0


def _workspace_create(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.api_keys import issue_api_key
    from resolvers.workspaces import create_workspace

    limit = args.phone_number_limit or settings.phone_number_limit
    if limit < 1 or not args.name.strip():
        print("trunkline: --name must not be empty and --phone-number-limit must be at least 1", file=sys.stderr)
        return 2

    async def work() -> int:
        workspace = await create_workspace(args.name.strip(), limit)
        key = await issue_api_key(workspace)
        if args.json:
            print(json.dumps({"workspace_id": workspace.id, "api_key": key.secret}))
        else:
            print(f"workspace {workspace.id} ({workspace.name}, up to {limit} numbers)")
            print(f"api key {key.key_id}: {key.secret}")
            print("the key is shown only now; store it safely")
        return 0

    return _run(settings, work)


def _apikey_create(args: argparse.Namespace, settings: Settings) -> int:
    from models import Workspace
    from resolvers.api_keys import issue_api_key

    async def work() -> int:
        workspace = await Workspace.get_or_none(id=args.workspace) if is_valid_id(args.workspace, "ws") else None
        if workspace is None:
            print(f"trunkline: no workspace {args.workspace!r} (expected ws_ and 26 characters)", file=sys.stderr)
            return 1
        key = await issue_api_key(workspace)
        if args.json:
            print(json.dumps({"workspace_id": workspace.id, "key_id": key.key_id, "api_key": key.secret}))
        else:
            print(f"api key {key.key_id}: {key.secret}")
            print("the key is shown only now; store it safely")
        return 0

    return _run(settings, work)


def _apikey_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.api_keys import revoke_api_key

    async def work() -> int:
        if not await revoke_api_key(args.key_id):
            print("trunkline: no live API key with that id (key_…) or value (sk_…)", file=sys.stderr)
            return 1
        print("api key revoked")
        return 0

    return _run(settings, work)


def _sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from providers.sandbox.server import run_sandbox

    configure_logging()
    print(f"sandbox carriers on http://{args.host}:{args.port} (state: GET /__sandbox/state)", flush=True)
    run_sandbox(args.host, args.port, settings.sandbox_state, args.fault_seed)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.demo import ensure_demo_workspace

    configure_logging()
    prepare_worker_metrics(args.workers)
    if settings.is_sqlite:
        asyncio.run(db.migrate(settings.database_url))
    if settings.database_url == DEFAULT_DATABASE_URL and not settings.is_live:
        url = f"http://{args.host}:{args.port}/graphql"
        _run(settings, lambda: ensure_demo_workspace(url, settings.phone_number_limit))
    options = dict(
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **uvicorn_limits(settings),
    )
    if args.workers > 1 and not settings.is_live and not settings.sandbox_url:
        with shared_sandbox(settings):
            uvicorn.run("app.main:app_from_env", **options)
        return 0
    uvicorn.run("app.main:app_from_env", **options)
    return 0


def uvicorn_limits(settings: Settings) -> dict:
    """What uvicorn itself bounds before a request reaches the application (README, "Limits and errors")."""
    return dict(
        http="app.http_protocol:HeaderDeadlineProtocol",  # h11, with a deadline for headers
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=settings.max_connections,
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
