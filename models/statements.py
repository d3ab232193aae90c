"""Statements written out once, for the few that every request or import sends.

The ORM builds each statement anew from query objects and compiles it to SQL on every call: about four
times what the statement's own round trip to SQLite costs (a one-row SELECT by key, 0.5 ms of CPU against
0.1 ms written out, on a slow core). The hot ones are written in SQL that SQLite and PostgreSQL both read,
with `?` for each parameter; values go through the model's fields and rows come back as the instances
Tortoise itself makes, so a caller cannot tell them from the ORM's.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def _connection(connection: BaseDBAsyncClient | None) -> BaseDBAsyncClient:
    return connection if connection is not None else connections.get("default")


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


@cache
def _numbered(statement: str) -> str:
    """PostgreSQL's $1, $2, … for the ?s in turn (no statement here has a ? inside a literal)."""
    count = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(count)}", statement)


def _for(connection: BaseDBAsyncClient, statement: str) -> str:
    return _numbered(statement) if is_postgres(connection) else statement


async def execute(statement: str, params: Sequence[Any], connection: BaseDBAsyncClient | None = None) -> int:
    """Rows changed (INSERT, UPDATE, DELETE) or returned (SELECT)."""
    connection = _connection(connection)
    count, _ = await connection.execute_query(_for(connection, statement), list(params))
    return count


async def rows(statement: str, params: Sequence[Any], connection: BaseDBAsyncClient | None = None) -> list[dict]:
    """The rows as dicts by column; also those of an INSERT, UPDATE or DELETE … RETURNING."""
    connection = _connection(connection)
    return await connection.execute_query_dict(_for(connection, statement), list(params))


async def rows_now(statement: str, params: Sequence[Any]) -> list[dict]:
    """rows() of a small read outside any transaction, read at once on this thread where the database
    allows it (SQLite: app.sqlite_engine's read_now), else the usual way."""
    connection = _connection(None)
    # Inside a transaction this is the transaction's client, which has no read_now: it reads its own writes.
    read_now = getattr(connection, "read_now", None)
    if read_now is not None and (found := read_now(statement, list(params))) is not None:
        return found
    return await rows(statement, params, connection)


async def instances(
    model: type[M], statement: str, params: Sequence[Any], connection: BaseDBAsyncClient | None = None
) -> list[M]:
    """The rows as model instances, made as the ORM makes those it reads; the statement returns every column."""
    return [model._init_from_db(**row) for row in await rows(statement, params, connection)]


def db_value(model: type[Model], field: str, value: Any) -> Any:
    """A value as the ORM sends it for the field (enums by value, JSON as text, datetimes in UTC)."""
    return model._meta.fields_map[field].to_db_value(value, None)


def _column(model: type[Model], field: str) -> str:
    return model._meta.fields_db_projection[field]


async def update_returning(
    model: type[M], row_id: str, changes: Mapping[str, Any], connection: BaseDBAsyncClient,
    *, unless: Mapping[str, Any] | None = None,
) -> M | None:
    """Set `changes` on the row (unless one of `unless`'s fields holds its value) and return it as it is
    now, in one statement; None when no row matched."""
    assignments = ", ".join(f'"{_column(model, name)}" = ?' for name in changes)
    conditions = "".join(f' AND "{_column(model, name)}" <> ?' for name in unless or {})
    statement = f'UPDATE "{model._meta.db_table}" SET {assignments} WHERE "id" = ?{conditions} RETURNING *'
    params = [
        *(db_value(model, name, value) for name, value in changes.items()),
        row_id,
        *(db_value(model, name, value) for name, value in (unless or {}).items()),
    ]
    found = await instances(model, statement, params, connection)
    return found[0] if found else None


async def insert_if(instance: Model, condition: str, params: Sequence[Any], connection: BaseDBAsyncClient) -> bool:
    """Insert a new instance's row only where `condition` (SQL with ? parameters) holds, in one statement;
    whether it did. Its values go as the ORM's own insert sends them, timestamps set on the instance. SQLite
    only: PostgreSQL would read the selected parameters as text, not as the columns' types."""
    meta = instance._meta
    names = [name for name in meta.fields_db_projection if not meta.fields_map[name].generated]
    columns = ", ".join(f'"{meta.fields_db_projection[name]}"' for name in names)
    values = [meta.fields_map[name].to_db_value(getattr(instance, name), instance) for name in names]
    statement = f'INSERT INTO "{meta.db_table}" ({columns}) SELECT {", ".join("?" for _ in names)} WHERE {condition}'
    inserted = await execute(statement, [*values, *params], connection)
    instance._saved_in_db = inserted == 1
    return instance._saved_in_db


async def first_where(model: type[M], **columns: Any) -> M | None:
    """A row whose fields hold these values (None if none does), read at once where the database allows it
    (rows_now): for the look-ups by a unique key that requests and imports make before they write."""
    conditions = " AND ".join(f'"{_column(model, name)}" = ?' for name in columns)
    params = [db_value(model, name, value) for name, value in columns.items()]
    found = await rows_now(f'SELECT * FROM "{model._meta.db_table}" WHERE {conditions} LIMIT 1', params)
    return model._init_from_db(**found[0]) if found else None


async def by_id(model: type[M], row_id: str, *, workspace_id: str | None = None) -> M | None:
    """The row with this id (in this workspace, when given: another workspace's row is not found either)."""
    scoped = {"workspace_id": workspace_id} if workspace_id is not None else {}
    return await first_where(model, id=row_id, **scoped)
