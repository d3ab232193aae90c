"""Reads at once on SQLite (app/sqlite_engine.py's read_now, models.statements.rows_now): apart from the shared
connection, they see what is committed; when they cannot answer, the usual way does, errors included."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3

import pytest
from tortoise import Tortoise, connections
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from app.db import tortoise_config
from models import Workspace, statements
from resolvers.workspaces import create_workspace
from tests.conftest import transaction_held_open

NAME_OF = 'SELECT name FROM workspace WHERE id = ?'


@pytest.fixture
async def sqlite_file(tmp_path, migrated_sqlite_file):
    path = tmp_path / "trunkline.sqlite3"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    shutil.copyfile(migrated_sqlite_file, path)
    await Tortoise.init(config=tortoise_config(f"sqlite://{path}"))
    try:
        yield path
    finally:
        await Tortoise.close_connections()


async def test_a_read_at_once_sees_what_is_committed_and_not_a_transaction_in_progress(sqlite_file):
    workspace = await create_workspace("Before", 3)
    assert connections.get("default").read_now(NAME_OF, [workspace.id]) == [{"name": "Before"}]

    async def rename(connection) -> None:
        await Workspace.filter(id=workspace.id).using_db(connection).update(name="During")

    async with transaction_held_open(rename):
        assert await statements.rows_now(NAME_OF, [workspace.id]) == [{"name": "Before"}]

    assert await statements.rows_now(NAME_OF, [workspace.id]) == [{"name": "During"}]


async def test_inside_a_transaction_a_read_is_the_transactions_own(sqlite_file):
    """rows_now in a transaction reads through it, its own writes included: only reads outside one go apart."""
    workspace = await create_workspace("Before", 3)
    async with in_transaction() as connection:
        await Workspace.filter(id=workspace.id).using_db(connection).update(name="During")
        assert await statements.rows_now(NAME_OF, [workspace.id]) == [{"name": "During"}]


async def test_a_read_that_fails_at_once_is_read_the_usual_way_which_reports_the_error(sqlite_file):
    assert connections.get("default").read_now("SELECT * FROM no_such_table", []) is None
    with pytest.raises(OperationalError, match="no_such_table"):
        await statements.rows_now("SELECT * FROM no_such_table", [])


async def test_the_read_connection_cannot_write(sqlite_file):
    workspace = await create_workspace("Kept", 3)
    default = connections.get("default")
    assert default.read_now("UPDATE workspace SET name = 'Changed' WHERE id = ?", [workspace.id]) is None
    assert (await Workspace.get(id=workspace.id)).name == "Kept"


async def test_an_in_memory_database_is_read_the_usual_way():
    await Tortoise.init(config=tortoise_config("sqlite://:memory:"))
    try:
        default = connections.get("default")
        await default.execute_script("CREATE TABLE note (text TEXT)")
        await default.execute_query("INSERT INTO note VALUES (?)", ["kept"])
        assert default.read_now("SELECT text FROM note", []) is None  # another connection would see another database
        assert await statements.rows_now("SELECT text FROM note", []) == [{"text": "kept"}]
    finally:
        await Tortoise.close_connections()


async def test_a_transaction_that_reads_first_still_writes_after_another_process_committed(sqlite_file):
    """Every transaction begins IMMEDIATE (app/sqlite_engine.py): it holds the write lock from BEGIN, so another
    process's write waits for it. A deferred one would read a snapshot, see the other commit meanwhile, and be
    refused its own write at once ("database is locked")."""
    workspace = await create_workspace("Before", 3)

    def other_process_writes() -> None:
        other = sqlite3.connect(sqlite_file, timeout=10)
        try:
            other.execute("UPDATE workspace SET phone_number_limit = 7 WHERE id = ?", [workspace.id])
            other.commit()
        finally:
            other.close()

    async with in_transaction() as connection:
        assert (await Workspace.get(id=workspace.id).using_db(connection)).name == "Before"  # the read first
        elsewhere = asyncio.create_task(asyncio.to_thread(other_process_writes))
        await asyncio.sleep(0.3)  # the other writer is waiting on the lock (deferred: it would commit now)
        await Workspace.filter(id=workspace.id).using_db(connection).update(name="Ours")
    await elsewhere

    assert (await Workspace.get(id=workspace.id)).name == "Ours"
    assert (await Workspace.get(id=workspace.id)).phone_number_limit == 7
