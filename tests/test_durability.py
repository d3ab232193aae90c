"""Lazily durable transactions (models/durability.py) on both databases: inside one, commits do not wait
for the disk; every other transaction, before and after it, committed or rolled back, still does."""

from __future__ import annotations

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models import Workspace
from models.durability import lazily_durable_transaction
from models.statements import is_postgres
from resolvers.workspaces import create_workspace


async def waits_for_the_disk(connection) -> bool:
    """Whether a commit on this connection (a transaction's, or the next statement's) returns only once synced."""
    if is_postgres(connection):
        found = await connection.execute_query_dict("SHOW synchronous_commit")
        return found[0]["synchronous_commit"] == "on"
    found = await connection.execute_query_dict("PRAGMA synchronous")
    return found[0]["synchronous"] == 2  # FULL; NORMAL (1) in WAL mode writes the log without syncing it


async def test_a_lazily_durable_transaction_commits_without_waiting_and_leaves_the_rest_waiting(app):
    default = connections.get("default")
    assert await waits_for_the_disk(default)
    async with in_transaction() as connection:
        assert await waits_for_the_disk(connection)

    async with lazily_durable_transaction() as connection:
        assert not await waits_for_the_disk(connection)
        workspace = await Workspace.create(name="Lazy", phone_number_limit=3, using_db=connection)

    assert await Workspace.get(id=workspace.id)  # committed, seen by every connection
    assert await waits_for_the_disk(default)
    async with in_transaction() as connection:
        assert await waits_for_the_disk(connection)


async def test_a_lazily_durable_transaction_that_fails_rolls_back_and_leaves_the_rest_waiting(app):
    workspace = await create_workspace("Before", 3)
    with pytest.raises(RuntimeError):
        async with lazily_durable_transaction() as connection:
            await Workspace.filter(id=workspace.id).using_db(connection).update(name="Changed")
            raise RuntimeError("failed half-way")

    assert (await Workspace.get(id=workspace.id)).name == "Before"
    assert await waits_for_the_disk(connections.get("default"))
    async with in_transaction() as connection:
        assert await waits_for_the_disk(connection)


async def test_an_ordinary_transaction_still_begins_after_a_statement_outside_one(app):
    """SQLite's transactions begin in one trip (app/sqlite_engine.py): they still see what came before."""
    workspace = await create_workspace("Plain", 3)
    async with in_transaction() as connection:
        await Workspace.filter(id=workspace.id).using_db(connection).update(phone_number_limit=5)
    with pytest.raises(RuntimeError):
        async with in_transaction() as connection:
            await Workspace.filter(id=workspace.id).using_db(connection).update(phone_number_limit=7)
            raise RuntimeError("undone")
    assert (await Workspace.get(id=workspace.id)).phone_number_limit == 5
