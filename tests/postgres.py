"""Databases of their own on a PostgreSQL server, for a test run, a test or the soak; each is dropped by its maker."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg


async def create_database(server_url: str, prefix: str = "trunkline_test") -> str:
    """A new, empty database on the server at `server_url` (any database URL on it); returns its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


async def drop_database(server_url: str, database_url: str) -> None:
    """Drop the database at `database_url`, even with connections still open to it."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(database_url).path.lstrip("/")}" WITH (FORCE)')
    finally:
        await admin.close()
