"""Fixtures shared by the suites: real databases (SQLite always, PostgreSQL when configured) and the app."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from starlette.datastructures import Secret
from tortoise import connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from app.db import migrate
from app.main import create_app
from app.settings import Settings
from models import Workspace
from resolvers.api_keys import issue_api_key
from resolvers.workspaces import create_workspace
from tests.postgres import create_database, drop_database, empty_tables

POSTGRES_URL = os.environ.get("TRUNKLINE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


async def create_postgres_database() -> str:
    """A new, empty database on the test server; the caller drops it."""
    return await create_database(POSTGRES_URL)


async def drop_postgres_database(url: str) -> None:
    await drop_database(POSTGRES_URL, url)


def run_in_own_loop(coroutine):
    """Run a coroutine to completion from sync code, even while a test's loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """One migrated database for this test run, dropped at its end."""
    url = run_in_own_loop(create_postgres_database())
    run_in_own_loop(migrate(url))
    yield url
    run_in_own_loop(drop_postgres_database(url))


def pytest_report_header(config) -> str:
    if POSTGRES_URL:
        return "PostgreSQL: tested (TRUNKLINE_TEST_POSTGRES_URL is set)"
    return "PostgreSQL: not tested (set TRUNKLINE_TEST_POSTGRES_URL=postgres://... to run every database test on it too)"


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory) -> str:
    """One SQLite file migrated once per run (and per xdist worker); tests get copies of it."""
    path = tmp_path_factory.mktemp("migrated") / "trunkline.sqlite3"
    run_in_own_loop(migrate(f"sqlite://{path}"))
    return str(path)


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path) -> str:
    """A migrated, empty database: a copy of the run's migrated SQLite file, or the run's PostgreSQL database emptied."""
    # Tortoise caches INSERT statements per connection name, not per dialect; tests switch dialects.
    EXECUTOR_CACHE.clear()
    if request.param == "sqlite":
        path = tmp_path / "trunkline.sqlite3"
        # Private from the start, as `trunkline migrate` makes it (app.db.create_private_sqlite_file).
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        return f"sqlite://{path}"
    url = request.getfixturevalue("postgres_url")
    connection = await asyncpg.connect(url)
    try:
        await empty_tables(connection)
    finally:
        await connection.close()
    return url


SECRET_KEY = Fernet.generate_key().decode()


# A failed carrier call is repeated after a millisecond or two, not a quarter second and more: what is
# repeated, and how often, stays as in production.
QUICK_CARRIER_RETRY = 0.002
# The carrier time-out of the tests that make a call outlast it (their sandbox answers later than this): long
# enough that every other call of theirs answers within it on a loaded machine (0.5 s did not, in CI).
IMPATIENT = 1.5


def app_settings(database_url: str, **changes) -> Settings:
    """The settings of an app under test: this run's secret key, quick carrier retries, and `changes`."""
    return Settings(database_url=database_url, secret_key=Secret(SECRET_KEY), carrier_retry_base=QUICK_CARRIER_RETRY, **changes)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return app_settings(database_url)


SHUTDOWN_WITHIN = 60.0


@pytest.fixture
async def app(settings: Settings):
    application = create_app(settings)
    lifespan = application.router.lifespan_context(application)
    await lifespan.__aenter__()
    try:
        yield application
    finally:
        # A shutdown that never ends fails here with what is still waiting, rather than as a bare timeout.
        shutting_down = asyncio.ensure_future(lifespan.__aexit__(None, None, None))
        done, _ = await asyncio.wait({shutting_down}, timeout=SHUTDOWN_WITHIN)
        if not done:
            waiting = "\n\n".join(_stack_of(task) for task in asyncio.all_tasks() if task is not asyncio.current_task())
            shutting_down.cancel()
            pytest.fail(f"the app did not shut down within {SHUTDOWN_WITHIN:.0f} s; still waiting:\n{waiting}")
        shutting_down.result()


@asynccontextmanager
async def transaction_held_open(write: Callable[[Any], Awaitable[None]]) -> AsyncIterator[None]:
    """Inside: `write` done in a transaction still open, run in a task of its own as another request's would
    be (a transaction is in the context of the task that opened it); it commits when the block ends."""
    written, finish = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with in_transaction() as connection:
            await write(connection)
            written.set()
            await finish.wait()

    holder = asyncio.create_task(hold())
    waiting = asyncio.create_task(written.wait())
    await asyncio.wait({holder, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if holder.done():
        waiting.cancel()
        holder.result()  # the write failed: raise it
    try:
        yield
    finally:
        finish.set()
        await holder


def _stack_of(task: asyncio.Task) -> str:
    frames = task.get_stack(limit=30)
    return f"{task!r}\n" + "\n".join(f"  {f.f_code.co_filename}:{f.f_lineno} {f.f_code.co_name}" for f in frames)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://trunkline.test") as http:
        yield http


@dataclass
class Tenant:
    """A workspace with a live API key, and a way to call the API as it."""

    workspace: Workspace
    key_id: str
    api_key: str
    client: httpx.AsyncClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def make_tenant(client):
    async def make(name: str = "Acme", phone_number_limit: int = 100) -> Tenant:
        workspace = await create_workspace(name, phone_number_limit)
        key = await issue_api_key(workspace)
        return Tenant(workspace=workspace, key_id=key.key_id, api_key=key.secret, client=client)

    return make


@pytest.fixture
async def tenant(make_tenant) -> Tenant:
    return await make_tenant()


async def table_gone(table: str):
    """A real fault: the table disappears under the running server, then comes back."""
    db = connections.get("default")
    await db.execute_script(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    yield
    await db.execute_script(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')


@pytest.fixture
async def agent_table_gone(app):
    """A fault inside GraphQL: agents cannot be read."""
    async for _ in table_gone("agent"):
        yield


@pytest.fixture
async def api_key_table_gone(app):
    """A fault outside GraphQL: keys cannot be looked up."""
    async for _ in table_gone("api_key"):
        yield
