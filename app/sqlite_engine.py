"""Tortoise's SQLite client (the engine app.db configures for sqlite:// URLs), with two changes to its
transactions and a way to read at once; every other statement goes through aiosqlite's thread as before.

- A transaction begins in one trip to that thread, where Tortoise takes two (a commit of whatever was left
  open, then BEGIN): `executescript` commits a transaction left open before it runs its script, so
  "BEGIN" through it does both. It begins IMMEDIATE: with the write lock (BEGIN below).
- A transaction can be lazily durable (models.durability): its commit does not wait for the disk. SQLite
  allows the safety level to change only between transactions, so it is lowered just before BEGIN and
  raised again by the script that commits, both under the connection's lock: no other statement runs
  between them. In WAL mode a later commit at FULL syncs the log, and with it every commit before it.
- `read_now` runs a small read on the calling thread, through a read-only connection of its own, for the
  read every request makes (its API key). Through aiosqlite a statement is a trip to its thread and back,
  which cost a `{ workspace { id } }` request a sixth of its CPU, and it waits behind any transaction
  holding the shared connection. A WAL reader takes no lock a writer holds, so the read does not wait for
  anyone; it sees what is committed, as any read outside a transaction does.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError

FULL = "PRAGMA synchronous = FULL"  # every commit waits for the disk: SQLite's default, and this server's
NORMAL = "PRAGMA synchronous = NORMAL"  # in WAL mode, a commit is written but not synced
# Every transaction here writes, so it takes the write lock as it begins, waiting its turn (busy_timeout). A
# deferred one that read first could not write once another process had committed since its read: SQLite
# answers "database is locked" at once, without waiting, and an import failed with it under several workers.
BEGIN = "BEGIN IMMEDIATE"


class TransactionWrapper(SqliteTransactionWrapper):
    def __init__(self, connection: SqliteClient, *, lazily_durable: bool = False) -> None:
        super().__init__(connection)
        self.lazily_durable = lazily_durable

    async def begin(self) -> None:
        try:
            await self._connection.executescript(f"{NORMAL}; {BEGIN}" if self.lazily_durable else BEGIN)
        except sqlite3.OperationalError as exc:  # pragma: nocoverage - as Tortoise's own begin
            await self._back_to_full()
            raise TransactionManagementError(exc) from exc

    async def commit(self) -> None:
        if not self.lazily_durable:
            await super().commit()
            return
        if self._finalized:
            raise TransactionManagementError("Transaction already finalised")
        try:
            await self._connection.executescript(FULL)  # commits first, still at NORMAL
        except BaseException:
            try:
                await self._connection.rollback()
            finally:  # whatever the rollback does, the connection goes back to waiting for the disk
                await self._back_to_full()
            raise
        self._finalized = True

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            await self._back_to_full()

    async def _back_to_full(self) -> None:
        if self.lazily_durable:
            await self._connection.execute(FULL)


class Client(SqliteClient):
    _reader: sqlite3.Connection | None = None
    _no_reader = False  # an in-memory database, or one the reader could not open: read the usual way

    def _in_transaction(self, *, lazily_durable: bool = False) -> SqliteTransactionContext:
        return SqliteTransactionContext(TransactionWrapper(self, lazily_durable=lazily_durable), self._lock)

    def read_now(self, query: str, values: list) -> list[dict] | None:
        """The rows of a read-only statement, read on this thread; None when SQLite cannot answer at once
        (busy, or anything else wrong), for the caller to read the usual way, which reports any error.
        For small reads only: the event loop waits for it."""
        reader = self._reader or self._open_reader()
        if reader is None:
            return None
        try:
            return list(map(dict, reader.execute(query, values).fetchall()))
        except sqlite3.Error:
            return None

    def _open_reader(self) -> sqlite3.Connection | None:
        if self._no_reader or self.filename in ("", ":memory:") or self.filename.startswith("file:"):
            self._no_reader = True
            return None
        try:
            # timeout=0: busy is answered at once, never waited for on the event loop.
            reader = sqlite3.connect(
                f"file:{quote(self.filename)}?mode=ro", uri=True, timeout=0, isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error:
            self._no_reader = True
            return None
        reader.row_factory = sqlite3.Row
        self._reader = reader
        return reader

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await super().close()


client_class = Client
