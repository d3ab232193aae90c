"""Tortoise's SQLite client (the engine app.db configures for sqlite:// URLs), with two changes to its
transactions; every statement goes through aiosqlite's thread as before.

- A transaction begins in one trip to that thread, where Tortoise takes two (a commit of whatever was left
  open, then BEGIN): `executescript` commits a transaction left open before it runs its script, so
  "BEGIN" through it does both.
- A transaction can be lazily durable (models.durability): its commit does not wait for the disk. SQLite
  allows the safety level to change only between transactions, so it is lowered just before BEGIN and
  raised again by the script that commits, both under the connection's lock: no other statement runs
  between them. In WAL mode a later commit at FULL syncs the log, and with it every commit before it.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError

FULL = "PRAGMA synchronous = FULL"  # every commit waits for the disk: SQLite's default, and this server's
NORMAL = "PRAGMA synchronous = NORMAL"  # in WAL mode, a commit is written but not synced


class TransactionWrapper(SqliteTransactionWrapper):
    def __init__(self, connection: SqliteClient, *, lazily_durable: bool = False) -> None:
        super().__init__(connection)
        self.lazily_durable = lazily_durable

    async def begin(self) -> None:
        try:
            await self._connection.executescript(f"{NORMAL}; BEGIN" if self.lazily_durable else "BEGIN")
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
    def _in_transaction(self, *, lazily_durable: bool = False) -> SqliteTransactionContext:
        return SqliteTransactionContext(TransactionWrapper(self, lazily_durable=lazily_durable), self._lock)


client_class = Client
