"""Start-up failures an operator can fix, told in one line instead of a traceback (CLI and uvicorn workers);
and a worker's heap, once started, set aside from the garbage collector."""

from __future__ import annotations

import gc
import sys

from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError

from app.db import MigrationsPending
from app.settings import SettingsError


def one_line(exc: BaseException | None) -> str | None:
    """The line to print for a failure an operator can fix; None for a bug, whose traceback should show."""
    if isinstance(exc, SettingsError | MigrationsPending):
        return str(exc)
    if isinstance(exc, DBConnectionError | OSError):
        # Driver messages name the host, port, database or user, never the password.
        return f"cannot reach the database of TRUNKLINE_DATABASE_URL ({exc}); check that it runs and the url is right"
    return None


def freeze_startup_heap() -> None:
    """What start-up made (modules, the schema, clients: about 100,000 objects) lives as long as the process;
    frozen, the collector stops walking it again on every full collection, which cost requests up to a
    tenth of their time. Garbage made later is collected as before."""
    gc.collect()
    gc.freeze()


def report(exc: BaseException) -> bool:
    """Print exc's one line to stderr if it has one; True when it did."""
    line = one_line(exc)
    if line is not None:
        print(f"trunkline: {line}", file=sys.stderr, flush=True)
    return line is not None


class OneLineStartupErrors:
    """Starlette hands uvicorn a failed start-up's whole traceback to log; for known causes, log one line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __getattr__(self, name: str):  # app.state and the like stay reachable
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)

        async def send_one_line(message) -> None:
            # Starlette sends this from inside its `except` block, so the failure is the exception being handled.
            if message["type"] == "lifespan.startup.failed" and report(sys.exc_info()[1]):
                message = {**message, "message": ""}
            elif message["type"] == "lifespan.startup.complete":
                freeze_startup_heap()
            await send(message)

        await self.app(scope, receive, send_one_line)


def app_from_env():
    """uvicorn's factory for `trunkline serve`."""
    from app.main import app_from_env as create

    try:
        return OneLineStartupErrors(create())
    except SettingsError as exc:
        report(exc)
        sys.exit(3)  # uvicorn's start-up failure: its supervisor stops rather than restarting the worker
