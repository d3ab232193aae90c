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


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
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


# For Tortoise's own CLI: `tortoise -c app.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://./trunkline.sqlite3")
