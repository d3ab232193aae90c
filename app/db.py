"""Database configuration and migrations, shared by the server, the CLI and the tests."""

import os
from pathlib import Path
from typing import Any

APP_LABEL = "trunkline"


def create_private_sqlite_file(database_url: str) -> None:
    """Make a SQLite database file readable by its owner only, before SQLite makes it world-readable
    (its journal and WAL files take the database's permissions). An existing file is left as it is."""
    if not database_url.startswith("sqlite://"):
        return
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if path in ("", ":memory:") or not Path(path).parent.is_dir():
        return  # SQLite reports a missing folder itself
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


async def _as_released(connection: Any) -> None:
    """What a PostgreSQL connection goes back to the pool with: as it is. asyncpg's default reset sends a
    second round trip after every statement or transaction (`SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`) for session state nothing here leaves on a pooled connection: no advisory
    lock, cursor or SET, and the event feed LISTENs on a connection of its own. asyncpg still rolls back
    a transaction left open and drops listeners before this is called."""


def _connection(database_url: str) -> str | dict[str, Any]:
    if not database_url:
        return database_url
    from tortoise.backends.base.config_generator import expand_db_url

    config = expand_db_url(database_url)
    if config["engine"] == "tortoise.backends.sqlite":
        config["engine"] = "app.sqlite_engine"  # Tortoise's client, with leaner and lazily durable transactions
    elif config["engine"] == "tortoise.backends.asyncpg":
        config["credentials"]["reset"] = _as_released
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {APP_LABEL: {"models": ["models"], "migrations": "models.migrations", "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str) -> None:
    """Apply every pending migration; a second run is a no-op."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate as run_migrations

    create_private_sqlite_file(database_url)
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


class MigrationsPending(RuntimeError):
    """The database lacks migrations this code needs; the message says how to apply them."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"the database lacks {len(names)} migration(s) ({', '.join(names)}); run `trunkline migrate` first")


async def pending_migrations(connection: Any = None) -> list[str]:
    """Names of the migrations not yet applied, in order, on an initialised Tortoise connection."""
    from tortoise import connections
    from tortoise.migrations.executor import MigrationExecutor

    connection = connection or connections.get("default")
    await connection.execute_query("SELECT 1")  # unreachable is not "unmigrated": the recorder hides errors
    apps = tortoise_config("")["apps"]
    steps = await MigrationExecutor(connection, apps).plan()
    return [step.migration.name for step in steps if not step.backward]


async def pending_migrations_at(database_url: str) -> list[str]:
    """pending_migrations for a database not yet opened; a missing SQLite file is not created."""
    from tortoise import Tortoise

    path = database_url.removeprefix("sqlite://").split("?", 1)[0] if database_url.startswith("sqlite://") else ""
    if path not in ("", ":memory:") and not Path(path).exists():
        return _migrations_on_disk()
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        return await pending_migrations()
    finally:
        await Tortoise.close_connections()


def _migrations_on_disk() -> list[str]:
    folder = Path(__file__).resolve().parent.parent / "models" / "migrations"
    return sorted(path.stem for path in folder.glob("[0-9]*.py"))


# For Tortoise's own CLI: `tortoise -c app.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://./trunkline.sqlite3")
