"""Transactions whose commit does not wait for the disk.

A commit normally returns once it is on disk, because what follows may depend on it outside the
database: a carrier call on a journal row, a client told that its number is ACTIVE. A lazily durable
commit returns at once, visible to every connection; it reaches the disk with the next ordinary commit
on the same database (both PostgreSQL's and SQLite's logs are written in order, and an ordinary commit
syncs everything written before it), or within a fraction of a second anyway.

Only a crash of the database server or of the machine, not of this process, can lose such a commit, and
then only while no ordinary commit has followed it: the database is as if it had never been made. That
is harmless for a write whose every consequence outside the database waits for an ordinary commit. An
import's reservation is one: the journal row written before its first carrier call is an ordinary
commit, and so is anything that answers the client. Whoever saw the reservation meanwhile only answered
from it (a full workspace, a number already being imported), as they would have while it ran.

PostgreSQL: `SET LOCAL synchronous_commit TO OFF` for the transaction. SQLite (WAL mode): the safety
level lowered to NORMAL around the transaction (app/sqlite_engine.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from models.statements import is_postgres


@asynccontextmanager
async def lazily_durable_transaction() -> AsyncIterator[BaseDBAsyncClient]:
    client = connections.get("default")
    if not is_postgres(client):
        async with client._in_transaction(lazily_durable=True) as connection:
            yield connection
        return
    async with client._in_transaction() as connection:
        await connection.execute_script("SET LOCAL synchronous_commit TO OFF")
        yield connection
